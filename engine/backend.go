package engine

import (
	"context"
	"time"

	"github.com/seichedb/seiche/runtime"
)

// backend is where an engine's statements take effect outside the engine: topics and their records,
// the command log, and the runtime of persistent queries. Everything else a statement does
// (parsing, analysis, validation, the metastore, planning, naming queries, the answer) is the
// engine's, the same whichever backend it runs on.
//
// The server's backend is kafkaBackend: a Kafka cluster through franz-go, a command topic read by a
// command runner, queries as runtime.Apps. TestSession's is driverBackend: topics in memory,
// commands applied as they are appended, each query on a runtime.TestDriver, all synchronous on the
// caller's goroutine.
type backend interface {
	// topicPartitions returns topic's partition count; exists is false when there is no such topic.
	// An error means the backend could not be asked.
	topicPartitions(ctx context.Context, topic string) (n int32, exists bool, err error)
	// createTopic creates topic unless it exists, and returns once it can be written.
	createTopic(ctx context.Context, topic string, partitions int32, configs map[string]*string) error
	// deleteTopic deletes topic (DROP ... DELETE TOPIC).
	deleteTopic(ctx context.Context, topic string) error
	// topics lists the topics, sorted by name.
	topics(ctx context.Context) ([]topicInfo, error)
	// produce writes r to r.Topic (INSERT VALUES). It returns once the record is written; on a
	// driverBackend, once every query has processed it and what it led to.
	produce(ctx context.Context, r runtime.RawRecord) error
	// now is the time of a record inserted without a ROWTIME.
	now() time.Time

	// appendCommand appends c to the command log and returns its offset and what applying it did,
	// once the engine has applied it (Engine.apply).
	appendCommand(ctx context.Context, c command) (int64, commandResult, error)
	// waitApplied waits until every command appended before the call has been applied.
	waitApplied(ctx context.Context) error

	// startQuery starts q's runtime. A query that cannot start is left in state ERROR: the statement
	// that created it still succeeded, as in ksqlDB.
	startQuery(ctx context.Context, q *persistentQuery)
	// stopQuery stops q's runtime and waits for it. With drop it also removes what q keeps outside
	// the engine (local state, consumer group): the query is terminated for good.
	stopQuery(q *persistentQuery, drop bool)
	// close releases the backend; the engine has stopped every query.
	close()
}

// topicInfo is a topic as SHOW TOPICS lists it.
type topicInfo struct {
	name       string
	partitions int32
}
