// Package gen generates the Nexmark benchmark's events (people, auctions and bids of an online
// auction site) as the standard generator does: the Beam/Flink NexmarkGenerator
// (nexmark/nexmark, nexmark-flink) and risingwavelabs/nexmark-rs. It keeps their populations,
// proportions, hot-key ratios, id offsets, value distributions, average sizes and event-time
// schedule, so that query results have the same shape as theirs.
//
// Every event is a function of its event number alone: the random choices for event n come from a
// generator seeded with n's event id (as Beam and nexmark-rs seed theirs), never from state carried
// between events. Any range of events can be generated on its own, in any order, by any number of
// goroutines, and gives the same events. The random sequence itself (splitmix64) is not Java's or
// Rust's, so the events are not byte-for-byte theirs; the distributions are.
//
// A Generator is immutable and safe for concurrent use.
package gen

import (
	"encoding/json"
	"math"
	"strconv"
)

// The standard's id bases, chosen so that queries find matches in small data sets.
const (
	FirstPersonID   = 1000
	FirstAuctionID  = 1000
	FirstCategoryID = 10
)

// Fixed parameters of the standard generator (constants in Flink's AuctionGenerator, PersonGenerator
// and BidGenerator).
const (
	numCategories   = 5
	auctionIDLead   = 10  // yet-to-be-created auction ids a bid may name
	personIDLead    = 10  // yet-to-be-created person ids an auction or bid may name
	hotSellerBatch  = 100 // a hot seller is the first person of the last 100
	hotAuctionBatch = 100 // a hot auction is the first auction of the last 100
	hotBidderBatch  = 100 // a hot bidder is the second person of the last 100
	numChannels     = 10_000
	minStringLen    = 3
)

// Config sets the generator's parameters. A zero field takes the standard's default (in
// parentheses), so the zero Config is the standard configuration.
type Config struct {
	// PersonProportion, AuctionProportion and BidProportion are how many of each kind of event
	// there are in every PersonProportion+AuctionProportion+BidProportion events (1, 3, 46).
	PersonProportion, AuctionProportion, BidProportion int64
	// NumActivePeople is how many of the latest people auctions and bids choose from (1000).
	NumActivePeople int64
	// NumInFlightAuctions is how many of the latest auctions bids choose from, and sets the
	// average auction length (100).
	NumInFlightAuctions int64
	// HotSellersRatio, HotAuctionRatio and HotBiddersRatio: an auction's seller is a hot seller
	// with probability 1-1/HotSellersRatio (4), a bid's auction a hot auction with probability
	// 1-1/HotAuctionRatio (2), a bid's bidder a hot bidder with probability 1-1/HotBiddersRatio (4).
	HotSellersRatio, HotAuctionRatio, HotBiddersRatio int64
	// HotChannelRatio: a bid comes from one of four hot channels with probability
	// 1-1/HotChannelRatio (2), else from one of 10,000 others.
	HotChannelRatio int64
	// AvgPersonByteSize, AvgAuctionByteSize and AvgBidByteSize are the average idealised sizes
	// the extra field pads events to (200, 500, 100).
	AvgPersonByteSize, AvgAuctionByteSize, AvgBidByteSize int
	// EventsPerSecond is the event-time rate: event n has dateTime BaseTime + n/rate (10,000).
	EventsPerSecond float64
	// NumEventGenerators is the number of generators sharing EventsPerSecond, each on its own
	// timeline (1).
	NumEventGenerators int64
	// OutOfOrderGroupSize: events are emitted in a pseudo-random order within each group of this
	// many (1: in order).
	OutOfOrderGroupSize int64
	// BaseTime is the dateTime of event 0, in ms since the epoch (0 means 2015-07-15T00:00:00Z,
	// the Beam generator's default).
	BaseTime int64
	// FirstEventID is added to every event number to give its event id, the seed of its data (0).
	FirstEventID int64
}

// Generator computes events from their numbers.
type Generator struct {
	c                 Config
	total             int64
	interEventDelayUs float64
	hotURLs           [4]string
	channels          []channel
}

