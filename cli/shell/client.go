package shell

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Client speaks the server's REST API: /ksql for statements, /query-stream for queries.
type Client struct {
	// URL is the server's base URL, e.g. http://127.0.0.1:8088.
	URL  string
	http *http.Client
}

// NewClient returns a client of the server at url. Requests have no overall timeout (a push query
// runs until it is cancelled), but connecting does.
func NewClient(url string) *Client {
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ResponseHeaderTimeout: 0,
		MaxIdleConnsPerHost:   4,
	}
	return &Client{URL: strings.TrimRight(url, "/"), http: &http.Client{Transport: tr}}
}

// ServerError is an error the server answered with: ksqlDB's error body.
type ServerError struct {
	Status    int
	Code      int    `json:"error_code"`
	Message   string `json:"message"`
	Statement string `json:"statementText"`
}

func (e *ServerError) Error() string { return e.Message }

// UnreachableError is a server that did not answer at all.
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the server at %s: %v", e.URL, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Request is what a statement carries besides its text.
type Request struct {
	Properties map[string]string
	Variables  map[string]string
}

func (c *Client) post(ctx context.Context, path, accept string, body any) (*http.Response, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &UnreachableError{URL: c.URL, Err: unwrapURLError(err)}
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readServerError(resp)
	}
	return resp, nil
}

func unwrapURLError(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

func readServerError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	se := &ServerError{Status: resp.StatusCode}
	if json.Unmarshal(body, se) != nil || se.Message == "" {
		se.Message = fmt.Sprintf("server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return se
}

// Statement runs statements that are not queries through /ksql and returns the raw JSON array of
// entities it answers.
func (c *Client) Statement(ctx context.Context, text string, r Request) ([]byte, error) {
	resp, err := c.post(ctx, "/ksql", "application/vnd.ksql.v1+json", map[string]any{
		"ksql": text, "streamsProperties": nonNilMap(r.Properties), "sessionVariables": nonNilMap(r.Variables),
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, &UnreachableError{URL: c.URL, Err: err}
	}
	return b, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// Rows is a running query's answer: its columns, then its rows as they arrive.
type Rows struct {
	QueryID string
	Columns []string
	Types   []string

	body io.ReadCloser
	sc   *bufio.Scanner
	err  error
}

// Query starts a SELECT or PRINT through /query-stream. The caller reads rows with Next until it
// reports false, then checks Err, and Closes the rows (which also ends a push query on the server).
func (c *Client) Query(ctx context.Context, text string, r Request) (*Rows, error) {
	resp, err := c.post(ctx, "/query-stream", "application/vnd.ksqlapi.delimited.v1", map[string]any{
		"sql": text, "properties": nonNilMap(r.Properties), "sessionVariables": nonNilMap(r.Variables),
	})
	if err != nil {
		return nil, err
	}
	rows := &Rows{body: resp.Body, sc: bufio.NewScanner(resp.Body)}
	rows.sc.Buffer(make([]byte, 64<<10), 64<<20)
	if !rows.sc.Scan() {
		resp.Body.Close()
		if err := rows.sc.Err(); err != nil {
			return nil, &UnreachableError{URL: c.URL, Err: err}
		}
		return nil, &UnreachableError{URL: c.URL, Err: errors.New("the answer ended before the query's header")}
	}
	var meta struct {
		QueryID     string   `json:"queryId"`
		ColumnNames []string `json:"columnNames"`
		ColumnTypes []string `json:"columnTypes"`
	}
	if err := json.Unmarshal(rows.sc.Bytes(), &meta); err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("the server's query header is not JSON: %w", err)
	}
	rows.QueryID, rows.Columns, rows.Types = meta.QueryID, meta.ColumnNames, meta.ColumnTypes
	return rows, nil
}

// Next returns the next row's values (JSON numbers kept as json.Number), or false at the end of the
// answer or on an error.
func (r *Rows) Next() ([]any, bool) {
	for r.err == nil && r.sc.Scan() {
		line := bytes.TrimSpace(r.sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if line[0] == '{' {
			// An error object ends the answer.
			se := &ServerError{}
			if json.Unmarshal(line, se) == nil && se.Message != "" {
				r.err = se
			} else {
				r.err = fmt.Errorf("unexpected line in the answer: %s", line)
			}
			return nil, false
		}
		d := json.NewDecoder(bytes.NewReader(line))
		d.UseNumber()
		var row []any
		if err := d.Decode(&row); err != nil {
			r.err = fmt.Errorf("a row that is not a JSON array: %w", err)
			return nil, false
		}
		return row, true
	}
	if r.err == nil {
		if err := r.sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
			r.err = &UnreachableError{Err: err}
		}
	}
	return nil, false
}

// Err returns the error that ended the rows, if any.
func (r *Rows) Err() error { return r.err }

// Close ends the answer; the server stops a push query when its client goes away.
func (r *Rows) Close() error { return r.body.Close() }

// Info asks the server for /info, answering its version; an error means nothing answers at URL.
func (c *Client) Info(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+"/info", nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", &UnreachableError{URL: c.URL, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", readServerError(resp)
	}
	var info struct {
		Info struct {
			Version string `json:"version"`
		} `json:"KsqlServerInfo"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		return "", fmt.Errorf("%s/info does not answer as a Seiche or ksqlDB server: %w", c.URL, err)
	}
	return info.Info.Version, nil
}
