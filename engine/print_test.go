package engine

import (
	"net/http"
	"strings"
	"testing"

	"github.com/seichedb/seiche/broker/brokertest"
)

// TestPrint reads a topic with PRINT: its name matched ignoring case, keys and values rendered as
// ksqlDB's PRINT guesses their formats, FROM BEGINNING and LIMIT obeyed.
func TestPrint(t *testing.T) {
	b := brokertest.Start(t)
	s := startServer(t, b.Addr(), t.TempDir())
	ksql(t, s.url, "CREATE STREAM S (ID INT KEY, V INT) WITH (KAFKA_TOPIC='print_me', PARTITIONS=1, VALUE_FORMAT='JSON');")
	ksql(t, s.url, "INSERT INTO S (ID, V) VALUES (1, 10); INSERT INTO S (ID, V) VALUES (2, 20); INSERT INTO S (ID, V) VALUES (3, 30);")
	r := query(t, s.url, "PRINT print_me FROM BEGINNING LIMIT 2;")
	if r.status != http.StatusOK || len(r.rows) != 2 || r.final != "Limit Reached" {
		t.Fatalf("PRINT: HTTP %d rows %v final %q: %s", r.status, r.rows, r.final, r.raw)
	}
	for i, want := range []string{`key: 1, value: {\"V\":10}, partition: 0`, `key: 2, value: {\"V\":20}, partition: 0`} {
		if !strings.Contains(r.rows[i], want) || !strings.Contains(r.rows[i], "rowtime: ") {
			t.Errorf("PRINT row %d: %s, want it to contain %s", i, r.rows[i], want)
		}
	}
	e := ksqlErrorQuery(t, s.url, "PRINT no_such_topic;")
	if !strings.Contains(e, "Could not find topic 'NO_SUCH_TOPIC'") {
		t.Errorf("PRINT of a missing topic: %s", e)
	}
}

func ksqlErrorQuery(t *testing.T, url, sql string) string {
	t.Helper()
	r := query(t, url, sql)
	if r.status != http.StatusBadRequest {
		t.Fatalf("%s: HTTP %d, want 400: %s", sql, r.status, r.raw)
	}
	return r.raw
}
