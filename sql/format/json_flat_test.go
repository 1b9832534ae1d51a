package format

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"unsafe"

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
	{Name: "TS", Type: types.Timestamp},
	{Name: "ST", Type: types.StructOf(types.Field{Name: "X", Type: types.Int})},
	{Name: "ARR", Type: types.ArrayOf(types.String)},
	{Name: "M", Type: types.MapOf(types.String, types.Bigint)},
}

// checkFast checks that when the fast path decodes data, the general path decodes it to the same
// values.
func checkFast(t *testing.T, s *jsonSerde, data []byte) {
	got, ok := s.deserializeFast(data)
	if !ok {
		return
	}
	if !json.Valid(data) {
		t.Fatalf("fast path accepted invalid JSON %q", data)
	}
	want, err := s.deserializeGeneral(data)
	if err != nil {
		t.Fatalf("fast path accepted %q, which the general path rejects: %v", data, err)
	}
	if !reflect.DeepEqual(nanFree(got), nanFree(want)) {
		t.Fatalf("%q: fast path %#v, general path %#v", data, got, want)
	}
}

// unreadSerde is s with the columns whose bit is set in mask marked unread.
func unreadSerde(s *jsonSerde, mask uint64) *jsonSerde {
	unread := make([]bool, len(s.cols))
	for i := range unread {
		unread[i] = mask&(1<<i) != 0
	}
	cp := *s
	cp.unread = unread
	return &cp
}

// checkFastUnread checks, for s with the columns of mask unread, that the fast path accepts data
// only where the general path of s does, and then decodes the columns read as it does, leaving the
// unread ones NULL.
func checkFastUnread(t *testing.T, s *jsonSerde, data []byte, mask uint64) {
	u := unreadSerde(s, mask)
	got, ok := u.deserializeFast(data)
	if !ok {
		return
	}
	want, err := s.deserializeGeneral(data)
	if err != nil {
		t.Fatalf("fast path with unread columns %b accepted %q, which the general path rejects: %v", mask, data, err)
	}
	if want != nil {
		want = slices.Clone(want)
		for i := range want {
			if u.isUnread(i) {
				want[i] = nil
			}
		}
	}
	if !reflect.DeepEqual(nanFree(got), nanFree(want)) {
		t.Fatalf("%q with unread columns %b: fast path %#v, general path %#v", data, mask, got, want)
	}
}

