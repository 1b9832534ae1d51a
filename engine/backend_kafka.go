package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/runtime"
)

// kafkaBackend is the server's backend: topics and records on a Kafka cluster through franz-go, the
// command log in the command topic (commands.go), and each persistent query a runtime.App of its own
// running until it is stopped or the engine's context ends.
type kafkaBackend struct {
	e         *Engine
	bootstrap []string
	cl        *kgo.Client // produces commands and INSERT VALUES records
	adm       *kadm.Client

	mu struct {
		sync.Mutex
		// applied is the offset after the last applied command; cond is signalled when it moves
		// and when the log is closed.
		applied int64
		cond    *sync.Cond
		results map[int64]commandResult
		closed  bool
	}
}

func newKafkaBackend(e *Engine, bootstrap []string) (*kafkaBackend, error) {
	// MetadataMinAge is Kafka's retry.backoff.ms rather than franz-go's 5 s: a statement that meets a
	// topic deleted and created again (UNKNOWN_TOPIC_ID) waits that long for fresh metadata before it
	// can write, and INSERT VALUES is interactive.
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(0), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	k := &kafkaBackend{e: e, bootstrap: bootstrap, cl: cl, adm: kadm.NewClient(cl)}
	k.mu.cond = sync.NewCond(&k.mu.Mutex)
	k.mu.results = map[int64]commandResult{}
	return k, nil
}

var errTopicExists = kerr.TopicAlreadyExists

// retriable reports whether creating a topic should be tried again: a Kafka error the protocol
// marks retriable, or any other error short of a closed client, which is the cluster not answering
// yet (connection refused, a timeout) while it starts.
func retriable(err error) bool {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable
	}
	return !errors.Is(err, kgo.ErrClientClosed)
}

func (k *kafkaBackend) topicPartitions(ctx context.Context, topic string) (int32, bool, error) {
	// Ask the cluster every time: the client's metadata cache lags behind a topic deleted and created
	// again, and a statement must see the topic as it is.
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, k.cl)
	if err != nil {
		return 0, false, fmt.Errorf("engine: describing topic %s: %w", topic, err)
	}
	for _, t := range resp.Topics {
		// A topic has partitions: an answer without any (the client's view of an unknown topic) is none.
		if t.Topic != nil && *t.Topic == topic && t.ErrorCode == 0 && len(t.Partitions) > 0 {
			return int32(len(t.Partitions)), true, nil
		}
	}
	return 0, false, nil
}

