package broker_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
)

// txnProduce runs one transaction of n records to topic, committing or aborting it.
func txnProduce(t *testing.T, cl *kgo.Client, topic string, from, n int, commit bool) {
	t.Helper()
	ctx := testContext(t)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

// readAll consumes topic from the start with the isolation level until it has read want records, and
// checks that nothing more arrives after that within a further fetch.
func readAll(t *testing.T, addr, topic string, level kgo.IsolationLevel, want int) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(200*time.Millisecond))
	recs := consumeN(t, cl, want)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	extra := cl.PollFetches(ctx)
	if n := extra.NumRecords(); n > 0 {
		t.Fatalf("read %d records more than the %d expected", n, want)
	}
	return recs
}

func TestTransactionsCommitAbortReadCommitted(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "txn-out", 2, nil)
	prod := newClient(t, b.Addr(), kgo.TransactionalID("tx-1"), kgo.DefaultProduceTopic("txn-out"))

	txnProduce(t, prod, "txn-out", 0, 50, true)
	txnProduce(t, prod, "txn-out", 50, 30, false)
	txnProduce(t, prod, "txn-out", 80, 20, true)

	got := readAll(t, b.Addr(), "txn-out", kgo.ReadCommitted(), 70)
	seen := map[string]bool{}
	for _, r := range got {
		i, _ := strconv.Atoi(string(r.Key))
		if i >= 50 && i < 80 {
			t.Fatalf("read_committed returned aborted record %d", i)
		}
		if seen[string(r.Key)] {
			t.Fatalf("record %s read twice", r.Key)
		}
		seen[string(r.Key)] = true
	}
	// read_uncommitted sees the aborted records too.
	readAll(t, b.Addr(), "txn-out", kgo.ReadUncommitted(), 100)
}

// rawTxn drives a transactional producer request by request, to check each API's errors.
type rawTxn struct {
	t     *testing.T
	cl    *kgo.Client
	id    string
	pid   int64
	epoch int16
	seq   map[string]int32 // next sequence per "topic/partition"
}

func newRawTxn(t *testing.T, addr, id string) *rawTxn {
	return &rawTxn{t: t, cl: newClient(t, addr), id: id, pid: -1, epoch: -1, seq: map[string]int32{}}
}

// init sends InitProducerId (v4, with the current producer for KIP-360 when keep is set) and adopts
// the answer when it succeeds.
func (r *rawTxn) init(timeoutMs int32, keep bool) *kerr.Error {
	r.t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID = &r.id
	req.TransactionTimeoutMillis = timeoutMs
	if keep {
		req.ProducerID, req.ProducerEpoch = r.pid, r.epoch
	}
	resp, err := req.RequestWith(testContext(r.t), r.cl)
	if err != nil {
		r.t.Fatal(err)
	}
	if resp.ErrorCode == 0 {
		r.pid, r.epoch = resp.ProducerID, resp.ProducerEpoch
		clear(r.seq)
	}
	return kerrFor(resp.ErrorCode)
}

func (r *rawTxn) addPartitions(topic string, parts ...int32) map[int32]*kerr.Error {
	r.t.Helper()
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = r.id, r.pid, r.epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, parts
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(r.t), r.cl)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[int32]*kerr.Error{}
	for _, p := range resp.Topics[0].Partitions {
		out[p.Partition] = kerrFor(p.ErrorCode)
	}
	return out
}

func (r *rawTxn) addOffsets(group string) *kerr.Error {
	r.t.Helper()
	req := kmsg.NewPtrAddOffsetsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group = r.id, r.pid, r.epoch, group
	resp, err := req.RequestWith(testContext(r.t), r.cl)
	if err != nil {
		r.t.Fatal(err)
	}
	return kerrFor(resp.ErrorCode)
}

