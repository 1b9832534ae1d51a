package runtime

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"

	"github.com/seichedb/seiche/serde"
)

// Topology is a graph of source, processor and sink nodes with the state stores connected to
// them: what an application runs. It is built once, by the dsl or directly with AddSource,
// AddProcessor, AddSink and AddStateStore, and is not safe for concurrent building. A Topology is
// only a description; New and NewTestDriver instantiate it per task.
//
// Building never panics: the first mistake (a duplicate name, an unknown parent, a type mismatch
// between a node and its parent) is kept and returned by Err, and by New and NewTestDriver.
type Topology struct {
	nodes    []*nodeDef
	byName   map[string]*nodeDef
	stores   []*storeDef
	storeBy  map[string]*storeDef
	internal map[string]*internalTopic // undecorated repartition topic name → spec
	copart   [][]string                // groups of source node names
	globals  []*globalDef              // global stores (global.go), in no sub-topology
	err      error
}

// NewTopology returns an empty topology.
func NewTopology() *Topology {
	return &Topology{
		byName:   map[string]*nodeDef{},
		storeBy:  map[string]*storeDef{},
		internal: map[string]*internalTopic{},
	}
}

// Err returns the first error made while building the topology, or nil.
func (t *Topology) Err() error { return t.err }

func (t *Topology) fail(format string, args ...any) {
	if t.err == nil {
		t.err = fmt.Errorf("runtime: topology: "+format, args...)
	}
}

type nodeKind int

const (
	sourceKind nodeKind = iota
	processorKind
	sinkKind
)

// nodeDef is one node of the topology as built; newNode makes its per-task instance.
type nodeDef struct {
	name     string
	kind     nodeKind
	parents  []string
	children []string
	stores   []string

	topics      []string       // source: subscribed topics, undecorated
	pattern     *regexp.Regexp // anchored: matches whole topic names
	patternText string         // as given, for Describe
	sinkTopic   string         // sink: static topic, undecorated; "" when dynamic
	sinkDynamic bool

	in, out reflect.Type // record types taken and forwarded; nil where none
	newNode func() node
}

type storeDef struct {
	builder StoreBuilder
	users   []string
}

type internalTopic struct {
	name       string
	partitions int32 // 0: as many as the upstream sub-topology's input
}

// SourceSpec describes a source node: what it reads and how it makes typed records.
type SourceSpec[K, V any] struct {
	// Topics are the topics read; or Pattern, a regular expression that must match a whole topic
	// name (as in Kafka Streams), for a source that follows topics as they are created.
	Topics  []string
	Pattern *regexp.Regexp
	Keys    serde.Deserializer[K]
	Values  serde.Deserializer[V]
	// Timestamp picks each record's event time; nil keeps the record's own timestamp (Kafka
	// Streams' FailOnInvalidTimestamp without the failure: see Timestamp handling in the package
	// doc). WallClockTime overrides it with the task's wall clock.
	Timestamp     TimestampExtractor[K, V]
	WallClockTime bool
}

// TimestampExtractor returns the event time (milliseconds) of a record whose Timestamp holds the
// record's own timestamp. partitionTime is the largest timestamp extracted so far from the record's
// partition, -1 if none. An error, a panic or a negative result goes to the deserialization error
// handler and the record is not processed.
type TimestampExtractor[K, V any] func(rec Record[K, V], partitionTime int64) (int64, error)

// SinkSpec describes a sink node: where its records go and how they become bytes.
type SinkSpec[K, V any] struct {
	// Topic is the topic written; or TopicFunc picks one per record (Kafka Streams'
	// TopicNameExtractor). Topics a TopicFunc returns must exist.
	Topic     string
	TopicFunc func(Record[K, V]) (string, error)
	Keys      serde.Serializer[K]
	Values    serde.Serializer[V]
}

func recordType[K, V any]() reflect.Type { return reflect.TypeFor[Record[K, V]]() }

