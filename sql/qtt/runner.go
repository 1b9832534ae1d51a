package qtt

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/planner"
	"github.com/seichedb/seiche/sql/types"
)

// Status is the outcome of running one case.
type Status int

const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string { return [...]string{"pass", "fail", "skip"}[s] }

// Result is the outcome of a case: for Fail, Reason is one line and Detail the diff of expected and
// actual records or errors; for Skip, Reason says why.
type Result struct {
	Status Status
	Reason string
	Detail string
}

// errStopped ends a case that Run gave up on.
var errStopped = errors.New("qtt: case stopped after its timeout")

// caseTimeout bounds one case: a query feeding its own input would otherwise never end.
const caseTimeout = 10 * time.Second

// Run runs a variant: skipped when out of scope (SkipReason), otherwise executed on a synchronous
// runtime.TestDriver with record caching off, as ksqlDB's QTT runner does (see the corpus README).
func Run(v Variant) Result {
	if r := SkipReason(v); r != "" {
		return Result{Status: Skip, Reason: r}
	}
	done := make(chan Result, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- Result{Status: Fail, Reason: fmt.Sprintf("panic: %v", p), Detail: string(debug.Stack())}
			}
		}()
		done <- execute(v, stop)
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(caseTimeout):
		return Result{Status: Fail, Reason: "timed out after " + caseTimeout.String()}
	}
}

type produced struct {
	key, value []byte
	ts         int64
	headers    []runtime.Header
}

type executor struct {
	meta    *analyzer.Metastore
	an      *analyzer.Analyzer
	env     *planner.Env
	b       *dsl.Builder
	queries int
	inserts []topicRecord
	// written is everything written to each topic, in order: inputs, INSERT VALUES, query outputs.
	written map[string][]produced
	topics  map[string]topicDef
	// winSize is the window size of each windowed query sink.
	winSize map[string]int64
	// stop is closed when Run gave up on the case: a query feeding its own input then stops too.
	stop <-chan struct{}
}

type topicRecord struct {
	topic string
	rec   produced
}

type topicDef struct {
	Name        string `json:"name"`
	KeyFormat   string `json:"keyFormat"`
	ValueFormat string `json:"valueFormat"`
}

func execute(v Variant, stop <-chan struct{}) Result {
	c, statements := v.Case, v.Statements
	ex := &executor{meta: analyzer.NewMetastore(), b: dsl.NewBuilder(), written: map[string][]produced{}, topics: map[string]topicDef{}, winSize: map[string]int64{}, stop: stop}
	ex.an = analyzer.New(ex.meta)
	for k, v := range c.Properties {
		ex.an.Props[k] = fmt.Sprint(v)
	}
	ex.env = planner.NewEnv(ex.b)
	for _, raw := range c.Topics {
		var td topicDef
		if json.Unmarshal(raw, &td) == nil {
			ex.topics[td.Name] = td
		}
	}
	err := ex.statements(statements)
	var drv *runtime.TestDriver
	if err == nil && ex.queries > 0 {
		var topo *runtime.Topology
		if topo, err = ex.b.Build(); err == nil {
			opts := []runtime.Opt{runtime.ApplicationID("seiche-qtt")}
			if fmt.Sprint(c.Properties["ksql.timestamp.throw.on.invalid"]) == "true" {
				opts = append(opts, runtime.OnProcessingError(failOnTimestampError))
			}
			drv, err = runtime.NewTestDriver(topo, opts...)
		}
		if drv != nil {
			defer drv.Close()
		}
	}
	if exp := c.ExpectedException; exp != nil {
		if err == nil {
			// The error may be one the query raises at run time.
			err = ex.pipeInputs(drv, c)
		}
		if err == nil {
			return Result{Status: Fail, Reason: "expected an error", Detail: fmt.Sprintf("expected error containing %q, got none", exp.Message)}
		}
		if !strings.Contains(err.Error(), exp.Message) {
			return Result{Status: Fail, Reason: "wrong error", Detail: fmt.Sprintf("expected error containing:\n  %s\ngot:\n  %s", exp.Message, err)}
		}
		return Result{Status: Pass}
	}
	if err != nil {
		return Result{Status: Fail, Reason: oneLineErr(err), Detail: err.Error()}
	}
	for _, ins := range ex.inserts {
		if err := ex.pipe(drv, ins.topic, ins.rec); err != nil {
			return Result{Status: Fail, Reason: oneLineErr(err), Detail: err.Error()}
		}
	}
	for _, in := range c.Inputs {
		rec, err := ex.encodeInput(in)
		if err != nil {
			return Result{Status: Fail, Reason: "input: " + oneLineErr(err), Detail: err.Error()}
		}
		if err := ex.pipe(drv, in.Topic, rec); err != nil {
			return Result{Status: Fail, Reason: oneLineErr(err), Detail: err.Error()}
		}
	}
	if r := ex.compare(c.Outputs); r.Status != Pass {
		return r
	}
	if err := checkPost(ex.meta, json.RawMessage(strings.ReplaceAll(string(c.Post), "{FORMAT}", v.Format))); err != nil {
		return Result{Status: Fail, Reason: oneLineErr(err), Detail: err.Error()}
	}
	return Result{Status: Pass}
}

