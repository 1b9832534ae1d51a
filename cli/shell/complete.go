package shell

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"sync"
	"time"

	prompt "github.com/c-bata/go-prompt"
)

// catalog is what completion offers from the server: sources and their columns, topics, queries and
// functions with their signatures. It is fetched in the background at start and after statements that
// change it, so a slow server never holds up typing.
type catalog struct {
	client *Client

	mu        sync.Mutex
	sources   map[string][]string // source name -> column names
	topics    []string
	queries   []string
	functions map[string]string // name -> signatures, as a description
	loading   bool
	again     bool
}

func newCatalog(c *Client) *catalog {
	return &catalog{client: c, sources: map[string][]string{}, functions: map[string]string{}}
}

// refresh fetches the catalog again in the background; a refresh asked for while one runs runs once
// more after it.
func (c *catalog) refresh() {
	if c.client == nil {
		return
	}
	c.mu.Lock()
	if c.loading {
		c.again = true
		c.mu.Unlock()
		return
	}
	c.loading = true
	c.mu.Unlock()
	go func() {
		for {
			c.load()
			c.mu.Lock()
			if !c.again {
				c.loading = false
				c.mu.Unlock()
				return
			}
			c.again = false
			c.mu.Unlock()
		}
	}()
}

func (c *catalog) load() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body, err := c.client.Statement(ctx, "SHOW STREAMS EXTENDED; SHOW TABLES EXTENDED; SHOW TOPICS; SHOW QUERIES; SHOW FUNCTIONS;", Request{})
	if err != nil {
		return
	}
	var ents []struct {
		Type    string `json:"@type"`
		Sources []struct {
			Name   string `json:"name"`
			Fields []struct {
				Name string `json:"name"`
			} `json:"fields"`
		} `json:"sourceDescriptions"`
		Topics []struct {
			Name string `json:"name"`
		} `json:"topics"`
		Queries []struct {
			ID string `json:"id"`
		} `json:"queries"`
		Functions []struct {
			Name string `json:"name"`
		} `json:"functions"`
	}
	if json.Unmarshal(body, &ents) != nil {
		return
	}
	sources := map[string][]string{}
	var topics, queries, functions []string
	for _, e := range ents {
		for _, s := range e.Sources {
			var cols []string
			for _, f := range s.Fields {
				cols = append(cols, f.Name)
			}
			sources[s.Name] = cols
		}
		for _, t := range e.Topics {
			topics = append(topics, t.Name)
		}
		for _, q := range e.Queries {
			queries = append(queries, q.ID)
		}
		for _, f := range e.Functions {
			functions = append(functions, f.Name)
		}
	}
	c.mu.Lock()
	c.sources, c.topics, c.queries = sources, topics, queries
	known := len(c.functions) > 0
	if !known {
		for _, f := range functions {
			c.functions[f] = ""
		}
	}
	c.mu.Unlock()
	if !known && len(functions) > 0 {
		c.loadSignatures(ctx, functions)
	}
}

// loadSignatures asks DESCRIBE FUNCTION of every function once, in one request, for the
// descriptions completion shows.
func (c *catalog) loadSignatures(ctx context.Context, names []string) {
	var b strings.Builder
	for _, n := range names {
		b.WriteString("DESCRIBE FUNCTION " + n + ";\n")
	}
	body, err := c.client.Statement(ctx, b.String(), Request{})
	if err != nil {
		return
	}
	var ents []struct {
		Name      string `json:"name"`
		Functions []struct {
			Arguments []struct {
				Name     string `json:"name"`
				Type     string `json:"type"`
				Variadic bool   `json:"isVariadic"`
			} `json:"arguments"`
			ReturnType string `json:"returnType"`
		} `json:"functions"`
	}
	if json.Unmarshal(body, &ents) != nil {
		return
	}
	sigs := map[string]string{}
	for _, e := range ents {
		var parts []string
		for _, f := range e.Functions {
			var args []string
			for _, a := range f.Arguments {
				t := a.Type
				if a.Variadic {
					t += "..."
				}
				if a.Name != "" {
					t += " " + a.Name
				}
				args = append(args, t)
			}
			parts = append(parts, "("+strings.Join(args, ", ")+") -> "+f.ReturnType)
		}
		sigs[e.Name] = strings.Join(parts, " | ")
	}
	c.mu.Lock()
	for n, s := range sigs {
		c.functions[n] = s
	}
	c.mu.Unlock()
}

