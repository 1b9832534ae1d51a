package runtime

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/seichedb/seiche/state"
)

// processorNode runs a user Processor and is its ProcessorContext.
type processorNode[KIn, VIn, KOut, VOut any] struct {
	name       string
	proc       Processor[KIn, VIn, KOut, VOut]
	t          *task
	children   []receiver[KOut, VOut]
	childNames []string
	stores     []string
	logger     *slog.Logger
}

func newProcessorNode[KIn, VIn, KOut, VOut any](name string, p Processor[KIn, VIn, KOut, VOut]) *processorNode[KIn, VIn, KOut, VOut] {
	return &processorNode[KIn, VIn, KOut, VOut]{name: name, proc: p}
}

func (n *processorNode[KIn, VIn, KOut, VOut]) nodeName() string { return n.name }

func (n *processorNode[KIn, VIn, KOut, VOut]) addChild(child node) error {
	r, err := asReceiver[KOut, VOut](n.name, child)
	if err == nil {
		n.children = append(n.children, r)
		n.childNames = append(n.childNames, child.nodeName())
	}
	return err
}

func (n *processorNode[KIn, VIn, KOut, VOut]) init(t *task) (err error) {
	n.t = t
	n.stores = t.def(n.name).stores
	n.logger = t.logger.With("node", n.name)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("runtime: processor %s: init: %w", n.name, newPanicError(p))
		}
	}()
	if err := n.proc.Init(n); err != nil {
		return fmt.Errorf("runtime: processor %s: init: %w", n.name, err)
	}
	return nil
}

func (n *processorNode[KIn, VIn, KOut, VOut]) close() (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("runtime: processor %s: close: %w", n.name, newPanicError(p))
		}
	}()
	if err := n.proc.Close(); err != nil {
		return fmt.Errorf("runtime: processor %s: close: %w", n.name, err)
	}
	return nil
}

// process runs the processor. A panic is recovered by the task (processWith), which attributes it
// to the node named in t.node.
func (n *processorNode[KIn, VIn, KOut, VOut]) process(rec Record[KIn, VIn]) error {
	n.t.node = n.name
	if err := n.proc.Process(rec); err != nil {
		if _, ok := asFailure(err); ok {
			return err
		}
		return n.t.processingError(n.name, err)
	}
	return nil
}

// ProcessorContext.

func (n *processorNode[KIn, VIn, KOut, VOut]) ApplicationID() string { return n.t.sh.appID }
func (n *processorNode[KIn, VIn, KOut, VOut]) TaskID() TaskID        { return n.t.id }
func (n *processorNode[KIn, VIn, KOut, VOut]) NodeName() string      { return n.name }
func (n *processorNode[KIn, VIn, KOut, VOut]) RecordMetadata() (RecordMetadata, bool) {
	return n.t.meta, n.t.hasMeta
}
func (n *processorNode[KIn, VIn, KOut, VOut]) StreamTime() int64    { return n.t.streamTime }
func (n *processorNode[KIn, VIn, KOut, VOut]) WallClockTime() int64 { return n.t.wallClockTime() }
func (n *processorNode[KIn, VIn, KOut, VOut]) Logger() *slog.Logger { return n.logger }
func (n *processorNode[KIn, VIn, KOut, VOut]) RequestCommit()       { n.t.commitRequested = true }

func (n *processorNode[KIn, VIn, KOut, VOut]) StateStore(name string) (state.Store, error) {
	if !slices.Contains(n.stores, name) {
		return nil, fmt.Errorf("runtime: processor %s has no state store %s connected (Topology.ConnectStores)", n.name, name)
	}
	s, ok := n.t.stores[name]
	if !ok {
		return nil, fmt.Errorf("runtime: state store %s is not open in task %s", name, n.t.id)
	}
	return s, nil
}

func (n *processorNode[KIn, VIn, KOut, VOut]) Schedule(interval time.Duration, typ PunctuationType, fn Punctuator) (Cancellable, error) {
	return n.t.schedule(n.name, interval, typ, fn)
}

func (n *processorNode[KIn, VIn, KOut, VOut]) Forward(rec Record[KOut, VOut]) error {
	for _, c := range n.children {
		err := c.process(rec)
		n.t.node = n.name
		if err != nil {
			return err
		}
	}
	return nil
}

func (n *processorNode[KIn, VIn, KOut, VOut]) ForwardTo(child string, rec Record[KOut, VOut]) error {
	for i, name := range n.childNames {
		if name == child {
			err := n.children[i].process(rec)
			n.t.node = n.name
			return err
		}
	}
	return fmt.Errorf("runtime: processor %s has no child %s", n.name, child)
}