func oneLineErr(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// statements parses, analyzes and executes each statement in order.
//
// The statements are one script, joined by newlines as ksqlDB's runner joins them, so an error's
// line:column is its position in the whole script.
func (ex *executor) statements(stmts []string) error {
	var ps parser.Parser
	parsed, err := ps.ParseScript(strings.Join(stmts, "\n"))
	if err != nil {
		return err
	}
	for _, p := range parsed {
		an, err := ex.an.Analyze(p.Statement, p.Text)
		if err != nil {
			return err
		}
		if err := ex.execute(an); err != nil {
			return err
		}
		ex.an.Apply(an)
	}
	return nil
}

func (ex *executor) execute(an analyzer.Analyzed) error {
	switch s := an.(type) {
	case *analyzer.CreateSource:
		return checkFormats(s.Source)
	case *analyzer.PersistentQuery:
		if err := checkFormats(s.Sink); err != nil {
			return err
		}
		for _, qs := range s.Query.Sources {
			if err := checkFormats(qs.Source); err != nil {
				return err
			}
		}
		plan, err := planner.Build(s)
		if err != nil {
			return err
		}
		if err := ex.env.Lower(plan); err != nil {
			return err
		}
		ex.queries++
		if w := s.Query.Window; w != nil {
			ex.winSize[s.Sink.Name] = w.Size.Millis()
		} else if first := s.Query.Sources[0].Source; first.Window != "" {
			ex.winSize[s.Sink.Name] = ex.windowSize(first)
		}
	case *analyzer.InsertValues:
		return ex.insertValues(s)
	}
	return nil
}

func checkFormats(src *analyzer.Source) error {
	for _, f := range []string{src.KeyFormat, src.ValueFormat} {
		if !format.Implemented(f) {
			return fmt.Errorf("qtt: format %s is not implemented", f)
		}
	}
	return nil
}

func (ex *executor) insertValues(s *analyzer.InsertValues) error {
	src := s.Target
	var key, val types.Row
	ts := int64(0)
	for i, c := range src.Schema.Columns {
		switch c.Namespace {
		case types.NamespaceKey:
			key = append(key, s.Values[i])
		case types.NamespaceHeader:
		default:
			val = append(val, s.Values[i])
		}
	}
	ks, err := planner.KeySerde(src)
	if err != nil {
		return err
	}
	vs, err := planner.ValueSerde(src)
	if err != nil {
		return err
	}
	kb, err := ks.Serialize(key)
	if err != nil {
		return err
	}
	vb, err := vs.Serialize(val)
	if err != nil {
		return err
	}
	if vb == nil {
		vb = []byte{}
	}
	ex.inserts = append(ex.inserts, topicRecord{topic: src.Topic, rec: produced{key: kb, value: vb, ts: ts}})
	return nil
}

// pipe writes rec to topic: into the driver when a query reads it, and into the topic's log.
func (ex *executor) pipe(drv *runtime.TestDriver, topic string, rec produced) error {
	ex.written[topic] = append(ex.written[topic], rec)
	if drv == nil {
		return nil
	}
	if err := drv.PipeInput(topic, rec.key, rec.value, rec.ts, rec.headers...); err != nil && !strings.Contains(err.Error(), "no source reads topic") {
		return err
	}
	for {
		select {
		case <-ex.stop:
			return errStopped
		default:
		}
		tps := drv.OutputTopics()
		if len(tps) == 0 {
			return nil
		}
		sort.Strings(tps)
		for _, t := range tps {
			for {
				r, ok := drv.ReadOutput(t)
				if !ok {
					break
				}
				ex.written[t] = append(ex.written[t], produced{key: r.Key, value: r.Value, ts: r.Timestamp})
			}
		}
	}
}

// sourceFor returns the source whose topic is topic, preferring a query's sink (the last registered).
func (ex *executor) sourceFor(topic string) *analyzer.Source {
	var found *analyzer.Source
	for _, s := range ex.meta.Sources() {
		if s.Topic == topic {
			if found == nil || !strings.Contains(strings.ToUpper(found.SQL), " AS SELECT") {
				found = s
			}
		}
	}
	return found
}

// encodeInput serializes a test input with the formats of the source over its topic.
func (ex *executor) encodeInput(in Record) (produced, error) {
	rec := produced{}
	if in.Timestamp != "" {
		ts, err := in.Timestamp.Int64()
		if err != nil {
			return rec, err
		}
		rec.ts = ts
	}
	if len(in.Headers) > 0 && !isNull(in.Headers) {
		var hs []struct {
			Key   string  `json:"KEY"`
			Value *[]byte `json:"VALUE"`
		}
		if err := json.Unmarshal(in.Headers, &hs); err != nil {
			return rec, fmt.Errorf("headers: %w", err)
		}
		for _, h := range hs {
			hdr := runtime.Header{Key: h.Key}
			if h.Value != nil {
				hdr.Value = *h.Value
			}
			rec.headers = append(rec.headers, hdr)
		}
	}
	src := ex.sourceFor(in.Topic)
	kf, vf := "KAFKA", "JSON"
	var keyCols, valCols []types.Column
	if src != nil {
		kf, vf = src.KeyFormat, src.ValueFormat
		keyCols, valCols = src.Schema.Key(), planner.ValueColumns(src)
	} else if td, ok := ex.topics[in.Topic]; ok {
		if td.KeyFormat != "" {
			kf = strings.ToUpper(td.KeyFormat)
		}
		if td.ValueFormat != "" {
			vf = strings.ToUpper(td.ValueFormat)
		}
	}
	var err error
	if rec.key, err = EncodeJSON(in.Key, kf, keyCols, true); err != nil {
		return rec, err
	}
	if src != nil && src.Window != "" && rec.key != nil && len(in.Window) > 0 {
		var w struct{ Start, End int64 }
		if err := json.Unmarshal(in.Window, &w); err == nil {
			if src.Window == "SESSION" {
				rec.key = binary.BigEndian.AppendUint64(rec.key, uint64(w.End))
			}
			rec.key = binary.BigEndian.AppendUint64(rec.key, uint64(w.Start))
		}
	}
	if rec.value, err = EncodeJSON(in.Value, vf, valCols, false); err != nil {
		return rec, err
	}
	return rec, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// EncodeJSON turns a test record's JSON key or value into the bytes format fm writes for it: the
// encoding every runner of ksqlDB's test files (QTT, REST) uses for inputs.
func EncodeJSON(raw json.RawMessage, fm string, cols []types.Column, isKey bool) ([]byte, error) {
	if isNull(raw) {
		return nil, nil
	}
	switch fm {
	case "NONE":
		return nil, nil
	case "DELIMITED":
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s), nil
		}
		return bytes.TrimSpace(raw), nil
	case "KAFKA":
		if len(cols) != 1 {
			return bytes.TrimSpace(raw), nil
		}
		wrap := false
		js, err := format.New("JSON", cols, format.Options{IsKey: isKey, Wrap: &wrap})
		if err != nil {
			return nil, err
		}
		vals, err := js.Deserialize(raw)
		if err != nil {
			return bytes.TrimSpace(raw), nil // a deliberately bad record: its JSON text as is
		}
		ks, err := format.New("KAFKA", cols, format.Options{IsKey: isKey})
		if err != nil {
			return nil, err
		}
		b, err := ks.Serialize(vals)
		if err != nil {
			return bytes.TrimSpace(raw), nil
		}
		return b, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeOutput turns written bytes into a JSON-like value (json.Number numbers) to compare with a
// test file's expected record.
func DecodeOutput(b []byte, fm string, cols []types.Column, isKey bool) (any, error) {
	if b == nil {
		return nil, nil
	}
	switch fm {
	case "DELIMITED":
		return string(b), nil
	case "NONE":
		return nil, nil
	case "KAFKA":
		if len(cols) != 1 {
			return string(b), nil
		}
		s, err := format.New("KAFKA", cols, format.Options{IsKey: isKey})
		if err != nil {
			return nil, err
		}
		vals, err := s.Deserialize(b)
		if err != nil {
			return nil, err
		}
		switch v := vals[0].(type) {
		case int32:
			return json.Number(fmt.Sprint(v)), nil
		case int64:
			return json.Number(fmt.Sprint(v)), nil
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return types.JavaDouble(v), nil
			}
			return json.Number(types.JavaDouble(v)), nil
		case []byte:
			return base64.StdEncoding.EncodeToString(v), nil
		default:
			return v, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(b), nil
	}
	return v, nil
}

func decodeExpected(raw json.RawMessage) any {
	if isNull(raw) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return string(raw)
	}
	return v
}

// equalJSON compares a decoded expected JSON value with an actual one: objects field by field, numbers by
// value.
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		var dx, dy apd.Decimal
		if _, _, err := dx.SetString(string(x)); err != nil {
			return string(x) == string(y)
		}
		if _, _, err := dy.SetString(string(y)); err != nil {
			return false
		}
		return dx.Cmp(&dy) == 0
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok {
				// Like ksqlDB's runner, an expected field name that is not found is looked up upper-cased,
				// and one not found either way compares as NULL (the field counts are equal).
				w = y[strings.ToUpper(k)]
			}
			if !equalJSON(v, w) {
				return false
			}
		}
		return true
	case string:
		// ksqlDB's runner accepts a DECIMAL written as a number where the expected value is its text, with
		// the same scale ("3.40" matches 3.40, not 3.4).
		if y, ok := b.(json.Number); ok {
			var dx, dy apd.Decimal
			if _, _, err := dx.SetString(x); err != nil {
				return false
			}
			if _, _, err := dy.SetString(string(y)); err != nil {
				return false
			}
			return dx.Cmp(&dy) == 0 && dx.Exponent == dy.Exponent
		}
		return a == b
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equalJSON(x[i], y[i]) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

