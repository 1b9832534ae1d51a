package gen

import (
	"math"
	"reflect"
	"sync"
	"testing"
)

// The reference values below are those of the standard generator's defaults (Flink's
// NexmarkConfiguration, nexmark-rs's NexmarkConfig::default): proportions 1:3:46, hot sellers 4,
// hot auctions 2, hot bidders 4, hot channels 2, sizes 200/500/100 bytes, 10,000 events/s.

const events = 500_000

func TestProportions(t *testing.T) {
	g := New(Config{})
	var n [3]int
	for i := range int64(events) {
		k := g.KindOf(i)
		if e := g.Event(i); e.Kind != k {
			t.Fatalf("event %d: KindOf %d, Event %d", i, k, e.Kind)
		}
		n[k]++
	}
	if want := [3]int{events / 50, events / 50 * 3, events / 50 * 46}; n != want {
		t.Fatalf("person, auction, bid counts %v, want %v (1:3:46)", n, want)
	}
}

func TestFirstEvents(t *testing.T) {
	g := New(Config{})
	p := g.Event(0)
	if p.Kind != KindPerson || p.Person.ID != FirstPersonID || p.Person.DateTime != g.Config().BaseTime {
		t.Fatalf("event 0 = %+v, want person %d at the base time", p.Person, FirstPersonID)
	}
	for i, want := range []int64{1000, 1001, 1002} {
		a := g.Event(int64(1 + i))
		if a.Kind != KindAuction || a.Auction.ID != want {
			t.Fatalf("event %d = %+v, want auction %d", 1+i, a, want)
		}
		if a.Auction.Seller < FirstPersonID || a.Auction.Category < FirstCategoryID || a.Auction.Category >= FirstCategoryID+numCategories {
			t.Fatalf("auction %+v: seller or category out of range", a.Auction)
		}
	}
	if p2 := g.Event(50); p2.Person == nil || p2.Person.ID != 1001 {
		t.Fatalf("event 50 = %+v, want person 1001", p2)
	}
	// 10,000 events/s: event 10,000 is one second after event 0.
	if ts := g.Event(10_000).Timestamp(); ts != g.Config().BaseTime+1000 {
		t.Fatalf("event 10000 at %d, want base+1000", ts)
	}
}

func TestHotKeysAndSizes(t *testing.T) {
	g := New(Config{})
	var bids, hotAuction, hotBidder, hotChannel, auctions, hotSeller int
	var bidSize, auctionSize, personSize, persons int
	for i := range int64(events) {
		e := g.Event(i)
		id := g.c.FirstEventID + i
		switch e.Kind {
		case KindBid:
			b := e.Bid
			bids++
			if b.Auction-FirstAuctionID == g.lastAuctionID(id)/hotAuctionBatch*hotAuctionBatch {
				hotAuction++
			}
			if b.Bidder-FirstPersonID == g.lastPersonID(id)/hotBidderBatch*hotBidderBatch+1 {
				hotBidder++
			}
			for _, c := range hotChannels {
				if b.Channel == c {
					hotChannel++
				}
			}
			if b.Auction > g.lastAuctionID(id)+FirstAuctionID+auctionIDLead || b.Bidder > g.lastPersonID(id)+FirstPersonID+personIDLead {
				t.Fatalf("bid %d names an auction or bidder too far ahead: %+v", i, b)
			}
			bidSize += 8 + 8 + 8 + 8 + len(b.Extra)
		case KindAuction:
			a := e.Auction
			auctions++
			if a.Seller-FirstPersonID == g.lastPersonID(id)/hotSellerBatch*hotSellerBatch {
				hotSeller++
			}
			if a.Reserve < a.InitialBid || a.Expires <= a.DateTime {
				t.Fatalf("auction %+v: reserve below initial bid or expired", a)
			}
			auctionSize += 8 + len(a.ItemName) + len(a.Description) + 5*8 + len(a.Extra)
		case KindPerson:
			p := e.Person
			persons++
			personSize += 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State) + len(p.Extra)
		}
	}
	// A random (cold) choice lands on the hot key about one time in a hundred, hence the upper
	// margins.
	ratio := func(name string, got, of int, want, tol float64) {
		t.Helper()
		f := float64(got) / float64(of)
		if math.Abs(f-want) > tol {
			t.Errorf("%s: %.4f, want %.4f ± %.4f", name, f, want, tol)
		} else {
			t.Logf("%s: %.4f (want %.4f)", name, f, want)
		}
	}
	ratio("hot auctions (1-1/2)", hotAuction, bids, 0.5+0.5/100, 0.01)
	ratio("hot bidders (1-1/4)", hotBidder, bids, 0.75+0.25/1000, 0.01)
	ratio("hot sellers (1-1/4)", hotSeller, auctions, 0.75+0.25/1000, 0.01)
	ratio("hot channels (1-1/2)", hotChannel, bids, 0.5, 0.01)
	ratio("bid size / 100", bidSize, bids*100, 1, 0.01)
	ratio("auction size / 500", auctionSize, auctions*500, 1, 0.01)
	ratio("person size / 200", personSize, persons*200, 1, 0.02)
}

func TestDeterministic(t *testing.T) {
	g, g2 := New(Config{}), New(Config{})
	const n = 20_000
	want := make([]Event, n)
	for i := range want {
		want[i] = g.Event(int64(i))
	}
	// The same ids from another generator, backwards, on four goroutines.
	var wg sync.WaitGroup
	got := make([]Event, n)
	for w := range 4 {
		wg.Go(func() {
			for i := n - 1 - w; i >= 0; i -= 4 {
				got[i] = g2.Event(int64(i))
			}
		})
	}
	wg.Wait()
	for i := range want {
		if !reflect.DeepEqual(want[i], got[i]) || string(want[i].JSON()) != string(got[i].JSON()) {
			t.Fatalf("event %d differs: %+v and %+v", i, want[i], got[i])
		}
	}
	if reflect.DeepEqual(g.Event(53), g.Event(54)) {
		t.Fatal("two bids are equal")
	}
}

func TestOutOfOrder(t *testing.T) {
	g := New(Config{OutOfOrderGroupSize: 1000})
	seen := map[int64]bool{}
	inOrder := true
	last := int64(-1)
	for i := range int64(1000) {
		ts := g.Event(i).Timestamp()
		if ts < last {
			inOrder = false
		}
		last = ts
		seen[g.adjusted(i)] = true
	}
	if len(seen) != 1000 || inOrder {
		t.Fatalf("a group of 1000 is not a reordering of itself: %d distinct, in order %v", len(seen), inOrder)
	}
}
