package nexmark

import (
	"testing"

	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/runtime"
)

// BenchmarkSQLTopology pipes bids through q0–q2 compiled from SQL on a bare test driver (the
// runner's sql-topology in process) and reads the output, so that -benchmem gives the allocations
// and bytes of one bid's pass through the query: decoding, filter, projection and sink writer.
func BenchmarkSQLTopology(b *testing.B) {
	bids := Generate(gen.New(gen.Config{}), 10_000, []string{gen.KindBid.Topic()})
	for _, name := range []string{"q0", "q1", "q2"} {
		q, _ := QueryNamed(name)
		b.Run(name, func(b *testing.B) {
			topo, err := q.Topology(ImplSQLTopology)
			if err != nil {
				b.Fatal(err)
			}
			d, err := runtime.NewTestDriver(topo)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			b.ReportAllocs()
			b.SetBytes(int64(len(bids[0].Value)))
			for i := range b.N {
				r := bids[i%len(bids)]
				if err := d.PipeInput(r.Topic, r.Key, r.Value, r.Timestamp); err != nil {
					b.Fatal(err)
				}
				for {
					if _, ok := d.ReadOutput(q.Output()); !ok {
						break
					}
				}
			}
		})
	}
}