type window struct {
	Start, End int64
	Type       string
}

type actualRecord struct {
	key, value any
	ts         int64
	win        *window
	err        error
}

func (r actualRecord) String() string {
	s := fmt.Sprintf("key=%s value=%s ts=%d", render(r.key), render(r.value), r.ts)
	if r.win != nil {
		s += fmt.Sprintf(" window=[%d,%d]", r.win.Start, r.win.End)
	}
	if r.err != nil {
		s += " (" + r.err.Error() + ")"
	}
	return s
}

func expectedString(e Record) string {
	s := fmt.Sprintf("key=%s value=%s", render(decodeExpected(e.Key)), render(decodeExpected(e.Value)))
	if e.Timestamp != "" {
		s += " ts=" + string(e.Timestamp)
	}
	if len(e.Window) > 0 {
		s += " window=" + string(bytes.Join(bytes.Fields(e.Window), nil))
	}
	return s
}

// actual decodes what was written to topic with the formats of the source over it.
func (ex *executor) actual(topic string) []actualRecord {
	src := ex.sourceFor(topic)
	kf, vf := "KAFKA", "JSON"
	var keyCols, valCols []types.Column
	if src != nil {
		kf, vf = src.KeyFormat, src.ValueFormat
		keyCols, valCols = src.Schema.Key(), planner.ValueColumns(src)
	}
	var out []actualRecord
	for _, p := range ex.written[topic] {
		ar := actualRecord{ts: p.ts}
		kb := p.key
		if src != nil && src.Window != "" && kb != nil {
			w := &window{Type: "time"}
			if src.Window == "SESSION" && len(kb) >= 16 {
				w.Type = "session"
				w.End = int64(binary.BigEndian.Uint64(kb[len(kb)-16:]))
				w.Start = int64(binary.BigEndian.Uint64(kb[len(kb)-8:]))
				kb = kb[:len(kb)-16]
			} else if len(kb) >= 8 {
				w.Start = int64(binary.BigEndian.Uint64(kb[len(kb)-8:]))
				w.End = w.Start + ex.windowSize(src)
				kb = kb[:len(kb)-8]
			}
			ar.win = w
		}
		var err1, err2 error
		ar.key, err1 = DecodeOutput(kb, kf, keyCols, true)
		ar.value, err2 = DecodeOutput(p.value, vf, valCols, false)
		ar.err = errors.Join(err1, err2)
		out = append(out, ar)
	}
	return out
}