// produce sends one transactional batch of n records and returns its error and base offset.
func (r *rawTxn) produce(topic string, part int32, n int) (*kerr.Error, int64) {
	r.t.Helper()
	key := topic + "/" + strconv.Itoa(int(part))
	batch := rawBatch(r.pid, r.epoch, r.seq[key], n)
	binary.BigEndian.PutUint16(batch[21:], binary.BigEndian.Uint16(batch[21:])|0x10) // transactional
	binary.BigEndian.PutUint32(batch[17:], crc32c(batch[21:]))
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID = &r.id
	req.Acks, req.TimeoutMillis = -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = part, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(r.t), r.cl)
	if err != nil {
		r.t.Fatal(err)
	}
	sp := resp.Topics[0].Partitions[0]
	if sp.ErrorCode == 0 {
		r.seq[key] += int32(n)
	}
	return kerrFor(sp.ErrorCode), sp.BaseOffset
}

// commitOffset sends TxnOffsetCommit for partition 0 of topic.
func (r *rawTxn) commitOffset(topic, group string, offset int64, generation int32, member string) *kerr.Error {
	r.t.Helper()
	req := kmsg.NewPtrTxnOffsetCommitRequest()
	req.TransactionalID, req.Group, req.ProducerID, req.ProducerEpoch = r.id, group, r.pid, r.epoch
	req.Generation, req.MemberID = generation, member
	rt := kmsg.NewTxnOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset = 0, offset
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(r.t), r.cl)
	if err != nil {
		r.t.Fatal(err)
	}
	return kerrFor(resp.Topics[0].Partitions[0].ErrorCode)
}

// fetchCommitted returns the group's committed offset of partition 0 of topic (OffsetFetch, with
// require_stable if stable).
func fetchCommitted(t *testing.T, cl *kgo.Client, topic, group string, stable bool) (int64, *kerr.Error) {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group, req.RequireStable = group, stable
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{0}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	part := resp.Topics[0].Partitions[0]
	return part.Offset, kerrFor(part.ErrorCode)
}

func (r *rawTxn) end(commit bool) *kerr.Error {
	r.t.Helper()
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = r.id, r.pid, r.epoch, commit
	resp, err := req.RequestWith(testContext(r.t), r.cl)
	if err != nil {
		r.t.Fatal(err)
	}
	return kerrFor(resp.ErrorCode)
}

func (r *rawTxn) describe() kmsg.DescribeTransactionsResponseTransactionState {
	r.t.Helper()
	req := kmsg.NewPtrDescribeTransactionsRequest()
	req.TransactionalIDs = []string{r.id}
	resp, err := req.RequestWith(testContext(r.t), r.cl)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.TransactionStates[0]
}

