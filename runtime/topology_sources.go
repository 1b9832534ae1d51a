package runtime

import "slices"

// SourcesOf returns the names of the source nodes that node reads from, following its parents up
// to the sources of its sub-topology, in the order they were added. The dsl uses it to declare the
// sources a join reads as co-partitioned (CopartitionSources).
func (t *Topology) SourcesOf(node string) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		n, ok := t.byName[name]
		if !ok {
			return
		}
		if n.kind == sourceKind {
			out = append(out, name)
			return
		}
		for _, p := range n.parents {
			walk(p)
		}
	}
	walk(node)
	slices.SortFunc(out, func(a, b string) int {
		return slices.Index(t.nodes, t.byName[a]) - slices.Index(t.nodes, t.byName[b])
	})
	return out
}