func (t *Topology) addNode(n *nodeDef) bool {
	if n.name == "" {
		t.fail("a node needs a name")
		return false
	}
	if _, dup := t.byName[n.name]; dup {
		t.fail("node %s is already added", n.name)
		return false
	}
	for _, p := range n.parents {
		pn, ok := t.byName[p]
		switch {
		case !ok:
			t.fail("node %s: parent %s is not added yet", n.name, p)
			return false
		case pn.kind == sinkKind:
			t.fail("node %s: parent %s is a sink, which has no children", n.name, p)
			return false
		case pn.out != n.in:
			t.fail("node %s takes %v but parent %s forwards %v", n.name, n.in, p, pn.out)
			return false
		}
	}
	if n.kind != sourceKind && len(n.parents) == 0 {
		t.fail("node %s needs at least one parent", n.name)
		return false
	}
	t.nodes = append(t.nodes, n)
	t.byName[n.name] = n
	for _, p := range n.parents {
		pn := t.byName[p]
		pn.children = append(pn.children, n.name)
	}
	return true
}

// AddSource adds a source node reading spec.Topics or spec.Pattern. A topic may be read by one
// source only.
func AddSource[K, V any](t *Topology, name string, spec SourceSpec[K, V]) {
	if (len(spec.Topics) == 0) == (spec.Pattern == nil) {
		t.fail("source %s needs topics or a pattern, not both", name)
		return
	}
	if spec.Keys == nil || spec.Values == nil {
		t.fail("source %s needs a key and a value deserializer", name)
		return
	}
	for _, topic := range spec.Topics {
		for _, n := range t.nodes {
			if n.kind == sourceKind && slices.Contains(n.topics, topic) {
				t.fail("topic %s is already read by source %s", topic, n.name)
				return
			}
		}
	}
	spec.Topics = slices.Clone(spec.Topics)
	var anchored *regexp.Regexp
	var text string
	if spec.Pattern != nil {
		text = spec.Pattern.String()
		anchored = regexp.MustCompile("^(?:" + text + ")$")
	}
	t.addNode(&nodeDef{
		name:        name,
		kind:        sourceKind,
		topics:      spec.Topics,
		pattern:     anchored,
		patternText: text,
		out:         recordType[K, V](),
		newNode:     func() node { return newSourceNode(name, spec) },
	})
}

// AddProcessor adds a processor node with the given parents. supplier is called once per task.
func AddProcessor[KIn, VIn, KOut, VOut any](t *Topology, name string, supplier ProcessorSupplier[KIn, VIn, KOut, VOut], parents ...string) {
	if supplier == nil {
		t.fail("processor %s needs a supplier", name)
		return
	}
	t.addNode(&nodeDef{
		name:    name,
		kind:    processorKind,
		parents: slices.Clone(parents),
		in:      recordType[KIn, VIn](),
		out:     recordType[KOut, VOut](),
		newNode: func() node { return newProcessorNode(name, supplier()) },
	})
}

// AddSink adds a sink node writing the records of its parents to spec.Topic (or spec.TopicFunc's
// topics).
func AddSink[K, V any](t *Topology, name string, spec SinkSpec[K, V], parents ...string) {
	if (spec.Topic == "") == (spec.TopicFunc == nil) {
		t.fail("sink %s needs a topic or a topic function, not both", name)
		return
	}
	if spec.Keys == nil || spec.Values == nil {
		t.fail("sink %s needs a key and a value serializer", name)
		return
	}
	t.addNode(&nodeDef{
		name:        name,
		kind:        sinkKind,
		parents:     slices.Clone(parents),
		sinkTopic:   spec.Topic,
		sinkDynamic: spec.TopicFunc != nil,
		in:          recordType[K, V](),
		newNode:     func() node { return newSinkNode(name, spec) },
	})
}

