package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrServerError is returned by Entities when the body is a server error object rather than a list
// of entities. The error (and the entities of the statements before the failing one) has already been
// written; callers test it with errors.Is to set an exit status without printing it again.
var ErrServerError = errors.New("render: the server answered an error")

// Entities writes each entity of a /ksql answer (the raw JSON array) as ksqlDB's CLI does: a blank
// line, the statement's text when there are several entities, then the entity:
//
//   - currentStatus and warning_entity: a one-column "Message" table (" Stream created");
//   - streams, tables, queries, kafka_topics, properties, function_names, type_list, variables:
//     ksqlDB's bordered tables (" Stream Name | Kafka Topic | Key Format | Value Format | Windowed");
//   - sourceDescription and source_descriptions (DESCRIBE [EXTENDED], SHOW ... EXTENDED): "Name : X"
//     and the " Field | Type" table, with the topic, statement, queries and statistics when extended;
//   - queryDescription (EXPLAIN): ID, SQL, schema, sources, sinks, execution plan and topology;
//   - describe_function: the "Name : X / Type : SCALAR / Variations" layout;
//   - each entity's warnings as "WARNING: message" lines.
//
// An entity of another type is written as indented JSON. With o.Format JSON the whole body is written
// as indented JSON. A body that is a server error object ({"@type":"statement_error",...}) is
// written with Error and answers ErrServerError. A body that is not JSON answers an error and
// writes nothing.
func Entities(w io.Writer, body []byte, o Options) error {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return errorBody(w, trimmed, o)
	}
	if o.Format == JSON {
		var b bytes.Buffer
		if err := json.Indent(&b, trimmed, "", "  "); err != nil {
			return fmt.Errorf("render: the answer is not JSON: %w", err)
		}
		b.WriteByte('\n')
		_, err := w.Write(b.Bytes())
		return err
	}
	var ents []json.RawMessage
	if err := decode(trimmed, &ents); err != nil {
		return fmt.Errorf("render: the answer is not a list of entities: %w", err)
	}
	p := &printer{o: o}
	if err := p.entities(ents); err != nil {
		return err
	}
	_, err := w.Write(p.bytes())
	flush(w)
	return err
}

// errorBody writes a KsqlErrorMessage: the entities of the statements that ran, then the error.
func errorBody(w io.Writer, body []byte, o Options) error {
	var e struct {
		Message   string            `json:"message"`
		Statement string            `json:"statementText"`
		Entities  []json.RawMessage `json:"entities"`
	}
	if err := decode(body, &e); err != nil {
		return fmt.Errorf("render: the answer is not JSON: %w", err)
	}
	if o.Format == JSON {
		var b bytes.Buffer
		_ = json.Indent(&b, body, "", "  ")
		b.WriteByte('\n')
		w.Write(b.Bytes())
		return ErrServerError
	}
	if len(e.Entities) > 0 {
		p := &printer{o: o}
		if p.entities(e.Entities) == nil {
			w.Write(p.bytes())
		}
	}
	Error(w, e.Message, e.Statement, o)
	return ErrServerError
}

