package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/seichedb/seiche/engine/arrowrows"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Version is the server version /info reports.
var Version = "0.1.0"

// maxRequestBytes bounds a request body (ksqlDB's default is also a few MiB).
const maxRequestBytes = 8 << 20

// Content types of /query-stream answers.
const (
	contentJSON      = "application/json"
	contentDelimited = "application/vnd.ksqlapi.delimited.v1"
	contentArrow     = "application/vnd.apache.arrow.stream"
	contentKSQL      = "application/vnd.ksql.v1+json"
)

// API serves the engine's REST API, shaped like ksqlDB's so its clients work unchanged.
type API struct {
	e   *Engine
	mux *http.ServeMux
	// ClusterID is the Kafka cluster id /info reports.
	ClusterID string
	// Gatherers are gathered by /metrics besides the engine's registry (the broker's, for one).
	Gatherers []prometheus.Gatherer
	// ArrowFlushInterval is how long push-query rows wait before an Arrow batch goes out.
	ArrowFlushInterval time.Duration

	mu      sync.Mutex
	running map[string]*Result // /query-stream queries, for /close-query
}

// NewAPI returns the REST API of e.
func NewAPI(e *Engine) *API {
	a := &API{e: e, mux: http.NewServeMux(), running: map[string]*Result{}, ArrowFlushInterval: 100 * time.Millisecond}
	a.handle("POST /ksql", a.ksql)
	a.handle("POST /query", a.query)
	a.handle("POST /query-stream", a.queryStream)
	a.handle("POST /close-query", a.closeQuery)
	a.handle("POST /inserts-stream", a.insertsStream)
	a.handle("GET /info", a.info)
	a.handle("GET /healthcheck", a.healthcheck)
	a.handle("GET /clusterStatus", a.clusterStatus)
	a.handle("POST /internal/pull", a.internalPull)
	a.handle("GET /status", a.status)
	a.handle("GET /status/{id...}", a.status)
	a.handle("GET /metrics", a.metrics)
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.e.metrics.httpRequests.WithLabelValues("unknown", "404").Inc()
		writeError(w, http.StatusNotFound, codeNotFound, "Path not found: "+r.URL.Path, "")
	})
	return a
}

// statusWriter records the status code for the request metric.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (a *API) handle(pattern string, h http.HandlerFunc) {
	endpoint := pattern[strings.Index(pattern, " ")+1:]
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if p := recover(); p != nil {
				a.e.log.Error("request handler panicked", "endpoint", endpoint, "panic", p)
				if sw.code == 0 {
					writeError(sw, http.StatusInternalServerError, codeServerError, fmt.Sprint(p), "")
				}
			}
			a.e.metrics.httpRequests.WithLabelValues(endpoint, strconv.Itoa(sw.code)).Inc()
		}()
		r.Body = http.MaxBytesReader(sw, r.Body, maxRequestBytes)
		h(sw, r)
	})
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Serve serves the API on ln, HTTP/1.1 and HTTP/2 cleartext, until ctx is done.
func (a *API) Serve(ctx context.Context, ln net.Listener) error {
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: a, Protocols: &protocols, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(a.e.log.Handler(), slog.LevelDebug)}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.closeAll()
		_ = srv.Shutdown(sctx)
	}()
	err := srv.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (a *API) closeAll() {
	a.mu.Lock()
	rs := make([]*Result, 0, len(a.running))
	for _, r := range a.running {
		rs = append(rs, r)
	}
	a.mu.Unlock()
	for _, r := range rs {
		r.Close()
	}
}

// errorBody is ksqlDB's KsqlErrorMessage / KsqlStatementErrorMessage.
func errorBody(code int, msg, statement string, entities []Entity) map[string]any {
	m := map[string]any{"@type": "generic_error", "error_code": code, "message": msg}
	if statement != "" {
		m["@type"] = "statement_error"
		m["statementText"] = statement
		if entities == nil {
			entities = []Entity{}
		}
		m["entities"] = entities
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, msg, statement string) {
	writeJSON(w, status, errorBody(code, msg, statement, nil))
}

// httpStatus maps a ksqlDB error code to its HTTP status.
func httpStatus(code int) int {
	switch {
	case code == codeUnavailable:
		return http.StatusServiceUnavailable
	case code >= 50000:
		return http.StatusInternalServerError
	case code == codeNotFound:
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

// decodeBody decodes a JSON request body, answering a ksqlDB-shaped error when it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, codeBadRequest, fmt.Sprintf("request body larger than %d bytes", mbe.Limit), "")
			return false
		}
		writeError(w, http.StatusBadRequest, codeBadRequest, "Invalid JSON in request: "+err.Error(), "")
		return false
	}
	return true
}

