package nexmark

import (
	"slices"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/serde"
)

// The DSL programs of the stateful queries write the SQL's rows; the steps mirror the SQL's plan.

// Q3Row is q3's output row; its key is the seller.
type Q3Row struct {
	Name  string `json:"NAME"`
	City  string `json:"CITY"`
	State string `json:"STATE"`
	ID    int64  `json:"ID"`
}

// Q4Row is q4's output row; its key is the category.
type Q4Row struct {
	Avg      float64 `json:"AVG"`
	Category int64   `json:"CAT"`
}

// Q5Row is q5's output row; its key is the window start.
type Q5Row struct {
	MaxN  int64 `json:"MAXN"`
	Start int64 `json:"ST"`
}

// Q7Row is q7's output row; its key is the price.
type Q7Row struct {
	Auction  int64  `json:"AUCTION"`
	Bidder   int64  `json:"BIDDER"`
	DateTime int64  `json:"DATETIME"`
	Extra    string `json:"EXTRA"`
}

// Q8Row is q8's output row; its key is the person and window.
type Q8Row struct {
	Name   string `json:"NAME"`
	Person int64  `json:"PID"`
	Start  int64  `json:"ST"`
}

func people(b *dsl.Builder) *dsl.Stream[int64, gen.Person] {
	return dsl.Source(b, "person", serde.Int64(), serde.JSON[gen.Person]())
}

func auctions(b *dsl.Builder) *dsl.Stream[int64, gen.Auction] {
	return dsl.Source(b, "auction", serde.Int64(), serde.JSON[gen.Auction]())
}

func q3DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	ppl := dsl.TableSource(b, "person", serde.Int64(), serde.JSON[gen.Person]())
	local := auctions(b).Filter(func(_ int64, a gen.Auction) (bool, error) { return a.Category == 10, nil })
	bySeller := dsl.SelectKey(local, func(_ int64, a gen.Auction) (int64, error) { return a.Seller, nil }).WithKeySerde(serde.Int64())
	joined := dsl.StreamTableJoin(bySeller, ppl, func(_ int64, a gen.Auction, p gen.Person) (Q3Row, error) {
		return Q3Row{Name: p.Name, City: p.City, State: p.State, ID: a.ID}, nil
	}).WithValueSerde(serde.JSON[Q3Row]())
	joined.Filter(func(_ int64, r Q3Row) (bool, error) { return slices.Contains([]string{"OR", "ID", "CA"}, r.State), nil }).
		To("Q3")
	return b
}

// q4Final is an auction's highest bid so far.
type q4Final struct {
	Category, Price int64
}

// q4Sum is a category's sum and count of closing prices.
type q4Sum struct {
	Sum, N int64
}

func q4DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	byAuction := dsl.SelectKey(bids(b), func(_ []byte, v gen.Bid) (int64, error) { return v.Auction, nil }).
		WithKeySerde(serde.Int64())
	pairs := dsl.StreamStreamJoin(auctions(b), byAuction, func(_ int64, a gen.Auction, v gen.Bid) (q4Final, error) {
		if v.DateTime < a.DateTime || v.DateTime > a.Expires {
			return q4Final{Price: -1}, nil
		}
		return q4Final{Category: a.Category, Price: v.Price}, nil
	}, dsl.JoinWindows{After: 10 * time.Second}).WithValueSerde(serde.JSON[q4Final]())
	open := pairs.Filter(func(_ int64, f q4Final) (bool, error) { return f.Price >= 0, nil })
	finals := open.GroupByKey().
		Reduce(func(agg, v q4Final) (q4Final, error) {
			agg.Price = max(agg.Price, v.Price)
			return agg, nil
		})
	byCategory := dsl.TableGroupBy(finals, func(_ int64, f q4Final) (int64, q4Final, error) { return f.Category, f, nil }).
		WithKeySerde(serde.Int64()).WithValueSerde(serde.JSON[q4Final]())
	sums := dsl.TableAggregate(byCategory, func() (q4Sum, error) { return q4Sum{}, nil },
		func(_ int64, f q4Final, s q4Sum) (q4Sum, error) { return q4Sum{s.Sum + f.Price, s.N + 1}, nil },
		func(_ int64, f q4Final, s q4Sum) (q4Sum, error) { return q4Sum{s.Sum - f.Price, s.N - 1}, nil },
		serde.JSON[q4Sum]())
	avg := dsl.MapTableValues(sums, func(c int64, s q4Sum) (Q4Row, error) {
		return Q4Row{Avg: float64(s.Sum) / float64(s.N), Category: c}, nil
	}).WithValueSerde(serde.JSON[Q4Row]())
	avg.ToStream().To("Q4")
	return b
}