// checkInto checks that DeserializeInto writes what Deserialize returns, at the positions it is given
// (here: after two other values, in reverse order), and nothing elsewhere.
func checkInto(t *testing.T, s *jsonSerde, data []byte) {
	want, wantErr := s.Deserialize(data)
	n := len(s.cols)
	pos := make([]int, n)
	for i := range pos {
		pos[i] = 2 + n - 1 - i
	}
	dst := make([]types.Value, n+3)
	null, err := s.DeserializeInto(dst, pos, data)
	if (err != nil) != (wantErr != nil) || (err != nil && err.Error() != wantErr.Error()) {
		t.Fatalf("%q: DeserializeInto error %v, Deserialize error %v", data, err, wantErr)
	}
	if err != nil {
		return
	}
	if null != (want == nil) {
		t.Fatalf("%q: DeserializeInto null %v, Deserialize %#v", data, null, want)
	}
	if null {
		return
	}
	got := make([]types.Value, n)
	for i := range got {
		got[i] = dst[pos[i]]
	}
	if !reflect.DeepEqual(nanFree(got), nanFree(want)) || dst[0] != nil || dst[1] != nil || dst[n+2] != nil {
		t.Fatalf("%q: DeserializeInto wrote %#v, Deserialize returns %#v", data, dst, want)
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
	`{"ID":1,"NAME":"a","AMOUNT":50.5,"OK":true,"N":3,"D":1.25,"S":"x","TS":1700000000000}`,
	` { "id" : -0 , "name" : null , "amount" : 1e3 , "ok" : false , "n" : "7" } `,
	`{"ID":"12","NAME":12.5,"AMOUNT":"NaN","OK":"true","d":"3.14159","ts":"2024-01-02T03:04:05"}`,
	`{"NAME":"caf\u00e9 \"q\"","Name":"other","EXTRA":[1,2]}`,
	`{"NAME":"héllo","AMOUNT":-1.5E-3}`,
	`{"NAME":"\ud83d\ude00 \ud800 \udc00x \ud800\n \/\b\f\r\t\\"}`,
	`{"NAME":{"b":1,"a":[true,null]},"ID":[1]}`,
	`{"ST":{"x":"7"},"ARR":["a",1,null],"M":{"k":1,"j":"2"}}`,
	`{"skip":{"a":[{"b":"\"}"}],"c":{}},"ID":5,"also":[[],[[]],"]"]}`,
	`{"ID":true}`,
	`{"OK":1}`,
	`{"ID":1.5e3,"N":2147483648}`,
	`{"name":"a","Name":"b"}`,
	`{"ID":1,"ID":2}`,
	`{"ID":01}`,
	`{"ID":1.}`,
	`{"ID":1}x`,
	`{"ID":tru}`,
	`{"ID":1,}`,
	`{"x":[1,]}`,
	`{"x":"\q"}`,
	`{"x":"\u12g4"}`,
	`{}`,
	`{"ID":9223372036854775808}`,
	`{"NAME":"\ud800"}`,
	"{\"NAME\":\"\xff\"}",
	"{\"x\":\"\xff\",\"ID\":2}",
	`[1]`,
	`null`,
}

func TestDeserializeFastMatchesGeneralPath(t *testing.T) {
	accepted := 0
	s := newJSONSerde(flatCols, true)
	for _, in := range flatSeeds {
		checkFast(t, s, []byte(in))
		checkInto(t, s, []byte(in))
		if _, ok := s.deserializeFast([]byte(in)); ok {
			accepted++
		}
	}
	if accepted < 10 {
		t.Fatalf("fast path accepted only %d of the seeds", accepted)
	}
	// Through Deserialize, the record the fast path takes decodes as before.
	got, err := s.Deserialize([]byte(flatSeeds[0]))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != int64(1) || got[1] != "a" || got[2] != 50.5 || got[3] != true || got[4] != int32(3) || got[6] != "x" ||
		got[7] != types.TimestampValue(1700000000000) {
		t.Fatalf("Deserialize: %#v", got)
	}
}

// TestDeserializeFast covers the records the fast path decodes itself: the wanted values are written
// out, and the general path must agree.
func TestDeserializeFast(t *testing.T) {
	cols := []types.Column{{Name: "A", Type: types.Bigint}, {Name: "B", Type: types.String}}
	s := newJSONSerde(cols, true)
	for _, tc := range []struct {
		name, in string
		want     []types.Value
	}{
		{"in order", `{"A":1,"B":"x"}`, []types.Value{int64(1), "x"}},
		{"out of order", `{"b":"x","a":1}`, []types.Value{int64(1), "x"}},
		{"missing field", `{"b":"x"}`, []types.Value{nil, "x"}},
		{"exact name wins", `{"a":2,"A":1}`, []types.Value{int64(1), nil}},
		{"whitespace", " \t\r\n{ \"A\" :\n1 ,\t\"B\"\r: \"x\" } \n", []types.Value{int64(1), "x"}},
		{"unknown scalar fields", `{"Z":true,"A":1,"Y":null,"B":"x","X":-2.5e-3}`, []types.Value{int64(1), "x"}},
		{"unknown nested fields", `{"Z":{"A":9,"q":[1,{"B":"no"}]},"A":1,"Y":[[],{},[{}]],"B":"x"}`, []types.Value{int64(1), "x"}},
		{"escapes in skipped fields", `{"Z":"\"}\\\u0041","A":1,"Y":{"k\"":"]\n"},"B":"x"}`, []types.Value{int64(1), "x"}},
		{"escaped value", `{"A":1,"B":"a\u0026b\"c\u00e9\ud83d\ude00"}`, []types.Value{int64(1), "a&b\"cé😀"}},
		{"string to number", `{"A":"12","B":3}`, []types.Value{int64(12), "3"}},
		{"object to string", `{"A":null,"B":{"z":1,"a":[2]}}`, []types.Value{nil, `{"z":1,"a":[2]}`}},
	} {
		got, ok := s.deserializeFast([]byte(tc.in))
		if !ok {
			t.Errorf("%s: the fast path left %s to the general path", tc.name, tc.in)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, got, tc.want)
		}
		checkFast(t, s, []byte(tc.in))
	}
}

