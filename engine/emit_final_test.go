package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/internal/testutil"
)

// An EMIT FINAL query writes the same final results through a broker, where its windowed
// aggregation has a record cache that coalesces a window's updates between commits (see the
// planner's finalCache), as on a TestSession, whose driver hands the suppression every update.
func TestEmitFinalThroughBrokerMatchesTestSession(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker and an engine")
	}
	stmts := []string{
		"CREATE STREAM S (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');",
		"CREATE TABLE F WITH (KAFKA_TOPIC='f', PARTITIONS=1) AS SELECT ID, COUNT(*) AS CNT, SUM(V) AS TOTAL " +
			"FROM S WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 5 SECONDS, GRACE PERIOD 2 SECONDS) GROUP BY ID EMIT FINAL;",
	}
	// Many updates per window and key, some late within the grace period, some too late.
	var inserts []string
	for i := range 300 {
		ts := int64(i) * 150
		if i%11 == 0 {
			ts -= 1500
		}
		inserts = append(inserts, fmt.Sprintf("INSERT INTO S (ROWTIME, ID, V) VALUES (%d, 'k%d', %d);", max(ts, 0), i%4, i))
	}
	inserts = append(inserts, "INSERT INTO S (ROWTIME, ID, V) VALUES (100000, 'k0', 0);") // closes every window before
	ctx := context.Background()

	s := NewTestSession(nil)
	defer s.Close()
	if _, err := s.Execute(ctx, strings.Join(stmts, "\n")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execute(ctx, strings.Join(inserts, "\n")); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range s.Written("f") {
		want = append(want, fmt.Sprintf("%x=%s@%d", r.Key, r.Value, r.Timestamp))
	}
	if len(want) < 20 {
		t.Fatalf("the test session wrote %d final results: too few to compare", len(want))
	}

	b := brokertest.Start(t)
	srv := startServer(t, b.Addr(), t.TempDir())
	for _, st := range stmts {
		ksql(t, srv.url, st)
	}
	ksql(t, srv.url, strings.Join(inserts, "\n"))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("f"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	testutil.CheckFor(t, 60*time.Second, func() error {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		cl.PollRecords(pctx, -1).EachRecord(func(r *kgo.Record) {
			got = append(got, fmt.Sprintf("%x=%s@%d", r.Key, r.Value, r.Timestamp.UnixMilli()))
		})
		if len(got) < len(want) {
			return fmt.Errorf("%d of %d final results", len(got), len(want))
		}
		return nil
	})
	// Nothing more comes: a repeated final result would follow the others within a commit.
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	cl.PollRecords(pctx, -1).EachRecord(func(r *kgo.Record) {
		got = append(got, fmt.Sprintf("%x=%s@%d", r.Key, r.Value, r.Timestamp.UnixMilli()))
	})
	if !slices.Equal(got, want) {
		t.Fatalf("through the broker:\n%s\non a test session:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
