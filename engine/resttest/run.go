package resttest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/sql/qtt"
)

// Status is the outcome of running one case.
type Status int

const (
	Pass Status = iota
	Fail
	Skip
)

func (s Status) String() string {
	switch s {
	case Pass:
		return "pass"
	case Fail:
		return "fail"
	case Skip:
		return "skip"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Target is the system under test: a Seiche (or ksqlDB) server and the Kafka cluster it runs on.
type Target struct {
	// HTTP is the server's base URL, e.g. http://127.0.0.1:8088.
	HTTP string
	// Bootstrap is the Kafka bootstrap address, host:port (comma-separated for several).
	Bootstrap string
	// Timeout bounds each wait of a case: topic creation and deletion, persistent queries catching up,
	// retrying a query until its response matches, reading expected outputs. Zero means
	// DefaultTimeout.
	Timeout time.Duration
}

// DefaultTimeout is Target.Timeout's default.
const DefaultTimeout = 30 * time.Second

// settleTime is how long a query is retried when the persistent queries were seen caught up: a
// response that still differs then is wrong, not late.
const settleTime = 5 * time.Second

// Result is the outcome of a case: for Fail, Reason is one line and Detail the full story (the
// expected and actual responses or records); for Skip, Reason says why.
type Result struct {
	Status Status
	Reason string
	Detail string
}

// ServerDefaults are sent as streamsProperties with every statement and query of a case, under the
// case's own properties: the server configuration ksqlDB's runner starts its server with
// (TestKsqlRestApp: queries read topics from the start, record caching off, so every intermediate
// aggregate is emitted).
var ServerDefaults = map[string]any{
	"auto.offset.reset":         "earliest",
	"cache.max.bytes.buffering": json.Number("0"),
}

// Run runs c against t and reports the outcome. It first clears the server and the case's topics
// (see the package documentation), so cases must not run concurrently against one Target. Run
// blocks until the case is done or ctx ends; it never panics on a server's answer.
func Run(ctx context.Context, t Target, c Case) Result {
	if r := c.skipReason(); r != "" {
		return Result{Status: Skip, Reason: r}
	}
	if err := c.validate(); err != nil {
		return failf("invalid test case: %v", err)
	}
	if t.Timeout <= 0 {
		t.Timeout = DefaultTimeout
	}
	k, err := newKafka(t.Bootstrap)
	if err != nil {
		return failf("kafka client: %v", err)
	}
	defer k.close()
	props := map[string]any{}
	for n, v := range ServerDefaults {
		props[n] = v
	}
	for n, v := range c.Properties {
		props[n] = v
	}
	r := &runner{c: &c, timeout: t.Timeout, http: &client{base: t.HTTP, hc: &http.Client{}}, k: k, props: props}
	return r.run(ctx)
}

func failf(format string, args ...any) Result {
	msg := fmt.Sprintf(format, args...)
	return Result{Status: Fail, Reason: oneLine(msg), Detail: msg}
}

func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

type runner struct {
	c       *Case
	timeout time.Duration
	http    *client
	k       *kafka
	props   map[string]any
	cat     *catalog
}

func (r *runner) deadline() time.Time { return time.Now().Add(r.timeout) }

func (r *runner) run(ctx context.Context) Result {
	c := r.c
	admin, queries, _ := c.split()
	r.cat = analyze(admin, c.Properties)

	// Isolation: nothing of earlier cases may be left on the server or in the case's topics.
	dropped, err := r.cleanServer(ctx)
	if err != nil {
		return failf("cleanup before the case: %v", err)
	}
	// The topics ksqlDB's runner creates before a case (getAllTopics).
	create := qtt.TopicsToCreate(c.Topics, admin, append(append([]Record{}, c.Inputs...), c.Outputs...))
	mine := map[string]bool{}
	for n := range create {
		mine[n] = true
	}
	for _, n := range r.cat.topics() {
		mine[n] = true
	}
	for _, n := range dropped {
		mine[n] = true
	}
	if err := r.k.deleteTopics(ctx, sortedKeys(mine), r.deadline()); err != nil {
		return failf("cleanup before the case: %v", err)
	}
	before, err := r.k.existingTopics(ctx)
	if err != nil {
		return failf("list topics: %v", err)
	}
	defer r.after(mine, before)
	if err := r.k.createTopics(ctx, create, r.deadline()); err != nil {
		return failf("setup: %v", err)
	}

	// The statements before the first query go in one request, as ksqlDB's runner sends them.
	var responses []actualResponse
	if len(admin) > 0 {
		kctx, cancel := context.WithTimeout(ctx, r.timeout)
		ents, herr, err := r.http.ksql(kctx, strings.Join(admin, "\n"), r.props)
		cancel()
		if err != nil {
			return failf("POST /ksql: %v", err)
		}
		if herr != nil {
			if c.ExpectedError == nil {
				return failf("server failed to execute statement\nstatement: %s\nreason: %s", statementOf(herr), herr)
			}
			if err := matchError(c.ExpectedError, herr, c.Statements[len(c.Statements)-1]); err != nil {
				return failf("%v", err)
			}
			return Result{Status: Pass}
		}
		for _, e := range ents {
			responses = append(responses, actualResponse{kind: "admin", entity: e})
		}
	}
	adminCount := len(responses)

	waitHeader := c.InputConditions != nil && c.InputConditions.WaitForQueryHeader
	if !waitHeader {
		if err := r.produceInputs(ctx); err != nil {
			return failf("inputs: %v", err)
		}
	}
	expected := jsonResponses(c.Responses)
	note := ""
	settled := false
	if c.ExpectedError == nil && len(expected) > len(admin) {
		if err := r.waitForPersistentQueries(ctx); err != nil {
			note = fmt.Sprintf("\n(note: the persistent queries were not seen caught up within %v: %v)", r.timeout, err)
		} else {
			settled = true
		}
	}

	verifyOrder := c.OutputConditions != nil && c.OutputConditions.VerifyOrder
	errorSeen := false
	succeeded := 0
	for qi, q := range queries {
		var onHeader func()
		var produceErr error
		if waitHeader && qi == 0 {
			onHeader = func() { produceErr = r.produceInputs(ctx) }
		}
		if c.ExpectedError != nil {
			qctx, cancel := context.WithTimeout(ctx, r.timeout)
			rows, herr, err := r.http.query(qctx, q, r.props, onHeader)
			cancel()
			switch {
			case err != nil:
				return failf("POST /query %s: %v", q, err)
			case herr != nil:
				if err := matchError(c.ExpectedError, herr, c.Statements[len(c.Statements)-1]); err != nil {
					return failf("%v", err)
				}
				errorSeen = true
			default:
				succeeded++
				responses = append(responses, actualResponse{kind: "query", rows: rows})
			}
			continue
		}
		var exp *Response
		if i := adminCount + qi; i < len(expected) {
			exp = &expected[i]
		}
		rows, problem := r.queryUntilMatch(ctx, q, onHeader, exp, adminCount+qi, verifyOrder, settled)
		if produceErr != nil {
			return failf("inputs: %v", produceErr)
		}
		if problem != "" {
			return failf("%s%s", problem, note)
		}
		responses = append(responses, actualResponse{kind: "query", rows: rows})
	}
	if c.ExpectedError != nil {
		if succeeded > 0 {
			return failf("expected the last statement to return an error (%s), but a query succeeded", describeExpected(c.ExpectedError))
		}
		if !errorSeen {
			// ksqlDB's runner lets such a case pass when it has no query; an error that never comes is
			// a failure here.
			return failf("expected an error (%s), but every statement succeeded", describeExpected(c.ExpectedError))
		}
	}

	if err := r.verifyOutputs(ctx); err != nil {
		return failf("%v%s", err, note)
	}
	if err := verifyResponses(responses, c.Responses, c.Statements, verifyOrder); err != nil {
		return failf("%v%s", err, note)
	}
	if c.TestPullWithProtoFormat {
		return Result{Status: Skip, Reason: "testPullWithProtoFormat: the JSON responses match; the queryProto responses (protobuf over /query-stream) are not checked yet"}
	}
	return Result{Status: Pass}
}

func describeExpected(e *ExpectedError) string {
	var parts []string
	if e.Status != 0 {
		parts = append(parts, fmt.Sprintf("status %d", e.Status))
	}
	if e.Type != "" {
		parts = append(parts, e.Type)
	}
	if e.Message != "" {
		parts = append(parts, fmt.Sprintf("message %q", e.Message))
	}
	return strings.Join(parts, ", ")
}

func statementOf(e *errorResponse) string {
	s, _ := e.Body["statementText"].(string)
	return s
}

// queryUntilMatch sends q until its response matches exp (any successful response when exp is
// nil), for up to the case timeout, or settleTime when the persistent queries were seen caught up.
// ksqlDB's runner sends each query once, after waiting for its engine's queries to reach the end of
// their inputs; retrying covers the time between offsets being committed and a server's state being
// visible to pull queries. A query answered after its inputs were produced on its header is sent
// only once. It returns the last rows, and a description of why they are not right or "".
func (r *runner) queryUntilMatch(ctx context.Context, q string, onHeader func(), exp *Response, idx int, verifyOrder, settled bool) ([]any, string) {
	budget := r.timeout
	if settled && settleTime < budget {
		budget = settleTime
	}
	until := time.Now().Add(budget)
	for {
		reqTimeout := time.Until(until)
		if reqTimeout < 5*time.Second {
			reqTimeout = 5 * time.Second
		}
		qctx, cancel := context.WithTimeout(ctx, reqTimeout)
		rows, herr, err := r.http.query(qctx, q, r.props, onHeader)
		cancel()
		once := onHeader != nil
		onHeader = nil
		var problem string
		switch {
		case err != nil:
			problem = fmt.Sprintf("POST /query: %v\nstatement: %s", err, q)
		case herr != nil:
			problem = fmt.Sprintf("server failed to execute statement\nstatement: %s\nreason: %s", q, herr)
		case exp != nil:
			if err := verifyResponse(actualResponse{kind: "query", rows: rows}, *exp, r.c.Statements, idx, verifyOrder); err != nil {
				problem = err.Error()
			}
		}
		if problem == "" {
			return rows, ""
		}
		if once || ctx.Err() != nil || time.Now().After(until) {
			return rows, problem
		}
		select {
		case <-ctx.Done():
			return rows, problem
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// produceInputs writes the inputs, topic by topic in the order topics first appear, each topic's
// records in file order and acknowledged before the next topic's (ksqlDB groups them by topic too).
func (r *runner) produceInputs(ctx context.Context) error {
	var order []string
	by := map[string][]Record{}
	for _, in := range r.c.Inputs {
		if _, ok := by[in.Topic]; !ok {
			order = append(order, in.Topic)
		}
		by[in.Topic] = append(by[in.Topic], in)
	}
	for _, topic := range order {
		ti := r.cat.info(topic, r.c.Topics)
		recs := make([]*kgo.Record, 0, len(by[topic]))
		for i, in := range by[topic] {
			rec, err := encodeInput(in, ti)
			if err != nil {
				return fmt.Errorf("%s record %d: %w", topic, i, err)
			}
			recs = append(recs, rec)
		}
		pctx, cancel := context.WithTimeout(ctx, r.timeout)
		err := r.k.produce(pctx, recs)
		cancel()
		if err != nil {
			return fmt.Errorf("produce to %s: %w", topic, err)
		}
	}
	return nil
}

// waitForPersistentQueries waits until every persistent query is running and its consumer group has
// committed the end of its input partitions (ksqlDB's IntegrationTestUtil
// .waitForPersistentQueriesToProcessInputs), asking the server for its queries (SHOW QUERIES) and the
// cluster for the groups' offsets.
func (r *runner) waitForPersistentQueries(ctx context.Context) error {
	deadline := r.deadline()
	var noGroupsSince time.Time
	for {
		err := r.persistentQueriesCaughtUp(ctx)
		switch {
		case err == nil:
			return nil
		case !errors.Is(err, errNoGroups):
			noGroupsSince = time.Time{}
		case noGroupsSince.IsZero():
			noGroupsSince = time.Now()
		case time.Since(noGroupsSince) > noGroupsGrace:
			// Queries but no consumer group for a while: the server's queries do not show in the
			// cluster's groups, and waiting longer would not tell more. The queries are retried.
			return err
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// noGroupsGrace is how long the wait for persistent queries goes on seeing no consumer group at all.
const noGroupsGrace = 3 * time.Second

func (r *runner) persistentQueriesCaughtUp(ctx context.Context) error {
	qs, err := r.showQueries(ctx)
	if err != nil {
		qs = nil // a server without SHOW QUERIES: watch the groups alone
	}
	var ids []string
	for _, q := range qs {
		if q.queryType != "" && !strings.EqualFold(q.queryType, "PERSISTENT") {
			continue
		}
		if q.state != "" && !strings.EqualFold(q.state, "RUNNING") {
			return fmt.Errorf("query %s is %s", q.id, q.state)
		}
		ids = append(ids, q.id)
	}
	return r.k.groupsCaughtUp(ctx, ids)
}

// verifyOutputs reads each output topic and compares its records with the expected ones, in order
// (ksqlDB's verifyOutput: the topic must hold exactly as many records as expected).
func (r *runner) verifyOutputs(ctx context.Context) error {
	var order []string
	by := map[string][]Record{}
	for _, o := range r.c.Outputs {
		if _, ok := by[o.Topic]; !ok {
			order = append(order, o.Topic)
		}
		by[o.Topic] = append(by[o.Topic], o)
	}
	for _, topic := range order {
		exp := by[topic]
		ti := r.cat.info(topic, r.c.Topics)
		recs, err := r.k.readTopic(ctx, topic, len(exp), r.deadline())
		if err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		act := make([]qtt.Decoded, len(recs))
		for i, rec := range recs {
			act[i] = decodeRecord(rec, ti)
		}
		bad := len(act) != len(exp)
		for i := 0; i < len(exp) && i < len(act) && !bad; i++ {
			bad = !outputMatches(exp[i], act[i])
		}
		if !bad {
			continue
		}
		var b strings.Builder
		if len(act) != len(exp) {
			fmt.Fprintf(&b, "topic %s: expected %d records, got %d\n", topic, len(exp), len(act))
		} else {
			fmt.Fprintf(&b, "topic %s: records differ\n", topic)
		}
		for i := 0; i < max(len(exp), len(act)); i++ {
			e, a, mark := "(none)", "(none)", "!"
			if i < len(exp) {
				e = expectedString(exp[i])
			}
			if i < len(act) {
				a = act[i].String()
			}
			if i < len(exp) && i < len(act) && outputMatches(exp[i], act[i]) {
				mark = " "
			}
			fmt.Fprintf(&b, " %s %d expected: %s\n     actual:   %s\n", mark, i, e, a)
		}
		return errors.New(strings.TrimRight(b.String(), "\n"))
	}
	return nil
}

func decodeExpected(raw json.RawMessage) any {
	if isNull(raw) {
		return nil
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return string(raw)
	}
	return v
}

func expectedString(e Record) string {
	s := fmt.Sprintf("key=%s value=%s", render(decodeExpected(e.Key)), render(decodeExpected(e.Value)))
	if e.Timestamp != "" {
		s += " ts=" + string(e.Timestamp)
	}
	if !isNull(e.Window) {
		s += " window=" + render(decodeExpected(e.Window))
	}
	return s
}

// outputMatches is ksqlDB's compareKeyValueTimestamp: key and value with ExpectedRecordComparator's
// rules, the timestamp when given; the window too when given.
func outputMatches(e Record, a qtt.Decoded) bool {
	if a.Err != nil {
		return false
	}
	if !recordMatches(a.Key, decodeExpected(e.Key)) || !recordMatches(a.Value, decodeExpected(e.Value)) {
		return false
	}
	if e.Timestamp != "" {
		ts, err := e.Timestamp.Int64()
		if err != nil || ts != a.Timestamp {
			return false
		}
	}
	if !isNull(e.Window) {
		var w qtt.Window
		if json.Unmarshal(e.Window, &w) != nil || a.Window == nil || w != *a.Window {
			return false
		}
	}
	return true
}

// after clears the server and deletes the case's topics once the case is done, whatever its outcome:
// the topics it created (mine), those of the sources it left on the server, and the internal topics
// (repartition, changelog) that appeared during the case. Errors are ignored: the next case starts
// with the same cleanup and reports what it cannot clear.
func (r *runner) after(mine, before map[string]bool) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	del := map[string]bool{}
	for n := range mine {
		del[n] = true
	}
	if dropped, err := r.cleanServer(ctx); err == nil {
		for _, n := range dropped {
			del[n] = true
		}
	}
	if now, err := r.k.existingTopics(ctx); err == nil {
		for n := range now {
			if !before[n] && (strings.HasSuffix(n, "-repartition") || strings.HasSuffix(n, "-changelog")) {
				del[n] = true
			}
		}
	}
	_ = r.k.deleteTopics(ctx, sortedKeys(del), time.Now().Add(r.timeout))
	_ = r.k.deleteStaleGroups(ctx, del)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