func decode(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// printer accumulates an answer's text; bytes trims the trailing spaces of its lines.
type printer struct {
	o Options
	b bytes.Buffer
}

func (p *printer) printf(format string, args ...any) { fmt.Fprintf(&p.b, format, args...) }
func (p *printer) println(s string)                  { p.b.WriteString(s); p.b.WriteByte('\n') }

// field is ksqlDB's "%-20s : %s" line.
func (p *printer) field(name, value string) { p.printf("%-20s : %s\n", name, value) }

// section is ksqlDB's "%n%-20s%n%-20s" heading: a blank line, the title, its underline.
// The underline is no longer than the terminal is wide.
func (p *printer) section(title, underline string) {
	if p.o.Width > 0 && len(underline) > p.o.Width {
		underline = underline[:p.o.Width]
	}
	p.printf("\n%s\n%s\n", title, underline)
}

func (p *printer) bytes() []byte {
	lines := strings.Split(p.b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return []byte(strings.Join(lines, "\n"))
}

// entities prints each entity; an entity that is not a JSON object is an error and prints nothing.
func (p *printer) entities(raws []json.RawMessage) error {
	ents := make([]map[string]any, len(raws))
	for i, r := range raws {
		if err := decode(r, &ents[i]); err != nil || ents[i] == nil {
			return fmt.Errorf("render: entity %d is not a JSON object: %s", i+1, r)
		}
	}
	for i, e := range ents {
		p.println("")
		if len(ents) > 1 {
			p.println(str(e, "statementText"))
		}
		p.entity(e, raws[i])
		for _, w := range list(e, "warnings") {
			msg := str(obj(w), "message")
			if s, ok := w.(string); ok {
				msg = s
			}
			p.println(colorize(p.o.Color, ansiYellow, "WARNING: "+msg))
		}
	}
	return nil
}

func (p *printer) entity(e map[string]any, raw json.RawMessage) {
	switch str(e, "@type") {
	case "currentStatus":
		msg, _, _ := strings.Cut(str(obj(e["commandStatus"]), "message"), "\n")
		p.table([]string{"Message"}, [][]string{{msg}})
	case "warning_entity":
		p.table([]string{"Message"}, [][]string{{str(e, "message")}})
	case "streams":
		p.sources(e, "streams", "Stream Name")
	case "tables":
		p.sources(e, "tables", "Table Name")
	case "queries":
		p.queries(e)
	case "kafka_topics", "kafka_topics_extended":
		p.topics(e)
	case "properties":
		p.properties(e)
	case "function_names":
		p.functionNames(e)
	case "describe_function":
		p.describeFunction(e)
	case "type_list":
		p.typeList(e)
	case "variables":
		var rows [][]string
		for _, v := range list(e, "variables") {
			rows = append(rows, []string{str(obj(v), "name"), text(obj(v)["value"])})
		}
		sortRows(rows)
		p.table([]string{"Variable Name", "Value"}, rows)
	case "sourceDescription":
		p.sourceDescription(obj(e["sourceDescription"]))
	case "source_descriptions":
		for _, d := range list(e, "sourceDescriptions") {
			p.sourceDescription(obj(d))
			p.println("")
		}
	case "queryDescription":
		p.queryDescription(obj(e["queryDescription"]))
	case "query_descriptions":
		for _, d := range list(e, "queryDescriptions") {
			p.queryDescription(obj(d))
			p.println("")
		}
	default:
		var b bytes.Buffer
		_ = json.Indent(&b, bytes.TrimSpace(raw), "", "  ")
		p.println(b.String())
	}
}

// table is ksqlDB's Table: " A | B " rows between lines of dashes as long as a row, no longer than
// the terminal, fitted to o.Width as the package doc says.
func (p *printer) table(headers []string, rows [][]string) {
	p.tableWith(headers, rows, nil)
}

func (p *printer) tableWith(headers []string, rows [][]string, right []bool) {
	natural := make([]int, len(headers))
	for i, h := range headers {
		natural[i] = width(h)
	}
	for _, r := range rows {
		for i := range headers {
			natural[i] = max(natural[i], naturalWidth(sanitize(r[i])))
		}
	}
	l := fit(ksqlStyle, natural, right, p.o.Width)
	rule := strings.Repeat("-", l.total())
	for _, line := range l.header(headers, false) {
		p.println(line)
	}
	p.println(rule)
	for _, r := range rows {
		for _, line := range l.row(r, l.right) {
			p.println(line)
		}
	}
	p.println(rule)
}

func (p *printer) sources(e map[string]any, key, title string) {
	var rows [][]string
	for _, s := range list(e, key) {
		m := obj(s)
		rows = append(rows, []string{str(m, "name"), str(m, "topic"), str(m, "keyFormat"), str(m, "valueFormat"), text(m["isWindowed"])})
	}
	sortRows(rows)
	p.table([]string{title, "Kafka Topic", "Key Format", "Value Format", "Windowed"}, rows)
}

func (p *printer) queries(e map[string]any) {
	var rows [][]string
	for _, q := range list(e, "queries") {
		m := obj(q)
		rows = append(rows, []string{str(m, "id"), str(m, "queryType"), queryStatus(m),
			joined(list(m, "sinks")), joined(list(m, "sinkKafkaTopics")), singleLine(str(m, "queryString"))})
	}
	p.table([]string{"Query ID", "Query Type", "Status", "Sink Name", "Sink Kafka Topic", "Query String"}, rows)
	p.println("For detailed information on a Query run: EXPLAIN <Query ID>;")
}

// queryStatus is ksqlDB's status count ("RUNNING:1"), or the query's state without one.
func queryStatus(m map[string]any) string {
	counts := obj(m["statusCount"])
	if len(counts) == 0 {
		if s := str(m, "state"); s != "" {
			return s
		}
		return "N/A"
	}
	keys := sortedKeys(counts)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + text(counts[k])
	}
	return strings.Join(parts, " ")
}

func (p *printer) topics(e map[string]any) {
	var rows [][]string
	extended := str(e, "@type") == "kafka_topics_extended"
	for _, t := range list(e, "topics") {
		m := obj(t)
		replicas := list(m, "replicaInfo")
		row := []string{str(m, "name"), strconv.Itoa(len(replicas)), replicaInfo(replicas)}
		if extended {
			row = append(row, text(m["consumerCount"]), text(m["consumerGroupCount"]))
		}
		rows = append(rows, row)
	}
	headers := []string{"Kafka Topic", "Partitions", "Partition Replicas"}
	if extended {
		headers = append(headers, "Consumers", "ConsumerGroups")
	}
	p.table(headers, rows)
}

// replicaInfo is one number when every partition has as many replicas, else the list.
func replicaInfo(rs []any) string {
	if len(rs) == 0 {
		return "0"
	}
	same := true
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = text(r)
		same = same && parts[i] == parts[0]
	}
	if same {
		return parts[0]
	}
	return strings.Join(parts, ", ")
}