// statementError renders err as ksqlDB does, with the failing statement's text.
func statementError(err error, text string) (int, map[string]any) {
	var se *StatementError
	if errors.As(err, &se) {
		st := se.StatementText
		if st == "" {
			st = text
		}
		return httpStatus(se.Code), errorBody(se.Code, se.Message, st, se.Entities)
	}
	var sq *sqlerr.Error
	if errors.As(err, &sq) {
		return http.StatusBadRequest, errorBody(codeBadStatement, sq.Error(), text, nil)
	}
	return http.StatusBadRequest, errorBody(codeBadStatement, err.Error(), text, nil)
}

func (a *API) ksql(w http.ResponseWriter, r *http.Request) {
	var req Request
	if !decodeBody(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.KSQL) == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "ksql field must be populated", "")
		return
	}
	ents, serr := a.e.Execute(r.Context(), req)
	if serr != nil {
		st := serr.StatementText
		if st == "" {
			st = req.KSQL
		}
		writeJSON(w, httpStatus(serr.Code), errorBody(serr.Code, serr.Message, st, serr.Entities))
		return
	}
	if ents == nil {
		ents = []Entity{}
	}
	writeJSON(w, http.StatusOK, ents)
}

// queryBody is the body of /query ({"ksql": ...}) and /query-stream ({"sql": ...}).
type queryBody struct {
	KSQL              string         `json:"ksql"`
	SQL               string         `json:"sql"`
	StreamsProperties map[string]any `json:"streamsProperties"`
	Properties        map[string]any `json:"properties"`
	SessionVariables  map[string]any `json:"sessionVariables"`
}

func (b queryBody) request() QueryRequest {
	text := b.KSQL
	if text == "" {
		text = b.SQL
	}
	props := stringProps(b.StreamsProperties)
	for k, v := range stringProps(b.Properties) {
		props[k] = v
	}
	return QueryRequest{SQL: text, Properties: props, SessionVariables: stringVars(b.SessionVariables)}
}

// startQuery starts the request's query, answering the error itself when it cannot.
func (a *API) startQuery(w http.ResponseWriter, r *http.Request) (*Result, bool) {
	var body queryBody
	if !decodeBody(w, r, &body) {
		return nil, false
	}
	req := body.request()
	if strings.TrimSpace(req.SQL) == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, "\"sql\" field must be populated", "")
		return nil, false
	}
	res, err := a.e.Query(r.Context(), req)
	if err != nil {
		status, b := statementError(err, req.SQL)
		writeJSON(w, status, b)
		return nil, false
	}
	return res, true
}

// appendRow appends a row's values as a JSON array.
func appendRow(b *bytes.Buffer, cols []types.Column, row types.Row) {
	b.WriteByte('[')
	for i, v := range row {
		if i > 0 {
			b.WriteByte(',')
		}
		var t *types.Type
		if i < len(cols) {
			t = cols[i].Type
		}
		if err := format.AppendJSON(b, t, v); err != nil {
			b.WriteString("null")
		}
	}
	b.WriteByte(']')
}

