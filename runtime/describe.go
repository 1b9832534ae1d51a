package runtime

import (
	"sort"
	"strconv"
	"strings"
)

// TopologyDescription is the structure of a topology: its sub-topologies and their nodes. Its
// String form is Kafka Streams' TopologyDescription text, so tools and people that read one read
// the other.
type TopologyDescription struct {
	Subtopologies []SubtopologyDescription
	// GlobalStores are numbered after the sub-topologies, in the order they were added.
	GlobalStores []GlobalStoreDescription
}

// GlobalStoreDescription is a global store: the source node reading its topic and the processor
// node writing it (Kafka Streams' TopologyDescription.GlobalStore). It generates no tasks.
//
// Kafka Streams numbers global stores in the same sequence as sub-topologies, by where their
// source node was added, so a global table declared before a stream takes a number the stream's
// sub-topology would otherwise have. Seiche's sub-topology numbers are its task ids, which must not
// move when a global store is added, so global stores take the numbers after the last
// sub-topology: the text is Kafka Streams' whenever the global stores are added after the first
// node of every sub-topology.
type GlobalStoreDescription struct {
	ID        int
	Source    NodeDescription
	Processor NodeDescription
}

// SubtopologyDescription is one sub-topology: the nodes that run together in a task.
type SubtopologyDescription struct {
	ID int
	// Nodes are in Kafka Streams' order: larger sub-trees first, then by name.
	Nodes []NodeDescription
}

// NodeKind is the kind of a node: "Source", "Processor" or "Sink".
type NodeKind string

const (
	SourceNode    NodeKind = "Source"
	ProcessorNode NodeKind = "Processor"
	SinkNode      NodeKind = "Sink"
)

// NodeDescription is one node of a sub-topology.
type NodeDescription struct {
	Kind NodeKind
	Name string
	// Topics (sorted) or Pattern for a source; Topic for a sink ("" with a topic function).
	Topics  []string
	Pattern string
	Topic   string
	// Stores (sorted) connected to a processor.
	Stores       []string
	Successors   []string
	Predecessors []string
}

// Describe returns the structure of the topology. A topology with an error (see Err) describes
// what was added before it.
func (t *Topology) Describe() TopologyDescription {
	var d TopologyDescription
	for _, st := range t.subtopologies() {
		d.Subtopologies = append(d.Subtopologies, describeSubtopology(st))
	}
	for i, g := range t.globals {
		d.GlobalStores = append(d.GlobalStores, GlobalStoreDescription{
			ID:        len(d.Subtopologies) + i,
			Source:    NodeDescription{Kind: SourceNode, Name: g.source, Topics: []string{g.topic}, Successors: []string{g.processor}},
			Processor: NodeDescription{Kind: ProcessorNode, Name: g.processor, Stores: []string{g.name}, Predecessors: []string{g.source}},
		})
	}
	return d
}

func describeSubtopology(st *subtopology) SubtopologyDescription {
	// size of the sub-tree rooted at a node, counting the node: Kafka Streams' ordering key.
	size := map[string]int{}
	byName := map[string]*nodeDef{}
	for _, n := range st.nodes {
		byName[n.name] = n
	}
	var sizeOf func(n *nodeDef) int
	sizeOf = func(n *nodeDef) int {
		if s, ok := size[n.name]; ok {
			return s
		}
		s := 1
		for _, c := range n.children {
			s += sizeOf(byName[c])
		}
		size[n.name] = s
		return s
	}
	less := func(a, b string) bool {
		sa, sb := sizeOf(byName[a]), sizeOf(byName[b])
		if sa != sb {
			return sa > sb
		}
		return a < b
	}
	sorted := func(names []string) []string {
		out := append([]string(nil), names...)
		sort.Slice(out, func(i, j int) bool { return less(out[i], out[j]) })
		return out
	}
	names := make([]string, 0, len(st.nodes))
	for _, n := range st.nodes {
		names = append(names, n.name)
	}
	sd := SubtopologyDescription{ID: st.id}
	for _, name := range sorted(names) {
		n := byName[name]
		nd := NodeDescription{
			Name:         n.name,
			Successors:   sorted(n.children),
			Predecessors: sorted(n.parents),
		}
		switch n.kind {
		case sourceKind:
			nd.Kind = SourceNode
			nd.Topics = append([]string(nil), n.topics...)
			sort.Strings(nd.Topics)
			nd.Pattern = n.patternText
		case processorKind:
			nd.Kind = ProcessorNode
			nd.Stores = append([]string{}, n.stores...)
			sort.Strings(nd.Stores)
		case sinkKind:
			nd.Kind = SinkNode
			nd.Topic = n.sinkTopic
		}
		sd.Nodes = append(sd.Nodes, nd)
	}
	return sd
}

// String renders the description exactly as Kafka Streams' TopologyDescription.toString does.
func (d TopologyDescription) String() string {
	var b strings.Builder
	b.WriteString("Topologies:\n ")
	for _, st := range d.Subtopologies {
		b.WriteString("  ")
		b.WriteString(st.String())
	}
	for _, g := range d.GlobalStores {
		b.WriteString("  ")
		b.WriteString(g.String())
	}
	return b.String()
}

// String renders a global store as Kafka Streams does: unlike a sub-topology, without a blank
// line after it.
func (g GlobalStoreDescription) String() string {
	return "Sub-topology: " + strconv.Itoa(g.ID) + " for global store (will not generate tasks)\n" +
		"    " + g.Source.String() + "\n" +
		"    " + g.Processor.String() + "\n"
}

// String renders one sub-topology as Kafka Streams does, ending with a blank line.
func (st SubtopologyDescription) String() string {
	var b strings.Builder
	b.WriteString("Sub-topology: ")
	b.WriteString(strconv.Itoa(st.ID))
	b.WriteString("\n")
	for _, n := range st.Nodes {
		b.WriteString("    ")
		b.WriteString(n.String())
		b.WriteString("\n")
	}
	b.WriteString("\n")
	return b.String()
}

// String renders one node as Kafka Streams does.
func (n NodeDescription) String() string {
	switch n.Kind {
	case SourceNode:
		topics := n.Pattern
		if n.Pattern == "" {
			topics = "[" + strings.Join(n.Topics, ", ") + "]"
		}
		return "Source: " + n.Name + " (topics: " + topics + ")\n      --> " + nodeNames(n.Successors)
	case ProcessorNode:
		return "Processor: " + n.Name + " (stores: [" + strings.Join(n.Stores, ", ") + "])\n      --> " +
			nodeNames(n.Successors) + "\n      <-- " + nodeNames(n.Predecessors)
	default:
		if n.Topic == "" {
			return "Sink: " + n.Name + " (extractor class: topic function)\n      <-- " + nodeNames(n.Predecessors)
		}
		return "Sink: " + n.Name + " (topic: " + n.Topic + ")\n      <-- " + nodeNames(n.Predecessors)
	}
}

func nodeNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