func wantErr(t *testing.T, what string, got, want *kerr.Error) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// listOffset returns the partition's latest offset for the isolation level (0 uncommitted, 1 committed).
func listOffset(t *testing.T, cl *kgo.Client, topic string, part int32, isolation int8) int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition, rp.Timestamp = part, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(testContext(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	p := resp.Topics[0].Partitions[0]
	if p.ErrorCode != 0 {
		t.Fatalf("list offsets: %v", kerrFor(p.ErrorCode))
	}
	return p.Offset
}

func TestInitProducerIDFencingAndRecovery(t *testing.T) {
	b := brokertest.Start(t, broker.TransactionMaxTimeout(time.Minute))
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "fence", 1, nil)

	a := newRawTxn(t, b.Addr(), "fence-id")
	wantErr(t, "timeout above transaction.max.timeout.ms", a.init(61_000, false), kerr.InvalidTransactionTimeout)
	wantErr(t, "zero timeout", a.init(0, false), kerr.InvalidTransactionTimeout)
	wantErr(t, "first init", a.init(10_000, false), nil)
	if a.epoch != 0 {
		t.Fatalf("first epoch %d, want 0", a.epoch)
	}
	wantErr(t, "EndTxn without a transaction", a.end(true), kerr.InvalidTxnState)

	// A second producer with the same transactional ID fences the first.
	z := newRawTxn(t, b.Addr(), "fence-id")
	wantErr(t, "second init", z.init(10_000, false), nil)
	if z.pid != a.pid || z.epoch != 1 {
		t.Fatalf("second producer got %d/%d, want %d/1", z.pid, z.epoch, a.pid)
	}
	wantErr(t, "fenced AddPartitionsToTxn", a.addPartitions("fence", 0)[0], kerr.ProducerFenced)
	wantErr(t, "fenced AddOffsetsToTxn", a.addOffsets("g"), kerr.ProducerFenced)
	wantErr(t, "fenced EndTxn", a.end(false), kerr.ProducerFenced)
	wantErr(t, "fenced KIP-360 init", a.init(10_000, true), kerr.ProducerFenced)

	// Wrong producer ID and unknown transactional ID.
	wrong := *z
	wrong.pid++
	wantErr(t, "wrong producer id", wrong.addPartitions("fence", 0)[0], kerr.InvalidProducerIDMapping)
	unknown := newRawTxn(t, b.Addr(), "never-initialized")
	unknown.pid, unknown.epoch = z.pid, z.epoch
	wantErr(t, "unknown transactional id", unknown.end(true), kerr.InvalidProducerIDMapping)

	// A partition that does not exist fails alone; the others are not attempted.
	errs := z.addPartitions("fence", 0, 7)
	wantErr(t, "missing partition", errs[7], kerr.UnknownTopicOrPartition)
	wantErr(t, "partition not attempted", errs[0], kerr.OperationNotAttempted)

	// KIP-360: the current producer recovers by naming its producer ID and epoch; a retry of that
	// bump gets the same epoch again.
	before := z.epoch
	wantErr(t, "KIP-360 bump", z.init(10_000, true), nil)
	if z.epoch != before+1 {
		t.Fatalf("KIP-360 bump gave epoch %d, want %d", z.epoch, before+1)
	}
	retry := *z
	retry.epoch = before
	wantErr(t, "retried KIP-360 bump", retry.init(10_000, true), nil)
	if retry.epoch != z.epoch {
		t.Fatalf("retried bump gave epoch %d, want %d", retry.epoch, z.epoch)
	}
}

func TestTransactionalProduceIsVerified(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "verify", 2, nil)
	p := newRawTxn(t, b.Addr(), "verify-id")
	wantErr(t, "init", p.init(10_000, false), nil)

	code, _ := p.produce("verify", 0, 3)
	wantErr(t, "produce before AddPartitionsToTxn", code, kerr.InvalidTxnState)
	wantErr(t, "add partition 0", p.addPartitions("verify", 0)[0], nil)
	code, _ = p.produce("verify", 1, 3)
	wantErr(t, "produce to a partition not in the transaction", code, kerr.InvalidTxnState)
	code, base := p.produce("verify", 0, 3)
	wantErr(t, "produce in the transaction", code, nil)
	if base != 0 {
		t.Fatalf("base offset %d, want 0", base)
	}
	cl := newClient(t, b.Addr())
	if lso, end := listOffset(t, cl, "verify", 0, 1), listOffset(t, cl, "verify", 0, 0); lso != 0 || end != 3 {
		t.Fatalf("open transaction: last stable offset %d and end %d, want 0 and 3", lso, end)
	}
	wantErr(t, "commit", p.end(true), nil)
	// The marker takes offset 3; the last stable offset moves past it.
	if lso := listOffset(t, cl, "verify", 0, 1); lso != 4 {
		t.Fatalf("after commit: last stable offset %d, want 4", lso)
	}
	wantErr(t, "retried commit", p.end(true), nil)
	wantErr(t, "abort after commit", p.end(false), kerr.InvalidTxnState)
	code, _ = p.produce("verify", 0, 1)
	wantErr(t, "produce after the transaction ended", code, kerr.InvalidTxnState)

	// An old epoch is refused at the partition too, once a newer producer aborted the transaction.
	wantErr(t, "add partition 0 again", p.addPartitions("verify", 0)[0], nil)
	code, _ = p.produce("verify", 0, 1)
	wantErr(t, "produce in the second transaction", code, nil)
	zombie := *p
	wantErr(t, "new producer", p.init(10_000, false), nil)
	code, _ = zombie.produce("verify", 0, 1)
	wantErr(t, "zombie produce", code, kerr.InvalidProducerEpoch)
	if d := p.describe(); d.State != "Empty" || d.ProducerEpoch != p.epoch {
		t.Fatalf("after fencing: state %s epoch %d, want Empty epoch %d", d.State, d.ProducerEpoch, p.epoch)
	}
	readAll(t, b.Addr(), "verify", kgo.ReadCommitted(), 3)
}

