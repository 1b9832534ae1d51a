package qtt

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
)

// Topic is a topic a test declares (its "topics" entries, in QTT and REST test files alike).
type Topic struct {
	Name string
	// Partitions is 1 when not given.
	Partitions int32
	// KeyFormat and ValueFormat are upper case, "" when not given.
	KeyFormat, ValueFormat string
}

// ParseTopics decodes a test's "topics" entries. Their schemas are not read: only the formats
// Seiche implements, which need none, are run.
func ParseTopics(raw []json.RawMessage) ([]Topic, error) {
	var out []Topic
	for _, r := range raw {
		var tj struct {
			Name        string      `json:"name"`
			Partitions  json.Number `json:"partitions"`
			KeyFormat   string      `json:"keyFormat"`
			ValueFormat string      `json:"valueFormat"`
		}
		if err := json.Unmarshal(r, &tj); err != nil {
			return nil, fmt.Errorf("topic: %w", err)
		}
		tp := Topic{Name: tj.Name, Partitions: 1, KeyFormat: strings.ToUpper(tj.KeyFormat), ValueFormat: strings.ToUpper(tj.ValueFormat)}
		if tj.Partitions != "" {
			n, err := tj.Partitions.Int64()
			if err != nil || n < 1 {
				return nil, fmt.Errorf("topic %s: bad partitions %q", tj.Name, tj.Partitions)
			}
			tp.Partitions = int32(n)
		}
		out = append(out, tp)
	}
	return out, nil
}

// TopicsToCreate returns the topics ksqlDB's runner creates before a case runs
// (TestCaseBuilderUtil.getAllTopics), with their partition counts: those the test declares, those
// of its CREATE STREAM|TABLE statements with columns (with their PARTITIONS, default 1), and those
// its records name (one partition). Each statement is parsed on its own, so that one that does not
// parse hides no other; the statements' errors are for the engine to report.
func TopicsToCreate(declared []Topic, statements []string, records []Record) map[string]int32 {
	out := map[string]int32{}
	for _, t := range declared {
		out[t.Name] = t.Partitions
	}
	var ps parser.Parser
	for _, stmt := range statements {
		parsed, err := ps.ParseScript(stmt)
		if err != nil {
			continue
		}
		for _, p := range parsed {
			cs, ok := p.Statement.(*parser.CreateSource)
			if !ok || len(cs.Elements) == 0 {
				continue
			}
			l, ok := cs.Props.Get("KAFKA_TOPIC")
			if !ok {
				continue
			}
			topic := l.Value
			if _, known := out[topic]; known {
				continue
			}
			out[topic] = 1
			if l, ok := cs.Props.Get("PARTITIONS"); ok {
				if n, err := strconv.Atoi(strings.TrimSpace(l.Value)); err == nil && n > 0 {
					out[topic] = int32(n)
				}
			}
		}
	}
	for _, r := range records {
		if _, ok := out[r.Topic]; !ok && r.Topic != "" {
			out[r.Topic] = 1
		}
	}
	return out
}

// SourceOver returns the source of meta over topic, preferring a query's sink, or nil: the source
// whose formats and columns a test's records on topic are written and read in.
func SourceOver(meta *analyzer.Metastore, topic string) *ir.Source {
	var found *ir.Source
	for _, s := range meta.Sources() {
		if s.Topic == topic && (found == nil || !isQuerySink(found)) {
			found = s
		}
	}
	return found
}

func isQuerySink(s *ir.Source) bool {
	return strings.Contains(strings.ToUpper(s.SQL), " AS SELECT")
}
