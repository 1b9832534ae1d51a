package compat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
)

// partitions is the partition count of every topic the matrix creates.
const partitions = 4

// cellTimeout bounds one cell (one client × one scenario), including the external processes it runs.
const cellTimeout = 2 * time.Minute

// rec is one record as a client under test delivered it.
type rec struct {
	partition int32
	offset    int64
	value     string
}

// client is one third-party Kafka client, driven through the matrix's scenarios. Every method returns
// an error rather than failing the test, so that a cell's failure message says which step of which
// client broke.
type client interface {
	// idempotent reports whether produce uses the client's idempotent producer, so every batch it
	// writes must carry a producer ID.
	idempotent() bool
	// produce writes values to topic, each keyed by itself, and returns once all are acknowledged
	// (acks=all).
	produce(ctx context.Context, t *testing.T, addr, topic string, values []string) error
	// consume reads n records of topic from the beginning of every partition, committing nothing.
	consume(ctx context.Context, t *testing.T, addr, topic string, n int) ([]rec, error)
	// consumeCommit joins group on topic, reads n records starting at the group's committed offsets
	// (the earliest offset where there are none), commits what it read and leaves the group.
	consumeCommit(ctx context.Context, t *testing.T, addr, topic, group string, n int) ([]rec, error)
	// join starts a group member on topic that consumes, auto-committing, until its stop is called.
	join(ctx context.Context, t *testing.T, addr, topic, group string) (member, error)
}

// member is a running group member.
type member interface {
	// seen returns every record the member has delivered so far, in delivery order.
	seen() []rec
	// failed returns why the member stopped on its own, or nil while it runs.
	failed() error
	// stop makes the member leave the group and waits for it to finish. It is safe to call twice.
	stop() error
}

// runMatrix runs every scenario against c, each as its own subtest on its own broker.
func runMatrix(t *testing.T, c client) {
	t.Run("produce", func(t *testing.T) { testProduce(t, c) })
	t.Run("consume", func(t *testing.T) { testConsume(t, c) })
	t.Run("group_rebalance", func(t *testing.T) { testGroupRebalance(t, c) })
	t.Run("commit_resume", func(t *testing.T) { testCommitResume(t, c) })
}

// cell starts a broker for one cell and creates its 4-partition topic. The address it returns is a
// proxy's that the broker advertises as its own; at the end of the cell the log lists the requests the
// client under test sent.
func cell(t *testing.T) (ctx context.Context, addr, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cellTimeout)
	t.Cleanup(cancel)
	p := listenProxy(t)
	b := brokertest.Start(t, broker.AdvertisedAddr(p.addr()))
	p.serve(b.Addr())
	t.Cleanup(func() {
		p.close()
		t.Logf("requests: %s", p.requests())
	})
	addr = p.addr()
	topic = "compat-" + strings.NewReplacer("/", "-", "_", "-").Replace(strings.ToLower(t.Name()))
	createTopic(ctx, t, addr, topic, partitions)
	return ctx, addr, topic
}

func testProduce(t *testing.T, c client) {
	ctx, addr, topic := cell(t)
	want := values("produced", 60)
	if err := c.produce(ctx, t, addr, topic, want); err != nil {
		t.Fatalf("produce: %v", err)
	}
	got := readAll(ctx, t, addr, topic)
	var recs []rec
	for _, r := range got {
		recs = append(recs, rec{r.Partition, r.Offset, string(r.Value)})
		if string(r.Key) != string(r.Value) {
			t.Errorf("record %d/%d: key %q, want %q", r.Partition, r.Offset, r.Key, r.Value)
		}
		if c.idempotent() && r.ProducerID < 0 {
			t.Errorf("record %d/%d: producer ID %d from an idempotent producer", r.Partition, r.Offset, r.ProducerID)
		}
	}
	if err := sameValues(recs, want); err != nil {
		t.Fatalf("records in the topic after produce: %v", err)
	}
}