// Two transactions open on one partition: the last stable offset stays at the older one's first
// offset until it ends, whatever the newer one does.
func TestConcurrentTransactionsOnOnePartition(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "conc", 1, nil)
	cl := newClient(t, b.Addr())
	t1, t2 := newRawTxn(t, b.Addr(), "conc-1"), newRawTxn(t, b.Addr(), "conc-2")
	for _, p := range []*rawTxn{t1, t2} {
		wantErr(t, "init", p.init(10_000, false), nil)
		wantErr(t, "add", p.addPartitions("conc", 0)[0], nil)
	}
	wantErr(t, "t1 produce", first(t1.produce("conc", 0, 2)), nil)       // offsets 0-1
	wantErr(t, "t2 produce", first(t2.produce("conc", 0, 3)), nil)       // offsets 2-4
	wantErr(t, "t1 produce again", first(t1.produce("conc", 0, 2)), nil) // offsets 5-6
	wantErr(t, "t2 commit", t2.end(true), nil)                           // marker 7
	if lso := listOffset(t, cl, "conc", 0, 1); lso != 0 {
		t.Fatalf("t1 open: last stable offset %d, want 0", lso)
	}
	wantErr(t, "t1 abort", t1.end(false), nil) // marker 8
	if lso := listOffset(t, cl, "conc", 0, 1); lso != 9 {
		t.Fatalf("both ended: last stable offset %d, want 9", lso)
	}
	recs := readAll(t, b.Addr(), "conc", kgo.ReadCommitted(), 3)
	for i, r := range recs {
		if r.Offset != int64(2+i) {
			t.Fatalf("read_committed record %d at offset %d, want %d (t2's)", i, r.Offset, 2+i)
		}
	}
}

func first(e *kerr.Error, _ int64) *kerr.Error { return e }

func TestTransactionTimeoutAborts(t *testing.T) {
	b := brokertest.Start(t, broker.TransactionAbortInterval(20*time.Millisecond))
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "expire", 1, nil)
	p := newRawTxn(t, b.Addr(), "expire-id")
	// Long enough that the transaction cannot expire before its produce on a loaded machine.
	wantErr(t, "init", p.init(2000, false), nil)
	wantErr(t, "add", p.addPartitions("expire", 0)[0], nil)
	wantErr(t, "produce", first(p.produce("expire", 0, 4)), nil)
	checkFor(t, 10*time.Second, func() error {
		if d := p.describe(); d.State != "CompleteAbort" {
			return fmt.Errorf("state %s", d.State)
		}
		return nil
	})
	if d := p.describe(); d.ProducerEpoch != p.epoch+1 {
		t.Fatalf("timed out transaction aborted with epoch %d, want %d", d.ProducerEpoch, p.epoch+1)
	}
	cl := newClient(t, b.Addr())
	if lso, end := listOffset(t, cl, "expire", 0, 1), listOffset(t, cl, "expire", 0, 0); lso != end || end != 5 {
		t.Fatalf("after expiry: last stable offset %d, end %d; want both 5", lso, end)
	}
	// The producer is fenced at the partition and coordinator, and recovers with KIP-360/KIP-588.
	wantErr(t, "produce after expiry", first(p.produce("expire", 0, 1)), kerr.InvalidProducerEpoch)
	wantErr(t, "EndTxn after expiry", p.end(true), kerr.ProducerFenced)
	old := p.epoch
	wantErr(t, "recover", p.init(2000, true), nil)
	if p.epoch != old+1 {
		t.Fatalf("recovered with epoch %d, want %d", p.epoch, old+1)
	}
	readAll(t, b.Addr(), "expire", kgo.ReadUncommitted(), 4)
}

