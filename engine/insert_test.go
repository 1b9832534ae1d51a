package engine

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
)

// TestInsertValuesIntoRecreatedTopic: INSERT VALUES into a stream whose topic was deleted and
// created again outside the server (an operator's kafka-topics, a test harness) writes to the new
// topic. The server's producer still knows the old topic's id, the broker answers UNKNOWN_TOPIC_ID,
// and the server refreshes its metadata and writes again (after Kafka's retry backoff, not the
// client's 5 s default metadata age: the statement answered in ~5 s before).
func TestInsertValuesIntoRecreatedTopic(t *testing.T) {
	b := brokertest.Start(t)
	s := startServer(t, b.Addr(), t.TempDir())
	ksql(t, s.url, "CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='recreated', PARTITIONS=1, VALUE_FORMAT='JSON');")
	ksql(t, s.url, "INSERT INTO S (ID, V) VALUES (1, 10);")

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	if _, err := adm.DeleteTopics(ctx, "recreated"); err != nil {
		t.Fatal(err)
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, "recreated"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ksql(t, s.url, "INSERT INTO S (ID, V) VALUES (2, 20);")
	t.Logf("INSERT VALUES into the recreated topic answered in %v", time.Since(start))

	rd, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("recreated"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got []string
	for len(got) < 1 {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := rd.PollFetches(pctx)
		expired := pctx.Err() != nil
		cancel()
		if expired {
			t.Fatalf("nothing in the recreated topic after 10 s (read %v)", got)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	// Anything else would follow within a fetch.
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	rd.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	cancel()
	if len(got) != 1 || got[0] != `{"V":20}` {
		t.Fatalf("recreated topic holds %q, want the one value inserted after it was created again", got)
	}
}