// createTopic creates topic unless it exists; it waits until the cluster knows it.
func (k *kafkaBackend) createTopic(ctx context.Context, topic string, partitions int32, configs map[string]*string) error {
	for {
		resp, err := k.adm.CreateTopic(ctx, partitions, k.e.cfg.replication, configs, topic)
		if err == nil {
			err = resp.Err
		}
		if err == nil || errors.Is(err, errTopicExists) {
			return nil
		}
		if !retriable(err) || ctx.Err() != nil {
			return err
		}
		k.e.log.Info("waiting for the Kafka cluster", "topic", topic, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (k *kafkaBackend) deleteTopic(ctx context.Context, topic string) error {
	_, err := k.adm.DeleteTopics(ctx, topic)
	return err
}

func (k *kafkaBackend) topics(ctx context.Context) ([]topicInfo, error) {
	listed, err := k.adm.ListTopics(ctx)
	if err != nil {
		return nil, err
	}
	var out []topicInfo
	for _, t := range listed.Sorted() {
		// The listing can hold names the client asked about that do not exist, with their error.
		if t.Err == nil {
			out = append(out, topicInfo{name: t.Topic, partitions: int32(len(t.Partitions))})
		}
	}
	return out, nil
}

func (k *kafkaBackend) produce(ctx context.Context, r runtime.RawRecord) error {
	rec := &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Timestamp: time.UnixMilli(r.Timestamp)}
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	err := k.cl.ProduceSync(ctx, rec).FirstErr()
	if errors.Is(err, kerr.UnknownTopicID) || errors.Is(err, kerr.UnknownTopicOrPartition) {
		// The topic was deleted and created again since the client last saw it: forget what the client
		// knows of it and try once more.
		k.cl.PurgeTopicsFromClient(r.Topic)
		rec.Partition = 0
		err = k.cl.ProduceSync(ctx, rec).FirstErr()
	}
	return err
}

func (k *kafkaBackend) now() time.Time { return time.Now() }

// appOpts are the options of a query's App: the engine's options for every query runtime, and the
// cluster, local state and consumer settings, with the query's properties on top of the server's.
func (k *kafkaBackend) appOpts(appID, stateDir string, props map[string]string) []runtime.Opt {
	e := k.e
	opts := append(e.queryOpts(appID, props),
		runtime.Bootstrap(k.bootstrap...),
		runtime.StateDir(stateDir),
		runtime.CommitInterval(e.cfg.commitInterval),
		runtime.ReplicationFactor(e.cfg.replication),
	)
	if e.cfg.advertised != "" {
		opts = append(opts, runtime.ApplicationServer(e.cfg.advertised))
	}
	// The session timeout bounds how long a dead server's tasks wait to move (ksqlDB's
	// ksql.streams.session.timeout.ms).
	session := e.cfg.sessionTimeout
	if ms, ok := intProperty(props, e.cfg.props, "session.timeout.ms", 1); ok {
		session = time.Duration(ms) * time.Millisecond
	}
	opts = append(opts, runtime.SessionTimeout(session))
	if session < 10*time.Second {
		opts = append(opts, runtime.HeartbeatInterval(session/5))
	}
	if n, ok := intProperty(props, e.cfg.props, "num.stream.threads", 1); ok {
		opts = append(opts, runtime.NumStreamThreads(int(n)))
	}
	// Standby replicas keep warm copies of a query's state on other servers, so that a failover
	// restores only the changelog's tail (Kafka Streams' num.standby.replicas).
	if n, ok := intProperty(props, e.cfg.props, "num.standby.replicas", 1); ok {
		opts = append(opts, runtime.StandbyReplicas(int(n)))
	}
	if ms, ok := intProperty(props, e.cfg.props, "commit.interval.ms", 0); ok {
		opts = append(opts, runtime.CommitInterval(time.Duration(ms)*time.Millisecond))
	}
	reset := kgo.NewOffset().AtEnd()
	if e.fromStart(props) {
		reset = kgo.NewOffset().AtStart()
	}
	return append(opts, runtime.ClientOpts(kgo.ConsumeResetOffset(reset)))
}

// newQueryApp returns the App of persistent query q, with the processing guarantee its properties
// ask for. Statements had their guarantee checked when they ran; a bad server setting fails here.
func (k *kafkaBackend) newQueryApp(q *persistentQuery) (*runtime.App, error) {
	e := k.e
	g, deprecated, err := guaranteeProperty(q.props, e.cfg.props)
	if err != nil {
		return nil, err
	}
	if deprecated {
		e.log.Warn("deprecated processing.guarantee; the query runs with exactly_once_v2", "query", q.id,
			"processing.guarantee", property(q.props, e.cfg.props, "processing.guarantee"))
	}
	opts := append(k.appOpts(e.appID(q.id), e.queryDir(q.id), q.props), runtime.ProcessingGuarantee(g))
	return runtime.New(q.topo, opts...)
}

// startQuery runs q's App in the background until the engine stops or the query is stopped.
func (k *kafkaBackend) startQuery(_ context.Context, q *persistentQuery) {
	e := k.e
	app, err := k.newQueryApp(q)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		q.mu.state, q.mu.err = "ERROR", err
		e.log.Error("query failed to start", "query", q.id, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	q.mu.app, q.mu.cancel, q.mu.state, q.mu.done = app, cancel, "RUNNING", make(chan struct{})
	q.mu.started = time.Now()
	done := q.mu.done
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		err := app.Run(ctx)
		q.mu.Lock()
		defer q.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			q.mu.state, q.mu.err = "ERROR", err
			e.log.Error("query stopped with an error", "query", q.id, "err", err)
			e.metrics.queryErrors.Inc()
			return
		}
		if q.mu.state == "RUNNING" {
			q.mu.state = "TERMINATED"
		}
	}()
}

func (k *kafkaBackend) stopQuery(q *persistentQuery, drop bool) {
	q.mu.Lock()
	cancel, done := q.mu.cancel, q.mu.done
	q.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if !drop {
		return
	}
	if err := os.RemoveAll(k.e.queryDir(q.id)); err != nil {
		k.e.log.Warn("removing a terminated query's state", "query", q.id, "err", err)
	}
	ctx, c := context.WithTimeout(context.Background(), 10*time.Second)
	defer c()
	if _, err := k.adm.DeleteGroup(ctx, k.e.appID(q.id)); err != nil {
		k.e.log.Debug("deleting a terminated query's group", "query", q.id, "err", err)
	}
}

func (k *kafkaBackend) close() {
	k.closeLog()
	k.cl.Close()
}
