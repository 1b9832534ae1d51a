package qtt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/sql/planner"
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

// caseTimeout bounds one case: a query feeding its own input would otherwise never end.
const caseTimeout = 10 * time.Second

// Run runs a variant: skipped when out of scope (SkipReason), otherwise executed on an
// engine.TestSession, the server's own statement path over synchronous runtime.TestDrivers, as
// ksqlDB's QTT runner runs its engine over TopologyTestDrivers (see the corpus README).
//
// The case runs on the caller's goroutine and starts none of its own. It fails when it takes longer
// than caseTimeout or ctx is done first: its queries then stop between two records, and Run returns
// once they have.
func Run(ctx context.Context, v Variant) Result {
	if r := SkipReason(v); r != "" {
		return Result{Status: Skip, Reason: r}
	}
	caseCtx, cancel := context.WithTimeout(ctx, caseTimeout)
	defer cancel()
	r := run(caseCtx, v)
	if r.Status == Fail && caseCtx.Err() != nil {
		reason := "timed out after " + caseTimeout.String()
		if err := ctx.Err(); err != nil {
			reason = "stopped: " + err.Error()
		}
		return Result{Status: Fail, Reason: reason, Detail: r.Detail}
	}
	return r
}

// run executes the case: its topics are created, its statements run as one script (joined by
// newlines as ksqlDB's runner joins them, so an error's line:column is its position in the whole
// script), then its inputs are piped in and what was written is compared with its outputs.
func run(ctx context.Context, v Variant) (r Result) {
	c := v.Case
	// ksqlDB's runner (TestExecutor) runs every case with record caching off, so that each
	// intermediate aggregate is written; a case's own properties may say otherwise.
	props := map[string]string{"cache.max.bytes.buffering": "0"}
	for k, val := range c.Properties {
		props[k] = fmt.Sprint(val)
	}
	s := engine.NewTestSession(props)
	defer s.Close()
	defer func() {
		if p := recover(); p != nil {
			r = Result{Status: Fail, Reason: fmt.Sprintf("panic: %v", p), Detail: string(debug.Stack())}
		}
	}()
	declared, err := ParseTopics(c.Topics)
	if err != nil {
		return Result{Status: Fail, Reason: oneLineErr(err), Detail: err.Error()}
	}
	for name, parts := range TopicsToCreate(declared, v.Statements, append(append([]Record{}, c.Inputs...), c.Outputs...)) {
		if err := s.CreateTopic(name, parts); err != nil {
			return Result{Status: Fail, Reason: oneLineErr(err), Detail: err.Error()}
		}
	}
	_, err = s.Execute(ctx, strings.Join(v.Statements, "\n"))
	if err == nil {
		// A negative case's error may be one a query raises at run time.
		err = pipeInputs(ctx, s, declared, c)
	}
	if exp := c.ExpectedException; exp != nil {
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
	if r := compare(s, c.Outputs); r.Status != Pass {
		return r
	}
	if err := checkPost(s.Metastore(), json.RawMessage(strings.ReplaceAll(string(c.Post), "{FORMAT}", v.Format))); err != nil {
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

// compare checks each expected topic's records, in order.
func compare(s *engine.TestSession, expected []Record) Result {
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
		enc := EncodingOf(s.Metastore(), topic, nil)
		var act []Decoded
		for _, r := range s.Written(topic) {
			act = append(act, DecodeRecord(r, enc))
		}
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

func matches(e Record, a Decoded) bool {
	if a.Err != nil {
		return false
	}
	if !equalJSON(decodeExpected(e.Key), a.Key) || !equalJSON(decodeExpected(e.Value), a.Value) {
		return false
	}
	if e.Timestamp != "" {
		ts, err := e.Timestamp.Int64()
		if err != nil || ts != a.Timestamp {
			return false
		}
	}
	if len(e.Window) > 0 && !isNull(e.Window) {
		var w Window
		if json.Unmarshal(e.Window, &w) != nil || a.Window == nil || w != *a.Window {
			return false
		}
	}
	return true
}

// pipeInputs feeds the case's inputs in order, reporting a failed query the way ksqlDB's runner sees
// it: as Kafka Streams' exception for the failing callback.
func pipeInputs(ctx context.Context, s *engine.TestSession, declared []Topic, c *Case) error {
	for i, in := range c.Inputs {
		rec, err := EncodeRecord(in, EncodingOf(s.Metastore(), in.Topic, declared))
		if err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
		if err := s.Pipe(ctx, rec); err != nil {
			var te *planner.TimestampError
			if errors.As(err, &te) {
				return fmt.Errorf("Fatal user code error in TimestampExtractor callback for record: %w", err)
			}
			return err
		}
	}
	return nil
}
