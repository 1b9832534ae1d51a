package parser

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/seichedb/seiche/sql/sqlerr"
)

// TestParse runs testdata/*: "parse" prints each statement of a script in canonical form (and checks that
// the canonical form parses back to itself) or the error with its code; "expr" does the same for one
// expression. Regenerate expectations with -rewrite.
func TestParse(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "parse":
				var ps Parser
				parsed, err := ps.ParseScript(d.Input)
				var b strings.Builder
				for _, p := range parsed {
					s := Format(p.Statement)
					b.WriteString(s)
					b.WriteString("\n")
					again, err := ParseStatement(s)
					if err != nil {
						t.Errorf("canonical form does not parse: %s: %v", s, err)
					} else if s2 := Format(again); s2 != s {
						t.Errorf("canonical form is not stable:\n%s\n%s", s, s2)
					}
				}
				if err != nil {
					fmt.Fprintf(&b, "error %s: %v\n", sqlerr.CodeOf(err), err)
				}
				return b.String()
			case "expr":
				e, err := ParseExpr(d.Input)
				if err != nil {
					return fmt.Sprintf("error %s: %v\n", sqlerr.CodeOf(err), err)
				}
				return FormatExpr(e) + "\n"
			}
			t.Fatalf("unknown command %s", d.Cmd)
			return ""
		})
	})
}