func TestTxnOffsetCommitPendingUntilCommit(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "src", 1, nil)
	cl := newClient(t, b.Addr())
	p := newRawTxn(t, b.Addr(), "offsets-id")
	wantErr(t, "init", p.init(10_000, false), nil)

	commitOffset := func(group string, offset int64, generation int32, member string) *kerr.Error {
		return p.commitOffset("src", group, offset, generation, member)
	}
	fetchOffset := func(group string, stable bool) (int64, *kerr.Error) {
		return fetchCommitted(t, cl, "src", group, stable)
	}

	wantErr(t, "commit before AddOffsetsToTxn", commitOffset("g1", 5, -1, ""), kerr.InvalidTxnState)
	wantErr(t, "add offsets", p.addOffsets("g1"), nil)
	wantErr(t, "unknown member", commitOffset("g1", 5, 1, "nobody"), kerr.UnknownMemberID)
	wantErr(t, "txn commit", commitOffset("g1", 5, -1, ""), nil)
	if off, err := fetchOffset("g1", false); off != -1 || err != nil {
		t.Fatalf("pending offset visible: %d %v", off, err)
	}
	if _, err := fetchOffset("g1", true); err != kerr.UnstableOffsetCommit {
		t.Fatalf("require_stable with a pending offset: %v, want UNSTABLE_OFFSET_COMMIT", err)
	}
	wantErr(t, "commit transaction", p.end(true), nil)
	if off, err := fetchOffset("g1", true); off != 5 || err != nil {
		t.Fatalf("after commit: %d %v, want 5", off, err)
	}

	// An aborted transaction's offsets are dropped.
	wantErr(t, "add offsets again", p.addOffsets("g1"), nil)
	wantErr(t, "txn commit 9", commitOffset("g1", 9, -1, ""), nil)
	wantErr(t, "abort", p.end(false), nil)
	if off, err := fetchOffset("g1", true); off != 5 || err != nil {
		t.Fatalf("after abort: %d %v, want 5", off, err)
	}

	// A fenced producer's commit is refused.
	zombie := *p
	wantErr(t, "fence", p.init(10_000, false), nil)
	wantErr(t, "zombie offset commit", func() *kerr.Error {
		saved := *p
		*p = zombie
		defer func() { *p = saved }()
		return commitOffset("g1", 11, -1, "")
	}(), kerr.InvalidProducerEpoch)
}

func TestDescribeAndListTransactions(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "desc", 2, nil)
	open, done := newRawTxn(t, b.Addr(), "desc-open"), newRawTxn(t, b.Addr(), "desc-done")
	wantErr(t, "init open", open.init(30_000, false), nil)
	wantErr(t, "init done", done.init(30_000, false), nil)
	wantErr(t, "add", open.addPartitions("desc", 1, 0)[0], nil)

	d := open.describe()
	if d.State != "Ongoing" || d.TimeoutMillis != 30_000 || d.StartTimestamp <= 0 || d.ProducerID != open.pid ||
		len(d.Topics) != 1 || fmt.Sprint(d.Topics[0].Partitions) != "[0 1]" {
		t.Fatalf("describe open transaction: %+v", d)
	}
	if d := done.describe(); d.State != "Empty" || d.StartTimestamp != -1 {
		t.Fatalf("describe idle transactional id: %+v", d)
	}
	missing := newRawTxn(t, b.Addr(), "desc-missing")
	if d := missing.describe(); d.ErrorCode != kerr.TransactionalIDNotFound.Code {
		t.Fatalf("describe unknown id: %v", kerrFor(d.ErrorCode))
	}

	list := func(states []string, pids []int64, pattern *string) (ids []string, unknown []string) {
		t.Helper()
		req := kmsg.NewPtrListTransactionsRequest()
		req.StateFilters, req.ProducerIDFilters, req.TransactionalIDPattern = states, pids, pattern
		resp, err := req.RequestWith(testContext(t), open.cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("list transactions: %v %v", err, kerrFor(resp.ErrorCode))
		}
		for _, s := range resp.TransactionStates {
			ids = append(ids, s.TransactionalID)
		}
		return ids, resp.UnknownStateFilters
	}
	if ids, _ := list(nil, nil, nil); fmt.Sprint(ids) != "[desc-done desc-open]" {
		t.Fatalf("list all: %v", ids)
	}
	if ids, _ := list([]string{"Ongoing"}, nil, nil); fmt.Sprint(ids) != "[desc-open]" {
		t.Fatalf("list Ongoing: %v", ids)
	}
	if ids, _ := list(nil, []int64{done.pid}, nil); fmt.Sprint(ids) != "[desc-done]" {
		t.Fatalf("list by producer id: %v", ids)
	}
	pat := ".*-open"
	if ids, _ := list(nil, nil, &pat); fmt.Sprint(ids) != "[desc-open]" {
		t.Fatalf("list by pattern: %v", ids)
	}
	if ids, unknown := list([]string{"Bogus"}, nil, nil); len(ids) != 0 || fmt.Sprint(unknown) != "[Bogus]" {
		t.Fatalf("list unknown state: %v %v", ids, unknown)
	}
}