type channel struct{ name, url string }

var hotChannels = [4]string{"Google", "Facebook", "Baidu", "Apple"}

var (
	usStates   = []string{"AZ", "CA", "ID", "OR", "WA", "WY"}
	usCities   = []string{"Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"}
	firstNames = []string{"Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"}
	lastNames  = []string{"Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"}
)

// New returns a generator for c, its zero fields set to the standard's defaults.
func New(c Config) *Generator {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	defInt := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.PersonProportion <= 0 && c.AuctionProportion <= 0 && c.BidProportion <= 0 {
		c.PersonProportion, c.AuctionProportion, c.BidProportion = 1, 3, 46
	}
	def(&c.PersonProportion, 1)
	def(&c.AuctionProportion, 1)
	def(&c.BidProportion, 1)
	def(&c.NumActivePeople, 1000)
	def(&c.NumInFlightAuctions, 100)
	def(&c.HotSellersRatio, 4)
	def(&c.HotAuctionRatio, 2)
	def(&c.HotBiddersRatio, 4)
	def(&c.HotChannelRatio, 2)
	defInt(&c.AvgPersonByteSize, 200)
	defInt(&c.AvgAuctionByteSize, 500)
	defInt(&c.AvgBidByteSize, 100)
	if c.EventsPerSecond <= 0 {
		c.EventsPerSecond = 10_000
	}
	def(&c.NumEventGenerators, 1)
	def(&c.OutOfOrderGroupSize, 1)
	if c.BaseTime == 0 {
		c.BaseTime = 1436918400000 // 2015-07-15T00:00:00Z
	}
	g := &Generator{
		c:                 c,
		total:             c.PersonProportion + c.AuctionProportion + c.BidProportion,
		interEventDelayUs: 1e6 / c.EventsPerSecond * float64(c.NumEventGenerators),
	}
	for i := range g.hotURLs {
		r := newRNG(uint64(i))
		g.hotURLs[i] = baseURL(&r)
	}
	// The other channels, as Flink's BidGenerator and nexmark-rs build them: channel-i, with a
	// channel_id parameter on nine in ten of their urls.
	g.channels = make([]channel, numChannels)
	for i := range g.channels {
		r := newRNG(uint64(i))
		url := baseURL(&r)
		if r.intn(10) > 0 {
			url += "&channel_id=" + strconv.FormatInt(int64(math.Abs(float64(reverse32(int32(i))))), 10)
		}
		g.channels[i] = channel{name: "channel-" + strconv.Itoa(i), url: url}
	}
	return g
}

// Config returns the generator's configuration, its defaults filled in.
func (g *Generator) Config() Config { return g.c }

// Kind is the kind of an event.
type Kind int8

const (
	KindPerson Kind = iota
	KindAuction
	KindBid
)

// Topic is the topic events of k go to: person, auction or bid.
func (k Kind) Topic() string {
	switch k {
	case KindPerson:
		return "person"
	case KindAuction:
		return "auction"
	default:
		return "bid"
	}
}

// Person is a person who sells or bids. Field names are the Flink and RisingWave Nexmark schemas';
// DateTime is ms since the epoch.
type Person struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	EmailAddress string `json:"emailAddress"`
	CreditCard   string `json:"creditCard"`
	City         string `json:"city"`
	State        string `json:"state"`
	DateTime     int64  `json:"dateTime"`
	Extra        string `json:"extra"`
}

// Auction is an item for sale.
type Auction struct {
	ID          int64  `json:"id"`
	ItemName    string `json:"itemName"`
	Description string `json:"description"`
	InitialBid  int64  `json:"initialBid"`
	Reserve     int64  `json:"reserve"`
	DateTime    int64  `json:"dateTime"`
	Expires     int64  `json:"expires"`
	Seller      int64  `json:"seller"`
	Category    int64  `json:"category"`
	Extra       string `json:"extra"`
}