// query is ksqlDB's /query: a chunked JSON array of a header, rows, and a final message. A pull
// query's answer is complete before it is written, so it goes out in one write; a push query's rows are
// flushed as they come.
func (a *API) query(w http.ResponseWriter, r *http.Request) {
	res, ok := a.startQuery(w, r)
	if !ok {
		return
	}
	defer res.Close()
	w.Header().Set("Content-Type", contentJSON)
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	var b bytes.Buffer
	fmt.Fprintf(&b, `[{"header":{"queryId":%q,"schema":%s}}`, res.ID, mustJSON(res.Schema))
	flush := func() bool { return writeOut(w, fl, &b) }
	if !res.Pull && !flush() {
		return
	}
	for {
		select {
		case row, ok := <-res.Rows:
			if !ok {
				if err := res.Err(); err != nil {
					fmt.Fprintf(&b, ",\n{\"errorMessage\":%s}", mustJSON(errorBody(codeServerError, err.Error(), "", nil)))
				} else if res.Limited {
					b.WriteString(",\n{\"finalMessage\":\"Limit Reached\"}")
				} else if !res.Pull || res.scan {
					b.WriteString(",\n{\"finalMessage\":\"Query Completed\"}")
				}
				b.WriteString("]\n")
				flush()
				return
			}
			b.WriteString(",\n{\"row\":{\"columns\":")
			appendRow(&b, res.Columns, row.Values)
			if row.Tombstone {
				b.WriteString(`,"tombstone":true`)
			}
			b.WriteString("}}")
			if !res.Pull && len(res.Rows) == 0 && !flush() {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// writeOut writes what b holds to w and flushes it to the client, reporting whether the client is
// still there.
func writeOut(w http.ResponseWriter, fl http.Flusher, b *bytes.Buffer) bool {
	if _, err := w.Write(b.Bytes()); err != nil {
		return false
	}
	b.Reset()
	if fl != nil {
		fl.Flush()
	}
	return true
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// queryStream is ksqlDB's /query-stream (the HTTP/2 API): a metadata object then rows, as a JSON
// array, as delimited lines, or as an Arrow IPC stream, by the Accept header.
func (a *API) queryStream(w http.ResponseWriter, r *http.Request) {
	accept := r.Header.Get("Accept")
	mode := contentJSON
	switch {
	case strings.Contains(accept, contentArrow):
		mode = contentArrow
	case strings.Contains(accept, contentDelimited):
		mode = contentDelimited
	case strings.Contains(accept, "application/json"), strings.Contains(accept, contentKSQL):
		mode = contentJSON
	case r.ProtoMajor >= 2:
		mode = contentDelimited // ksqlDB's default over HTTP/2
	}
	res, ok := a.startQuery(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	a.running[res.ID] = res
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		delete(a.running, res.ID)
		a.mu.Unlock()
		res.Close()
	}()
	w.Header().Set("Content-Type", mode)
	w.WriteHeader(http.StatusOK)
	if mode == contentArrow {
		a.streamArrow(w, r, res)
		return
	}
	fl, _ := w.(http.Flusher)
	var names, typeNames []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
		typeNames = append(typeNames, c.Type.String())
	}
	meta := map[string]any{"queryId": res.ID, "columnNames": names, "columnTypes": typeNames}
	var b bytes.Buffer
	sep := func(first bool) {
		if mode == contentJSON {
			if first {
				b.WriteByte('[')
			} else {
				b.WriteByte(',')
			}
		}
	}
	end := func() {
		if mode == contentJSON {
			b.WriteByte(']')
		} else {
			b.WriteByte('\n')
		}
	}
	sep(true)
	b.WriteString(mustJSON(meta))
	if mode == contentDelimited {
		b.WriteByte('\n')
	}
	flush := func() bool { return writeOut(w, fl, &b) }
	if !flush() {
		return
	}
	for {
		select {
		case row, ok := <-res.Rows:
			if !ok {
				if err := res.Err(); err != nil {
					sep(false)
					b.WriteString(mustJSON(errorBody(codeServerError, err.Error(), "", nil)))
				}
				if mode == contentJSON {
					end()
				} else if b.Len() > 0 {
					b.WriteByte('\n')
				}
				flush()
				return
			}
			sep(false)
			appendRow(&b, res.Columns, row.Values)
			if mode == contentDelimited {
				b.WriteByte('\n')
			}
			if len(res.Rows) == 0 && !flush() {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// streamArrow writes the result as an Arrow IPC stream: a batch when a batch is full, when rows
// have waited ArrowFlushInterval, and at the end.
func (a *API) streamArrow(w http.ResponseWriter, r *http.Request, res *Result) {
	fl, _ := w.(http.Flusher)
	aw, err := arrowrows.NewWriter(w, res.Columns)
	if err != nil {
		a.e.log.Warn("arrow stream", "err", err)
		return
	}
	tick := time.NewTicker(a.ArrowFlushInterval)
	defer tick.Stop()
	pending := false
	for {
		select {
		case row, ok := <-res.Rows:
			if !ok {
				_ = aw.Close()
				if fl != nil {
					fl.Flush()
				}
				return
			}
			if err := aw.Write(row.Values); err != nil {
				a.e.log.Warn("arrow stream", "err", err)
				return
			}
			pending = true
		case <-tick.C:
			if pending {
				if err := aw.Flush(); err != nil {
					return
				}
				if fl != nil {
					fl.Flush()
				}
				pending = false
			}
		case <-r.Context().Done():
			return
		}
	}
}

func (a *API) closeQuery(w http.ResponseWriter, r *http.Request) {
	var body struct {
		QueryID string `json:"queryId"`
	}
	if !decodeBody(w, r, &body) {
		return
	}
	a.mu.Lock()
	res, ok := a.running[body.QueryID]
	a.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, codeBadStatement, "No query with id "+body.QueryID, "")
		return
	}
	go res.Close()
	w.WriteHeader(http.StatusOK)
}

// insertsStream is ksqlDB's /inserts-stream: a JSON object naming the target, then one JSON object per
// row; each row is acknowledged with its sequence number once written.
func (a *API) insertsStream(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(bufio.NewReader(r.Body))
	dec.UseNumber()
	var head struct {
		Target     string         `json:"target"`
		Properties map[string]any `json:"properties"`
	}
	if err := dec.Decode(&head); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "Invalid JSON in inserts stream: "+err.Error(), "")
		return
	}
	src, ok := a.e.meta.Source(strings.ToUpper(head.Target))
	if !ok {
		src, ok = a.e.meta.Source(head.Target)
	}
	if !ok || src.Kind != ir.Stream {
		writeError(w, http.StatusBadRequest, codeBadStatement, "Cannot insert into an unknown stream: "+head.Target, "")
		return
	}
	w.Header().Set("Content-Type", contentDelimited)
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	for seq := int64(0); ; seq++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if !errors.Is(err, io.EOF) {
				fmt.Fprintf(w, "%s\n", mustJSON(map[string]any{"status": "error", "seq": seq, "error_code": codeBadRequest, "message": "Invalid JSON: " + err.Error()}))
			}
			return
		}
		ack := map[string]any{"status": "ok", "seq": seq}
		if err := a.insertJSON(r.Context(), src, raw); err != nil {
			ack = map[string]any{"status": "error", "seq": seq, "error_code": codeBadStatement, "message": err.Error()}
		}
		fmt.Fprintf(w, "%s\n", mustJSON(ack))
		if fl != nil {
			fl.Flush()
		}
	}
}

// insertJSON inserts one row given as a JSON object of column values (names case-insensitive).
func (a *API) insertJSON(ctx context.Context, src *ir.Source, raw json.RawMessage) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("a row must be a JSON object: %w", err)
	}
	byName := map[string]json.RawMessage{}
	for k, v := range obj {
		byName[strings.ToUpper(k)] = v
	}
	js, err := format.New("JSON", src.Schema.Columns, format.Options{})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, c := range src.Schema.Columns {
		v, ok := byName[c.Name]
		if !ok {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(mustJSON(c.Name) + ":")
		b.Write(v)
	}
	b.WriteByte('}')
	vals, err := js.Deserialize(b.Bytes())
	if err != nil {
		return err
	}
	return a.e.insertValues(ctx, &analyzer.InsertValues{Target: src, Values: vals})
}

func (a *API) info(w http.ResponseWriter, r *http.Request) {
	status := "RUNNING"
	select {
	case <-a.e.ready:
	default:
		status = "STARTING"
	}
	writeJSON(w, http.StatusOK, map[string]any{"KsqlServerInfo": map[string]any{
		"version": Version, "kafkaClusterId": a.ClusterID, "ksqlServiceId": a.e.cfg.serviceID, "serverStatus": status,
	}})
}

func (a *API) healthcheck(w http.ResponseWriter, r *http.Request) {
	ready := true
	select {
	case <-a.e.ready:
	default:
		ready = false
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	_, _, kerr := a.e.be.topicPartitions(ctx, a.e.commandTopic)
	kafka := kerr == nil
	status := http.StatusOK
	if !ready || !kafka {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"isHealthy": ready && kafka, "details": map[string]any{
		"metastore":     map[string]any{"isHealthy": ready},
		"kafka":         map[string]any{"isHealthy": kafka},
		"commandRunner": map[string]any{"isHealthy": ready},
	}})
}

func (a *API) clusterStatus(w http.ResponseWriter, r *http.Request) {
	self := r.Host
	if self == "" {
		self = "localhost"
	}
	writeJSON(w, http.StatusOK, a.e.clusterStatus("http://"+self))
}

// status answers /status/<commandId>: every command this server applied succeeded or failed when its
// request returned, so a known command is reported as its final status.
func (a *API) status(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if id == "" {
		writeJSON(w, http.StatusOK, map[string]any{"commandStatuses": map[string]any{}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "SUCCESS", "message": "Command " + id + " was executed", "queryId": nil})
}

func (a *API) metrics(w http.ResponseWriter, r *http.Request) {
	gs := prometheus.Gatherers{a.e.cfg.registry}
	gs = append(gs, a.Gatherers...)
	for _, q := range a.e.queryList() {
		if app := q.app(); app != nil {
			gs = append(gs, labelled{g: app.Registry(), name: "query_id", value: q.id})
		}
	}
	promhttp.HandlerFor(gs, promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// labelled gathers g's metrics with one more label: a query's runtime metrics carry its id.
type labelled struct {
	g           prometheus.Gatherer
	name, value string
}

func (l labelled) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := l.g.Gather()
	for _, mf := range mfs {
		for _, m := range mf.Metric {
			m.Label = append(m.Label, &dto.LabelPair{Name: &l.name, Value: &l.value})
		}
	}
	return mfs, err
}
