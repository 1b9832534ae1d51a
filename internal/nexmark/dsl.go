package nexmark

import (
	"strconv"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/serde"
)

// The queries' rows as Go programs write them: the SQL sinks' columns, upper-cased as ksqlDB names
// unquoted columns. Q0, Q1 and Q2 compute them; the DSL programs and the hand-written baseline share
// them, so that they differ only in how records get to and from the computation.

// Q0Row is q0's output row.
type Q0Row struct {
	Auction  int64  `json:"AUCTION"`
	Bidder   int64  `json:"BIDDER"`
	Price    int64  `json:"PRICE"`
	DateTime int64  `json:"DATETIME"`
	Extra    string `json:"EXTRA"`
}

// Q1Row is q1's output row.
type Q1Row struct {
	Auction  int64       `json:"AUCTION"`
	Bidder   int64       `json:"BIDDER"`
	Price    DecimalThou `json:"PRICE"`
	DateTime int64       `json:"DATETIME"`
	Extra    string      `json:"EXTRA"`
}

// Q2Row is q2's output row.
type Q2Row struct {
	Auction int64 `json:"AUCTION"`
	Price   int64 `json:"PRICE"`
}

// DecimalThou is an exact decimal in thousandths, written as a JSON number with up to three
// decimals: q1's euro price without float rounding, as the SQL's DECIMAL has it.
type DecimalThou int64

func (d DecimalThou) MarshalJSON() ([]byte, error) {
	v := int64(d)
	var b []byte
	if v < 0 {
		b, v = append(b, '-'), -v
	}
	b = strconv.AppendInt(b, v/1000, 10)
	if f := v % 1000; f != 0 {
		b = append(b, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b, nil
}

// Q0 is q0's row for bid v.
func Q0(v gen.Bid) Q0Row {
	return Q0Row{Auction: v.Auction, Bidder: v.Bidder, Price: v.Price, DateTime: v.DateTime, Extra: v.Extra}
}

// Q1 is q1's row for bid v.
func Q1(v gen.Bid) Q1Row {
	return Q1Row{Auction: v.Auction, Bidder: v.Bidder, Price: DecimalThou(v.Price * 908), DateTime: v.DateTime, Extra: v.Extra}
}

// Q2 is q2's row for bid v, and whether q2 selects it.
func Q2(v gen.Bid) (Q2Row, bool) {
	return Q2Row{Auction: v.Auction, Price: v.Price}, v.Auction%123 == 0
}

func bids(b *dsl.Builder) *dsl.Stream[[]byte, gen.Bid] {
	return dsl.Source(b, "bid", serde.Bytes(), serde.JSON[gen.Bid]())
}

func q0DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	out := dsl.MapValues(bids(b), func(_ []byte, v gen.Bid) (Q0Row, error) {
		return Q0(v), nil
	})
	out.WithKeySerde(serde.Bytes()).WithValueSerde(serde.JSON[Q0Row]()).To("Q0")
	return b
}

func q1DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	out := dsl.MapValues(bids(b), func(_ []byte, v gen.Bid) (Q1Row, error) {
		return Q1(v), nil
	})
	out.WithKeySerde(serde.Bytes()).WithValueSerde(serde.JSON[Q1Row]()).To("Q1")
	return b
}

func q2DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	sel := bids(b).Filter(func(_ []byte, v gen.Bid) (bool, error) { _, ok := Q2(v); return ok, nil })
	out := dsl.MapValues(sel, func(_ []byte, v gen.Bid) (Q2Row, error) { row, _ := Q2(v); return row, nil })
	out.WithKeySerde(serde.Bytes()).WithValueSerde(serde.JSON[Q2Row]()).To("Q2")
	return b
}
