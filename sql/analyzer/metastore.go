// Package analyzer turns parsed statements into analyzed statements: names resolved against a metastore of
// streams, tables and custom types, WITH properties validated, schemas computed, and every expression
// type-checked and compiled (package expr). It is the last stage of the SQL front end; the planner lowers
// an analyzed query to a logical plan and then to a runtime topology, and never looks at the AST again.
//
// The analyzer never mutates its metastore: Apply does, after the engine has decided to execute a statement.
package analyzer

import (
	"sort"
	"sync"

	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/types"
)

// Source is a stream or table known to the metastore.
type Source struct {
	Name   string
	Kind   parser.SourceKind
	Schema *types.Schema
	Topic  string
	// KeyFormat and ValueFormat are upper-case format names (KAFKA, JSON, DELIMITED, NONE, AVRO, ...).
	KeyFormat, ValueFormat string
	// Props are the WITH properties as given (upper-case names), for formats' options.
	Props map[string]string
	// Window is the window type of a windowed source ("" when not windowed): TUMBLING, HOPPING, SESSION.
	Window string
	// ReadOnly marks CREATE SOURCE STREAM|TABLE sources.
	ReadOnly bool
	// TimestampColumn is the TIMESTAMP property's column, if any.
	TimestampColumn string
	// SQL is the statement that created the source.
	SQL string
}

// Metastore holds the catalog: sources and custom types. It is safe for concurrent use.
type Metastore struct {
	mu      sync.RWMutex
	sources map[string]*Source
	types   map[string]*types.Type
}

// NewMetastore returns an empty metastore.
func NewMetastore() *Metastore {
	return &Metastore{sources: map[string]*Source{}, types: map[string]*types.Type{}}
}

// Source returns the source named name.
func (m *Metastore) Source(name string) (*Source, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	s, ok := m.sources[name]
	return s, ok
}

// Type returns the custom type named name.
func (m *Metastore) Type(name string) (*types.Type, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	t, ok := m.types[name]
	return t, ok
}

// PutSource adds or replaces a source.
func (m *Metastore) PutSource(s *Source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sources[s.Name] = s
}

// DeleteSource removes a source.
func (m *Metastore) DeleteSource(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sources, name)
}

// PutType registers a custom type.
func (m *Metastore) PutType(name string, t *types.Type) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.types[name] = t
}

// DeleteType removes a custom type.
func (m *Metastore) DeleteType(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.types, name)
}

// Sources returns all sources sorted by name.
func (m *Metastore) Sources() []*Source {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Source, 0, len(m.sources))
	for _, s := range m.sources {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TypeMap returns the custom types by name, rendered as SQL types.
func (m *Metastore) TypeMap() map[string]string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]string, len(m.types))
	for n, t := range m.types {
		out[n] = t.String()
	}
	return out
}