func testConsume(t *testing.T, c client) {
	ctx, addr, topic := cell(t)
	// The last partition stays empty: a consumer must take an empty partition in its stride.
	want := seed(ctx, t, addr, topic, "seeded", 60, partitions-1)
	got, err := c.consume(ctx, t, addr, topic, len(want))
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	if err := sameValues(got, want); err != nil {
		t.Fatalf("consumed from the beginning: %v", err)
	}
	if err := seededOrder(got, want, partitions-1); err != nil {
		t.Fatalf("consumed from the beginning: %v", err)
	}
}

func testGroupRebalance(t *testing.T, c client) {
	ctx, addr, topic := cell(t)
	group := topic + "-group"
	first := seed(ctx, t, addr, topic, "first", 40, partitions)

	a, err := c.join(ctx, t, addr, topic, group)
	if err != nil {
		t.Fatalf("first member: join: %v", err)
	}
	defer stopMember(t, "first member", a)
	checkFor(t, time.Minute, 50*time.Millisecond, func() error {
		if err := a.failed(); err != nil {
			return stopPolling{fmt.Errorf("first member failed: %w", err)}
		}
		if err := covers(a.seen(), first); err != nil {
			return fmt.Errorf("first member, alone in the group: %w", err)
		}
		return nil
	})

	b, err := c.join(ctx, t, addr, topic, group)
	if err != nil {
		t.Fatalf("second member: join: %v", err)
	}
	defer stopMember(t, "second member", b)
	checkFor(t, time.Minute, 100*time.Millisecond, func() error {
		if err := failedMember(a, b); err != nil {
			return err
		}
		return bothOwnPartitions(ctx, addr, group, topic)
	})

	second := seed(ctx, t, addr, topic, "second", 40, partitions)
	all := append(slices.Clone(first), second...)
	checkFor(t, time.Minute, 50*time.Millisecond, func() error {
		if err := failedMember(a, b); err != nil {
			return err
		}
		if err := covers(append(a.seen(), b.seen()...), all); err != nil {
			return fmt.Errorf("both members together: %w", err)
		}
		return nil
	})
	for _, m := range []struct {
		name string
		m    member
	}{{"first member", a}, {"second member", b}} {
		if !seenAny(m.m.seen(), second) {
			t.Errorf("%s saw no record produced after the rebalance, though the broker says it owns partitions", m.name)
		}
	}
}

func testCommitResume(t *testing.T, c client) {
	ctx, addr, topic := cell(t)
	group := topic + "-group"
	before := seed(ctx, t, addr, topic, "before", 40, partitions)
	got, err := c.consumeCommit(ctx, t, addr, topic, group, len(before))
	if err != nil {
		t.Fatalf("first consumer: %v", err)
	}
	if err := sameValues(got, before); err != nil {
		t.Fatalf("first consumer: %v", err)
	}
	if n := committedTotal(ctx, t, addr, group, topic); n != int64(len(before)) {
		t.Fatalf("after the first consumer left, the group's committed offsets add up to %d, want %d", n, len(before))
	}

	after := seed(ctx, t, addr, topic, "after", 24, partitions)
	got, err = c.consumeCommit(ctx, t, addr, topic, group, len(after))
	if err != nil {
		t.Fatalf("resumed consumer: %v", err)
	}
	if err := sameValues(got, after); err != nil {
		t.Fatalf("resumed consumer (should start at the committed offsets): %v", err)
	}
	if n := committedTotal(ctx, t, addr, group, topic); n != int64(len(before)+len(after)) {
		t.Fatalf("after the resumed consumer left, the group's committed offsets add up to %d, want %d", n, len(before)+len(after))
	}
}

// failedMember reports the first of the two members of testGroupRebalance that failed.
func failedMember(a, b member) error {
	if err := a.failed(); err != nil {
		return stopPolling{fmt.Errorf("first member failed: %w", err)}
	}
	if err := b.failed(); err != nil {
		return stopPolling{fmt.Errorf("second member failed: %w", err)}
	}
	return nil
}

func stopMember(t *testing.T, name string, m member) {
	t.Helper()
	if err := m.stop(); err != nil {
		t.Errorf("%s: stop: %v", name, err)
	}
}