func (ex *executor) windowSize(src *analyzer.Source) int64 {
	if n := planner.WindowSize(src); n > 0 {
		return n
	}
	return ex.winSize[src.Name]
}

// compare checks each expected topic's records, in order.
func (ex *executor) compare(expected []Record) Result {
	var order []string
	byTopic := map[string][]Record{}
	for _, e := range expected {
		if _, ok := byTopic[e.Topic]; !ok {
			order = append(order, e.Topic)
		}
		byTopic[e.Topic] = append(byTopic[e.Topic], e)
	}
	var diff strings.Builder
	reason := ""
	for _, topic := range order {
		exp := byTopic[topic]
		act := ex.actual(topic)
		bad := len(exp) != len(act)
		for i := 0; i < len(exp) && i < len(act) && !bad; i++ {
			bad = !matches(exp[i], act[i])
		}
		if !bad {
			continue
		}
		if reason == "" {
			reason = fmt.Sprintf("topic %s: expected %d records, got %d", topic, len(exp), len(act))
			if len(exp) == len(act) {
				reason = fmt.Sprintf("topic %s: records differ", topic)
			}
		}
		fmt.Fprintf(&diff, "topic %s:\n", topic)
		for i := 0; i < max(len(exp), len(act)); i++ {
			e, a := "(none)", "(none)"
			if i < len(exp) {
				e = expectedString(exp[i])
			}
			if i < len(act) {
				a = act[i].String()
			}
			mark := " "
			if i >= len(exp) || i >= len(act) || !matches(exp[i], act[i]) {
				mark = "!"
			}
			fmt.Fprintf(&diff, " %s %d expected: %s\n   %*s actual:   %s\n", mark, i, e, len(fmt.Sprint(i)), "", a)
		}
	}
	if reason != "" {
		return Result{Status: Fail, Reason: reason, Detail: diff.String()}
	}
	return Result{Status: Pass}
}

