package runtime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/serde"
)

// checkFor polls fn until it returns nil or timeout passes, then fails with fn's last error.
func checkFor(t testing.TB, timeout, every time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(every)
	}
}

// testBroker starts a broker with opts and returns its address and a client for the test's own use.
func testBroker(t testing.TB, opts ...broker.Opt) (string, *kgo.Client) {
	t.Helper()
	b := brokertest.Start(t, opts...)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("unused"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return b.Addr(), cl
}

func createTopics(t testing.TB, cl *kgo.Client, partitions int32, topics ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, partitions, 1, nil, topics...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("create topics %v: %v", topics, err)
	}
}

// startApp runs a in the background and closes it when the test ends.
func startApp(t testing.TB, a *App) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	t.Cleanup(func() {
		a.Close()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("app %s: Run: %v", a.processID, err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("app did not stop")
		}
	})
	return done
}

// consumeAll reads topic from the start until want records were read or timeout passes.
func consumeAll(t testing.TB, addr, topic string, want int, timeout time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records from %s before %v", len(out), want, topic, timeout)
		}
		fs.EachError(func(tp string, p int32, err error) { t.Logf("consume %s-%d: %v", tp, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// passThroughTopology reads in, upper-cases string values and writes out.
func upperTopology(in, out string) *Topology {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, string]{Topics: []string{in}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "upper", func() Processor[string, string, string, string] { return &upper{} }, "src")
	AddSink(topo, "sink", SinkSpec[string, string]{Topic: out, Keys: serde.String(), Values: serde.String()}, "upper")
	return topo
}

type upper struct {
	ctx ProcessorContext[string, string]
}

func (u *upper) Init(ctx ProcessorContext[string, string]) error { u.ctx = ctx; return nil }
func (u *upper) Close() error                                    { return nil }
func (u *upper) Process(r Record[string, string]) error {
	b := []byte(r.Value)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 32
		}
	}
	md, _ := u.ctx.RecordMetadata()
	r.Value = string(b) + fmt.Sprintf("@%d", md.Partition)
	return u.ctx.Forward(r)
}