func (p *printer) properties(e map[string]any) {
	overwritten := set(list(e, "overwrittenProperties"))
	defaults := set(list(e, "defaultProperties"))
	var rows [][]string
	for _, pr := range list(e, "properties") {
		m := obj(pr)
		name := str(m, "name")
		level := "SERVER"
		switch {
		case overwritten[name]:
			level = "SESSION"
		case defaults[name]:
			level = ""
		}
		value := "NULL"
		if v, ok := m["value"]; ok && v != nil {
			value = text(v)
		}
		rows = append(rows, []string{name, str(m, "scope"), level, value})
	}
	sortRows(rows)
	p.table([]string{"Property", "Scope", "Default override", "Effective Value"}, rows)
}

func (p *printer) functionNames(e map[string]any) {
	fns := list(e, "functions")
	byCategory := false
	for _, f := range fns {
		byCategory = byCategory || str(obj(f), "category") != ""
	}
	var rows [][]string
	if !byCategory {
		// A server without categories: ksqlDB's CLI then lists each function's type.
		for _, f := range fns {
			rows = append(rows, []string{str(obj(f), "name"), strings.ToUpper(str(obj(f), "type"))})
		}
		sortRows(rows)
		p.table([]string{"Function Name", "Type"}, rows)
	} else {
		for _, f := range fns {
			rows = append(rows, []string{str(obj(f), "category"), str(obj(f), "name")})
		}
		sortRows(rows)
		var out [][]string
		for i, r := range rows {
			if i > 0 && r[0] != rows[i-1][0] {
				out = append(out, []string{"", ""})
			}
			out = append(out, []string{r[1], r[0]})
		}
		p.table([]string{"Function Name", "Category"}, out)
	}
	p.println("For detailed information about a function, run: DESCRIBE FUNCTION <Function Name>;")
}

