package engine

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/internal/testutil"
)

// TestCreateOrReplace upgrades a running CREATE STREAM AS SELECT in place, as ksqlDB does: the query
// keeps its id and consumer group, so the new plan goes on from where the old one stopped, and a change
// that would drop a column or alter the key is refused.
func TestCreateOrReplace(t *testing.T) {
	b := brokertest.Start(t)
	s := startServer(t, b.Addr(), t.TempDir())
	ksql(t, s.url, "CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")
	first := ksql(t, s.url, "CREATE STREAM T AS SELECT ID, V FROM S;")[0]["commandStatus"].(map[string]any)["queryId"]
	ksql(t, s.url, "INSERT INTO S (ID, V) VALUES (1, 1); INSERT INTO S (ID, V) VALUES (2, 2);")
	testutil.CheckFor(t, 30*time.Second, func() error {
		if r := query(t, s.url, "SELECT * FROM T;"); len(r.rows) != 2 {
			return fmt.Errorf("T has %v", r.rows)
		}
		return nil
	})
	// Wait until the old query has committed its input, so nothing is read twice.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	testutil.CheckFor(t, 30*time.Second, func() error {
		offs, err := adm.FetchOffsets(context.Background(), "_seiche-seiche-query-"+fmt.Sprint(first))
		if err != nil {
			return err
		}
		if o, ok := offs.Lookup("s", 0); !ok || o.At != 2 {
			return fmt.Errorf("committed offset of s/0: %+v", o)
		}
		return nil
	})

	d := ksql(t, s.url, "DESCRIBE S EXTENDED;")[0]["sourceDescription"].(map[string]any)
	if st := fmt.Sprint(d["statistics"]); !regexp.MustCompile(`^consumer-messages-per-sec: [0-9.]+ consumer-total-messages: 2$`).MatchString(st) {
		t.Errorf("DESCRIBE S EXTENDED statistics: %q", st)
	}
	if es := fmt.Sprint(d["errorStats"]); es != "consumer-failed-messages: 0" {
		t.Errorf("DESCRIBE S EXTENDED errorStats: %q", es)
	}

	second := ksql(t, s.url, "CREATE OR REPLACE STREAM T AS SELECT ID, V, V * 2 AS W FROM S WHERE V > 1;")[0]["commandStatus"].(map[string]any)["queryId"]
	if first != second {
		t.Fatalf("replaced query id %v, want the old one, %v", second, first)
	}
	if got := persistentQueries(t, s.url); len(got) != 1 || got[0] != fmt.Sprint(first)+" RUNNING" {
		t.Fatalf("queries after the upgrade: %v", got)
	}
	ksql(t, s.url, "INSERT INTO S (ID, V) VALUES (3, 3); INSERT INTO S (ID, V) VALUES (4, 0);")
	testutil.CheckFor(t, 30*time.Second, func() error {
		r := query(t, s.url, "SELECT * FROM T;")
		if !sameRows(r.rows, []string{"[1,1,null]", "[2,2,null]", "[3,3,6]"}) {
			return fmt.Errorf("T has %v", r.rows)
		}
		return nil
	})

	for _, bad := range []string{
		"CREATE OR REPLACE STREAM T AS SELECT ID, W FROM S;",                                // no such column
		"CREATE OR REPLACE STREAM T AS SELECT ID, V * 3 AS W FROM S;",                       // drops V
		"CREATE OR REPLACE STREAM T AS SELECT V AS K, ID, V, V AS W FROM S PARTITION BY V;", // another key
		"CREATE OR REPLACE STREAM S AS SELECT * FROM T;",                                    // S has no query
	} {
		ksqlError(t, s.url, bad, http.StatusBadRequest)
	}
}