// The last stable offset and the aborted-transaction index survive a restart, and an open transaction
// can be ended after it.
func TestTransactionStateAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	start := func() *broker.Broker {
		bk, err := broker.New(broker.ListenAddr(addr), broker.DataDir(dir), broker.Logger(brokertest.Logger()))
		if err != nil {
			t.Fatal(err)
		}
		go bk.Run(context.Background())
		return bk
	}
	b := start()
	adm := kadm.NewClient(newClient(t, addr))
	createTopic(t, adm, "restart", 1, nil)
	p := newRawTxn(t, addr, "restart-id")
	wantErr(t, "init", p.init(60_000, false), nil)
	wantErr(t, "add", p.addPartitions("restart", 0)[0], nil)
	wantErr(t, "produce aborted", first(p.produce("restart", 0, 3)), nil) // 0-2
	wantErr(t, "abort", p.end(false), nil)                                // 3
	wantErr(t, "add again", p.addPartitions("restart", 0)[0], nil)
	wantErr(t, "produce open", first(p.produce("restart", 0, 2)), nil) // 4-5, left open
	wantErr(t, "add offsets", p.addOffsets("restart-group"), nil)
	wantErr(t, "pending offset", p.commitOffset("restart", "restart-group", 42, -1, ""), nil)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = start()
	defer b.Close()
	p.cl = newClient(t, addr)
	cl := newClient(t, addr)
	if lso := listOffset(t, cl, "restart", 0, 1); lso != 4 {
		t.Fatalf("after restart: last stable offset %d, want 4 (the open transaction's first offset)", lso)
	}
	if d := p.describe(); d.State != "Ongoing" || d.ProducerEpoch != p.epoch {
		t.Fatalf("after restart: %+v", d)
	}
	if _, err := fetchCommitted(t, cl, "restart", "restart-group", true); err != kerr.UnstableOffsetCommit {
		t.Fatalf("pending offset after restart: %v, want UNSTABLE_OFFSET_COMMIT", err)
	}
	wantErr(t, "commit after restart", p.end(true), nil) // 6
	if off, err := fetchCommitted(t, cl, "restart", "restart-group", true); off != 42 || err != nil {
		t.Fatalf("offset committed after restart: %d %v, want 42", off, err)
	}
	if lso := listOffset(t, cl, "restart", 0, 1); lso != 7 {
		t.Fatalf("after commit: last stable offset %d, want 7", lso)
	}
	recs := readAll(t, addr, "restart", kgo.ReadCommitted(), 2)
	if recs[0].Offset != 4 || recs[1].Offset != 5 {
		t.Fatalf("read_committed after restart read offsets %d and %d, want 4 and 5", recs[0].Offset, recs[1].Offset)
	}
}

// kerrFor is kerr.ErrorForCode as the *kerr.Error the helpers compare, nil for no error.
func kerrFor(code int16) *kerr.Error {
	e, _ := kerr.ErrorForCode(code).(*kerr.Error)
	return e
}

