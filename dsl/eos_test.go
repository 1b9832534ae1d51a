package dsl_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/internal/testutil"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

const eosChildEnv = "SEICHE_DSL_EOS_CHILD"

// eosWindow is the size of the windows TestExactlyOnceWindowedCountSurvivesSIGKILL counts in.
const eosWindow = time.Second

// TestExactlyOnceChild is the application TestExactlyOnceWindowedCountSurvivesSIGKILL runs in a
// child process: an exactly-once count per key and tumbling window, every update written out,
// until the process is killed.
func TestExactlyOnceChild(t *testing.T) {
	if os.Getenv(eosChildEnv) == "" {
		t.Skip("runs only as the child of TestExactlyOnceWindowedCountSurvivesSIGKILL")
	}
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(eosWindow, time.Hour)),
		dsl.Materialized("counts"), dsl.CacheBytes(0)).ToStream().To("out")
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	app, err := runtime.New(topo, runtime.ApplicationID("eos-windowed"), runtime.Bootstrap(os.Getenv("SEICHE_BOOTSTRAP")),
		runtime.StateDir(os.Getenv("SEICHE_STATE_DIR")), runtime.ProcessingGuarantee(runtime.ExactlyOnceV2),
		runtime.GroupInstanceID("eos-windowed-instance"), runtime.SessionTimeout(6*time.Second), runtime.HeartbeatInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// A windowed count under exactly_once_v2 whose process is killed with SIGKILL ten times while input
// keeps arriving, and restarted on its state directory each time: a read_committed reader of its
// output sees every key and window count 1, 2, 3, ... (each update once: none counted twice, none
// lost) up to the true count.
func TestExactlyOnceWindowedCountSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker and eleven child processes")
	}
	br := brokertest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	adm := kadm.NewClient(cl)
	if resp, err := adm.CreateTopics(ctx, 2, 1, nil, "in", "out"); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}

	// Input arrives until the last restart: ten keys, record i at base + 20ms*i, so that each
	// window holds five records of each key.
	type keyWindow struct {
		key   string
		start int64
	}
	base := time.Now().Truncate(eosWindow).Add(-time.Hour).UnixMilli()
	truth := map[keyWindow]int64{}
	stop, produced := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(produced)
		for i := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			var batch []*kgo.Record
			for range 20 {
				k, ts := fmt.Sprintf("k%d", i%10), base+20*int64(i)
				truth[keyWindow{k, ts - ts%eosWindow.Milliseconds()}]++
				batch = append(batch, &kgo.Record{Topic: "in", Key: []byte(k), Value: []byte("v"), Timestamp: time.UnixMilli(ts)})
				i++
			}
			if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			time.Sleep(10 * time.Millisecond) // input keeps arriving while the application dies and restarts
		}
	}()

	stateDir := t.TempDir()
	var children []*exec.Cmd
	start := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExactlyOnceChild$")
		cmd.Env = append(os.Environ(), eosChildEnv+"=1", "SEICHE_BOOTSTRAP="+br.Addr(), "SEICHE_STATE_DIR="+stateDir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, cmd)
		return cmd
	}
	t.Cleanup(func() {
		for _, c := range children {
			c.Process.Kill()
			c.Wait()
		}
	})
	committed := func() int64 { return testutil.CommittedOffsets(ctx, adm, "eos-windowed") }

	// Each incarnation is killed once it has committed input of its own, with more arriving.
	var last int64
	for round := range 10 {
		child := start()
		testutil.CheckFor(t, 60*time.Second, func() error {
			if n := committed(); n <= last {
				return fmt.Errorf("round %d: %d input records committed, no progress since the last kill", round, n)
			}
			return nil
		})
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		last = committed()
	}
	start()
	close(stop)
	<-produced
	t.Logf("10 kills; %d input records committed at the last one", last)

	rd, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ConsumeTopics("out"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	keys := dsl.TimeWindowedSerde(serde.String(), eosWindow)
	got := map[keyWindow]int64{}
	rctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	reached := func() bool {
		for kw, n := range truth {
			if got[kw] < n {
				return false
			}
		}
		return true
	}
	for !reached() {
		fs := rd.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("the committed counts did not reach the true counts (%d of %d windows did)", len(got), len(truth))
		}
		fs.EachRecord(func(r *kgo.Record) {
			k, err := keys.Deserialize(r.Key)
			if err != nil {
				t.Fatal(err)
			}
			n, err := serde.Int64().Deserialize(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			kw := keyWindow{k.Key, k.Window.Start}
			if n != got[kw]+1 {
				t.Errorf("%s window %d: committed count %d after %d", kw.key, kw.start, n, got[kw])
			}
			got[kw] = n
		})
	}
	for kw, n := range truth {
		if got[kw] != n {
			t.Errorf("%s window %d: count %d, true count %d", kw.key, kw.start, got[kw], n)
		}
	}
	t.Logf("%d windows counted exactly", len(truth))
}
