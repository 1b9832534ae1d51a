package runtime

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// node is the per-task instance of a nodeDef. Every method runs on the task's goroutine.
type node interface {
	nodeName() string
	// addChild wires child after this node. The topology checked the record types, so the
	// assertion inside cannot fail for a built topology.
	addChild(child node) error
	init(t *task) error
	close() error
}

// receiver is a node that takes records of one type: processors and sinks.
type receiver[K, V any] interface {
	process(rec Record[K, V]) error
}

// rawSource is a source node: it turns consumed records into typed ones.
type rawSource interface {
	node
	deliver(r *kgo.Record) error
}

func asReceiver[K, V any](parent string, child node) (receiver[K, V], error) {
	r, ok := child.(receiver[K, V])
	if !ok {
		return nil, fmt.Errorf("runtime: node %s cannot take the %v that %s forwards", child.nodeName(), recordType[K, V](), parent)
	}
	return r, nil
}
