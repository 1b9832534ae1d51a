package runtime

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
)

// seqTopology copies (key, seq) records from in to out unchanged, through a processor, so the
// output shows what was processed in which order.
func seqTopology() *Topology {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, int64]{Topics: []string{"scale-in"}, Keys: serde.String(), Values: serde.Int64()})
	AddProcessor(topo, "copy", func() Processor[string, int64, string, int64] { return &copyProc{} }, "src")
	AddSink(topo, "sink", SinkSpec[string, int64]{Topic: "scale-out", Keys: serde.String(), Values: serde.Int64()}, "copy")
	return topo
}

type copyProc struct {
	ctx ProcessorContext[string, int64]
}

func (p *copyProc) Init(ctx ProcessorContext[string, int64]) error { p.ctx = ctx; return nil }
func (p *copyProc) Close() error                                   { return nil }
func (p *copyProc) Process(r Record[string, int64]) error          { return p.ctx.Forward(r) }

// TestScaleOutAndFailover is acceptance test 2 of issue 4: three instances of one application split
// the 12 partitions of its input; one dies without leaving the group (a static member closed
// without committing or sending LeaveGroup, like a killed process); the group notices at the session
// timeout and its tasks move to the two others; every input record reaches the output
// (at-least-once: the dead instance's uncommitted records are processed again) and each key's
// output is in input order, duplicates being replays of a suffix.
func TestScaleOutAndFailover(t *testing.T) {
	const (
		partitions     = 12
		keys           = 48
		perKey         = 150 // records per key
		sessionTimeout = 4 * time.Second
	)
	addr, cl := testBroker(t)
	createTopics(t, cl, partitions, "scale-in", "scale-out")

	apps := make([]*App, 3)
	for i := range apps {
		a, err := New(seqTopology(), ApplicationID("scale"), Bootstrap(addr),
			GroupInstanceID(fmt.Sprintf("instance-%d", i)), ApplicationServer(fmt.Sprintf("host-%d:8080", i)),
			SessionTimeout(sessionTimeout), HeartbeatInterval(250*time.Millisecond),
			CommitInterval(300*time.Millisecond), MaxPollRecords(50), Logger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		apps[i] = a
	}
	for _, a := range apps[:2] {
		startApp(t, a)
	}
	victim := apps[2]
	victimDone := make(chan struct{})
	go func() { victim.Run(context.Background()); close(victimDone) }()
	t.Cleanup(func() { victim.crash(); <-victimDone })

	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		for i, a := range apps {
			if n := len(a.Tasks()); n != partitions/3 {
				return fmt.Errorf("instance %d runs %d tasks, want %d", i, n, partitions/3)
			}
		}
		return nil
	})
	hosts := apps[0].HostPartitions()
	if len(hosts) != 3 || len(hosts["host-2:8080"]) != 4 {
		t.Errorf("host partitions after the first assignment = %v", hosts)
	}
	victimTasks := victim.Tasks()
	t.Logf("victim runs %v", victimTasks)

	// Produce in the background, paced, so the victim dies with records in flight.
	var wg sync.WaitGroup
	wg.Add(1)
	produced := make(chan struct{})
	go func() {
		defer wg.Done()
		for seq := range int64(perKey) {
			for k := range keys {
				v := binary.BigEndian.AppendUint64(nil, uint64(seq))
				cl.Produce(context.Background(), &kgo.Record{Topic: "scale-in", Key: fmt.Appendf(nil, "key-%02d", k), Value: v}, func(_ *kgo.Record, err error) {
					if err != nil {
						t.Errorf("produce: %v", err)
					}
				})
			}
			if seq == perKey/3 {
				close(produced)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := cl.Flush(context.Background()); err != nil {
			t.Errorf("flush: %v", err)
		}
	}()
	<-produced
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if _, series := gatherSum(t, victim, "seiche_stream_task_records_processed_total"); series == 0 {
			return fmt.Errorf("victim has processed nothing yet")
		}
		return nil
	})
	killed := time.Now()
	victim.crash()
	<-victimDone

	var moved time.Duration
	checkFor(t, sessionTimeout+10*time.Second, 20*time.Millisecond, func() error {
		a, b := apps[0].Tasks(), apps[1].Tasks()
		if len(a) != partitions/2 || len(b) != partitions/2 {
			return fmt.Errorf("survivors run %v and %v", a, b)
		}
		moved = time.Since(killed)
		return nil
	})
	t.Logf("the victim's tasks moved to the survivors %v after it died (session timeout %v)", moved.Round(time.Millisecond), sessionTimeout)
	if limit := sessionTimeout + 3*time.Second; moved > limit {
		t.Errorf("tasks moved after %v, more than the session timeout plus 3s", moved)
	}
	wg.Wait()

	// Read the output until every (key, seq) has been seen.
	seen := map[string]map[int64]bool{}
	complete := func() bool {
		for k := range keys {
			if len(seen[fmt.Sprintf("key-%02d", k)]) < perKey {
				return false
			}
		}
		return true
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("scale-out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	perKeyOrder := map[string][]int64{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	total := 0
	for !complete() {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			missing := 0
			for k := range keys {
				missing += perKey - len(seen[fmt.Sprintf("key-%02d", k)])
			}
			t.Fatalf("output incomplete after 30s: %d (key, seq) pairs missing", missing)
		}
		fs.EachRecord(func(r *kgo.Record) {
			k := string(r.Key)
			v := int64(binary.BigEndian.Uint64(r.Value))
			if seen[k] == nil {
				seen[k] = map[int64]bool{}
			}
			seen[k][v] = true
			perKeyOrder[k] = append(perKeyOrder[k], v)
			total++
		})
	}
	dups := 0
	for k, vs := range perKeyOrder {
		top := int64(-1)
		for i, v := range vs {
			switch {
			case v == top+1:
				top = v
			case v <= top:
				dups++ // a replay of records processed but not committed before the crash
			default:
				t.Fatalf("key %s: output %d after %d (index %d): a record was skipped or reordered: %v", k, v, top, i, vs)
			}
		}
	}
	t.Logf("%d input records, %d output records, %d duplicates from replay", keys*perKey, total, dups)
}
