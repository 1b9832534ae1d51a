package resttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// client speaks the two endpoints ksqlDB's KsqlRestClient uses for REST tests: POST /ksql for
// statements (a JSON array of entities back) and POST /query for queries (the streamed rows back, one
// JSON object per line inside a JSON array). Both take {"ksql": ..., "streamsProperties": {...}}.
type client struct {
	base string
	hc   *http.Client
}

// errorResponse is a non-200 answer: ksqlDB's KsqlErrorMessage entity (@type generic_error or
// statement_error, error_code, message, statementText for statement errors).
type errorResponse struct {
	Status int
	Body   map[string]any // nil when the body is not a JSON object
	Raw    string
}

func (e *errorResponse) message() string {
	if m, ok := e.Body["message"].(string); ok {
		return m
	}
	return e.Raw
}

func (e *errorResponse) String() string {
	return fmt.Sprintf("HTTP %d: %s", e.Status, strings.TrimSpace(e.Raw))
}

func (c *client) post(ctx context.Context, path, sql string, props map[string]any) (*http.Response, error) {
	if props == nil {
		props = map[string]any{}
	}
	body, err := json.Marshal(map[string]any{"ksql": sql, "streamsProperties": props})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(c.base, "/")+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	return c.hc.Do(req)
}

func readError(resp *http.Response) *errorResponse {
	raw, _ := io.ReadAll(resp.Body)
	e := &errorResponse{Status: resp.StatusCode, Raw: string(raw)}
	if v, err := decodeJSON(raw); err == nil {
		e.Body, _ = v.(map[string]any)
	}
	return e
}

// ksql runs statements through POST /ksql. It returns the entities on success, the error response
// otherwise; err is set only when the request itself failed.
func (c *client) ksql(ctx context.Context, sql string, props map[string]any) ([]map[string]any, *errorResponse, error) {
	resp, err := c.post(ctx, "/ksql", sql, props)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, readError(resp), nil
	}
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, err
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("/ksql answered something that is not JSON: %w: %.200s", err, raw)
	}
	list, ok := v.([]any)
	if !ok {
		return nil, nil, fmt.Errorf("/ksql answered %T, want a JSON array of entities: %.200s", v, raw)
	}
	out := make([]map[string]any, 0, len(list))
	for i, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("/ksql entity %d is %T, want a JSON object", i, e)
		}
		out = append(out, m)
	}
	return out, nil, nil
}

// query runs a query through POST /query and returns its streamed rows once the server ends the
// response (a pull query's last row, a push query's LIMIT). onHeader, if not nil, is called once, as
// soon as the header row has arrived and before the rest is read.
func (c *client) query(ctx context.Context, sql string, props map[string]any, onHeader func()) ([]any, *errorResponse, error) {
	resp, err := c.post(ctx, "/query", sql, props)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, readError(resp), nil
	}
	var body []byte
	r := bufio.NewReader(resp.Body)
	for {
		line, err := r.ReadBytes('\n')
		body = append(body, line...)
		if onHeader != nil {
			if m, ok := tidyRow(line).(map[string]any); ok {
				if _, ok := m["header"]; ok {
					onHeader()
					onHeader = nil
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if onHeader != nil {
		// No header line on its own: the whole answer came as one line (or none).
		onHeader()
	}
	rows, err := parseRows(body)
	if err != nil {
		return nil, nil, fmt.Errorf("/query answer: %w: %.300s", err, body)
	}
	return rows, nil, nil
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one JSON value")
	}
	return v, nil
}

// parseRows reads a /query body: a JSON array of row objects, written by ksqlDB one per line as
// "[{header},\n{row},\n...]". Like ksqlDB's KsqlTargetUtil.toRows it also accepts the rows one per
// line without the array (a stream cut short, or newline-delimited JSON).
func parseRows(body []byte) ([]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return []any{}, nil
	}
	if v, err := decodeJSON(body); err == nil {
		if list, ok := v.([]any); ok {
			return list, nil
		}
		return []any{v}, nil
	}
	var out []any
	for i, line := range bytes.Split(body, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || string(t) == "[" || string(t) == "]" {
			continue
		}
		v := tidyRow(t)
		if v == nil {
			return nil, fmt.Errorf("line %d is not a JSON row: %.200s", i+1, t)
		}
		out = append(out, v)
	}
	return out, nil
}

// tidyRow decodes one line of a streamed /query body, without the array's '[' before it and the ','
// or ']' after it (ksqlDB's StreamPublisher.toJsonMsg). It returns nil when the line is not JSON.
func tidyRow(line []byte) any {
	t := bytes.TrimSpace(line)
	t = bytes.TrimPrefix(t, []byte("["))
	t = bytes.TrimSuffix(t, []byte("]"))
	t = bytes.TrimSpace(t)
	t = bytes.TrimSuffix(t, []byte(","))
	if len(t) == 0 {
		return nil
	}
	v, err := decodeJSON(t)
	if err != nil {
		return nil
	}
	return v
}
