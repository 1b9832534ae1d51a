package resttest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kafka is the runner's side door into the cluster: topics, producing inputs, reading outputs and
// watching consumer groups, as ksqlDB's runner uses its EmbeddedSingleNodeKafkaCluster.
type kafka struct {
	seeds []string
	cl    *kgo.Client
	adm   *kadm.Client
}

func newKafka(bootstrap string) (*kafka, error) {
	seeds := strings.Split(bootstrap, ",")
	// Inputs are produced in file order: one request in flight, without idempotence so that any
	// broker speaking the plain produce API will do.
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ClientID("seiche-resttest"),
		kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(1), kgo.ProducerLinger(0),
		kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		return nil, err
	}
	return &kafka{seeds: seeds, cl: cl, adm: kadm.NewClient(cl)}, nil
}

func (k *kafka) close() { k.cl.Close() }

// pollUntil calls fn every interval until it returns nil, ctx is done or deadline passes; it returns
// the last error fn returned then.
func pollUntil(ctx context.Context, deadline time.Time, interval time.Duration, fn func() error) error {
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(interval):
		}
	}
}

// existingTopics lists the cluster's topics, internal ones excluded. It asks the cluster every time:
// kadm's listings come from franz-go's metadata cache, which lags behind deletions.
func (k *kafka) existingTopics(ctx context.Context) (map[string]bool, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = nil // all topics
	req.AllowAutoTopicCreation = false
	resp, err := req.RequestWith(ctx, k.cl)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, t := range resp.Topics {
		if t.Topic != nil && t.ErrorCode == 0 && !t.IsInternal {
			out[*t.Topic] = true
		}
	}
	return out, nil
}

// deleteTopics deletes the topics that exist among names and waits until they are gone.
func (k *kafka) deleteTopics(ctx context.Context, names []string, deadline time.Time) error {
	if len(names) == 0 {
		return nil
	}
	exist, err := k.existingTopics(ctx)
	if err != nil {
		return err
	}
	var del []string
	for _, n := range names {
		if exist[n] {
			del = append(del, n)
		}
	}
	if len(del) == 0 {
		return nil
	}
	resps, err := k.adm.DeleteTopics(ctx, del...)
	if err != nil {
		return err
	}
	for _, r := range resps {
		if r.Err != nil && !errors.Is(r.Err, kerr.UnknownTopicOrPartition) {
			return fmt.Errorf("delete topic %s: %w", r.Topic, r.Err)
		}
	}
	return pollUntil(ctx, deadline, 20*time.Millisecond, func() error {
		exist, err := k.existingTopics(ctx)
		if err != nil {
			return err
		}
		for _, n := range del {
			if exist[n] {
				return fmt.Errorf("topic %s is still there after its deletion", n)
			}
		}
		return nil
	})
}

// createTopics creates each topic with its partitions (replication factor 1), retrying while an
// earlier deletion of the same name is still under way, as ksqlDB's runner does.
func (k *kafka) createTopics(ctx context.Context, topics map[string]int32, deadline time.Time) error {
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		err := pollUntil(ctx, deadline, 50*time.Millisecond, func() error {
			resp, err := k.adm.CreateTopic(ctx, topics[n], 1, nil, n)
			if err == nil {
				err = resp.Err
			}
			return err
		})
		if err != nil {
			return fmt.Errorf("create topic %s: %w", n, err)
		}
	}
	return nil
}

// produce writes the records in order and waits until all are acknowledged.
func (k *kafka) produce(ctx context.Context, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	return k.cl.ProduceSync(ctx, recs...).FirstErr()
}

// readTopic reads topic from its start until it has want records or deadline passes, then waits a
// little longer so that records beyond want are seen too (ksqlDB's ConsumerTestUtil polls once more
// after reaching the expected count).
func (k *kafka) readTopic(ctx context.Context, topic string, want int, deadline time.Time) ([]*kgo.Record, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.seeds...), kgo.ClientID("seiche-resttest"),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []*kgo.Record
	extra := time.Time{}
	for {
		now := time.Now()
		if (!extra.IsZero() && now.After(extra)) || now.After(deadline) {
			return out, nil
		}
		until := deadline
		if !extra.IsZero() {
			until = extra
		}
		pctx, cancel := context.WithDeadline(ctx, until)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		// Fetch errors (the topic not yet there, a leader move) are transient: polling retries them.
		fs.EachRecord(func(r *kgo.Record) { out = append(out, r) })
		if len(out) >= want && extra.IsZero() {
			extra = time.Now().Add(200 * time.Millisecond)
		}
	}
}

