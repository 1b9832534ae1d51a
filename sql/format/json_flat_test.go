package format

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/seichedb/seiche/sql/types"
)

var flatCols = []types.Column{
	{Name: "ID", Type: types.Bigint},
	{Name: "NAME", Type: types.String},
	{Name: "AMOUNT", Type: types.Double},
	{Name: "OK", Type: types.Boolean},
	{Name: "N", Type: types.Int},
	{Name: "D", Type: types.DecimalOf(6, 2)},
	{Name: "ſ", Type: types.String}, // upper-cases to "S"
}

// flatReference decodes a flat object the way the general path does for one: a map with json.Number
// numbers, each column taken by exact name, else by upper-cased name.
func flatReference(t *testing.T, data []byte, cols []types.Column) ([]types.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("reference decode of %q: %v", data, err)
	}
	out := make([]types.Value, len(cols))
	for i, c := range cols {
		raw, ok := obj[c.Name]
		if !ok {
			for k, v := range obj {
				if strings.EqualFold(k, c.Name) {
					raw = v
				}
			}
		}
		v, err := fromJSON(raw, c.Type)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func checkFlat(t *testing.T, data []byte) {
	s := &jsonSerde{cols: flatCols, wrap: true}
	got, ok := s.deserializeFlat(data)
	if !ok {
		return
	}
	if !json.Valid(data) {
		t.Fatalf("fast path accepted invalid JSON %q", data)
	}
	want, err := flatReference(t, data, flatCols)
	if err != nil {
		t.Fatalf("fast path accepted %q, which the general path rejects: %v", data, err)
	}
	if !reflect.DeepEqual(nanFree(got), nanFree(want)) {
		t.Fatalf("%q: fast path %#v, general path %#v", data, got, want)
	}
}

// nanFree replaces NaN, which DeepEqual never finds equal, with a marker.
func nanFree(vals []types.Value) []types.Value {
	out := append([]types.Value{}, vals...)
	for i, v := range out {
		if f, ok := v.(float64); ok && math.IsNaN(f) {
			out[i] = "NaN marker"
		}
	}
	return out
}

var flatSeeds = []string{
	`{"ID":1,"NAME":"a","AMOUNT":50.5,"OK":true,"N":3,"D":1.25,"S":"x"}`,
	` { "id" : -0 , "name" : null , "amount" : 1e3 , "ok" : false , "n" : "7" } `,
	`{"ID":"12","NAME":12.5,"AMOUNT":"NaN","OK":"true","d":"3.14159"}`,
	`{"NAME":"caf\u00e9 \"q\"","Name":"other","EXTRA":[1,2]}`,
	`{"NAME":"héllo","AMOUNT":-1.5E-3}`,
	`{"name":"a","Name":"b"}`,
	`{"ID":1,"ID":2}`,
	`{"ID":01}`,
	`{"ID":1.}`,
	`{"ID":1}x`,
	`{"ID":tru}`,
	`{"ID":1,}`,
	`{}`,
	`{"ID":9223372036854775808}`,
	`{"N":2147483648}`,
	`{"NAME":"\ud800"}`,
	`[1]`,
	`null`,
}

func TestDeserializeFlatMatchesGeneralPath(t *testing.T) {
	accepted := 0
	s := &jsonSerde{cols: flatCols, wrap: true}
	for _, in := range flatSeeds {
		checkFlat(t, []byte(in))
		if _, ok := s.deserializeFlat([]byte(in)); ok {
			accepted++
		}
	}
	if accepted < 5 {
		t.Fatalf("fast path accepted only %d of the plain records", accepted)
	}
	// Through Deserialize, the record the fast path takes decodes as before.
	got, err := s.Deserialize([]byte(flatSeeds[0]))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != int64(1) || got[1] != "a" || got[2] != 50.5 || got[3] != true || got[4] != int32(3) || got[6] != "x" {
		t.Fatalf("Deserialize: %#v", got)
	}
}

func FuzzDeserializeFlat(f *testing.F) {
	for _, s := range flatSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFlat(t, data) })
}

func TestWriteJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "abc", "a b~", "<a&b>", `q"\`, "tab\t", "\x7f", "é", "\u2028", "\xff"} {
		var b bytes.Buffer
		writeJSONString(&b, s)
		want, _ := json.Marshal(s)
		if b.String() != string(want) {
			t.Errorf("%q: wrote %s, encoding/json writes %s", s, b.String(), want)
		}
	}
}
