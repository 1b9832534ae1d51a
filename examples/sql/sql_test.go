package sql

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/seichedb/seiche/sql/qtt"
)

// TestExamples runs every example directory's statements.sql with input.json and checks output.json.
func TestExamples(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("*", "statements.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no examples found")
	}
	for _, stmts := range dirs {
		dir := filepath.Dir(stmts)
		t.Run(dir, func(t *testing.T) {
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			c, err := qtt.RunnerCase(dir, string(read("statements.sql")), read("input.json"), read("output.json"))
			if err != nil {
				t.Fatal(err)
			}
			if r := qtt.RunCase(context.Background(), c); r.Status != qtt.Pass {
				t.Fatalf("%s: %s\n%s", r.Status, r.Reason, r.Detail)
			}
		})
	}
}
