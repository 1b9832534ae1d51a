package nexmark

import (
	"bytes"
	"testing"

	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/runtime"
)

// TestPacked checks that packed records read back as generated: topics, keys (nil for bids), values
// and timestamps, in order, also after keeping only some topics, and that a record's bytes cannot
// be appended to over the next record's; unpack's copies outlive free.
func TestPacked(t *testing.T) {
	recs := Generate(gen.New(gen.Config{}), 2_000, Topics)
	recs = append(recs, runtime.RawRecord{Topic: "bid", Key: []byte{}, Value: []byte{}, Timestamp: 7})
	p := pack(recs)
	same := func(got, want runtime.RawRecord) bool {
		return got.Topic == want.Topic && bytes.Equal(got.Key, want.Key) && (got.Key == nil) == (want.Key == nil) &&
			bytes.Equal(got.Value, want.Value) && (got.Value == nil) == (want.Value == nil) && got.Timestamp == want.Timestamp
	}
	if p.Len() != len(recs) {
		t.Fatalf("Len = %d, want %d", p.Len(), len(recs))
	}
	for i, r := range p.unpack() {
		if !same(r, recs[i]) {
			t.Fatalf("record %d = %+v, want %+v", i, r, recs[i])
		}
	}
	if r := p.At(0); cap(r.Value) != len(r.Value) {
		t.Errorf("value of cap %d, len %d", cap(r.Value), len(r.Value))
	}
	bids := p.only([]string{gen.KindBid.Topic()})
	i := 0
	for _, want := range recs {
		if want.Topic != gen.KindBid.Topic() {
			continue
		}
		if got := bids.At(i); !same(got, want) {
			t.Fatalf("bid %d = %+v, want %+v", i, got, want)
		}
		i++
	}
	if i != bids.Len() || i == 0 {
		t.Errorf("only(bid) has %d records, want %d", bids.Len(), i)
	}
	copied := p.unpack()
	bids.free()
	p.free()
	for i, r := range copied {
		if !same(r, recs[i]) {
			t.Fatalf("unpacked record %d after free = %+v, want %+v", i, r, recs[i])
		}
	}
}