// AddStateStore adds a store and connects it to the given processors (more can be connected with
// ConnectStores). Every processor sharing a store is in the same sub-topology.
func (t *Topology) AddStateStore(b StoreBuilder, processors ...string) {
	if b == nil || b.Name() == "" {
		t.fail("a state store needs a builder with a name")
		return
	}
	if _, dup := t.storeBy[b.Name()]; dup {
		t.fail("state store %s is already added", b.Name())
		return
	}
	sd := &storeDef{builder: b}
	t.stores = append(t.stores, sd)
	t.storeBy[b.Name()] = sd
	for _, p := range processors {
		t.ConnectStores(p, b.Name())
	}
}

// ConnectStores gives processor access to the named stores.
func (t *Topology) ConnectStores(processor string, stores ...string) {
	n, ok := t.byName[processor]
	if !ok {
		t.fail("processor %s is not added yet", processor)
		return
	}
	if n.kind != processorKind {
		t.fail("cannot connect a state store to %s, which is not a processor", processor)
		return
	}
	for _, s := range stores {
		sd, ok := t.storeBy[s]
		if !ok {
			t.fail("state store %s is not added yet", s)
			return
		}
		if !slices.Contains(n.stores, s) {
			n.stores = append(n.stores, s)
			sd.users = append(sd.users, processor)
		}
	}
}

// AddRepartitionTopic declares topic an internal repartition topic of the application. Sources and
// sinks naming it use "<application.id>-<topic>" at run time, and the runtime creates it before it
// starts, with partitions partitions or, if zero, as many as the largest input topic of the
// sub-topology writing to it. Describe shows the undecorated name, as Kafka Streams does.
func (t *Topology) AddRepartitionTopic(topic string, partitions int32) {
	if partitions < 0 {
		t.fail("repartition topic %s: negative partition count", topic)
		return
	}
	t.internal[topic] = &internalTopic{name: topic, partitions: partitions}
}

// CopartitionSources declares that the topics of the named sources must have the same number of
// partitions, because a task joins their partitions with the same number (joins, in the dsl).
// The runtime checks it at start.
func (t *Topology) CopartitionSources(sources ...string) {
	for _, s := range sources {
		if n, ok := t.byName[s]; !ok || n.kind != sourceKind {
			t.fail("copartition: %s is not a source", s)
			return
		}
	}
	t.copart = append(t.copart, slices.Clone(sources))
}

// subtopology is a connected part of the topology: its nodes run together in one task per input
// partition number.
type subtopology struct {
	id     int
	nodes  []*nodeDef // in the order they were added: parents before children
	stores []*storeDef
}

// subtopologies groups the nodes: a node with its parents, and the users of a store together.
// Numbering follows the order nodes were added, as in Kafka Streams.
func (t *Topology) subtopologies() []*subtopology {
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		r := find(p)
		parent[x] = r
		return r
	}
	union := func(a, b string) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[ra] = rb
		}
	}
	for _, n := range t.nodes {
		for _, p := range n.parents {
			union(n.name, p)
		}
	}
	for _, s := range t.stores {
		for i := 1; i < len(s.users); i++ {
			union(s.users[0], s.users[i])
		}
	}
	var subs []*subtopology
	byRoot := map[string]*subtopology{}
	for _, n := range t.nodes {
		r := find(n.name)
		st, ok := byRoot[r]
		if !ok {
			st = &subtopology{id: len(subs)}
			subs = append(subs, st)
			byRoot[r] = st
		}
		st.nodes = append(st.nodes, n)
	}
	for _, s := range t.stores {
		if len(s.users) > 0 {
			st := byRoot[find(s.users[0])]
			st.stores = append(st.stores, s)
		}
	}
	return subs
}

// errNoSources is returned for a topology without a source node.
var errNoSources = errors.New("runtime: topology has no source node")

// sourceTopics returns the sub-topology's subscribed topics (undecorated) and patterns.
func (st *subtopology) sourceTopics() (topics []string, patterns []*regexp.Regexp) {
	for _, n := range st.nodes {
		if n.kind == sourceKind {
			topics = append(topics, n.topics...)
			if n.pattern != nil {
				patterns = append(patterns, n.pattern)
			}
		}
	}
	sort.Strings(topics)
	return topics, patterns
}