// stopPolling is an error that ends checkFor at once: waiting longer cannot make it pass.
type stopPolling struct{ error }

// checkFor calls f every sleep until it returns nil, and fails the test with f's last error if it has
// not by totalWait, or at once if that error is a stopPolling.
func checkFor(t testing.TB, totalWait, sleep time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(totalWait)
	var err error
	for time.Now().Before(deadline) {
		if err = f(); err == nil {
			return
		}
		if errors.As(err, new(stopPolling)) {
			t.Fatal(err)
		}
		time.Sleep(sleep)
	}
	t.Fatalf("still failing after %v: %v", totalWait, err)
}

// values returns n distinct record values starting with prefix. They hold no ':' or whitespace, so
// every external client can pass them through its command line and line protocol unchanged.
func values(prefix string, n int) []string {
	vs := make([]string, n)
	for i := range vs {
		vs[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return vs
}

// sameValues checks that recs hold exactly want, each once, in any order.
func sameValues(recs []rec, want []string) error {
	count := make(map[string]int, len(recs))
	for _, r := range recs {
		count[r.value]++
	}
	var missing, dup, extra []string
	for _, v := range want {
		switch count[v] {
		case 0:
			missing = append(missing, v)
		case 1:
		default:
			dup = append(dup, v)
		}
		delete(count, v)
	}
	for v := range count {
		extra = append(extra, v)
	}
	sort.Strings(extra)
	if len(missing)+len(dup)+len(extra) == 0 {
		return nil
	}
	return fmt.Errorf("got %d records, want %d: %d missing %s, %d duplicated %s, %d unexpected %s",
		len(recs), len(want), len(missing), firstFew(missing), len(dup), firstFew(dup), len(extra), firstFew(extra))
}

// covers checks that every value of want is among recs; recs may hold more, and duplicates, as a group
// delivers at least once across a rebalance.
func covers(recs []rec, want []string) error {
	have := make(map[string]bool, len(recs))
	for _, r := range recs {
		have[r.value] = true
	}
	var missing []string
	for _, v := range want {
		if !have[v] {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%d of %d records not seen %s", len(missing), len(want), firstFew(missing))
	}
	return nil
}

func seenAny(recs []rec, vs []string) bool {
	for _, r := range recs {
		if slices.Contains(vs, r.value) {
			return true
		}
	}
	return false
}

// seededOrder checks that recs of values that seed wrote to parts partitions arrived on the partition
// seed wrote them to, and in the order seed wrote them within each partition, with increasing offsets.
func seededOrder(recs []rec, want []string, parts int32) error {
	index := make(map[string]int, len(want))
	for i, v := range want {
		index[v] = i
	}
	last := map[int32]rec{}
	for _, r := range recs {
		i := index[r.value]
		if p := int32(i) % parts; r.partition != p {
			return fmt.Errorf("%s delivered from partition %d, produced to %d", r.value, r.partition, p)
		}
		if prev, ok := last[r.partition]; ok && (index[prev.value] > i || prev.offset >= r.offset) {
			return fmt.Errorf("partition %d: %s at offset %d delivered after %s at offset %d",
				r.partition, r.value, r.offset, prev.value, prev.offset)
		}
		last[r.partition] = r
	}
	return nil
}

func firstFew(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	if len(vs) > 5 {
		return fmt.Sprintf("%v…", vs[:5])
	}
	return fmt.Sprint(vs)
}

// recorder collects the records a consumer delivers; it is safe for concurrent use.
type recorder struct {
	mu   sync.Mutex
	recs []rec
}

func (r *recorder) add(x rec) {
	r.mu.Lock()
	r.recs = append(r.recs, x)
	r.mu.Unlock()
}

func (r *recorder) seen() []rec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.recs)
}

func (r *recorder) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.recs)
}

// The reference client: franz-go, used to create topics, seed records and check what other clients did
// through the broker's own view (committed offsets, group assignments).