func (p *printer) describeFunction(e map[string]any) {
	name := strings.ToUpper(str(e, "name"))
	const base, sub = "%-12s: %s\n", "\t%-12s: %s\n"
	p.printf(base, "Name", name)
	if a := strings.TrimSpace(str(e, "author")); a != "" {
		p.printf(base, "Author", a)
	}
	if v := strings.TrimSpace(str(e, "version")); v != "" {
		p.printf(base, "Version", v)
	}
	p.description(base, "Overview", str(e, "description"))
	p.printf(base, "Type", str(e, "type"))
	p.printf(base, "Jar", str(e, "path"))
	p.printf(base, "Variations", "")
	for _, f := range list(e, "functions") {
		m := obj(f)
		var args []string
		for _, a := range list(m, "arguments") {
			am := obj(a)
			t := str(am, "type")
			if b, _ := am["isVariadic"].(bool); b {
				t += "[]"
			}
			if n := str(am, "name"); n != "" {
				t = n + " " + t
			}
			args = append(args, t)
		}
		p.printf("\n\t%-12s: %s(%s)\n", "Variation", name, strings.Join(args, ", "))
		p.printf(sub, "Returns", str(m, "returnType"))
		p.description(sub, "Description", str(m, "description"))
		for _, a := range list(m, "arguments") {
			p.description(sub, str(obj(a), "name"), str(obj(a), "description"))
		}
	}
}

// description is ksqlDB's printDescription: a label and a text wrapped at the terminal's width (at
// least 80), its continuation lines indented under the text.
func (p *printer) description(format, label, desc string) {
	desc = strings.TrimSpace(desc)
	if desc == "" {
		return
	}
	labelLen := len(strings.ReplaceAll(fmt.Sprintf(strings.TrimSuffix(format, "\n"), label, ""), "\t", "  "))
	lineWidth := max(p.o.Width, 80) - labelLen
	var b strings.Builder
	n := 0
	for _, para := range strings.Split(desc, "\n") {
		if b.Len() > 0 {
			b.WriteString("\n")
			n = 0
		}
		for i, word := range strings.Split(para, " ") {
			if i > 0 {
				word = " " + word
			}
			if n > 0 && n+width(word) > lineWidth {
				b.WriteString("\n")
				n = 0
				word = strings.TrimPrefix(word, " ")
			}
			b.WriteString(word)
			n += width(word)
		}
	}
	p.printf(format, label, strings.ReplaceAll(b.String(), "\n", "\n"+strings.Repeat(" ", labelLen)))
}

func (p *printer) typeList(e map[string]any) {
	types := obj(e["types"])
	var rows [][]string
	for _, k := range sortedKeys(types) {
		t := types[k]
		if m, ok := t.(map[string]any); ok {
			rows = append(rows, []string{k, typeString(m)})
		} else {
			rows = append(rows, []string{k, text(t)})
		}
	}
	p.table([]string{"Type Name", "Schema"}, rows)
}