// Keywords that start a statement, and keywords that may follow within one.
var (
	startKeywords = []string{"CREATE", "SELECT", "INSERT INTO", "DROP", "SHOW", "LIST", "DESCRIBE", "EXPLAIN",
		"TERMINATE", "PRINT", "SET", "UNSET", "DEFINE", "UNDEFINE", "RUN SCRIPT", "OUTPUT", "EXIT"}
	followKeywords = map[string][]string{
		"CREATE":    {"STREAM", "TABLE", "OR REPLACE", "SOURCE", "TYPE"},
		"REPLACE":   {"STREAM", "TABLE"},
		"SOURCE":    {"STREAM", "TABLE"},
		"DROP":      {"STREAM", "TABLE", "TYPE"},
		"SHOW":      {"STREAMS", "TABLES", "QUERIES", "TOPICS", "PROPERTIES", "FUNCTIONS", "TYPES", "VARIABLES"},
		"LIST":      {"STREAMS", "TABLES", "QUERIES", "TOPICS", "PROPERTIES", "FUNCTIONS", "TYPES", "VARIABLES"},
		"DESCRIBE":  {"FUNCTION", "STREAMS", "TABLES"},
		"EMIT":      {"CHANGES", "FINAL"},
		"OUTPUT":    {"JSON", "TABULAR"},
		"GROUP":     {"BY"},
		"PARTITION": {"BY"},
		"ORDER":     {"BY"},
		"PRINT":     {},
	}
	clauseKeywords = []string{"FROM", "WHERE", "GROUP BY", "HAVING", "EMIT CHANGES", "LIMIT", "AS", "AND", "OR",
		"NOT", "NULL", "IS", "IN", "BETWEEN", "LIKE", "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "JOIN",
		"LEFT JOIN", "FULL OUTER JOIN", "INNER JOIN", "ON", "WITHIN", "WINDOW", "TUMBLING", "HOPPING", "SESSION",
		"SIZE", "ADVANCE BY", "PARTITION BY", "WITH", "KEY", "PRIMARY KEY", "VALUES", "SELECT", "STRUCT",
		"ARRAY", "MAP", "INT", "INTEGER", "BIGINT", "DOUBLE", "BOOLEAN", "STRING", "VARCHAR", "DECIMAL",
		"TIMESTAMP", "DATE", "TIME", "BYTES", "EXTENDED", "IF EXISTS", "IF NOT EXISTS", "DELETE TOPIC",
		"KAFKA_TOPIC", "VALUE_FORMAT", "KEY_FORMAT", "FORMAT", "PARTITIONS", "TIMESTAMP_FORMAT", "FROM BEGINNING",
		"INTERVAL", "SECONDS", "MINUTES", "HOURS", "DAYS", "MILLISECONDS", "GRACE PERIOD", "RETENTION"}
)

// complete returns the suggestions for the word before the cursor, given the statement typed so far
// (earlier lines of it in before, the current line up to the cursor in line).
func (c *catalog) complete(before, line string) []prompt.Suggest {
	text := before + line
	word := lastWord(line)
	prev := strings.Fields(strings.ToUpper(stripComments(text[:len(text)-len(word)])))
	// The statement being typed starts after the last ';'.
	for i := len(prev) - 1; i >= 0; i-- {
		if strings.HasSuffix(prev[i], ";") {
			prev = prev[i+1:]
			break
		}
	}
	last := ""
	if len(prev) > 0 {
		last = prev[len(prev)-1]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []prompt.Suggest
	add := func(text, desc string) {
		if hasPrefixFold(text, word) {
			out = append(out, prompt.Suggest{Text: matchCase(text, word), Description: desc})
		}
	}
	addKeywords := func(kws []string) {
		for _, k := range kws {
			add(k, "")
		}
	}
	switch {
	case len(prev) == 0:
		addKeywords(startKeywords)
		return out
	case followKeywords[last] != nil && last != "PRINT":
		addKeywords(followKeywords[last])
		if last != "DESCRIBE" {
			return out
		}
	}
	switch last {
	case "FROM", "JOIN", "INTO", "DESCRIBE", "STREAM", "TABLE", "EXTENDED":
		if last == "STREAM" || last == "TABLE" {
			if len(prev) < 2 || prev[len(prev)-2] != "DROP" && prev[len(prev)-2] != "EXISTS" {
				return out // a new name
			}
		}
		for _, n := range sortedKeys(c.sources) {
			add(n, "source")
		}
		return out
	case "TERMINATE", "EXPLAIN":
		for _, q := range c.queries {
			add(q, "query")
		}
		if last == "TERMINATE" {
			add("ALL", "")
		}
		return out
	case "PRINT":
		for _, t := range c.topics {
			add(t, "topic")
		}
		return out
	case "FUNCTION":
		for _, f := range sortedKeys(c.functions) {
			add(f, c.functions[f])
		}
		return out
	}
	if word == "" {
		return nil // mid-statement, nothing typed: no list of everything
	}
	// Columns of the sources the statement names (every source's when it names none yet) come first:
	// when some fit, they are the completions. Otherwise sources, functions and keywords.
	named := map[string]bool{}
	for _, w := range prev {
		if _, ok := c.sources[w]; ok {
			named[w] = true
		}
	}
	seen := map[string]bool{}
	for _, src := range sortedKeys(c.sources) {
		if len(named) > 0 && !named[src] {
			continue
		}
		for _, col := range c.sources[src] {
			if !seen[col] {
				seen[col] = true
				add(col, "column of "+src)
			}
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, src := range sortedKeys(c.sources) {
		add(src, "source")
	}
	for _, f := range sortedKeys(c.functions) {
		add(f, c.functions[f])
	}
	addKeywords(clauseKeywords)
	return out
}

// lastWord is the word the cursor ends: letters, digits and '_' back from the end.
func lastWord(s string) string {
	i := len(s)
	for i > 0 {
		ch := s[i-1]
		if ch == '_' || ch == '$' || ch >= '0' && ch <= '9' || ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' {
			i--
			continue
		}
		break
	}
	return s[i:]
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// matchCase writes a keyword or an upper-case name (unquoted identifiers are case-insensitive) in
// lower case when the user is typing in lower case; names with lower-case letters keep their case.
func matchCase(s, typed string) string {
	if s == strings.ToUpper(s) && typed == strings.ToLower(typed) && strings.ToUpper(typed) != typed {
		return strings.ToLower(s)
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// commonPrefix is the longest prefix every suggestion shares, ignoring case.
func commonPrefix(ss []prompt.Suggest) string {
	if len(ss) == 0 {
		return ""
	}
	p := ss[0].Text
	for _, s := range ss[1:] {
		n := 0
		for n < len(p) && n < len(s.Text) && strings.EqualFold(p[n:n+1], s.Text[n:n+1]) {
			n++
		}
		p = p[:n]
	}
	return p
}
