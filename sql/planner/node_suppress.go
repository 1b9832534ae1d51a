package planner

import "github.com/seichedb/seiche/dsl"

// SuppressNode holds each window's result until the window closes (EMIT FINAL).
type SuppressNode struct{}

// Describe implements Node.
func (n *SuppressNode) Describe() string { return "Suppress(FINAL)" }

func (n *SuppressNode) lower(e *Env, in flow) (flow, error) {
	out := in
	out.wtable = dsl.SuppressUntilWindowCloses(in.wtable)
	return out, nil
}
