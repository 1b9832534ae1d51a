package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// ksql runs statements through POST /ksql and returns the entities of the answer.
func (v *env) ksql(ctx context.Context, statements string) ([]map[string]any, error) {
	body, _ := json.Marshal(map[string]any{"ksql": statements, "streamsProperties": map[string]any{}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url+"/ksql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST /ksql %q: %s: %s", statements, resp.Status, out)
	}
	var ents []map[string]any
	if err := json.Unmarshal(out, &ents); err != nil {
		return nil, fmt.Errorf("POST /ksql %q: %w in %s", statements, err, out)
	}
	return ents, nil
}

// queryID returns the id of the query a CREATE ... AS SELECT started, from its /ksql entity.
func queryID(ents []map[string]any) (string, error) {
	for _, e := range ents {
		if st, ok := e["commandStatus"].(map[string]any); ok {
			if id, ok := st["queryId"].(string); ok && id != "" {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("no query id in %v", ents)
}

// pullRows runs a pull query through POST /query and returns its rows' column arrays.
func (v *env) pullRows(ctx context.Context, sql string) ([]json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"ksql": sql, "streamsProperties": map[string]any{}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url+"/query", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST /query %q: %s: %s", sql, resp.Status, out)
	}
	var msgs []struct {
		Row *struct {
			Columns json.RawMessage `json:"columns"`
		} `json:"row"`
		ErrorMessage json.RawMessage `json:"errorMessage"`
	}
	if err := json.Unmarshal(out, &msgs); err != nil {
		return nil, fmt.Errorf("POST /query %q: %w in %.200s", sql, err, out)
	}
	var rows []json.RawMessage
	for _, m := range msgs {
		if m.ErrorMessage != nil {
			return nil, fmt.Errorf("POST /query %q: %s", sql, m.ErrorMessage)
		}
		if m.Row != nil {
			rows = append(rows, m.Row.Columns)
		}
	}
	return rows, nil
}

// streamQuery is a push query read over POST /query-stream as delimited lines.
type streamQuery struct {
	resp    *http.Response
	r       *bufio.Reader
	columns []string
}

func (v *env) streamQuery(ctx context.Context, sql string) (*streamQuery, error) {
	body, _ := json.Marshal(map[string]any{"sql": sql, "properties": map[string]any{}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.url+"/query-stream", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/vnd.ksqlapi.delimited.v1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	q := &streamQuery{resp: resp, r: bufio.NewReader(resp.Body)}
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("POST /query-stream %q: %s: %s", sql, resp.Status, out)
	}
	line, err := q.r.ReadBytes('\n')
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("POST /query-stream %q: reading the metadata: %w", sql, err)
	}
	var meta struct {
		QueryID     string   `json:"queryId"`
		ColumnNames []string `json:"columnNames"`
	}
	if err := json.Unmarshal(line, &meta); err != nil || meta.QueryID == "" {
		resp.Body.Close()
		return nil, fmt.Errorf("POST /query-stream %q: bad metadata %q: %v", sql, line, err)
	}
	q.columns = meta.ColumnNames
	return q, nil
}

// next returns the next row line (a JSON array), without its newline.
func (q *streamQuery) next() ([]byte, error) {
	for {
		line, err := q.r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if line[0] != '[' {
			return nil, fmt.Errorf("push query: not a row: %s", line)
		}
		return line, nil
	}
}

func (q *streamQuery) close() { q.resp.Body.Close() }

// waitOutput returns the time from start until topic holds want records; it fails if it holds more,
// or if failed delivers an error first.
func waitOutput(ctx context.Context, adm *kadm.Client, topic string, want int64, start time.Time, failed <-chan error) (time.Duration, error) {
	for {
		select {
		case err := <-failed:
			return 0, fmt.Errorf("stopped early: %v", err)
		default:
		}
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return 0, err
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		if n >= want {
			if n > want {
				return 0, fmt.Errorf("output %s has %d records, want %d", topic, n, want)
			}
			return time.Since(start), nil
		}
		if time.Since(start) > 5*time.Minute {
			return 0, fmt.Errorf("output %s has %d records after %v, want %d", topic, n, time.Since(start), want)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// createTopic creates a topic and tolerates nothing else.
func createTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int) error {
	resp, err := adm.CreateTopic(ctx, int32(partitions), -1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	return err
}

// checkFor polls fn every interval until it returns true, an error, or timeout passes.
func checkFor(ctx context.Context, timeout, interval time.Duration, fn func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := fn()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
