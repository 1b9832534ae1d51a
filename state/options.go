package state

import (
	"io"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Opt configures a DB.
type Opt interface{ applyDB(*dbConfig) }

type dbConfig struct {
	logger *slog.Logger
	pebble func(*pebble.Options)
}

type dbOpt func(*dbConfig)

func (f dbOpt) applyDB(c *dbConfig) { f(c) }

// Logger sets the logger for the DB and Pebble underneath it (Pebble's informational messages go
// to Debug). The default discards everything.
func Logger(l *slog.Logger) Opt {
	return dbOpt(func(c *dbConfig) { c.logger = l })
}

// PebbleOptions lets the caller tune Pebble (cache, memtable size, compaction concurrency) before the
// DB opens. The function must not replace the Logger or Lock; Open sets them after it runs.
func PebbleOptions(fn func(*pebble.Options)) Opt {
	return dbOpt(func(c *dbConfig) { c.pebble = fn })
}

func newDBConfig(opts []Opt) dbConfig {
	c := dbConfig{logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, o := range opts {
		o.applyDB(&c)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c
}

// TaskOpt configures a task.
type TaskOpt interface{ applyTask(*taskConfig) }

type taskConfig struct {
	changelog  Changelog
	partitions int32
	onRestore  func(RestoreProgress)
	standby    bool
	// cacheCap bounds every store's record cache when cacheCapSet (MaxCacheBytes).
	cacheCap    int64
	cacheCapSet bool
}

type taskOpt func(*taskConfig)

func (f taskOpt) applyTask(c *taskConfig) { f(c) }

// WithChangelog makes the task's stores logged: every change is produced through c to the store's
// changelog topic, and opening a store restores it from that topic. Without it, stores are local only.
func WithChangelog(c Changelog) TaskOpt {
	return taskOpt(func(t *taskConfig) { t.changelog = c })
}

// ChangelogPartitions is the partition count a missing changelog topic is created with (the
// partition count of the task's input topics). Zero, the default, creates nothing: the topics
// must exist. Topics are created only if the Changelog implements TopicCreator.
func ChangelogPartitions(n int32) TaskOpt {
	return taskOpt(func(t *taskConfig) { t.partitions = n })
}

// OnRestore sets the function told of restore progress: after every batch of records applied and
// once more with Done set. It runs on the goroutine opening the store.
func OnRestore(fn func(RestoreProgress)) TaskOpt {
	return taskOpt(func(t *taskConfig) { t.onRestore = fn })
}

// MaxCacheBytes bounds the record cache of every store opened on the task to n bytes, whatever
// its Caching option asks for; 0 turns caching off (every write goes straight through and reaches
// the flush listener at once). It is how an application's cache.max.bytes.buffering reaches its
// stores: Kafka Streams enables caching per store and sizes it from that one setting, so that 0
// disables every cache. Without this option each store has the cache its Caching option names.
func MaxCacheBytes(n int64) TaskOpt {
	return taskOpt(func(t *taskConfig) { t.cacheCap, t.cacheCapSet = max(n, 0), true })
}

// StoreOpt configures one store.
type StoreOpt interface{ applyStore(*storeConfig) }

type storeConfig struct {
	unlogged         bool
	cacheBytes       int64
	listener         FlushListener
	sendOldValues    bool
	retainDuplicates bool
	segmentInterval  time.Duration
}

type storeOpt func(*storeConfig)

func (f storeOpt) applyStore(c *storeConfig) { f(c) }

// WithoutLogging keeps the store local even when its task has a changelog: nothing is produced and
// nothing restored. Its contents survive restarts on the same disk only.
func WithoutLogging() StoreOpt {
	return storeOpt(func(c *storeConfig) { c.unlogged = true })
}

// Caching puts a record cache of at most maxBytes (keys plus values) in front of the store. Writes
// to the same key coalesce in the cache; dirty entries are written to the store, its changelog
// and the flush listener when the cache evicts them and at every Flush or Commit. Zero (the default)
// means no cache: every write goes straight through and reaches the listener at once.
func Caching(maxBytes int64) StoreOpt {
	return storeOpt(func(c *storeConfig) { c.cacheBytes = maxBytes })
}

// OnFlush sets the listener told of every change that leaves the cache (every change, when there is
// no cache), in the order the changes were last made. The runtime forwards these downstream.
func OnFlush(l FlushListener) StoreOpt {
	return storeOpt(func(c *storeConfig) { c.listener = l })
}

// SendOldValues makes flushed changes carry the value they replace (Change.OldValue), at the cost of
// a read per flushed change. KTable aggregations downstream of a table need it.
func SendOldValues() StoreOpt {
	return storeOpt(func(c *storeConfig) { c.sendOldValues = true })
}

// RetainDuplicates makes a window store keep every value put for the same key and window (stream-
// stream joins need this) instead of replacing it; a nil value is then ignored rather than deleting.
func RetainDuplicates() StoreOpt {
	return storeOpt(func(c *storeConfig) { c.retainDuplicates = true })
}

// SegmentInterval sets the time span of one segment of a window or session store: expired data is
// dropped one whole segment at a time. The default is max(retention/2, 1m), as in Kafka Streams.
func SegmentInterval(d time.Duration) StoreOpt {
	return storeOpt(func(c *storeConfig) { c.segmentInterval = d })
}
