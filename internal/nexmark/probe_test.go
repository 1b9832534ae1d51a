package nexmark

import (
	"context"
	"testing"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/internal/nexmark/gen"
)

func TestProbe(t *testing.T) {
	recs := Generate(gen.New(gen.Config{}), 200000, Topics)
	for _, q := range Queries {
		s := engine.NewTestSession(nil)
		for _, tp := range Topics {
			s.CreateTopic(tp, 1)
		}
		_, err := s.Execute(context.Background(), DDL+q.SQL)
		if err != nil {
			t.Errorf("%s: %v", q.Name, err)
			continue
		}
		for _, r := range recs {
			if err := s.Pipe(context.Background(), r); err != nil {
				t.Fatalf("%s: %v", q.Name, err)
			}
		}
		for _, sink := range q.Sinks {
			w := s.Written(sink)
			t.Logf("%s %s: %d", q.Name, sink, len(w))
			for i := 0; i < len(w) && i < 3; i++ {
				t.Logf("   %x %s", w[i].Key, w[i].Value)
			}
		}
		s.Close()
	}
}