// errNoGroups says that the cluster has no consumer group with members while the server has
// persistent queries: they may not read through consumer groups at all.
var errNoGroups = errors.New("no consumer group with members")

// groupsCaughtUp reports whether the consumer groups of the running persistent queries have
// committed offsets at the end of every partition assigned to them (ksqlDB's
// waitForPersistentQueriesToProcessInputs, with the consumer groups found through the cluster
// instead of the engine). queryIDs are the persistent queries' ids: when group names contain them
// (as ksqlDB's application ids do), each must have a stable group; otherwise every group with
// members is watched and there must be at least as many as there are queries.
func (k *kafka) groupsCaughtUp(ctx context.Context, queryIDs []string) error {
	listed, err := k.adm.ListGroups(ctx)
	if err != nil {
		return err
	}
	var active []string
	for _, g := range listed.Sorted() {
		if g.State == "Empty" || g.State == "Dead" || (g.ProtocolType != "" && g.ProtocolType != "consumer") {
			continue
		}
		active = append(active, g.Group)
	}
	watch := active
	named := false
	for _, id := range queryIDs {
		for _, g := range listed.Sorted() {
			if strings.Contains(strings.ToLower(g.Group), strings.ToLower(id)) {
				named = true
			}
		}
	}
	if named {
		watch = nil
		for _, id := range queryIDs {
			found := false
			for _, g := range active {
				if strings.Contains(strings.ToLower(g), strings.ToLower(id)) {
					watch = append(watch, g)
					found = true
				}
			}
			if !found {
				return fmt.Errorf("query %s has no consumer group with members yet", id)
			}
		}
	} else if len(active) == 0 && len(queryIDs) > 0 {
		return fmt.Errorf("%d persistent queries: %w", len(queryIDs), errNoGroups)
	} else if len(active) < len(queryIDs) {
		return fmt.Errorf("%d persistent queries but %d consumer groups with members", len(queryIDs), len(active))
	}
	if len(watch) == 0 {
		return nil
	}
	lags, err := k.adm.Lag(ctx, watch...)
	if err != nil {
		return err
	}
	for _, g := range watch {
		l, ok := lags[g]
		if !ok {
			return fmt.Errorf("group %s: no lag reported", g)
		}
		if err := l.Error(); err != nil {
			return fmt.Errorf("group %s: %w", g, err)
		}
		if l.State != "Stable" {
			return fmt.Errorf("group %s is %s", g, l.State)
		}
		for _, ml := range l.Lag.Sorted() {
			if ml.Err != nil {
				return fmt.Errorf("group %s: %s[%d]: %w", g, ml.Topic, ml.Partition, ml.Err)
			}
			if ml.Lag > 0 {
				return fmt.Errorf("group %s: %s[%d] is %d records behind (committed %d, end %d)", g, ml.Topic, ml.Partition,
					ml.Lag, ml.Commit.At, ml.End.Offset)
			}
		}
	}
	return nil
}

// deleteStaleGroups deletes the groups without members that committed offsets on any of topics:
// the groups of the case's terminated queries, which would otherwise resume from those offsets if a
// later query reused their name over topics recreated empty.
func (k *kafka) deleteStaleGroups(ctx context.Context, topics map[string]bool) error {
	listed, err := k.adm.ListGroups(ctx)
	if err != nil {
		return err
	}
	var stale []string
	for _, g := range listed.Sorted() {
		if g.State != "" && g.State != "Empty" {
			continue
		}
		offs, err := k.adm.FetchOffsets(ctx, g.Group)
		if err != nil {
			continue
		}
		hit := false
		offs.Each(func(o kadm.OffsetResponse) {
			if topics[o.Topic] {
				hit = true
			}
		})
		if hit {
			stale = append(stale, g.Group)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	_, err = k.adm.DeleteGroups(ctx, stale...)
	return err
}
