package format

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/seichedb/seiche/sql/types"
)

// A Nexmark bid as internal/nexmark writes it (encoding/json escapes the url's '&'), and the columns
// of its stream.
var (
	benchBid = []byte(`{"auction":1007,"bidder":2001,"price":15628,"channel":"channel-4512",` +
		`"url":"https://www.nexmark.com/xjj/vhh/ffwu/item.htm?query=1\u0026channel_id=1342177280",` +
		`"dateTime":1700000012345,"extra":"rmixlqoxpjfhtyzxqxzkqgtwxkouifqumrgyxdjxhnlbwuykegxavzbpqhtrx"}`)
	benchBidCols = []types.Column{
		{Name: "AUCTION", Type: types.Bigint}, {Name: "BIDDER", Type: types.Bigint}, {Name: "PRICE", Type: types.Bigint},
		{Name: "CHANNEL", Type: types.String}, {Name: "URL", Type: types.String},
		{Name: "DATETIME", Type: types.Bigint}, {Name: "EXTRA", Type: types.String},
	}
)

// benchChunk is how many records one side decodes before the other takes its turn, so that both see
// the same machine load.
const benchChunk = 1000

// alternate runs b.N records through each side in alternating chunks and reports both sides' ns per
// record, the ratio of baseline to new time (how many times faster the new side is), and the new side's
// records/s and MB/s over size bytes a record.
func alternate(b *testing.B, size int, baselineName string, baseline, seiche func()) {
	var baseDur, newDur time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += benchChunk {
		n := min(benchChunk, b.N-done)
		t0 := time.Now()
		for range n {
			baseline()
		}
		t1 := time.Now()
		for range n {
			seiche()
		}
		newDur += time.Since(t1)
		baseDur += t1.Sub(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(newDur.Nanoseconds())/float64(b.N), "seiche-ns/rec")
	b.ReportMetric(float64(baseDur.Nanoseconds())/float64(b.N), baselineName+"-ns/rec")
	b.ReportMetric(baseDur.Seconds()/newDur.Seconds(), "speedup")
	b.ReportMetric(float64(b.N)/newDur.Seconds(), "seiche-records/s")
	b.ReportMetric(float64(b.N*size)/1e6/newDur.Seconds(), "seiche-MB/s")
}

// BenchmarkJSONReadBid reads the bid with the JSON format's reader against two baselines in the same
// run: the format's general path (decode the whole record, then convert each column), and encoding/json
// decoding it into a map[string]any with json.Number numbers, the least any JSON reader of the same
// record does.
func BenchmarkJSONReadBid(b *testing.B) {
	s := newJSONSerde(benchBidCols, true)
	seiche := func() {
		if _, err := s.Deserialize(benchBid); err != nil {
			b.Fatal(err)
		}
	}
	if _, ok := s.deserializeFast(benchBid); !ok {
		b.Fatal("the fast path does not take the bid")
	}
	b.Run("vs=general", func(b *testing.B) {
		alternate(b, len(benchBid), "general", func() {
			if _, err := s.deserializeGeneral(benchBid); err != nil {
				b.Fatal(err)
			}
		}, seiche)
	})
	b.Run("vs=encoding-json", func(b *testing.B) {
		alternate(b, len(benchBid), "encoding-json", func() {
			dec := json.NewDecoder(bytes.NewReader(benchBid))
			dec.UseNumber()
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				b.Fatal(err)
			}
		}, seiche)
	})
}

// BenchmarkJSONWriteBid writes q0's output row (auction, bidder, price, dateTime, extra) with the JSON
// format's writer against encoding/json marshalling the same fields from a struct, as the Nexmark
// hand-written loop does.
func BenchmarkJSONWriteBid(b *testing.B) {
	cols := []types.Column{benchBidCols[0], benchBidCols[1], benchBidCols[2], benchBidCols[5], benchBidCols[6]}
	s := newJSONSerde(cols, true)
	row := []types.Value{int64(1007), int64(2001), int64(15628), int64(1700000012345), "rmixlqoxpjfhtyzxqxzkqgtwxkouifqumrgyxdjxhnlbwuykegxavzbpqhtrx"}
	type q0Row struct {
		Auction  int64  `json:"AUCTION"`
		Bidder   int64  `json:"BIDDER"`
		Price    int64  `json:"PRICE"`
		DateTime int64  `json:"DATETIME"`
		Extra    string `json:"EXTRA"`
	}
	st := q0Row{1007, 2001, 15628, 1700000012345, row[4].(string)}
	out, err := s.Serialize(row)
	if err != nil {
		b.Fatal(err)
	}
	if want, _ := json.Marshal(st); !bytes.Equal(out, want) {
		b.Fatalf("wrote %s, encoding/json writes %s", out, want)
	}
	alternate(b, len(out), "encoding-json", func() {
		if _, err := json.Marshal(st); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if _, err := s.Serialize(row); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkJSONReadBidUnread reads the bid for the columns Nexmark's q0 (all but channel and url) and
// q2 (auction and price) read, the others unread (Options.Unread), against reading every column in
// the same run.
func BenchmarkJSONReadBidUnread(b *testing.B) {
	// reader returns a function reading the bid with s.
	reader := func(s Serde) func() {
		return func() {
			if _, err := s.Deserialize(benchBid); err != nil {
				b.Fatal(err)
			}
		}
	}
	// allocs reports read's allocations alone.
	allocs := func(read func()) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				read()
			}
		}
	}
	readAll := reader(newJSONSerde(benchBidCols, true))
	for _, q := range []struct {
		name   string
		unread []bool
	}{
		{"q0", []bool{false, false, false, true, true, false, false}},
		{"q2", []bool{false, true, false, true, true, true, true}},
	} {
		pruned, err := New("JSON", benchBidCols, Options{Unread: q.unread})
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := pruned.(*jsonSerde).deserializeFast(benchBid); !ok {
			b.Fatal("the fast path does not take the bid")
		}
		readPruned := reader(pruned)
		b.Run("query="+q.name, func(b *testing.B) {
			alternate(b, len(benchBid), "all-columns", readAll, readPruned)
		})
		b.Run("query="+q.name+"/allocs", allocs(readPruned))
	}
	b.Run("all-columns/allocs", allocs(readAll))
}