func refClient(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ClientID(refClientID)}, opts...)...)
	if err != nil {
		t.Fatalf("reference client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func createTopic(ctx context.Context, t testing.TB, addr, topic string, n int32) {
	t.Helper()
	adm := kadm.NewClient(refClient(t, addr))
	resp, err := adm.CreateTopic(ctx, n, 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("reference client: create topic %s: %v", topic, err)
	}
}

// seed produces n values with prefix through the reference client, value i to partition i%parts in
// order, and returns them. The batches are uncompressed: Debian's kafka-python comes without snappy.
func seed(ctx context.Context, t testing.TB, addr, topic, prefix string, n int, parts int32) []string {
	t.Helper()
	cl := refClient(t, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	vs := values(prefix, n)
	recs := make([]*kgo.Record, n)
	for i, v := range vs {
		recs[i] = &kgo.Record{Key: []byte(v), Value: []byte(v), Partition: int32(i) % parts}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("reference client: seed %s: %v", topic, err)
	}
	return vs
}

// readAll reads every record in topic, up to the end offsets at the time of the call.
func readAll(ctx context.Context, t testing.TB, addr, topic string) []*kgo.Record {
	t.Helper()
	adm := kadm.NewClient(refClient(t, addr))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("reference client: list end offsets: %v", err)
	}
	want := map[int32]int64{}
	var total int64
	ends.Each(func(o kadm.ListedOffset) {
		want[o.Partition] = o.Offset
		total += o.Offset
	})
	if total == 0 {
		return nil
	}
	start := map[string]map[int32]kgo.Offset{topic: {}}
	for p := range want {
		start[topic][p] = kgo.NewOffset().AtStart()
	}
	cl := refClient(t, addr, kgo.ConsumePartitions(start))
	var out []*kgo.Record
	for int64(len(out)) < total {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reference client: read %s: read %d of %d records before %v", topic, len(out), total, ctx.Err())
		}
		fs.EachError(func(_ string, p int32, err error) { t.Logf("reference client: fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

// committedTotal adds up group's committed offsets on topic, as the broker reports them.
func committedTotal(ctx context.Context, t testing.TB, addr, group, topic string) int64 {
	t.Helper()
	adm := kadm.NewClient(refClient(t, addr))
	resp, err := adm.FetchOffsetsForTopics(ctx, group, topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("reference client: fetch offsets of %s: %v", group, err)
	}
	var n int64
	resp.Each(func(o kadm.OffsetResponse) {
		if o.At > 0 {
			n += o.At
		}
	})
	return n
}

// bothOwnPartitions checks, through the broker's DescribeGroups, that group is stable with two members
// that each own at least one partition of topic and together own all of them, once each.
func bothOwnPartitions(ctx context.Context, addr, group, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID(refClientID))
	if err != nil {
		return err
	}
	defer cl.Close()
	groups, err := kadm.NewClient(cl).DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describe group: %w", err)
	}
	g, ok := groups[group]
	switch {
	case !ok:
		return fmt.Errorf("describe group: %s not in the response", group)
	case g.Err != nil:
		return fmt.Errorf("describe group: %w", g.Err)
	case g.State != "Stable" || len(g.Members) != 2:
		return fmt.Errorf("group is %s with %d members, want Stable with 2", g.State, len(g.Members))
	}
	owner := map[int32]string{}
	for _, m := range g.Members {
		a, ok := m.Assigned.AsConsumer()
		if !ok {
			return fmt.Errorf("member %s: assignment is not of the consumer protocol", m.MemberID)
		}
		var own int
		for _, tp := range a.Topics {
			if tp.Topic != topic {
				continue
			}
			for _, p := range tp.Partitions {
				if o, dup := owner[p]; dup {
					return fmt.Errorf("partition %d assigned to both %s and %s", p, o, m.MemberID)
				}
				owner[p] = m.MemberID
				own++
			}
		}
		if own == 0 {
			return fmt.Errorf("member %s (client %s) owns no partition of %s", m.MemberID, m.ClientID, topic)
		}
	}
	if len(owner) != partitions {
		return fmt.Errorf("members own %d of %d partitions", len(owner), partitions)
	}
	return nil
}