func matches(e Record, a actualRecord) bool {
	if a.err != nil {
		return false
	}
	if !equalJSON(decodeExpected(e.Key), a.key) || !equalJSON(decodeExpected(e.Value), a.value) {
		return false
	}
	if e.Timestamp != "" {
		ts, err := e.Timestamp.Int64()
		if err != nil || ts != a.ts {
			return false
		}
	}
	if len(e.Window) > 0 && !isNull(e.Window) {
		var w window
		if json.Unmarshal(e.Window, &w) != nil || a.win == nil || w.Start != a.win.Start || w.End != a.win.End {
			return false
		}
	}
	return true
}

// failOnTimestampError fails the query on a record whose timestamp cannot be extracted, as ksqlDB does
// under ksql.timestamp.throw.on.invalid, and skips records on any other error.
func failOnTimestampError(err error) runtime.Action {
	var te *planner.TimestampError
	if errors.As(err, &te) {
		return runtime.Fail
	}
	return runtime.Continue
}

// pipeInputs feeds the case's inputs for a case that expects an error, reporting a failed query the way
// ksqlDB's runner sees it: as Kafka Streams' exception for the failing callback.
func (ex *executor) pipeInputs(drv *runtime.TestDriver, c *Case) error {
	for _, in := range c.Inputs {
		rec, err := ex.encodeInput(in)
		if err != nil {
			return err
		}
		if err := ex.pipe(drv, in.Topic, rec); err != nil {
			var te *planner.TimestampError
			if errors.As(err, &te) {
				return fmt.Errorf("Fatal user code error in TimestampExtractor callback for record: %w", err)
			}
			return err
		}
	}
	return nil
}
