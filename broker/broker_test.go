package broker_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
)

func newClient(t *testing.T, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkFor polls cond until it returns nil or the timeout passes.
func checkFor(t *testing.T, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func createTopic(t *testing.T, adm *kadm.Client, name string, partitions int32, configs map[string]*string) {
	t.Helper()
	resp, err := adm.CreateTopic(testContext(t), partitions, 1, configs, name)
	if err != nil || resp.Err != nil {
		t.Fatalf("create topic %s: %v %v", name, err, resp.Err)
	}
}

func produceN(t *testing.T, cl *kgo.Client, topic string, n int) {
	t.Helper()
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("k" + strconv.Itoa(i%17)), Value: []byte(fmt.Sprintf("v%06d", i)),
			Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}})
	}
	if err := cl.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func consumeN(t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	ctx := testContext(t)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), n, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func TestProduceConsumeRoundTrip(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "orders", 3, nil)

	for _, codec := range []kgo.CompressionCodec{kgo.NoCompression(), kgo.GzipCompression(), kgo.SnappyCompression(), kgo.Lz4Compression(), kgo.ZstdCompression()} {
		prod := newClient(t, b.Addr(), kgo.ProducerBatchCompression(codec), kgo.DefaultProduceTopic("orders"))
		produceN(t, prod, "orders", 300)
	}
	cons := newClient(t, b.Addr(), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	recs := consumeN(t, cons, 1500)
	if len(recs) != 1500 {
		t.Fatalf("got %d records, want 1500", len(recs))
	}
	next := map[int32]int64{}
	for _, r := range recs {
		if r.Offset != next[r.Partition] {
			t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition]++
		if len(r.Headers) != 1 || r.Headers[0].Key != "h" || string(r.Headers[0].Value) != "x" {
			t.Fatalf("headers lost: %+v", r.Headers)
		}
	}
	ends, err := adm.ListEndOffsets(testContext(t), "orders")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 1500 {
		t.Fatalf("end offsets sum to %d, want 1500", total)
	}
}

func TestAutoCreateAndMetadata(t *testing.T) {
	b := brokertest.Start(t, broker.DefaultPartitions(2))
	cl := newClient(t, b.Addr(), kgo.AllowAutoTopicCreation())
	produceN(t, cl, "auto", 10)
	adm := kadm.NewClient(cl)
	td, err := adm.ListTopics(testContext(t), "auto")
	if err != nil {
		t.Fatal(err)
	}
	if got := len(td["auto"].Partitions); got != 2 {
		t.Fatalf("auto-created topic has %d partitions, want 2", got)
	}
	if td["auto"].ID == [16]byte{} {
		t.Fatal("topic has no ID")
	}
}

func TestIdempotentDuplicateBatch(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "idem", 1, nil)
	cl := newClient(t, b.Addr())

	// A raw idempotent producer: send the same batch twice; the second must return the first's offset.
	ctx := testContext(t)
	pidResp, err := kmsg.NewPtrInitProducerIDRequest().RequestWith(ctx, cl)
	if err != nil || pidResp.ErrorCode != 0 {
		t.Fatalf("init producer id: %v %v", err, pidResp)
	}
	batch := rawBatch(pidResp.ProducerID, pidResp.ProducerEpoch, 0, 3)
	send := func(b []byte) *kmsg.ProduceResponseTopicPartition {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "idem"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = b
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return &resp.Topics[0].Partitions[0]
	}
	first := send(batch)
	if first.ErrorCode != 0 || first.BaseOffset != 0 {
		t.Fatalf("first produce: %+v", first)
	}
	dup := send(rawBatch(pidResp.ProducerID, pidResp.ProducerEpoch, 0, 3))
	if dup.ErrorCode != 0 || dup.BaseOffset != 0 {
		t.Fatalf("duplicate produce: code %v offset %d, want no error and offset 0", kerr.ErrorForCode(dup.ErrorCode), dup.BaseOffset)
	}
	gap := send(rawBatch(pidResp.ProducerID, pidResp.ProducerEpoch, 10, 1))
	if gap.ErrorCode != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("sequence gap: got %v, want OUT_OF_ORDER_SEQUENCE_NUMBER", kerr.ErrorForCode(gap.ErrorCode))
	}
	next := send(rawBatch(pidResp.ProducerID, pidResp.ProducerEpoch, 3, 2))
	if next.ErrorCode != 0 || next.BaseOffset != 3 {
		t.Fatalf("next batch: %+v", next)
	}
	// Corrupt CRC.
	bad := rawBatch(pidResp.ProducerID, pidResp.ProducerEpoch, 5, 1)
	bad[len(bad)-1] ^= 0xff
	if c := send(bad); c.ErrorCode != kerr.CorruptMessage.Code {
		t.Fatalf("corrupt batch: got %v, want CORRUPT_MESSAGE", kerr.ErrorForCode(c.ErrorCode))
	}
}