// sourceDescription is ksqlDB's printSourceDescription.
func (p *printer) sourceDescription(d map[string]any) {
	isTable := strings.EqualFold(str(d, "type"), "TABLE")
	p.field("Name", str(d, "name"))
	window := str(d, "windowType")
	if b, _ := d["extended"].(bool); !b {
		p.schema(list(d, "fields"), window, isTable)
		p.println("For runtime statistics and query details run: DESCRIBE <Stream,Table> EXTENDED;")
		return
	}
	p.field("Type", str(d, "type"))
	ts := str(d, "timestamp")
	if ts == "" {
		ts = "Not set - using <ROWTIME>"
	}
	p.field("Timestamp field", ts)
	p.field("Key format", str(d, "keyFormat"))
	p.field("Value format", str(d, "valueFormat"))
	if topic := str(d, "topic"); topic != "" {
		info := topic
		if parts := text(d["partitions"]); parts != "0" && parts != "null" {
			info += fmt.Sprintf(" (partitions: %s, replication: %s)", parts, text(d["replication"]))
		}
		p.field("Kafka topic", info)
	}
	p.field("Statement", str(d, "statement"))
	p.println("")
	p.schema(list(d, "fields"), window, isTable)
	if cs := list(d, "sourceConstraints"); len(cs) > 0 {
		p.section("Sources that have a DROP constraint on this source", "--------------------------------------------------")
		for _, c := range cs {
			p.println(text(c))
		}
	}
	p.runningQueries(list(d, "readQueries"), str(d, "type"), "read")
	p.runningQueries(list(d, "writeQueries"), str(d, "type"), "write")
	p.section("Local runtime statistics", "------------------------")
	p.println(str(d, "statistics"))
	p.println(str(d, "errorStats"))
	p.printf("(Statistics of the local KSQL server interaction with the Kafka topic %s)\n", str(d, "topic"))
}

// schema is the " Field | Type" table of a source or a query.
func (p *printer) schema(fields []any, window string, isTable bool) {
	if len(fields) == 0 {
		return
	}
	var rows [][]string
	for _, f := range fields {
		m := obj(f)
		rows = append(rows, []string{str(m, "name"), fieldType(m, window, isTable)})
	}
	p.table([]string{"Field", "Type"}, rows)
}

// fieldType is ksqlDB's formatFieldType: the type, and "(key)", "(primary key)" or "(headers)".
func fieldType(f map[string]any, window string, isTable bool) string {
	t := typeString(obj(f["schema"]))
	switch str(f, "type") {
	case "HEADER":
		if k := str(f, "headerKey"); k != "" {
			return fmt.Sprintf("%-16s (header('%s'))", t, k)
		}
		return fmt.Sprintf("%-16s (headers)", t)
	case "KEY":
		kind := "(key)"
		if isTable {
			kind = "(primary key)"
		}
		if window != "" {
			kind += " (Window type: " + window + ")"
		}
		return fmt.Sprintf("%-16s %s", t, kind)
	}
	return t
}

// typeString is ksqlDB's SchemaInfo.toTypeString: "STRUCT<A INTEGER, B STRING>", "ARRAY<BIGINT>",
// "MAP<STRING, DOUBLE>", "DECIMAL(10, 2)".
func typeString(s map[string]any) string {
	t := str(s, "type")
	switch t {
	case "ARRAY":
		return "ARRAY<" + typeString(obj(s["memberSchema"])) + ">"
	case "MAP":
		key := "STRING"
		if k := obj(s["keySchema"]); k != nil {
			key = typeString(k)
		}
		return "MAP<" + key + ", " + typeString(obj(s["memberSchema"])) + ">"
	case "STRUCT":
		var fs []string
		for _, f := range list(s, "fields") {
			fs = append(fs, str(obj(f), "name")+" "+typeString(obj(obj(f)["schema"])))
		}
		return "STRUCT<" + strings.Join(fs, ", ") + ">"
	case "DECIMAL":
		if ps := obj(s["parameters"]); ps != nil {
			return fmt.Sprintf("DECIMAL(%s, %s)", text(ps["precision"]), text(ps["scale"]))
		}
	}
	return t
}

// runningQueries is ksqlDB's printQueries: the queries that read or write a source.
func (p *printer) runningQueries(qs []any, kind, op string) {
	if len(qs) == 0 {
		return
	}
	p.section("Queries that "+op+" from this "+kind, "-----------------------------------")
	for _, q := range qs {
		m := obj(q)
		state := str(m, "state")
		if state == "" {
			state = "N/A"
		}
		p.printf("%s (%s) : %s\n", str(m, "id"), state, singleLine(str(m, "queryString")))
	}
	p.println("\nFor query topology and execution plan please run: EXPLAIN <QueryId>")
}