// AddPartitionsToTxn v4+ (KIP-890) batches transactions and can verify without adding.
func TestAddPartitionsToTxnBatchedAndVerifyOnly(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "batched", 2, nil)
	p1, p2 := newRawTxn(t, b.Addr(), "batched-1"), newRawTxn(t, b.Addr(), "batched-2")
	wantErr(t, "init 1", p1.init(10_000, false), nil)
	wantErr(t, "init 2", p2.init(10_000, false), nil)

	send := func(verifyOnly bool, txns ...*rawTxn) map[string]map[int32]*kerr.Error {
		t.Helper()
		// The client sends the newest version both sides speak, v5.
		req := kmsg.NewPtrAddPartitionsToTxnRequest()
		for _, p := range txns {
			tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
			tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = p.id, p.pid, p.epoch, verifyOnly
			rt := kmsg.NewAddPartitionsToTxnRequestTransactionTopic()
			rt.Topic, rt.Partitions = "batched", []int32{0, 1}
			tx.Topics = append(tx.Topics, rt)
			req.Transactions = append(req.Transactions, tx)
		}
		resp, err := req.RequestWith(testContext(t), p1.cl)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[int32]*kerr.Error{}
		for _, tx := range resp.Transactions {
			out[tx.TransactionalID] = map[int32]*kerr.Error{}
			for _, p := range tx.Topics[0].Partitions {
				out[tx.TransactionalID][p.Partition] = kerrFor(p.ErrorCode)
			}
		}
		return out
	}
	got := send(true, p1)
	wantErr(t, "verify before adding", got["batched-1"][0], kerr.TransactionAbortable)
	got = send(false, p1, p2)
	for _, id := range []string{"batched-1", "batched-2"} {
		for part := int32(0); part < 2; part++ {
			wantErr(t, "batched add "+id, got[id][part], nil)
		}
	}
	got = send(true, p1, p2)
	wantErr(t, "verify after adding", got["batched-2"][1], nil)
	zombie := *p2
	zombie.epoch--
	got = send(true, &zombie)
	wantErr(t, "verify with an old epoch", got["batched-2"][0], kerr.ProducerFenced)
}

