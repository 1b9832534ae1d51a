package qtt

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/types"
)

// post is a case's post-conditions: the sources that must exist after its statements ran, with their
// kind, schema, formats and window type, as ksqlDB's runner checks them.
type post struct {
	Sources []postSource `json:"sources"`
}

type postSource struct {
	Name        string          `json:"name"`
	Type        string          `json:"type"`
	Schema      *string         `json:"schema"`
	KeyFormat   json.RawMessage `json:"keyFormat"`
	ValueFormat json.RawMessage `json:"valueFormat"`
}

// postFormat is a post-condition's key or value format: a name and, for keys, the window type.
type postFormat struct {
	Format     string `json:"format"`
	WindowType string `json:"windowType"`
}

// checkPost checks the post-conditions raw (with {FORMAT} already substituted) against the metastore.
// Topic post-conditions name ksqlDB's internal topics and are not checked; source post-conditions are the
// user-visible catalog (what DESCRIBE shows) and are.
func checkPost(meta *analyzer.Metastore, raw json.RawMessage) error {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	var p post
	if err := json.Unmarshal(raw, &p); err != nil {
		return fmt.Errorf("post: %w", err)
	}
	for _, want := range p.Sources {
		got, ok := meta.Source(strings.ToUpper(want.Name))
		if !ok {
			if got, ok = meta.Source(want.Name); !ok {
				return fmt.Errorf("post: source %s does not exist", want.Name)
			}
		}
		if want.Type != "" && !strings.EqualFold(want.Type, got.Kind.String()) {
			return fmt.Errorf("post: source %s is a %s, expected a %s", want.Name, strings.ToLower(got.Kind.String()), strings.ToLower(want.Type))
		}
		if want.Schema != nil {
			exp, err := parseSchema(meta, *want.Schema)
			if err != nil {
				return fmt.Errorf("post: source %s: expected schema %q: %w", want.Name, *want.Schema, err)
			}
			if !sameSchema(exp, got.Schema) {
				return fmt.Errorf("post: source %s has schema\n  %s\nexpected\n  %s", want.Name, userColumns(got.Schema), userColumns(exp))
			}
		}
		if f, ok := decodeFormat(want.KeyFormat); ok {
			if f.Format != "" && !strings.EqualFold(f.Format, got.KeyFormat) {
				return fmt.Errorf("post: source %s has key format %s, expected %s", want.Name, got.KeyFormat, f.Format)
			}
			if !strings.EqualFold(f.WindowType, got.Window) {
				return fmt.Errorf("post: source %s has window type %q, expected %q", want.Name, got.Window, f.WindowType)
			}
		}
		if f, ok := decodeFormat(want.ValueFormat); ok && f.Format != "" && !strings.EqualFold(f.Format, got.ValueFormat) {
			return fmt.Errorf("post: source %s has value format %s, expected %s", want.Name, got.ValueFormat, f.Format)
		}
	}
	return nil
}

// decodeFormat reads a post-condition format, given either as {"format": ...} or as a bare name.
func decodeFormat(raw json.RawMessage) (postFormat, bool) {
	if len(raw) == 0 || isNull(raw) {
		return postFormat{}, false
	}
	var f postFormat
	if json.Unmarshal(raw, &f) == nil {
		return f, true
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		return postFormat{Format: name}, true
	}
	return postFormat{}, false
}

// parseSchema reads a post-condition schema ("`ID` BIGINT KEY, NAME STRING", types as in DDL) by
// analyzing it as the element list of a CREATE STREAM against the case's metastore (for custom types).
func parseSchema(meta *analyzer.Metastore, schema string) (*types.Schema, error) {
	kind := "STREAM"
	if strings.Contains(strings.ToUpper(schema), "PRIMARY KEY") {
		kind = "TABLE"
	}
	text := "CREATE " + kind + " POST_CONDITION_SCHEMA (" + schema + ") WITH (KAFKA_TOPIC='post', KEY_FORMAT='JSON', VALUE_FORMAT='JSON');"
	var ps parser.Parser
	parsed, err := ps.ParseScript(text)
	if err != nil {
		return nil, err
	}
	if len(parsed) != 1 {
		return nil, fmt.Errorf("expected one column list")
	}
	an, err := analyzer.New(meta).Analyze(parsed[0].Statement, parsed[0].Text)
	if err != nil {
		return nil, err
	}
	cs, ok := an.(*analyzer.CreateSource)
	if !ok {
		return nil, fmt.Errorf("not a column list")
	}
	return cs.Source.Schema, nil
}

// sameSchema compares the user columns (key columns in order, then value and header columns in order)
// of two schemas: names and types.
func sameSchema(a, b *types.Schema) bool {
	return sameColumns(a.Key(), b.Key()) && sameColumns(a.Value(), b.Value())
}

func sameColumns(a, b []types.Column) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Namespace != b[i].Namespace || !a[i].Type.Equal(b[i].Type) {
			return false
		}
	}
	return true
}

// userColumns renders the key and value columns of s, without pseudo-columns.
func userColumns(s *types.Schema) string {
	cols := append(s.Key(), s.Value()...)
	return (&types.Schema{Columns: cols}).String()
}
