// Package analyzer turns parsed statements into analyzed statements: names resolved against a metastore of
// streams, tables and custom types, WITH properties validated, schemas computed, and every expression
// type-checked and compiled (package expr). It is the last stage of the SQL front end: a query's analysis
// is an ir.Query, with the sources it reads and writes as ir.Source, which the planner lowers to a logical
// plan and then to a runtime topology without ever seeing the AST.
//
// The analyzer never mutates its metastore: Apply does, after the engine has decided to execute a statement.
package analyzer

import (
	"sort"
	"sync"

	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// Metastore holds the catalog: sources and custom types. It is safe for concurrent use.
type Metastore struct {
	mu      sync.RWMutex
	sources map[string]*ir.Source
	types   map[string]*types.Type
}

// NewMetastore returns an empty metastore.
func NewMetastore() *Metastore {
	return &Metastore{sources: map[string]*ir.Source{}, types: map[string]*types.Type{}}
}

// Source returns the source named name.
func (m *Metastore) Source(name string) (*ir.Source, bool) {
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
func (m *Metastore) PutSource(s *ir.Source) {
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
func (m *Metastore) Sources() []*ir.Source {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*ir.Source, 0, len(m.sources))
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