// Bid is a bid on an auction; Price is in cents.
type Bid struct {
	Auction  int64  `json:"auction"`
	Bidder   int64  `json:"bidder"`
	Price    int64  `json:"price"`
	Channel  string `json:"channel"`
	URL      string `json:"url"`
	DateTime int64  `json:"dateTime"`
	Extra    string `json:"extra"`
}

// Event is one event: exactly one of Person, Auction and Bid is set, as Kind says.
type Event struct {
	Kind    Kind
	Person  *Person
	Auction *Auction
	Bid     *Bid
}

// Timestamp is the event's dateTime.
func (e Event) Timestamp() int64 {
	switch e.Kind {
	case KindPerson:
		return e.Person.DateTime
	case KindAuction:
		return e.Auction.DateTime
	default:
		return e.Bid.DateTime
	}
}

// adjusted is the event number that event n is emitted as: n itself, or with OutOfOrderGroupSize > 1
// a permutation of n's group (Flink's GeneratorConfig.nextAdjustedEventNumber).
func (g *Generator) adjusted(n int64) int64 {
	k := g.c.OutOfOrderGroupSize
	return (n/k)*k + (n*953)%k
}

// timestamp is the dateTime of the event numbered n.
func (g *Generator) timestamp(n int64) int64 {
	return g.c.BaseTime + int64(float64(n)*g.interEventDelayUs)/1000
}

// KindOf returns the kind of the n-th event without generating it.
func (g *Generator) KindOf(n int64) Kind {
	return g.kindOfID(g.c.FirstEventID + g.adjusted(n))
}

func (g *Generator) kindOfID(id int64) Kind {
	rem := id % g.total
	switch {
	case rem < g.c.PersonProportion:
		return KindPerson
	case rem < g.c.PersonProportion+g.c.AuctionProportion:
		return KindAuction
	default:
		return KindBid
	}
}

// Event returns the n-th event (n counts from 0). The same n always gives the same event.
func (g *Generator) Event(n int64) Event {
	adj := g.adjusted(n)
	id := g.c.FirstEventID + adj
	ts := g.timestamp(adj)
	r := newRNG(uint64(id))
	switch g.kindOfID(id) {
	case KindPerson:
		return Event{Kind: KindPerson, Person: g.person(id, &r, ts)}
	case KindAuction:
		return Event{Kind: KindAuction, Auction: g.auction(adj, id, &r, ts)}
	default:
		return Event{Kind: KindBid, Bid: g.bid(id, &r, ts)}
	}
}