// Kafka's internal topics (offsets, transaction log) are listed, marked internal, and cannot be created
// or produced to.
func TestInternalTopics(t *testing.T) {
	b := brokertest.Start(t)
	cl := newClient(t, b.Addr())
	req := kmsg.NewPtrMetadataRequest() // Topics nil: every topic
	resp, err := req.RequestWith(testContext(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	internal := map[string]bool{}
	for _, mt := range resp.Topics {
		if mt.Topic != nil && mt.IsInternal && mt.ErrorCode == 0 && len(mt.Partitions) > 0 {
			internal[*mt.Topic] = true
		}
	}
	if !internal["__consumer_offsets"] || !internal["__transaction_state"] || len(internal) != 2 {
		t.Fatalf("internal topics listed: %v", internal)
	}
	named := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("__consumer_offsets")
	named.Topics = append(named.Topics, rt)
	nresp, err := named.RequestWith(testContext(t), cl)
	if err != nil || len(nresp.Topics) != 1 || !nresp.Topics[0].IsInternal || nresp.Topics[0].ErrorCode != 0 {
		t.Fatalf("__consumer_offsets by name: %v %+v", err, nresp)
	}
	// KIP-848 assignments name topics by ID only: the internal topic has a non-zero one that resolves.
	id := nresp.Topics[0].TopicID
	if id == ([16]byte{}) {
		t.Fatal("__consumer_offsets has a zero topic ID")
	}
	byID := kmsg.NewPtrMetadataRequest()
	rid := kmsg.NewMetadataRequestTopic()
	rid.TopicID = id
	byID.Topics = append(byID.Topics, rid)
	if iresp, err := byID.RequestWith(testContext(t), cl); err != nil || len(iresp.Topics) != 1 || iresp.Topics[0].ErrorCode != 0 ||
		iresp.Topics[0].Topic == nil || *iresp.Topics[0].Topic != "__consumer_offsets" {
		t.Fatalf("__consumer_offsets by ID: %v %+v", err, iresp)
	}
	adm := kadm.NewClient(cl)
	if cr, err := adm.CreateTopic(testContext(t), 1, 1, nil, "__consumer_offsets"); err == nil && cr.Err == nil {
		t.Fatal("created __consumer_offsets")
	}
	prod := kmsg.NewPtrProduceRequest()
	prod.Acks, prod.TimeoutMillis = -1, 5000
	pt := kmsg.NewProduceRequestTopic()
	pt.Topic = "__consumer_offsets"
	pp := kmsg.NewProduceRequestTopicPartition()
	pp.Records = rawBatch(-1, -1, -1, 1)
	pt.Partitions = append(pt.Partitions, pp)
	prod.Topics = append(prod.Topics, pt)
	presp, err := prod.RequestWith(testContext(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "produce to __consumer_offsets", kerrFor(presp.Topics[0].Partitions[0].ErrorCode), kerr.InvalidTopicException)
	lo := kmsg.NewPtrListOffsetsRequest()
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = "__consumer_offsets"
	lp := kmsg.NewListOffsetsRequestTopicPartition()
	lp.Timestamp = -1
	lt.Partitions = append(lt.Partitions, lp)
	lo.Topics = append(lo.Topics, lt)
	loresp, err := lo.RequestWith(testContext(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "list offsets of __consumer_offsets", kerrFor(loresp.Topics[0].Partitions[0].ErrorCode), kerr.TopicAuthorizationFailed)
}

// DescribeProducers lists a partition's idempotent and transactional producers, with the start of an
// open transaction (what holds back the last stable offset) until its marker is written.
func TestDescribeProducers(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "producers", 1, nil)
	produceN(t, newClient(t, b.Addr(), kgo.DefaultProduceTopic("producers")), "producers", 3)

	txn := newClient(t, b.Addr(), kgo.DefaultProduceTopic("producers"), kgo.TransactionalID("describe-me"))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := txn.ProduceSync(testContext(t), &kgo.Record{Value: []byte("in a transaction")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	describe := func() []kadm.DescribedProducer {
		t.Helper()
		d, err := adm.DescribeProducers(testContext(t), kadm.TopicsSet{"producers": {0: {}}})
		if err != nil {
			t.Fatal(err)
		}
		p := d["producers"].Partitions[0]
		if p.Err != nil {
			t.Fatalf("describe producers: %v", p.Err)
		}
		return p.ActiveProducers.Sorted()
	}
	ps := describe()
	if len(ps) != 2 {
		t.Fatalf("producers %+v, want the idempotent and the transactional one", ps)
	}
	idem, tx := ps[0], ps[1]
	if idem.LastSequence != 2 || idem.CurrentTxnStartOffset != -1 || idem.CoordinatorEpoch != -1 || idem.LastTimestamp <= 0 {
		t.Fatalf("idempotent producer: %+v", idem)
	}
	if tx.LastSequence != 0 || tx.CurrentTxnStartOffset != 3 {
		t.Fatalf("transactional producer with an open transaction: %+v", tx)
	}
	if err := txn.EndTransaction(testContext(t), kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if tx = describe()[1]; tx.CurrentTxnStartOffset != -1 || tx.CoordinatorEpoch < 0 {
		t.Fatalf("transactional producer after commit: %+v", tx)
	}
	req := kmsg.NewPtrDescribeProducersRequest()
	req.Topics = []kmsg.DescribeProducersRequestTopic{{Topic: "producers", Partitions: []int32{7}}}
	raw, err := txn.SeedBrokers()[0].Request(testContext(t), req) // unsharded: the client knows no leader of 7
	if err != nil {
		t.Fatal(err)
	}
	if resp := raw.(*kmsg.DescribeProducersResponse); resp.Topics[0].Partitions[0].ErrorCode != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("describe producers of a missing partition: %+v", resp)
	}
}
