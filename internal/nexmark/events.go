package nexmark

import (
	"encoding/binary"
	goruntime "runtime"
	"slices"
	"sync"

	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/runtime"
)

// DDL declares the three Nexmark topics as the Flink and RisingWave Nexmark schemas do, in ksqlDB's
// dialect: JSON values with dateTime as ms since the epoch (records carry it as their timestamp, so
// every query runs in event time). People and auctions are keyed by their id (KAFKA BIGINT: eight
// bytes, big-endian); bids have no key. person_t is the people as a table, for stream-table joins.
const DDL = `CREATE STREAM person (id BIGINT KEY, name STRING, emailAddress STRING, creditCard STRING, city STRING,
  state STRING, dateTime BIGINT, extra STRING) WITH (kafka_topic='person', value_format='JSON');
CREATE TABLE person_t (id BIGINT PRIMARY KEY, name STRING, emailAddress STRING, creditCard STRING, city STRING,
  state STRING, dateTime BIGINT, extra STRING) WITH (kafka_topic='person', value_format='JSON');
CREATE STREAM auction (id BIGINT KEY, itemName STRING, description STRING, initialBid BIGINT, reserve BIGINT,
  dateTime BIGINT, expires BIGINT, seller BIGINT, category BIGINT, extra STRING)
  WITH (kafka_topic='auction', value_format='JSON');
CREATE STREAM bid (auction BIGINT, bidder BIGINT, price BIGINT, channel STRING, url STRING, dateTime BIGINT,
  extra STRING) WITH (kafka_topic='bid', value_format='JSON');
`

// noRetention is the topic config default of the brokers the runner measures on: no time-based
// retention. The events are timestamped from 2015 (gen.Config.BaseTime), far older than the default
// retention.ms of seven days, so under it the broker deletes input, intermediate and output records
// on its next retention pass (every 30 s) whether or not they have been read: a query behind by then
// skips them (OFFSET_OUT_OF_RANGE, then the reset offset) and its group never commits past them.
var noRetention = map[string]string{"retention.ms": "-1"}

// Topics are the input topics, one per kind of event.
var Topics = []string{gen.KindPerson.Topic(), gen.KindAuction.Topic(), gen.KindBid.Topic()}

// Record returns event e as the record its topic holds.
func Record(e gen.Event) runtime.RawRecord {
	r := runtime.RawRecord{Topic: e.Kind.Topic(), Value: e.JSON(), Timestamp: e.Timestamp()}
	switch e.Kind {
	case gen.KindPerson:
		r.Key = binary.BigEndian.AppendUint64(nil, uint64(e.Person.ID))
	case gen.KindAuction:
		r.Key = binary.BigEndian.AppendUint64(nil, uint64(e.Auction.ID))
	}
	return r
}

// Generate returns the records of events [0, n) whose topic is among topics, in event order,
// generated on all cores.
func Generate(g *gen.Generator, n int64, topics []string) []runtime.RawRecord {
	workers := int64(goruntime.GOMAXPROCS(0))
	parts := make([][]runtime.RawRecord, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			lo, hi := n*w/workers, n*(w+1)/workers
			for i := lo; i < hi; i++ {
				if !slices.Contains(topics, g.KindOf(i).Topic()) {
					continue
				}
				parts[w] = append(parts[w], Record(g.Event(i)))
			}
		})
	}
	wg.Wait()
	return slices.Concat(parts...)
}
