package dsl

import "github.com/seichedb/seiche/runtime"

// forwarder is the part of every built-in processor that keeps the context it forwards through.
type forwarder[K, V any] struct {
	ctx runtime.ProcessorContext[K, V]
}

func (f *forwarder[K, V]) Init(ctx runtime.ProcessorContext[K, V]) error { f.ctx = ctx; return nil }
func (f *forwarder[K, V]) Close() error                                  { return nil }

// addProcessor adds a processor after parent and returns its name.
func addProcessor[KIn, VIn, KOut, VOut any](b *Builder, name string, supplier runtime.ProcessorSupplier[KIn, VIn, KOut, VOut], parents ...string) string {
	runtime.AddProcessor(b.topo, name, supplier, parents...)
	return name
}
