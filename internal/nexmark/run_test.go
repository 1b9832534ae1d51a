package nexmark

import (
	"bytes"
	"context"
	"testing"
)

// TestRunBroker runs queries through a broker of their own, each implementation on the same
// events, and checks that they wrote the same number of rows.
func TestRunBroker(t *testing.T) {
	var log bytes.Buffer
	cfg := Config{Queries: []string{"q0", "q3"}, Events: 3000, Mode: ModeBroker, Log: &log}
	rs, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	t.Log(log.String())
	for _, q := range cfg.Queries {
		s, ok := rs.Best(q, ImplSQLTopology)
		if !ok || s.Outputs == 0 {
			t.Fatalf("%s: no SQL output: %+v", q, s)
		}
		if d, ok := rs.Best(q, ImplDSL); ok && d.Outputs != s.Outputs {
			t.Errorf("%s: the DSL wrote %d rows, the SQL %d", q, d.Outputs, s.Outputs)
		}
	}
}
