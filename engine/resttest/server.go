package resttest

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// processingLogStream is ksqlDB's processing log stream, which a server may keep for itself.
const processingLogStream = "KSQL_PROCESSING_LOG"

type queryInfo struct {
	id, queryType, state string
}

type sourceInfo struct {
	kind, name, topic string
}

// entityList returns the list under key of the first entity that has one (e.g. "queries" of the
// {"@type":"queries"} entity SHOW QUERIES answers).
func entityList(ents []map[string]any, key string) ([]map[string]any, error) {
	for _, e := range ents {
		v, present := e[key]
		if present && v == nil {
			return nil, nil // an empty list written as null
		}
		if l, ok := v.([]any); ok {
			out := make([]map[string]any, 0, len(l))
			for _, x := range l {
				if m, ok := x.(map[string]any); ok {
					out = append(out, m)
				}
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("no entity with a %q list in %s", key, render(ents))
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// statement runs one statement through /ksql without the case's properties, turning an error
// response into an error.
func (r *runner) statement(ctx context.Context, sql string) ([]map[string]any, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	ents, herr, err := r.http.ksql(ctx, sql, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sql, err)
	}
	if herr != nil {
		return nil, fmt.Errorf("%s: %s", sql, herr)
	}
	return ents, nil
}

// showQueries lists the server's queries: {"@type":"queries","queries":[{"id","queryType","state"}]}.
func (r *runner) showQueries(ctx context.Context) ([]queryInfo, error) {
	ents, err := r.statement(ctx, "SHOW QUERIES;")
	if err != nil {
		return nil, err
	}
	l, err := entityList(ents, "queries")
	if err != nil {
		return nil, err
	}
	out := make([]queryInfo, 0, len(l))
	for _, q := range l {
		out = append(out, queryInfo{id: str(q, "id"), queryType: str(q, "queryType"), state: str(q, "state")})
	}
	return out, nil
}

// sources lists the server's streams and tables (SHOW STREAMS, SHOW TABLES: {"@type":"streams",
// "streams":[{"name","topic",...}]}, and "tables" alike).
func (r *runner) sources(ctx context.Context) ([]sourceInfo, error) {
	var out []sourceInfo
	for _, kind := range []string{"STREAM", "TABLE"} {
		key := strings.ToLower(kind) + "s"
		ents, err := r.statement(ctx, "SHOW "+kind+"S;")
		if err != nil {
			return nil, err
		}
		l, err := entityList(ents, key)
		if err != nil {
			return nil, err
		}
		for _, s := range l {
			out = append(out, sourceInfo{kind: kind, name: str(s, "name"), topic: str(s, "topic")})
		}
	}
	return out, nil
}

// cleanServer brings the server back to empty, as ksqlDB's RestQueryTranslationTest.tearDown does
// between tests: every query terminated, then every stream and table dropped (but the processing log
// stream), in passes while some drop succeeds so that dependent sources go first. It returns the
// topics of the dropped sources.
func (r *runner) cleanServer(ctx context.Context) ([]string, error) {
	if _, err := r.statement(ctx, "TERMINATE ALL;"); err != nil {
		// A server without TERMINATE ALL: terminate the queries one by one.
		qs, qerr := r.showQueries(ctx)
		if qerr != nil {
			return nil, errors.Join(err, qerr)
		}
		for _, q := range qs {
			if q.id == "" {
				continue
			}
			if _, err := r.statement(ctx, "TERMINATE "+q.id+";"); err != nil {
				return nil, err
			}
		}
	}
	var topics []string
	for {
		srcs, err := r.sources(ctx)
		if err != nil {
			return topics, err
		}
		var errs []error
		progress, left := false, 0
		for _, s := range srcs {
			if strings.EqualFold(s.name, processingLogStream) || s.name == "" {
				continue
			}
			left++
			if _, err := r.statement(ctx, "DROP "+s.kind+" "+quoteIdent(s.name)+";"); err != nil {
				errs = append(errs, err)
				continue
			}
			progress = true
			if s.topic != "" {
				topics = append(topics, s.topic)
			}
		}
		if left == 0 {
			return topics, nil
		}
		if !progress {
			return topics, fmt.Errorf("cannot drop the sources left on the server: %w", errors.Join(errs...))
		}
	}
}

// quoteIdent quotes a source name as ksqlDB's runner does (DROP STREAM `NAME`;).
func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}