// queryDescription is ksqlDB's printQueryDescription (DESCRIBE of a query, EXPLAIN).
func (p *printer) queryDescription(q map[string]any) {
	p.field("ID", str(q, "id"))
	p.field("Query Type", str(q, "queryType"))
	if s := str(q, "statementText"); s != "" {
		p.field("SQL", s)
	}
	if hs := obj(q["ksqlHostQueryStatus"]); len(hs) > 0 {
		var parts []string
		for _, k := range sortedKeys(hs) {
			parts = append(parts, k+"="+text(hs[k]))
		}
		p.field("Host Query Status", "{"+strings.Join(parts, ", ")+"}")
	}
	p.println("")
	p.schema(list(q, "fields"), str(q, "windowType"), false)
	if srcs := list(q, "sources"); len(srcs) > 0 {
		p.section("Sources that this query reads from: ", "-----------------------------------")
		for _, s := range srcs {
			p.println(text(s))
		}
		p.println("\nFor source description please run: DESCRIBE [EXTENDED] <SourceId>")
	}
	if sinks := list(q, "sinks"); len(sinks) > 0 {
		p.section("Sinks that this query writes to: ", "-----------------------------------")
		for _, s := range sinks {
			p.println(text(s))
		}
		p.println("\nFor sink description please run: DESCRIBE [EXTENDED] <SinkId>")
	}
	if plan := strings.TrimRight(str(q, "executionPlan"), "\n"); plan != "" {
		p.section("Execution plan", "--------------")
		p.println(plan)
	}
	if topo := strings.TrimRight(str(q, "topology"), "\n"); topo != "" {
		p.section("Processing topology", "-------------------")
		p.println(topo)
	}
	if props := obj(q["overriddenProperties"]); len(props) > 0 {
		p.section("Overridden Properties", "---------------------")
		var rows [][]string
		for _, k := range sortedKeys(props) {
			rows = append(rows, []string{k, text(props[k])})
		}
		p.table([]string{"Property", "Value"}, rows)
	}
	if errs := list(q, "queryErrors"); len(errs) > 0 {
		p.println("")
		for _, e := range errs {
			m := obj(e)
			ts, _ := strconv.ParseInt(text(m["timestamp"]), 10, 64)
			p.field("Error Date", time.UnixMilli(ts).Format("2006-01-02 03:04:05,000 (MST)"))
			p.field("Error Details", str(m, "errorMessage"))
			p.field("Error Type", str(m, "type"))
		}
	}
}

// Accessors of decoded JSON: a missing or mistyped member reads as its zero value, so an answer from
// a server of another version still renders what it can.

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(m map[string]any, key string) []any {
	l, _ := m[key].([]any)
	return l
}

func str(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case nil:
		return ""
	default:
		return text(v)
	}
}

// text is a JSON value as ksqlDB's CLI prints it in a cell: strings bare, the rest as JSON.
func text(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return cellText(v)
}

func joined(l []any) string {
	parts := make([]string, len(l))
	for i, v := range l {
		parts[i] = text(v)
	}
	return strings.Join(parts, ",")
}

// singleLine is ksqlDB's getQuerySingleLine: the statement with its line breaks removed.
func singleLine(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	return strings.Join(lines, " ")
}

func set(l []any) map[string]bool {
	m := map[string]bool{}
	for _, v := range l {
		m[text(v)] = true
	}
	return m
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortRows sorts rows by their first cells, as ksqlDB's table builders sort by name.
func sortRows(rows [][]string) {
	sort.SliceStable(rows, func(i, j int) bool {
		for k := range rows[i] {
			if rows[i][k] != rows[j][k] {
				return rows[i][k] < rows[j][k]
			}
		}
		return false
	})
}
