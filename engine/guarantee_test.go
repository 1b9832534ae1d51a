package engine

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/internal/testutil"
	"github.com/seichedb/seiche/runtime"
)

func TestGuaranteeProperty(t *testing.T) {
	for _, c := range []struct {
		stmt, server map[string]string
		want         runtime.Guarantee
		deprecated   bool
		err          bool
	}{
		{want: runtime.AtLeastOnce},
		{stmt: map[string]string{"processing.guarantee": "exactly_once_v2"}, want: runtime.ExactlyOnceV2},
		{server: map[string]string{"ksql.streams.processing.guarantee": "exactly_once_v2"}, want: runtime.ExactlyOnceV2},
		{stmt: map[string]string{"processing.guarantee": "at_least_once"},
			server: map[string]string{"ksql.streams.processing.guarantee": "exactly_once_v2"}, want: runtime.AtLeastOnce},
		{stmt: map[string]string{"ksql.streams.processing.guarantee": "EXACTLY_ONCE_V2"}, want: runtime.ExactlyOnceV2},
		{stmt: map[string]string{"processing.guarantee": "exactly_once"}, want: runtime.ExactlyOnceV2, deprecated: true},
		{stmt: map[string]string{"processing.guarantee": "exactly_once_beta"}, want: runtime.ExactlyOnceV2, deprecated: true},
		{stmt: map[string]string{"processing.guarantee": "exactly_twice"}, err: true},
	} {
		g, deprecated, err := guaranteeProperty(c.stmt, c.server)
		if (err != nil) != c.err || err == nil && (g != c.want || deprecated != c.deprecated) {
			t.Errorf("%v %v: %v %v %v, want %v %v (error %v)", c.stmt, c.server, g, deprecated, err, c.want, c.deprecated, c.err)
		}
	}
}

// The server's ksql.streams.processing.guarantee runs persistent queries with exactly_once_v2: the
// table's topic is written in transactions (it holds their commit markers). A bad value is refused
// by SET and by a CREATE that carries it.
func TestServerExactlyOnce(t *testing.T) {
	b := brokertest.Start(t)
	s := startServer(t, b.Addr(), t.TempDir(), func(string) Opt {
		// Without a record cache, so that the count's two updates are both written.
		return Properties(map[string]string{"ksql.streams.processing.guarantee": "exactly_once_v2",
			"ksql.streams.cache.max.bytes.buffering": "0"})
	})
	ksql(t, s.url, "CREATE STREAM S (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
	ksql(t, s.url, "CREATE TABLE T AS SELECT ID, COUNT(*) AS N FROM S GROUP BY ID;")
	ksql(t, s.url, "INSERT INTO S (ID, V) VALUES ('a', 1); INSERT INTO S (ID, V) VALUES ('a', 2);")

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("T"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var rows, markers int
	testutil.CheckFor(t, 30*time.Second, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			if r.Attrs.IsControl() {
				markers++
			} else {
				rows++
			}
		})
		if rows < 2 || markers == 0 {
			return errors.New("the table's two updates and a commit marker not read yet")
		}
		return nil
	})

	e := ksqlError(t, s.url, "SET 'processing.guarantee'='exactly_twice';", http.StatusBadRequest)
	if msg, _ := e["message"].(string); !strings.Contains(msg, "Invalid value exactly_twice for configuration processing.guarantee") {
		t.Errorf("SET with a bad guarantee: %v", e)
	}
	status, raw := post(t, s.url, "/ksql", map[string]any{"ksql": "CREATE TABLE U AS SELECT ID, COUNT(*) AS N FROM S GROUP BY ID;",
		"streamsProperties": map[string]any{"ksql.streams.processing.guarantee": "none"}})
	if status != http.StatusBadRequest || !strings.Contains(string(raw), "Invalid value none for configuration processing.guarantee") {
		t.Errorf("CREATE with a bad guarantee: HTTP %d %s", status, raw)
	}
}