func q5DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	grouped := dsl.GroupBy(bids(b), func(_ []byte, v gen.Bid) (int64, error) { return v.Auction, nil }).
		WithKeySerde(serde.Int64())
	counts := dsl.WindowedCount(grouped.WindowedBy(dsl.HoppingWindows(10*time.Second, 2*time.Second, 0)))
	final := dsl.SuppressUntilWindowCloses(counts).ToStream()
	perWindow := dsl.Map(final, func(k dsl.Windowed[int64], n int64) (int64, int64, error) { return k.Window.Start, n, nil })
	maxes := perWindow.GroupByKey().WithKeySerde(serde.Int64()).WithValueSerde(serde.Int64()).
		Reduce(func(agg, n int64) (int64, error) { return max(agg, n), nil })
	rows := dsl.MapTableValues(maxes, func(start, n int64) (Q5Row, error) { return Q5Row{MaxN: n, Start: start}, nil }).
		WithValueSerde(serde.JSON[Q5Row]())
	rows.ToStream().To("Q5")
	return b
}

func q7DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	all := bids(b)
	grouped := dsl.GroupBy(all, func([]byte, gen.Bid) (int64, error) { return 1, nil }).
		WithKeySerde(serde.Int64())
	maxes := dsl.WindowedAggregate(grouped.WindowedBy(dsl.TumblingWindows(10*time.Second, 0)),
		func() (int64, error) { return 0, nil },
		func(_ int64, v gen.Bid, agg int64) (int64, error) { return max(agg, v.Price), nil },
		serde.Int64())
	// The window's highest price, keyed by the price, its window start as the value.
	byPrice := dsl.Map(dsl.SuppressUntilWindowCloses(maxes).ToStream(),
		func(k dsl.Windowed[int64], price int64) (int64, int64, error) { return price, k.Window.Start, nil }).
		WithKeySerde(serde.Int64()).WithValueSerde(serde.Int64())
	bidsByPrice := dsl.SelectKey(all, func(_ []byte, v gen.Bid) (int64, error) { return v.Price, nil }).
		WithKeySerde(serde.Int64())
	joined := dsl.StreamStreamJoin(bidsByPrice, byPrice, func(_ int64, v gen.Bid, start int64) (Q7Row, error) {
		if v.DateTime < start || v.DateTime >= start+10_000 {
			return Q7Row{Auction: -1}, nil
		}
		return Q7Row{Auction: v.Auction, Bidder: v.Bidder, DateTime: v.DateTime, Extra: v.Extra}, nil
	}, dsl.JoinTimeDifference(20*time.Second, 0)).WithValueSerde(serde.JSON[Q7Row]())
	joined.Filter(func(_ int64, r Q7Row) (bool, error) { return r.Auction >= 0, nil }).To("Q7")
	return b
}

func q8DSL() *dsl.Builder {
	b := dsl.NewBuilder()
	bySeller := dsl.SelectKey(auctions(b), func(_ int64, a gen.Auction) (int64, error) { return a.Seller, nil }).WithKeySerde(serde.Int64())
	pairs := dsl.StreamStreamJoin(people(b), bySeller, func(id int64, p gen.Person, a gen.Auction) (Q8Row, error) {
		if p.DateTime/10_000 != a.DateTime/10_000 {
			return Q8Row{Person: -1}, nil
		}
		return Q8Row{Name: p.Name, Person: id, Start: p.DateTime / 10_000 * 10_000}, nil
	}, dsl.JoinTimeDifference(10*time.Second, 0)).WithValueSerde(serde.JSON[Q8Row]())
	same := pairs.Filter(func(_ int64, r Q8Row) (bool, error) { return r.Person >= 0, nil })
	grouped := dsl.GroupBy(same, func(_ int64, r Q8Row) ([2]int64, error) { return [2]int64{r.Person, r.Start}, nil }).
		WithKeySerde(serde.JSON[[2]int64]())
	latest := grouped.Reduce(func(_, v Q8Row) (Q8Row, error) { return v, nil })
	latest.ToStream().To("Q8")
	return b
}
