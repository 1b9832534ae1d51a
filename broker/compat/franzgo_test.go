package compat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestFranzGo runs the matrix with franz-go: its default idempotent producer, a cooperative-sticky
// group consumer, and kadm for administration. It runs with the newest versions both sides support;
// pinned to Kafka 0.11's, the oldest the broker serves (Produce v3, Fetch v5, JoinGroup v2, SyncGroup
// v1, OffsetCommit v3); and with 0.11's data path but the oldest group APIs, which older librdkafka
// releases send (JoinGroup, SyncGroup, Heartbeat and LeaveGroup v0, OffsetCommit and OffsetFetch v1).
func TestFranzGo(t *testing.T) {
	t.Parallel()
	t.Run("latest", func(t *testing.T) {
		runMatrix(t, franzGo{})
		t.Run("admin", testFranzGoAdmin)
	})
	t.Run("kafka-0.11", func(t *testing.T) { runMatrix(t, franzGo{kversion.V0_11_0()}) })
	t.Run("group-v0", func(t *testing.T) {
		v := kversion.V0_11_0()
		for _, key := range []int16{11, 12, 13, 14} { // JoinGroup, Heartbeat, LeaveGroup, SyncGroup
			v.SetMaxKeyVersion(key, 0)
		}
		v.SetMaxKeyVersion(8, 1) // OffsetCommit
		v.SetMaxKeyVersion(9, 1) // OffsetFetch
		runMatrix(t, franzGo{v})
	})
}

// franzGo is franz-go, with versions capped at max where it is set.
type franzGo struct{ max *kversion.Versions }

func (franzGo) idempotent() bool { return true }

// client returns a franz-go client with opts, capped at c.max.
func (c franzGo) client(addr string, opts ...kgo.Opt) (*kgo.Client, error) {
	opts = append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)
	if c.max != nil {
		opts = append(opts, kgo.MaxVersions(c.max))
	}
	return kgo.NewClient(opts...)
}

func (c franzGo) produce(ctx context.Context, t *testing.T, addr, topic string, values []string) error {
	cl, err := c.client(addr, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		return err
	}
	defer cl.Close()
	recs := make([]*kgo.Record, len(values))
	for i, v := range values {
		recs[i] = &kgo.Record{Key: []byte(v), Value: []byte(v)}
	}
	return cl.ProduceSync(ctx, recs...).FirstErr()
}

func (c franzGo) consume(ctx context.Context, t *testing.T, addr, topic string, n int) ([]rec, error) {
	cl, err := c.client(addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return pollN(ctx, cl, n)
}

func (c franzGo) consumeCommit(ctx context.Context, t *testing.T, addr, topic, group string, n int) ([]rec, error) {
	cl, err := c.client(addr, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit(), kgo.HeartbeatInterval(500*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	got, err := pollN(ctx, cl, n)
	if err != nil {
		return got, err
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return got, fmt.Errorf("commit: %w", err)
	}
	return got, nil
}

func (c franzGo) join(ctx context.Context, t *testing.T, addr, topic, group string) (member, error) {
	cl, err := c.client(addr, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.HeartbeatInterval(500*time.Millisecond),
		kgo.AutoCommitInterval(200*time.Millisecond))
	if err != nil {
		return nil, err
	}
	m := &goMember{recorder: &recorder{}}
	ctx, m.cancel = context.WithCancel(ctx)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			fs := cl.PollFetches(ctx)
			if fs.IsClientClosed() || ctx.Err() != nil {
				return
			}
			fs.EachRecord(func(r *kgo.Record) { m.add(rec{r.Partition, r.Offset, string(r.Value)}) })
		}
	}()
	m.close = func() error {
		// Close commits what was polled and leaves the group, as a consumer that shuts down does.
		cl.Close()
		return nil
	}
	return m, nil
}

// pollN polls cl until it has delivered n records.
func pollN(ctx context.Context, cl *kgo.Client, n int) ([]rec, error) {
	var got []rec
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return got, fmt.Errorf("read %d of %d records: %w", len(got), n, err)
		}
		var errs []error
		fs.EachError(func(topic string, p int32, err error) { errs = append(errs, fmt.Errorf("%s/%d: %w", topic, p, err)) })
		if err := errors.Join(errs...); err != nil {
			return got, fmt.Errorf("fetch: %w", err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, rec{r.Partition, r.Offset, string(r.Value)}) })
	}
	return got, nil
}

// goMember is a group member run by a goroutine of this process.
type goMember struct {
	*recorder
	cancel context.CancelFunc
	close  func() error
	wg     sync.WaitGroup
	once   sync.Once
	err    error
	mu     struct {
		sync.Mutex
		failed error
	}
}

// fail records that the member's goroutine stopped on err.
func (m *goMember) fail(err error) {
	m.mu.Lock()
	m.mu.failed = err
	m.mu.Unlock()
}

func (m *goMember) failed() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.failed
}

func (m *goMember) stop() error {
	m.once.Do(func() {
		m.cancel()
		m.err = m.close()
		m.wg.Wait()
	})
	return m.err
}

// testFranzGoAdmin checks the administration kadm does most: create a topic with configs, list it,
// describe its configs, add partitions and delete it.
func testFranzGoAdmin(t *testing.T) {
	ctx, addr, _ := cell(t)
	// kadm answers ListTopics from kgo's metadata cache, which by default may be 5s old; the checks
	// below are of the broker's answers, not the cache's.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.MetadataMinAge(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	const topic = "admin-topic"
	retention := "3600000"
	created, err := adm.CreateTopic(ctx, 4, 1, map[string]*string{"retention.ms": &retention}, topic)
	if err == nil {
		err = created.Err
	}
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}

	listed, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatalf("list topics: %v", err)
	}
	d, ok := listed[topic]
	if !ok {
		t.Fatalf("list topics: %s missing from %v", topic, listed.Names())
	}
	if len(d.Partitions) != 4 || d.Err != nil {
		t.Fatalf("list topics: %s has %d partitions (err %v), want 4", topic, len(d.Partitions), d.Err)
	}

	configs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatalf("describe configs: %v", err)
	}
	rc, err := configs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		t.Fatalf("describe configs: %v", err)
	}
	found := false
	for i := range rc.Configs {
		c := &rc.Configs[i]
		if c.Key != "retention.ms" {
			continue
		}
		found = true
		if c.MaybeValue() != retention || c.Source.String() != "DYNAMIC_TOPIC_CONFIG" {
			t.Errorf("describe configs: retention.ms = %q from %s, want %q from DYNAMIC_TOPIC_CONFIG", c.MaybeValue(), c.Source, retention)
		}
	}
	if !found {
		t.Errorf("describe configs: no retention.ms among %d configs", len(rc.Configs))
	}

	grown, err := adm.CreatePartitions(ctx, 2, topic)
	if err == nil {
		err = grown.Error()
	}
	if err != nil {
		t.Fatalf("create partitions: %v", err)
	}
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		listed, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return err
		}
		if n := len(listed[topic].Partitions); n != 6 {
			return fmt.Errorf("after adding 2 partitions, %s has %d, want 6", topic, n)
		}
		return nil
	})

	deleted, err := adm.DeleteTopics(ctx, topic)
	if err == nil {
		err = deleted.Error()
	}
	if err != nil {
		t.Fatalf("delete topic: %v", err)
	}
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		listed, err := adm.ListTopics(ctx)
		if err != nil {
			return err
		}
		if listed.Has(topic) {
			return fmt.Errorf("%s still listed after delete", topic)
		}
		return nil
	})
}
