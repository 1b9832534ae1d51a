package nexmark

import (
	"strconv"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/serde"
)

// The DSL programs' rows: the SQL sinks' columns, upper-cased as ksqlDB names unquoted columns.

type q0Row struct {
	Auction  int64  `json:"AUCTION"`
	Bidder   int64  `json:"BIDDER"`
	Price    int64  `json:"PRICE"`
	DateTime int64  `json:"DATETIME"`
	Extra    string `json:"EXTRA"`
}

type q1Row struct {
	Auction  int64       `json:"AUCTION"`
	Bidder   int64       `json:"BIDDER"`
	Price    decimalThou `json:"PRICE"`
	DateTime int64       `json:"DATETIME"`
	Extra    string      `json:"EXTRA"`
}

type q2Row struct {
	Auction int64 `json:"AUCTION"`
	Price   int64 `json:"PRICE"`
}

// decimalThou is an exact decimal in thousandths, written as a JSON number with up to three
// decimals: q1's euro price without float rounding, as the SQL's DECIMAL has it.
type decimalThou int64

func (d decimalThou) MarshalJSON() ([]byte, error) {
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

func bids(b *dsl.Builder) *dsl.Stream[[]byte, gen.Bid] {
	return dsl.Source(b, "bid", serde.Bytes(), serde.JSON[gen.Bid]())
}

func q0DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	out := dsl.MapValues(bids(b), func(_ []byte, v gen.Bid) (q0Row, error) {
		return q0Row{Auction: v.Auction, Bidder: v.Bidder, Price: v.Price, DateTime: v.DateTime, Extra: v.Extra}, nil
	})
	out.To("Q0", dsl.WithKeySerde(serde.Bytes()), dsl.WithValueSerde(serde.JSON[q0Row]()))
	return b
}

func q1DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	out := dsl.MapValues(bids(b), func(_ []byte, v gen.Bid) (q1Row, error) {
		return q1Row{Auction: v.Auction, Bidder: v.Bidder, Price: decimalThou(v.Price * 908), DateTime: v.DateTime, Extra: v.Extra}, nil
	})
	out.To("Q1", dsl.WithKeySerde(serde.Bytes()), dsl.WithValueSerde(serde.JSON[q1Row]()))
	return b
}

func q2DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	sel := bids(b).Filter(func(_ []byte, v gen.Bid) (bool, error) { return v.Auction%123 == 0, nil })
	out := dsl.MapValues(sel, func(_ []byte, v gen.Bid) (q2Row, error) {
		return q2Row{Auction: v.Auction, Price: v.Price}, nil
	})
	out.To("Q2", dsl.WithKeySerde(serde.Bytes()), dsl.WithValueSerde(serde.JSON[q2Row]()))
	return b
}
