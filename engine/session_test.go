package engine_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/internal/testutil"
	rt "github.com/seichedb/seiche/runtime"
)

func values(recs []rt.RawRecord) string {
	var out []string
	for _, r := range recs {
		out = append(out, string(r.Key)+"="+string(r.Value))
	}
	return strings.Join(out, " ")
}

func mustExecute(t *testing.T, s *engine.TestSession, sql string) []engine.Entity {
	t.Helper()
	ents, err := s.Execute(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return ents
}

// TestSession runs statements on the server's path over test drivers: a query reads what its
// source held when it started (auto.offset.reset=earliest), records flow from one query into the
// next, and a terminated query stops reading.
func TestSession(t *testing.T) {
	s := engine.NewTestSession(nil)
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateTopic("in", 1); err != nil {
		t.Fatal(err)
	}
	mustExecute(t, s, `CREATE STREAM A (K STRING KEY, V INT) WITH (KAFKA_TOPIC='in', VALUE_FORMAT='JSON');
		INSERT INTO A (K, V) VALUES ('x', 1);`)
	ents := mustExecute(t, s, `CREATE STREAM B AS SELECT K, V * 10 AS V FROM A;
		CREATE STREAM C AS SELECT K, V + 1 AS V FROM B;`)
	if len(ents) != 2 {
		t.Fatalf("got %d entities, want 2", len(ents))
	}
	status := ents[0]["commandStatus"].(map[string]any)
	if qid := status["queryId"]; qid != "CSAS_B_1" {
		t.Errorf("query id %v, want CSAS_B_1 (named after its command's offset, as on a server)", qid)
	}
	if err := s.Pipe(ctx, rt.RawRecord{Topic: "in", Key: []byte("y"), Value: []byte(`{"V":2}`)}); err != nil {
		t.Fatal(err)
	}
	if got, want := values(s.Written("B")), `x={"V":10} y={"V":20}`; got != want {
		t.Errorf("B holds %s, want %s", got, want)
	}
	if got, want := values(s.Written("C")), `x={"V":11} y={"V":21}`; got != want {
		t.Errorf("C holds %s, want %s", got, want)
	}
	if _, ok := s.Metastore().Source("C"); !ok {
		t.Errorf("C is not in the metastore")
	}

	mustExecute(t, s, "TERMINATE CSAS_C_2;")
	if err := s.Pipe(ctx, rt.RawRecord{Topic: "in", Key: []byte("z"), Value: []byte(`{"V":3}`)}); err != nil {
		t.Fatal(err)
	}
	if got, want := values(s.Written("C")), `x={"V":11} y={"V":21}`; got != want {
		t.Errorf("after TERMINATE, C holds %s, want %s", got, want)
	}

	_, err := s.Execute(ctx, "CREATE STREAM D (K STRING KEY) WITH (KAFKA_TOPIC='nowhere', VALUE_FORMAT='JSON');")
	var se *engine.StatementError
	if !errors.As(err, &se) || !strings.Contains(se.Message, "Topic 'nowhere' does not exist") {
		t.Errorf("CREATE over a missing topic: %v, want the server's error", err)
	}
	if _, err := s.Execute(ctx, "SELECT * FROM A EMIT CHANGES;"); err == nil {
		t.Errorf("a push query ran on a test session")
	}
}

// TestSessionStops checks that a query feeding its own input stops when the context of the Pipe that
// set it going is done, and that the session then starts no goroutine and leaves none behind.
func TestSessionStops(t *testing.T) {
	before := runtime.NumGoroutine()
	s := engine.NewTestSession(nil)
	if err := s.CreateTopic("loop", 1); err != nil {
		t.Fatal(err)
	}
	mustExecute(t, s, `CREATE STREAM S (K STRING KEY, V INT) WITH (KAFKA_TOPIC='loop', VALUE_FORMAT='JSON');
		CREATE STREAM T WITH (KAFKA_TOPIC='loop2') AS SELECT * FROM S;
		INSERT INTO S SELECT * FROM T;`)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.Pipe(ctx, rt.RawRecord{Topic: "loop", Key: []byte("k"), Value: []byte(`{"V":1}`)})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Pipe = %v, want %v", err, context.DeadlineExceeded)
	}
	if n := len(s.Written("loop2")); n < 2 {
		t.Errorf("%d records went round the loop, want many", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	testutil.CheckFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines after the session, %d before", n, before)
		}
		return nil
	})
}