// rawBatch builds a v2 batch of n records with the given producer fields, using kmsg's wire types.
func rawBatch(pid int64, epoch int16, seq int32, n int) []byte {
	var recs []byte
	for i := 0; i < n; i++ {
		r := kmsg.NewRecord()
		r.OffsetDelta = int32(i)
		r.Key = []byte("key")
		r.Value = []byte("value" + strconv.Itoa(i))
		// Length counts the bytes after itself: those of the record encoded with a one-byte length 0.
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		body := r.AppendTo(nil)
		recs = append(recs, body...)
	}
	rb := kmsg.NewRecordBatch()
	rb.PartitionLeaderEpoch = -1
	rb.Magic = 2
	rb.LastOffsetDelta = int32(n - 1)
	rb.FirstTimestamp = time.Now().UnixMilli()
	rb.MaxTimestamp = rb.FirstTimestamp
	rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = pid, epoch, seq
	rb.NumRecords = int32(n)
	rb.Records = recs
	raw := rb.AppendTo(nil)
	// Fix Length and CRC, which AppendTo writes as given.
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32c(raw[21:]))
	return raw
}

func TestConsumerGroupRebalanceCommitResume(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "events", 4, nil)
	prod := newClient(t, b.Addr(), kgo.DefaultProduceTopic("events"))
	produceN(t, prod, "events", 400)

	groupOpts := []kgo.Opt{kgo.ConsumerGroup("g1"), kgo.ConsumeTopics("events"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), kgo.SessionTimeout(6 * time.Second), kgo.HeartbeatInterval(200 * time.Millisecond)}
	var mu sync.Mutex
	assigned := map[string]int{}
	member := func(name string) *kgo.Client {
		return newClient(t, b.Addr(), append(groupOpts, kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			mu.Lock()
			assigned[name] += len(m["events"])
			mu.Unlock()
		}))...)
	}
	c1 := member("c1")
	first := consumeN(t, c1, 1)
	c2 := member("c2")
	_ = first
	// Both members end up with partitions after the rebalance the second join causes.
	checkFor(t, 20*time.Second, func() error {
		c1.PollFetches(pollCtx(100 * time.Millisecond))
		c2.PollFetches(pollCtx(100 * time.Millisecond))
		mu.Lock()
		defer mu.Unlock()
		if assigned["c2"] == 0 {
			return fmt.Errorf("second member has no partitions yet: %v", assigned)
		}
		return nil
	})
	if err := c1.CommitUncommittedOffsets(testContext(t)); err != nil {
		t.Fatal(err)
	}
	if err := c2.CommitUncommittedOffsets(testContext(t)); err != nil {
		t.Fatal(err)
	}
	c1.Close()
	c2.Close()

	// Committed offsets are visible to admin tools and a restarted group resumes after them.
	offs, err := adm.FetchOffsets(testContext(t), "g1")
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	offs.Each(func(o kadm.OffsetResponse) { committed += o.At })
	produceN(t, prod, "events", 100)
	c3 := newClient(t, b.Addr(), groupOpts...)
	rest := consumeN(t, c3, int(500-committed))
	if int64(len(rest)) != 500-committed {
		t.Fatalf("resumed group read %d records, want %d (committed %d)", len(rest), 500-committed, committed)
	}
	groups, err := adm.DescribeGroups(testContext(t), "g1")
	if err != nil || groups["g1"].State != "Stable" {
		t.Fatalf("describe group: %v %+v", err, groups["g1"])
	}
}

func pollCtx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	time.AfterFunc(d, cancel)
	return ctx
}

