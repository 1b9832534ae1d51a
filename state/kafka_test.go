package state

import (
	"context"
	"testing"
	"time"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
)

// TestKafkaChangelog checks the franz-go Changelog against the integrated broker: topic creation
// with the store's configs, produce with offsets, and reads that keep tombstones and empty values
// apart.
func TestKafkaChangelog(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	b := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := crashClient(t, b.Addr())
	defer cl.Close()
	kc := NewKafkaChangelog(cl)

	const topic = "app-store-changelog"
	cfg := map[string]string{"cleanup.policy": "compact"}
	if err := kc.EnsureTopic(ctx, topic, 3, cfg); err != nil {
		t.Fatal(err)
	}
	if err := kc.EnsureTopic(ctx, topic, 3, cfg); err != nil {
		t.Fatalf("second EnsureTopic: %v", err)
	}
	adm := kadm.NewClient(cl)
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy = %q, want compact", policy)
	}
	details, err := adm.ListTopics(ctx, topic)
	if err != nil || len(details[topic].Partitions) != 3 {
		t.Fatalf("partitions: %v %v", details[topic].Partitions, err)
	}

	// A missing topic is retried (it may be a topic just created) until the context ends.
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if _, _, err := kc.Offsets(short, "no-such-topic", 0); err == nil {
		t.Fatal("offsets of a missing topic: no error")
	}

	recs := []ChangelogRecord{
		{Key: []byte("a"), Value: []byte("1"), Timestamp: 5},
		{Key: []byte("b"), Value: []byte{}, Timestamp: -1},
		{Key: []byte("a"), Value: nil, Timestamp: 7},
	}
	offsets := make(chan int64, len(recs))
	for _, r := range recs {
		r.Topic, r.Partition = topic, 2
		kc.Produce(r, func(off int64, err error) {
			if err != nil {
				t.Error(err)
			}
			offsets <- off
		})
	}
	if err := kc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if off := <-offsets; off != int64(i) {
			t.Fatalf("record %d got offset %d", i, off)
		}
	}
	start, end, err := kc.Offsets(ctx, topic, 2)
	if err != nil || start != 0 || end != 3 {
		t.Fatalf("offsets [%d,%d) %v, want [0,3)", start, end, err)
	}
	var got []ChangelogRecord
	err = kc.Read(ctx, topic, 2, 1, end, func(rs []ChangelogRecord) error {
		for _, r := range rs {
			r.Key, r.Value = append([]byte(nil), r.Key...), cloneNil(r.Value)
			got = append(got, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Offset != 1 || got[0].Value == nil || len(got[0].Value) != 0 ||
		got[1].Offset != 2 || got[1].Value != nil || got[1].Timestamp != 7 {
		t.Fatalf("read %+v", got)
	}
}

func cloneNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
