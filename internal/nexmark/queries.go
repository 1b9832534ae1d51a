package nexmark

import (
	"github.com/seichedb/seiche/dsl"
)

// Query is one Nexmark query: in Seiche SQL, and (where DSL is set) as a Go DSL program that writes
// the same rows to the same topic.
type Query struct {
	Name string
	// Reads are the input topics the query reads.
	Reads []string
	// SQL holds the query's statements, run after DDL; the last one writes Output.
	SQL string
	// Sinks are the topics the statements write, intermediate ones first, Output last.
	Sinks []string
	// Table says the output is a table's changelog: the result is the last row per key.
	Table bool
	// DSL builds the Go DSL program; nil when the query has none.
	DSL func() *dsl.Builder
}

// Output is the topic the query's result goes to.
func (q Query) Output() string { return q.Sinks[len(q.Sinks)-1] }

var (
	readBids     = []string{"bid"}
	readAuctions = []string{"person", "auction"}
	readBidsAuct = []string{"auction", "bid"}
)

// Queries are the Nexmark queries Seiche SQL expresses, as the standard has them
// (nexmark-flink/src/main/resources/queries), in ksqlDB's dialect. Where a query differs from the
// standard's, its comment says how and why.
var Queries = []Query{
	{
		// q0, pass-through: the cost of reading and writing a bid.
		Name: "q0", Reads: readBids, Sinks: []string{"Q0"}, DSL: q0DSL,
		SQL: "CREATE STREAM q0 AS SELECT auction, bidder, price, dateTime, extra FROM bid;",
	},
	{
		// q1, currency conversion: each price from dollars to euros, as DECIMAL (Flink's
		// DECIMAL(23, 3)).
		Name: "q1", Reads: readBids, Sinks: []string{"Q1"}, DSL: q1DSL,
		SQL: "CREATE STREAM q1 AS SELECT auction, bidder, 0.908 * price AS price, dateTime, extra FROM bid;",
	},
	{
		// q2, selection: the bids on every 123rd auction (the standard's MOD(auction, 123) = 0).
		Name: "q2", Reads: readBids, Sinks: []string{"Q2"}, DSL: q2DSL,
		SQL: "CREATE STREAM q2 AS SELECT auction, price FROM bid WHERE auction % 123 = 0;",
	},
	{
		// q3, local item suggestion: who sells in category 10 in Oregon, Idaho or California. The
		// standard joins two unbounded streams; here people are a table (person_t) and each auction
		// meets its seller as the table holds them when it arrives, ksqlDB's stream-table join. The
		// join key, the seller, is the output's key.
		Name: "q3", Reads: readAuctions, Sinks: []string{"Q3"}, DSL: q3DSL,
		SQL: `CREATE STREAM q3 AS SELECT A.seller AS seller, P.name AS name, P.city AS city, P.state AS state, A.id AS id
  FROM auction A JOIN person_t P ON A.seller = P.id
  WHERE A.category = 10 AND (P.state = 'OR' OR P.state = 'ID' OR P.state = 'CA');`,
	},
	{
		// q4, average closing price per category: the highest bid of each auction while it is open,
		// averaged per category. An auction lasts at most twice the time it takes to create
		// NumInFlightAuctions (100) more, 334 ms of event time at the standard rate, so a join window
		// of ten seconds after the auction holds every bid that can count down to 350 events/s.
		Name: "q4", Reads: readBidsAuct, Sinks: []string{"Q4_MAX", "Q4"}, Table: true, DSL: q4DSL,
		SQL: `CREATE TABLE q4_max WITH (key_format='JSON') AS
  SELECT A.id AS id, A.category AS category, MAX(B.price) AS final
  FROM auction A JOIN bid B WITHIN (0 SECONDS, 10 SECONDS) GRACE PERIOD 0 SECONDS ON A.id = B.auction
  WHERE B.dateTime BETWEEN A.dateTime AND A.expires GROUP BY A.id, A.category;
CREATE TABLE q4 AS SELECT category, AVG(final) AS avg, AS_VALUE(category) AS cat FROM q4_max GROUP BY category;`,
	},
	{
		// q5, hot items: the number of bids on the most bid-on auction of each 10-second window
		// hopping every 2 seconds. The standard also names that auction by joining the window's
		// counts with their maximum; Seiche SQL has neither an aggregate that returns another
		// column of the row with the maximum nor a join of a windowed table with a table on a
		// column, so the result is the maximum count per window.
		Name: "q5", Reads: readBids, Sinks: []string{"Q5_COUNTS", "Q5"}, Table: true, DSL: q5DSL,
		SQL: `CREATE TABLE q5_counts AS SELECT auction, COUNT(*) AS num, WINDOWSTART AS starttime FROM bid
  WINDOW HOPPING (SIZE 10 SECONDS, ADVANCE BY 2 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY auction EMIT FINAL;
CREATE STREAM q5_c (num BIGINT, starttime BIGINT) WITH (kafka_topic='Q5_COUNTS', value_format='JSON');
CREATE TABLE q5 AS SELECT starttime, MAX(num) AS maxn, AS_VALUE(starttime) AS st FROM q5_c GROUP BY starttime;`,
	},
	{
		// q7, highest bid: the bids with the highest price of each 10-second tumbling window. The
		// window's maximum (an EMIT FINAL table, one row per window) is read back as a stream and
		// joined with the bids on the price, within the window.
		Name: "q7", Reads: readBids, Sinks: []string{"Q7_MAX", "Q7"}, DSL: q7DSL,
		SQL: `CREATE TABLE q7_max AS SELECT 1 AS k, MAX(price) AS maxprice, WINDOWSTART AS starttime FROM bid
  WINDOW TUMBLING (SIZE 10 SECONDS, GRACE PERIOD 0 SECONDS) GROUP BY 1 EMIT FINAL;
CREATE STREAM q7_m (maxprice BIGINT, starttime BIGINT) WITH (kafka_topic='Q7_MAX', value_format='JSON');
CREATE STREAM q7 AS SELECT B.price AS price, B.auction AS auction, B.bidder AS bidder, B.dateTime AS dateTime, B.extra AS extra
  FROM bid B JOIN q7_m M WITHIN 20 SECONDS GRACE PERIOD 0 SECONDS ON B.price = M.maxprice
  WHERE B.dateTime >= M.starttime AND B.dateTime < M.starttime + 10000;`,
	},
	{
		// q8, monitor new users: the people who opened an auction in the 10-second tumbling window
		// they registered in. The standard joins two windowed GROUP BYs; here a person and each of
		// their auctions meet in a stream-stream join and are kept when both fall in the same
		// window, and the table keeps one row per person and window.
		Name: "q8", Reads: readAuctions, Sinks: []string{"Q8_PAIRS", "Q8"}, Table: true, DSL: q8DSL,
		SQL: `CREATE STREAM q8_pairs AS SELECT P.id AS id, P.name AS name, (P.dateTime / 10000) * 10000 AS starttime
  FROM person P JOIN auction A WITHIN 10 SECONDS GRACE PERIOD 0 SECONDS ON P.id = A.seller
  WHERE P.dateTime / 10000 = A.dateTime / 10000;
CREATE TABLE q8 WITH (key_format='JSON') AS SELECT id, starttime, LATEST_BY_OFFSET(name) AS name,
  AS_VALUE(id) AS pid, AS_VALUE(starttime) AS st FROM q8_pairs GROUP BY id, starttime;`,
	},
}

// QueryNamed returns the query called name.
func QueryNamed(name string) (Query, bool) {
	for _, q := range Queries {
		if q.Name == name {
			return q, true
		}
	}
	return Query{}, false
}
