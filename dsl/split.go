package dsl

import (
	"strconv"

	"github.com/seichedb/seiche/runtime"
)

// Split sends each record to the first branch whose predicate it matches (Kafka Streams'
// KStream.split). Add branches with Branch, then optionally Default for the records no predicate
// matched; records matching nothing without a Default branch are dropped.
type Split[K, V any] struct {
	s        *Stream[K, V]
	name     string
	preds    []func(K, V) (bool, error)
	children []string
	dflt     string
}

// Split starts a split (KSTREAM-BRANCH). Named sets the splitter's name, which prefixes the
// branches' names.
func (s *Stream[K, V]) Split(opts ...NodeOpt) *Split[K, V] {
	c := newOpConfig(opts)
	sp := &Split[K, V]{s: s, name: s.b.nameOr(c, "KSTREAM-BRANCH-")}
	addProcessor(s.b, sp.name, func() runtime.Processor[K, V, K, V] {
		return &splitProc[K, V]{preds: sp.preds, children: sp.children, dflt: sp.dflt}
	}, s.node)
	return sp
}

// Branch adds a branch taking the records pred matches and not matched by an earlier branch. Its
// node is named after the splitter and Named (or the branch's number, from 1).
func (sp *Split[K, V]) Branch(pred func(key K, value V) (bool, error), opts ...NodeOpt) *Stream[K, V] {
	c := newOpConfig(opts)
	sp.preds = append(sp.preds, pred)
	name := sp.branchName(c, len(sp.preds))
	sp.children = append(sp.children, name)
	return sp.add(name)
}

// Default adds the branch taking records no predicate matched; it can be added once, last.
func (sp *Split[K, V]) Default(opts ...NodeOpt) *Stream[K, V] {
	c := newOpConfig(opts)
	if sp.dflt != "" {
		sp.s.b.fail("split %s: a second default branch", sp.name)
		return sp.s
	}
	sp.dflt = sp.branchName(c, 0)
	return sp.add(sp.dflt)
}

func (sp *Split[K, V]) branchName(c opConfig, index int) string {
	sp.s.b.index++ // Kafka Streams spends an index on every branch
	if c.name != "" {
		return sp.name + c.name
	}
	return sp.name + strconv.Itoa(index)
}

func (sp *Split[K, V]) add(name string) *Stream[K, V] {
	s := sp.s
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, V] { return &passThrough[K, V]{} }, sp.name)
	return &Stream[K, V]{b: s.b, node: name, keys: s.keys, values: s.values, keyChanged: s.keyChanged}
}

type splitProc[K, V any] struct {
	forwarder[K, V]
	preds    []func(K, V) (bool, error)
	children []string
	dflt     string
}

func (p *splitProc[K, V]) Process(rec runtime.Record[K, V]) error {
	for i, pred := range p.preds {
		ok, err := pred(rec.Key, rec.Value)
		if err != nil {
			return err
		}
		if ok {
			return p.ctx.ForwardTo(p.children[i], rec)
		}
	}
	if p.dflt != "" {
		return p.ctx.ForwardTo(p.dflt, rec)
	}
	return nil
}