func TestAdmin(t *testing.T) {
	b := brokertest.Start(t)
	cl := newClient(t, b.Addr())
	adm := kadm.NewClient(cl)
	ctx := testContext(t)
	ret := "3600000"
	createTopic(t, adm, "admin", 1, map[string]*string{"retention.ms": &ret})

	if resp, _ := adm.CreateTopic(ctx, 1, 1, nil, "admin"); !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		t.Fatalf("duplicate create: %v", resp.Err)
	}
	if resp, _ := adm.CreateTopic(ctx, 1, 3, nil, "rf3"); !errors.Is(resp.Err, kerr.InvalidReplicationFactor) {
		t.Fatalf("replication factor 3: %v", resp.Err)
	}
	bogus := "x"
	if resp, _ := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": &bogus}, "badcfg"); !errors.Is(resp.Err, kerr.InvalidConfig) {
		t.Fatalf("bad config: %v", resp.Err)
	}
	if resp, _ := adm.CreateTopic(ctx, 1, 1, nil, "bad/name"); !errors.Is(resp.Err, kerr.InvalidTopicException) {
		t.Fatalf("bad name: %v", resp.Err)
	}

	rcs, err := adm.DescribeTopicConfigs(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On("admin", nil)
	found := false
	for _, c := range rc.Configs {
		if c.Key == "retention.ms" && c.MaybeValue() == "3600000" && c.Source == kmsg.ConfigSourceDynamicTopicConfig {
			found = true
		}
	}
	if !found {
		t.Fatalf("retention.ms not described as set: %+v", rc.Configs)
	}

	if _, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "cleanup.policy", Value: kadm.StringPtr("compact")}}, "admin"); err != nil {
		t.Fatal(err)
	}
	rcs, _ = adm.DescribeTopicConfigs(ctx, "admin")
	rc, _ = rcs.On("admin", nil)
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.MaybeValue() != "compact" {
			t.Fatalf("cleanup.policy = %q after alter", c.MaybeValue())
		}
	}

	if _, err := adm.CreatePartitions(ctx, 2, "admin"); err != nil {
		t.Fatal(err)
	}
	td, _ := adm.ListTopics(ctx, "admin")
	if n := len(td["admin"].Partitions); n != 3 {
		t.Fatalf("after CreatePartitions: %d partitions, want 3", n)
	}

	// DeleteRecords and ListOffsets by time.
	prod := newClient(t, b.Addr(), kgo.DefaultProduceTopic("admin"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for i := 0; i < 10; i++ {
		recs = append(recs, &kgo.Record{Key: []byte("k"), Value: []byte{byte(i)}, Timestamp: base.Add(time.Duration(i) * time.Minute)})
	}
	if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	byTime, err := adm.ListOffsetsAfterMilli(ctx, base.Add(5*time.Minute).UnixMilli(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	if o, _ := byTime.Lookup("admin", 0); o.Offset != 5 {
		t.Fatalf("offset for timestamp: %d, want 5", o.Offset)
	}
	drs, err := adm.DeleteRecords(ctx, kadm.Offsets{"admin": {0: {Topic: "admin", Partition: 0, At: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := drs.Lookup("admin", 0); d.Err != nil || d.LowWatermark != 4 {
		t.Fatalf("delete records: %+v", d)
	}
	starts, _ := adm.ListStartOffsets(ctx, "admin")
	if o, _ := starts.Lookup("admin", 0); o.Offset != 4 {
		t.Fatalf("start offset after DeleteRecords: %d, want 4", o.Offset)
	}

	if _, err := adm.DeleteTopics(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	td, _ = adm.ListTopics(ctx)
	if td.Has("admin") {
		t.Fatal("topic still listed after delete")
	}
	bm, err := adm.BrokerMetadata(ctx)
	if err != nil || len(bm.Brokers) != 1 || bm.Cluster == "" {
		t.Fatalf("broker metadata: %v %+v", err, bm)
	}
}

func TestRestartKeepsTopicsAndOffsets(t *testing.T) {
	dir := t.TempDir()
	start := func() (*broker.Broker, func()) {
		b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir), broker.Logger(brokertest.Logger()), broker.GroupInitialRebalanceDelay(0))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- b.Run(context.Background()) }()
		return b, func() {
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			<-done
		}
	}
	b, stop := start()
	cl := newClient(t, b.Addr())
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "durable", 2, nil)
	prod := newClient(t, b.Addr(), kgo.DefaultProduceTopic("durable"))
	produceN(t, prod, "durable", 100)
	if _, err := adm.CommitOffsets(testContext(t), "g", kadm.Offsets{"durable": {0: {Topic: "durable", Partition: 0, At: 7, LeaderEpoch: -1}}}); err != nil {
		t.Fatal(err)
	}
	prod.Close()
	cl.Close()
	stop()

	b, stop = start()
	defer stop()
	adm = kadm.NewClient(newClient(t, b.Addr()))
	ends, err := adm.ListEndOffsets(testContext(t), "durable")
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 100 {
		t.Fatalf("after restart the topic holds %d records, want 100", total)
	}
	offs, err := adm.FetchOffsets(testContext(t), "g")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("durable", 0); !ok || o.At != 7 {
		t.Fatalf("committed offset after restart: %+v", o)
	}
}

// TestMalformedRequestClosesOnlyThatConnection sends garbage on one connection while a client keeps
// working on another.
func TestMalformedRequestClosesOnlyThatConnection(t *testing.T) {
	b := brokertest.Start(t)
	cl := newClient(t, b.Addr())
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "safe", 1, nil)

	frames := [][]byte{
		{0, 0, 0, 2, 0, 1},       // frame shorter than a header
		{0xff, 0xff, 0xff, 0xff}, // negative size
		append([]byte{0, 0, 0, 12}, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0),             // unknown API key
		append([]byte{0, 0, 0, 14}, 0, 3, 0, 9, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xff), // truncated Metadata body
	}
	for i, f := range frames {
		nc, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		nc.Write(f)
		if _, err := io.ReadAll(nc); err != nil {
			t.Fatalf("frame %d: connection not closed cleanly: %v", i, err)
		}
		nc.Close()
	}
	prod := newClient(t, b.Addr(), kgo.DefaultProduceTopic("safe"))
	produceN(t, prod, "safe", 5)
}

// TestApiVersionsTooNew checks KIP-511: a version we do not serve gets a v0 answer with UNSUPPORTED_VERSION.
func TestApiVersionsTooNew(t *testing.T) {
	b := brokertest.Start(t)
	nc, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	body := []byte{0, 18, 0, 99, 0, 0, 0, 42, 0, 0, 0} // ApiVersions v99, corr 42, empty client id, empty tags
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	if _, err := nc.Write(append(frame, body...)); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(nc, size[:]); err != nil {
		t.Fatal(err)
	}
	resp := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(nc, resp); err != nil {
		t.Fatal(err)
	}
	if corr := int32(binary.BigEndian.Uint32(resp)); corr != 42 {
		t.Fatalf("correlation id %d", corr)
	}
	v := kmsg.NewPtrApiVersionsResponse()
	v.Version = 0
	if err := v.ReadFrom(resp[4:]); err != nil {
		t.Fatal(err)
	}
	if v.ErrorCode != kerr.UnsupportedVersion.Code || len(v.ApiKeys) != 1 || v.ApiKeys[0].ApiKey != 18 {
		t.Fatalf("got %+v", v)
	}
}

// TestFetchSessionEpochs follows KIP-227: the fetch that creates a session carries epoch 0 and the
// client's next incremental fetch carries epoch 1, then 2, and so on.
func TestFetchSessionEpochs(t *testing.T) {
	b := brokertest.Start(t)
	cl := newClient(t, b.Addr())
	createTopic(t, kadm.NewClient(cl), "sessions", 1, nil)
	ctx := testContext(t)
	fetch := func(id, epoch int32) *kmsg.FetchResponse {
		t.Helper()
		req := kmsg.NewPtrFetchRequest()
		req.Version = 12
		req.ReplicaID, req.MaxWaitMillis, req.MaxBytes = -1, 10, 1<<20
		req.SessionID, req.SessionEpoch = id, epoch
		if epoch == 0 {
			rt := kmsg.NewFetchRequestTopic()
			rt.Topic = "sessions"
			rp := kmsg.NewFetchRequestTopicPartition()
			rp.PartitionMaxBytes, rp.CurrentLeaderEpoch = 1<<20, -1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first := fetch(0, 0)
	if first.ErrorCode != 0 || first.SessionID == 0 {
		t.Fatalf("creating fetch: error %v, session %d", kerr.ErrorForCode(first.ErrorCode), first.SessionID)
	}
	for epoch := int32(1); epoch <= 3; epoch++ {
		if r := fetch(first.SessionID, epoch); r.ErrorCode != 0 {
			t.Fatalf("incremental fetch at epoch %d: %v", epoch, kerr.ErrorForCode(r.ErrorCode))
		}
	}
	if r := fetch(first.SessionID, 7); r.ErrorCode != kerr.InvalidFetchSessionEpoch.Code {
		t.Fatalf("wrong epoch: %v, want INVALID_FETCH_SESSION_EPOCH", kerr.ErrorForCode(r.ErrorCode))
	}
}