func (g *Generator) person(id int64, r *rng, ts int64) *Person {
	p := &Person{ID: g.lastPersonID(id) + FirstPersonID, DateTime: ts}
	p.Name = firstNames[r.intn(int64(len(firstNames)))] + " " + lastNames[r.intn(int64(len(lastNames)))]
	p.EmailAddress = r.nextString(7, ' ') + "@" + r.nextString(5, ' ') + ".com"
	b := make([]byte, 0, 19)
	for i := range 4 {
		if i > 0 {
			b = append(b, ' ')
		}
		n := r.intn(10000)
		b = append(b, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
	}
	p.CreditCard = string(b)
	p.City = usCities[r.intn(int64(len(usCities)))]
	p.State = usStates[r.intn(int64(len(usStates)))]
	size := 8 + len(p.Name) + len(p.EmailAddress) + len(p.CreditCard) + len(p.City) + len(p.State)
	p.Extra = r.nextExtra(size, g.c.AvgPersonByteSize)
	return p
}

func (g *Generator) auction(n, id int64, r *rng, ts int64) *Auction {
	a := &Auction{ID: g.lastAuctionID(id) + FirstAuctionID, DateTime: ts}
	if r.intn(g.c.HotSellersRatio) > 0 {
		a.Seller = g.lastPersonID(id) / hotSellerBatch * hotSellerBatch
	} else {
		a.Seller = g.nextPersonID(id, r)
	}
	a.Seller += FirstPersonID
	a.Category = FirstCategoryID + r.intn(numCategories)
	a.InitialBid = r.price()
	// The auction lasts on average as long as it takes to create NumInFlightAuctions more.
	future := g.timestamp(n + g.c.NumInFlightAuctions*g.total/g.c.AuctionProportion)
	a.Expires = ts + 1 + r.intn(max((future-ts)*2, 1))
	a.ItemName = r.nextString(20, ' ')
	a.Description = r.nextString(100, ' ')
	a.Reserve = a.InitialBid + r.price()
	size := 8 + len(a.ItemName) + len(a.Description) + 8 + 8 + 8 + 8 + 8
	a.Extra = r.nextExtra(size, g.c.AvgAuctionByteSize)
	return a
}

func (g *Generator) bid(id int64, r *rng, ts int64) *Bid {
	b := &Bid{DateTime: ts}
	if r.intn(g.c.HotAuctionRatio) > 0 {
		b.Auction = g.lastAuctionID(id) / hotAuctionBatch * hotAuctionBatch
	} else {
		b.Auction = g.nextAuctionID(id, r)
	}
	b.Auction += FirstAuctionID
	if r.intn(g.c.HotBiddersRatio) > 0 {
		// The second person of the batch, so that hot bidders are not hot sellers.
		b.Bidder = g.lastPersonID(id)/hotBidderBatch*hotBidderBatch + 1
	} else {
		b.Bidder = g.nextPersonID(id, r)
	}
	b.Bidder += FirstPersonID
	if r.intn(g.c.HotChannelRatio) > 0 {
		i := r.intn(int64(len(hotChannels)))
		b.Channel, b.URL = hotChannels[i], g.hotURLs[i]
	} else {
		c := g.channels[r.intn(numChannels)]
		b.Channel, b.URL = c.name, c.url
	}
	b.Price = r.price()
	b.Extra = r.nextExtra(8+8+8+8, g.c.AvgBidByteSize)
	return b
}

// lastPersonID is the base-0 id of the last person created at or before event id.
func (g *Generator) lastPersonID(id int64) int64 {
	epoch, off := id/g.total, id%g.total
	if off >= g.c.PersonProportion {
		off = g.c.PersonProportion - 1
	}
	return epoch*g.c.PersonProportion + off
}

// lastAuctionID is the base-0 id of the last auction created at or before event id.
func (g *Generator) lastAuctionID(id int64) int64 {
	epoch, off := id/g.total, id%g.total
	switch {
	case off < g.c.PersonProportion:
		epoch--
		off = g.c.AuctionProportion - 1
	case off >= g.c.PersonProportion+g.c.AuctionProportion:
		off = g.c.AuctionProportion - 1
	default:
		off -= g.c.PersonProportion
	}
	return epoch*g.c.AuctionProportion + off
}

// nextPersonID is a random active person, or one of the few about to be created.
func (g *Generator) nextPersonID(id int64, r *rng) int64 {
	people := g.lastPersonID(id) + 1
	active := min(people, g.c.NumActivePeople)
	return people - active + r.intn(active+personIDLead)
}

// nextAuctionID is a random auction of those likely in flight, or one of the few about to be
// created.
func (g *Generator) nextAuctionID(id int64, r *rng) int64 {
	hi := g.lastAuctionID(id)
	lo := max(hi-g.c.NumInFlightAuctions, 0)
	return lo + r.intn(hi-lo+1+auctionIDLead)
}

func baseURL(r *rng) string {
	return "https://www.nexmark.com/" + r.nextString(5, '_') + "/" + r.nextString(5, '_') + "/" +
		r.nextString(5, '_') + "/item.htm?query=1"
}

func reverse32(v int32) int32 {
	u := uint32(v)
	var out uint32
	for range 32 {
		out = out<<1 | u&1
		u >>= 1
	}
	return int32(out)
}

// JSON returns the event as the JSON object its topic holds.
func (e Event) JSON() []byte {
	var v any
	switch e.Kind {
	case KindPerson:
		v = e.Person
	case KindAuction:
		v = e.Auction
	default:
		v = e.Bid
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of strings and integers always marshal
	}
	return b
}