// TestDeserializeFallsBack: records the fast path leaves to the general path still decode (or fail) as
// the general path has it.
func TestDeserializeFallsBack(t *testing.T) {
	cols := []types.Column{{Name: "A", Type: types.Bigint}, {Name: "B", Type: types.String}}
	s := newJSONSerde(cols, true)
	for _, tc := range []struct {
		name, in string
		want     []types.Value // nil: an error
	}{
		{"duplicate field: the last value", `{"A":1,"B":"x","A":2}`, []types.Value{int64(2), "x"}},
		{"escaped key", `{"\u0041":1}`, []types.Value{int64(1), nil}},
		{"non-ASCII key", `{"é":1,"B":"x"}`, []types.Value{nil, "x"}},
		{"malformed", `{"A":1,"B":"x"`, nil},
		{"malformed skipped field", `{"A":1,"Z":[1,}`, nil},
		{"bad escape in skipped field", `{"A":1,"Z":"\x"}`, nil},
		{"trailing data", `{"A":1} {}`, nil},
		{"unconvertible value", `{"A":"one"}`, nil},
		{"array for a number", `{"A":[1]}`, nil},
	} {
		if _, ok := s.deserializeFast([]byte(tc.in)); ok {
			t.Errorf("%s: the fast path decided %s", tc.name, tc.in)
		}
		got, err := s.Deserialize([]byte(tc.in))
		if tc.want == nil {
			if err == nil {
				t.Errorf("%s: %s decoded to %#v, want an error", tc.name, tc.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, %v; want %#v", tc.name, got, err, tc.want)
		}
	}
}

func TestDeserializeFastUnwrapped(t *testing.T) {
	for _, tc := range []struct {
		t    *types.Type
		in   string
		want types.Value
	}{
		{types.Bigint, ` 42 `, int64(42)},
		{types.String, `"k\u0026"`, "k&"},
		{types.Int, `null`, nil},
		{types.ArrayOf(types.Int), `[1,"2"]`, []types.Value{int32(1), int32(2)}},
	} {
		s := newJSONSerde([]types.Column{{Name: "K", Type: tc.t}}, false)
		got, ok := s.deserializeFast([]byte(tc.in))
		if !ok || !reflect.DeepEqual(got, []types.Value{tc.want}) {
			t.Errorf("%s as %s: got %#v, %v; want %#v", tc.in, tc.t, got, ok, tc.want)
		}
		checkFast(t, s, []byte(tc.in))
	}
}

// TestDeserializeUnread: a column marked unread is left NULL, and still fails the record (with the
// same error) when its value would not convert; the columns read decode as without Unread.
func TestDeserializeUnread(t *testing.T) {
	cols := []types.Column{{Name: "A", Type: types.Bigint}, {Name: "B", Type: types.String},
		{Name: "C", Type: types.Bigint}, {Name: "D", Type: types.DecimalOf(4, 2)}, {Name: "E", Type: types.ArrayOf(types.Int)}}
	all, err := New("JSON", cols, Options{})
	if err != nil {
		t.Fatal(err)
	}
	pruned, err := New("JSON", cols, Options{Unread: []bool{false, true, true, true, true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, in string
		want     []types.Value // nil: an error
		fast     bool          // the fast path decides it with the unread columns
	}{
		{"unread built nowhere", `{"A":1,"B":"x\u0026y","C":123456,"D":1.5,"E":[1,"2"]}`, []types.Value{int64(1), nil, nil, nil, nil}, true},
		{"unread string of any JSON", `{"A":1,"B":{"x":[1]},"C":"7"}`, []types.Value{int64(1), nil, nil, nil, nil}, true},
		{"unread number as a float", `{"A":1,"C":1.5e2}`, []types.Value{int64(1), nil, nil, nil, nil}, true},
		{"unread invalid UTF-8 string", "{\"A\":1,\"B\":\"\xff\"}", []types.Value{int64(1), nil, nil, nil, nil}, true},
		{"unread NULL and missing", `{"a":2,"c":null}`, []types.Value{int64(2), nil, nil, nil, nil}, true},
		{"unread number that is not one", `{"A":1,"C":"one"}`, nil, false},
		{"unread decimal out of range", `{"A":1,"D":123.45}`, nil, false},
		{"unread array of a non-number", `{"A":1,"E":["x"]}`, nil, false},
		{"unread object for a number", `{"A":1,"C":{}}`, nil, false},
		{"unread field malformed", `{"A":1,"C":[1,}`, nil, false},
	} {
		js := pruned.(*jsonSerde)
		if _, ok := js.deserializeFast([]byte(tc.in)); ok != tc.fast {
			t.Errorf("%s: fast path decided %s: %v, want %v", tc.name, tc.in, ok, tc.fast)
		}
		got, err := pruned.Deserialize([]byte(tc.in))
		_, wantErr := all.Deserialize([]byte(tc.in))
		if tc.want == nil {
			if err == nil || wantErr == nil || err.Error() != wantErr.Error() {
				t.Errorf("%s: %s: error %v, want the error without unread columns: %v", tc.name, tc.in, err, wantErr)
			}
			continue
		}
		if wantErr != nil {
			t.Errorf("%s: %s fails without unread columns: %v", tc.name, tc.in, wantErr)
		}
		if err != nil {
			t.Errorf("%s: %s: %v", tc.name, tc.in, err)
			continue
		}
		if tc.fast && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.name, got, tc.want)
		}
		if got[0] != tc.want[0] {
			t.Errorf("%s: column read: got %#v, want %#v", tc.name, got[0], tc.want[0])
		}
		checkFastUnread(t, all.(*jsonSerde), []byte(tc.in), 0b11110)
	}
	// Unwrapped, the only column unread.
	s := newJSONSerde([]types.Column{{Name: "K", Type: types.Bigint}}, false)
	for _, in := range []string{`42`, `"42"`, `"x"`, `[1]`, `null`, strings.Repeat("[", 5)} {
		checkFastUnread(t, s, []byte(in), 1)
	}
	if got, ok := unreadSerde(s, 1).deserializeFast([]byte(`42`)); !ok || !reflect.DeepEqual(got, []types.Value{nil}) {
		t.Errorf("unwrapped unread: got %#v, %v", got, ok)
	}
}

func FuzzDeserializeFast(f *testing.F) {
	for i, s := range flatSeeds {
		f.Add([]byte(s), uint64(0))
		f.Add([]byte(s), uint64(0x5a5)>>(i%4))
	}
	f.Add([]byte(`{"ID":1,"NAME":"\ud800","N":"x"}`), uint64(0b10010))
	wrapped := newJSONSerde(flatCols, true)
	unwrapped := newJSONSerde(flatCols[:1], false)
	f.Fuzz(func(t *testing.T, data []byte, unread uint64) {
		checkFast(t, wrapped, data)
		checkFast(t, unwrapped, data)
		checkFastUnread(t, wrapped, data, unread)
		checkFastUnread(t, unwrapped, data, unread&1)
		checkInto(t, wrapped, data)
		checkInto(t, unwrapped, data)
	})
}

func TestWriteJSONStringMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "abc", "a b~", "<a&b>", `q"\`, "tab\t", "\x7f", "é", "\u2028", "\xff"}
	for c := range 256 {
		strs = append(strs, "a"+string([]byte{byte(c)})+"b")
	}
	for _, s := range strs {
		var b bytes.Buffer
		writeJSONString(&b, s)
		want, _ := json.Marshal(s)
		if b.String() != string(want) {
			t.Errorf("%q: wrote %s, encoding/json writes %s", s, b.String(), want)
		}
	}
}

// TestFieldLayoutReused: the fast path reuses the last record's field layout only for a record with
// the same keys in the same order.
func TestFieldLayoutReused(t *testing.T) {
	s := newJSONSerde([]types.Column{{Name: "A", Type: types.Bigint}, {Name: "B", Type: types.String}}, true)
	for _, tc := range []struct {
		in   string
		want []types.Value
	}{
		{`{"a":1,"b":"x"}`, []types.Value{int64(1), "x"}},
		{`{"a":2,"b":"y"}`, []types.Value{int64(2), "y"}},
		{`{"b":"z","a":3}`, []types.Value{int64(3), "z"}},
		{`{"a":4,"B":"w"}`, []types.Value{int64(4), "w"}},
		{`{"a":5,"A":6}`, []types.Value{int64(6), nil}},
		{`{"a":7,"A":8}`, []types.Value{int64(8), nil}},
		{`{"a":9}`, []types.Value{int64(9), nil}},
		{`{"b":"v","a":10}`, []types.Value{int64(10), "v"}},
	} {
		got, err := s.Deserialize([]byte(tc.in))
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
		checkFast(t, s, []byte(tc.in))
	}
}

// TestFieldLayoutKeysCompared: a record is read with the kept layout only when its keys are the
// layout's exactly; any other record is scanned afresh and decodes as the general path has it.
func TestFieldLayoutKeysCompared(t *testing.T) {
	s := newJSONSerde([]types.Column{{Name: "A", Type: types.Bigint}, {Name: "B", Type: types.String}}, true)
	for _, tc := range []struct {
		in   string
		want []types.Value
		err  bool
	}{
		{`{"a":1,"b":"x"}`, []types.Value{int64(1), "x"}, false},
		{`{"a":2,"b":"y","c":3}`, []types.Value{int64(2), "y"}, false},
		{`{"a":4}`, []types.Value{int64(4), nil}, false},
		{`{"ab":5,"b":"z"}`, []types.Value{nil, "z"}, false},
		{`{"a":6,"b":"w"}`, []types.Value{int64(6), "w"}, false},
		{`{"a":7,"b":"w",}`, nil, true},
		{`{"a":8,"b":"w"`, nil, true},
		{`{"a":9,"b":"w"}x`, nil, true},
		{`{"a":10 ,"b" : "v" }`, []types.Value{int64(10), "v"}, false},
		{`{"a":11,"b":"v","a":12}`, []types.Value{int64(12), "v"}, false},
	} {
		got, err := s.Deserialize([]byte(tc.in))
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, %v; want %#v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
		checkFast(t, s, []byte(tc.in))
	}
}

// TestRecordArena: the numbers and strings a record's values share one arena; each value keeps its
// type and value, and the values of one record do not change when the next is read.
func TestRecordArena(t *testing.T) {
	cols := []types.Column{
		{Name: "I", Type: types.Int}, {Name: "B", Type: types.Bigint}, {Name: "D", Type: types.Double},
		{Name: "TS", Type: types.Timestamp}, {Name: "T", Type: types.Time}, {Name: "DT", Type: types.Date},
		{Name: "S", Type: types.String}, {Name: "E", Type: types.String}, {Name: "U", Type: types.String},
		{Name: "X", Type: types.Bigint},
	}
	s := newJSONSerde(cols, true)
	first := []byte(`{"I":70000,"B":-123456789012,"D":2.5e300,"TS":1700000000000,"T":3600000,"DT":19000,` +
		`"S":"plain","E":"","U":"a\u00e9\ud83d\ude00\n","X":"77"}`)
	second := []byte(`{"I":1,"B":2,"D":3,"TS":4,"T":5,"DT":6,"S":"other","E":"e","U":"u","X":"8"}`)
	want := []types.Value{int32(70000), int64(-123456789012), 2.5e300, types.TimestampValue(1700000000000),
		types.TimeValue(3600000), types.DateValue(19000), "plain", "", "aé😀\n", int64(77)}
	got, ok := s.deserializeFast(first)
	if !ok {
		t.Fatal("the fast path left the record to the general path")
	}
	if _, ok := s.deserializeFast(second); !ok {
		t.Fatal("the fast path left the second record to the general path")
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	checkFast(t, s, first)
	checkFast(t, s, second)
}

// TestHasStringStop checks the eight-byte test against stringStop for every byte at every position,
// among plain ASCII and non-ASCII neighbours.
func TestHasStringStop(t *testing.T) {
	checkWordTest(t, []byte{'a', 0x7f, 0x80, 0xff, ' ', '#', '[', ']'}, hasStringStop,
		func(c, fill byte) bool { return stringStop[c] || stringStop[fill] })
}

// TestPlainJSONWord checks the eight-byte test against plainJSONByte for every byte at every
// position.
func TestPlainJSONWord(t *testing.T) {
	checkWordTest(t, []byte{'a', ' ', '~', 0x7f, 0x80, 0xff, '"', '%', '='}, plainJSONWord,
		func(c, fill byte) bool { return plainJSONByte[c] && plainJSONByte[fill] })
}

// checkWordTest checks an eight-byte test against want, its byte-at-a-time answer, for words of one
// fill byte with every byte value at every position.
func checkWordTest(t *testing.T, fills []byte, test func(uint64) bool, want func(c, fill byte) bool) {
	t.Helper()
	for _, fill := range fills {
		for c := range 256 {
			for pos := range 8 {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				if got, w := test(binary.LittleEndian.Uint64(b[:])), want(byte(c), fill); got != w {
					t.Fatalf("%q: got %v, want %v", b, got, w)
				}
			}
		}
	}
}

// TestArenaString checks that a string's header is stored in its record's arena only when its bytes
// are there too, and that strings kept alone (nothing else of their records) survive garbage
// collections intact: the arena is memory the collector does not scan.
func TestArenaString(t *testing.T) {
	var a recordArena
	a.init(0, 1, 5)
	if _, ok := arenaString(&a, strings.Repeat("x", 5)); ok {
		t.Errorf("arenaString took a string whose bytes are not in the arena")
	}
	b := a.bytesFor(5)
	b = append(b, "hello"...)
	v, ok := arenaString(&a, unsafe.String(&b[0], len(b)))
	if !ok || v != "hello" {
		t.Fatalf("arenaString = %#v, %v; want \"hello\", true", v, ok)
	}
	if _, ok := arenaString(&a, unsafe.String(&b[0], len(b))); ok {
		t.Errorf("arenaString stored a second header in room for one")
	}
	if v, ok := arenaString(nil, ""); !ok || v != "" {
		t.Errorf("arenaString(nil, \"\") = %#v, %v", v, ok)
	}

	s := newJSONSerde([]types.Column{{Name: "N", Type: types.Bigint}, {Name: "S", Type: types.String}}, true)
	var kept []types.Value
	for i := range 2000 {
		row, ok := s.deserializeFast(fmt.Appendf(nil, `{"N":%d,"S":"value \u0041 %d"}`, 1000+i, i))
		if !ok {
			t.Fatal("the fast path left the record to the general path")
		}
		kept = append(kept, row[1])
		if i%100 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	for i, v := range kept {
		if want := fmt.Sprintf("value A %d", i); v != want {
			t.Fatalf("kept string %d = %q, want %q", i, v, want)
		}
	}
}
