// Package qtt reads ksqlDB's query-validation test files (QTT): JSON with // and /* */ comments, whose
// numbers are kept exact as json.Number (ksqlDB's ksqldb-functional-tests/src/test/resources/
// query-validation-tests; CorpusDir finds them).
//
// Run executes a case on an engine.TestSession: the server's statement executor (engine), in
// process, each query on a synchronous runtime.TestDriver. What is QTT's own stays here: reading the
// files, the topics a case needs, encoding its inputs and decoding what was written (records.go,
// shared with engine/resttest), comparing records and checking post-conditions.
package qtt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is one QTT file.
type File struct {
	Path  string
	Tests []Case
}

// Case is one test case.
type Case struct {
	Name              string            `json:"name"`
	Statements        []string          `json:"statements"`
	Format            []string          `json:"format"`
	Config            []string          `json:"config"`
	Properties        map[string]any    `json:"properties"`
	Topics            []json.RawMessage `json:"topics"`
	Inputs            []Record          `json:"inputs"`
	Outputs           []Record          `json:"outputs"`
	ExpectedException *Exception        `json:"expectedException"`
	Post              json.RawMessage   `json:"post"`
	Enabled           *bool             `json:"enabled"`
}

// Record is an input or expected output record.
type Record struct {
	Topic     string          `json:"topic"`
	Key       json.RawMessage `json:"key"`
	Value     json.RawMessage `json:"value"`
	Timestamp json.Number     `json:"timestamp"`
	Window    json.RawMessage `json:"window"`
	Headers   json.RawMessage `json:"headers"`
}

// Exception is an expected error.
type Exception struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// IsEnabled reports whether the case is enabled.
func (c *Case) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }

// Variant is a case instantiated for one entry of its format list ({FORMAT} substituted).
type Variant struct {
	// ID is unique across the corpus: "file.json/case name[/FORMAT]".
	ID         string
	File       string
	Case       *Case
	Format     string
	Statements []string
}

// Variants expands a file's cases over their formats.
func (f *File) Variants() []Variant {
	base := filepath.Base(f.Path)
	var out []Variant
	seen := map[string]int{}
	for i := range f.Tests {
		c := &f.Tests[i]
		formats := c.Format
		if len(formats) == 0 {
			formats = []string{""}
		}
		for _, fm := range formats {
			id := base + "/" + c.Name
			if fm != "" {
				id += "/" + fm
			}
			seen[id]++
			if n := seen[id]; n > 1 {
				id = fmt.Sprintf("%s#%d", id, n)
			}
			stmts := make([]string, len(c.Statements))
			for j, s := range c.Statements {
				stmts[j] = strings.ReplaceAll(s, "{FORMAT}", fm)
			}
			out = append(out, Variant{ID: id, File: base, Case: c, Format: fm, Statements: stmts})
		}
	}
	return out
}

// StripComments removes // and /* */ comments outside JSON strings.
func StripComments(data []byte) []byte {
	var out bytes.Buffer
	inStr := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if inStr {
			out.WriteByte(c)
			if c == '\\' && i+1 < len(data) {
				i++
				out.WriteByte(data[i])
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch {
		case c == '"':
			inStr = true
			out.WriteByte(c)
		case c == '/' && i+1 < len(data) && data[i+1] == '/':
			for i < len(data) && data[i] != '\n' {
				i++
			}
			out.WriteByte('\n')
		case c == '/' && i+1 < len(data) && data[i+1] == '*':
			i += 2
			for i+1 < len(data) && !(data[i] == '*' && data[i+1] == '/') {
				i++
			}
			i++
		default:
			out.WriteByte(c)
		}
	}
	return out.Bytes()
}

// Parse decodes one QTT file.
func Parse(path string, data []byte) (*File, error) {
	dec := json.NewDecoder(bytes.NewReader(StripComments(data)))
	dec.UseNumber()
	var raw struct {
		Tests []Case `json:"tests"`
	}
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("qtt: %s: %w", path, err)
	}
	return &File{Path: path, Tests: raw.Tests}, nil
}

// LoadDir reads every *.json file of dir, sorted by name.
func LoadDir(dir string) ([]*File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []*File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		f, err := Parse(p, data)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// CorpusEnv names the environment variable that points at ksqlDB's test resources: the directory
// ksqldb-functional-tests/src/test/resources of a clone of github.com/confluentinc/ksql, holding
// query-validation-tests and rest-query-validation-tests.
const CorpusEnv = "SEICHE_KSQL_TESTS"

// CorpusDir finds ksqlDB's query-validation tests: $SEICHE_KSQL_TESTS/query-validation-tests when
// the variable is set, else ../shared/conformance/ksql/qtt relative to the module root containing
// dir (the directory holding go.mod). It returns "" when they are absent.
func CorpusDir(dir string) string {
	if env := os.Getenv(CorpusEnv); env != "" {
		c := filepath.Join(env, "query-validation-tests")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c
		}
		return ""
	}
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			c := filepath.Join(d, "..", "shared", "conformance", "ksql", "qtt")
			if st, err := os.Stat(c); err == nil && st.IsDir() {
				return c
			}
			return ""
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// SchemaRegistryFormats are the formats that need a schema registry or protobuf schemas.
var SchemaRegistryFormats = []string{"AVRO", "PROTOBUF", "PROTOBUF_NOSR", "JSON_SR"}

// TestOnlyFunctions are ksqlDB's functions that exist only in its test jar.
var TestOnlyFunctions = []string{"TEST_UDF", "TEST_UDAF", "TEST_UDTF", "VAR_ARG", "MULTI_ARG", "FOUR_ARG", "FIVE_ARG", "WHENCONDITION",
	"WHENRESULT", "BAD_TEST_UDF", "BAD_UDF", "OBJ_COL_ARG", "TOSTRUCT", "MAX_KUDAF", "SUM_KUDAF", "MIN_KUDAF", "COUNT_KUDAF", "TESTUDF"}

// SkipReason returns why a variant is out of scope for Seiche today, or "".
func SkipReason(v Variant) string {
	if !v.Case.IsEnabled() {
		return "disabled in ksqlDB"
	}
	text := strings.ToUpper(strings.Join(v.Statements, "\n"))
	for _, f := range SchemaRegistryFormats {
		if v.Format == f || strings.Contains(text, "'"+f+"'") {
			return "schema-registry format " + f
		}
	}
	for _, tp := range v.Case.Topics {
		up := strings.ToUpper(string(tp))
		for _, f := range SchemaRegistryFormats {
			if strings.Contains(up, `"`+f+`"`) {
				return "schema-registry format " + f
			}
		}
	}
	for _, fn := range TestOnlyFunctions {
		if strings.Contains(text, fn+"(") {
			return "test-only function " + fn
		}
	}
	return ""
}
