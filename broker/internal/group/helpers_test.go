package group

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// harness is a Coordinator over a Pebble database in a temporary directory.
type harness struct {
	t    *testing.T
	dir  string
	opts Options
	db   *pebble.DB
	c    *Coordinator
}

func newHarness(t *testing.T, opts Options) *harness {
	t.Helper()
	h := &harness{t: t, dir: filepath.Join(t.TempDir(), "meta"), opts: opts}
	h.open()
	t.Cleanup(h.close)
	return h
}

func (h *harness) open() {
	h.t.Helper()
	db, err := pebble.Open(h.dir, &pebble.Options{Logger: quietLogger{h.t}})
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := New(db, h.opts)
	if err != nil {
		db.Close()
		h.t.Fatal(err)
	}
	h.db, h.c = db, c
}

func (h *harness) close() {
	if h.c == nil {
		return
	}
	if err := h.c.Close(); err != nil {
		h.t.Error(err)
	}
	if err := h.db.Close(); err != nil {
		h.t.Error(err)
	}
	h.c, h.db = nil, nil
}

// quietLogger keeps Pebble's informational messages out of test output.
type quietLogger struct{ t *testing.T }

func (quietLogger) Infof(string, ...any)             {}
func (l quietLogger) Errorf(format string, a ...any) { l.t.Logf(format, a...) }
func (l quietLogger) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }

// restart closes the coordinator and the database and opens both again on the same directory.
func (h *harness) restart() {
	h.t.Helper()
	h.close()
	h.open()
}

func consumerMeta(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Topics = topics
	return m.AppendTo(nil)
}

// joinReq is a consumer-protocol JoinGroup with 10s timeouts, subscribed to t1.
func joinReq(version int16, group, memberID string) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = version
	r.Group = group
	r.MemberID = memberID
	r.SessionTimeoutMillis = 10_000
	r.RebalanceTimeoutMillis = 10_000
	r.ProtocolType = "consumer"
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = "range"
	p.Metadata = consumerMeta("t1")
	r.Protocols = []kmsg.JoinGroupRequestProtocol{p}
	return r
}

func syncReq(version int16, group, memberID string, generation int32, assignments map[string]string) *kmsg.SyncGroupRequest {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version = version
	r.Group = group
	r.MemberID = memberID
	r.Generation = generation
	for m, a := range assignments {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID = m
		ga.MemberAssignment = []byte(a)
		r.GroupAssignment = append(r.GroupAssignment, ga)
	}
	return r
}

func (h *harness) heartbeat(group, memberID string, generation int32) error {
	r := kmsg.NewPtrHeartbeatRequest()
	r.Version = 4
	r.Group = group
	r.MemberID = memberID
	r.Generation = generation
	return kerr.ErrorForCode(h.c.Heartbeat(context.Background(), r).ErrorCode)
}

func asyncJoin(ctx context.Context, c *Coordinator, r *kmsg.JoinGroupRequest) <-chan *kmsg.JoinGroupResponse {
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	go func() { ch <- c.JoinGroup(ctx, r) }()
	return ch
}

func asyncSync(ctx context.Context, c *Coordinator, r *kmsg.SyncGroupRequest) <-chan *kmsg.SyncGroupResponse {
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	go func() { ch <- c.SyncGroup(ctx, r) }()
	return ch
}

func await[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a response")
		panic("unreachable")
	}
}

// pending fails the test if ch already has a value: the call should still be blocked.
func pending[T any](t *testing.T, ch <-chan T) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("call returned early: %+v", v)
	case <-time.After(50 * time.Millisecond):
	}
}

// join runs a JoinGroup expected to return at once (or soon) without error.
func (h *harness) join(r *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	h.t.Helper()
	resp := await(h.t, asyncJoin(context.Background(), h.c, r))
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		h.t.Fatalf("join %s/%q: %v", r.Group, r.MemberID, err)
	}
	return resp
}

// joinNew joins a new member with the v4+ MEMBER_ID_REQUIRED round trip and waits for the response.
func (h *harness) joinNew(r *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	h.t.Helper()
	first := h.c.JoinGroup(context.Background(), r)
	if first.ErrorCode != kerr.MemberIDRequired.Code {
		h.t.Fatalf("first join: %v, want MEMBER_ID_REQUIRED", kerr.ErrorForCode(first.ErrorCode))
	}
	r.MemberID = first.MemberID
	return h.join(r)
}

// stableGroup makes a group of one member that completed a rebalance and sync; it returns the member ID
// and generation.
func (h *harness) stableGroup(group string) (string, int32) {
	h.t.Helper()
	j := h.joinNew(joinReq(5, group, ""))
	s := h.c.SyncGroup(context.Background(), syncReq(3, group, j.MemberID, j.Generation, map[string]string{j.MemberID: "a1"}))
	if s.ErrorCode != 0 {
		h.t.Fatalf("sync: %v", kerr.ErrorForCode(s.ErrorCode))
	}
	return j.MemberID, j.Generation
}

func (h *harness) describe(group string) kmsg.DescribeGroupsResponseGroup {
	h.t.Helper()
	return h.describeVersion(group, 5)
}

func (h *harness) describeVersion(group string, version int16) kmsg.DescribeGroupsResponseGroup {
	h.t.Helper()
	r := kmsg.NewPtrDescribeGroupsRequest()
	r.Version = version
	r.Groups = []string{group}
	return h.c.DescribeGroups(context.Background(), r).Groups[0]
}

// waitMembers waits until the group has n members: an asynchronous join has been registered.
func (h *harness) waitMembers(group string, n int) {
	h.t.Helper()
	checkFor(h.t, 2*time.Second, func() error {
		if d := h.describe(group); len(d.Members) != n {
			return fmt.Errorf("%d members, want %d", len(d.Members), n)
		}
		return nil
	})
}

func commitReq(version int16, group, memberID string, generation int32, topic string, offsets map[int32]int64) *kmsg.OffsetCommitRequest {
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version = version
	r.Group = group
	r.MemberID = memberID
	r.Generation = generation
	t := kmsg.NewOffsetCommitRequestTopic()
	t.Topic = topic
	for p, o := range offsets {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition = p
		rp.Offset = o
		t.Partitions = append(t.Partitions, rp)
	}
	r.Topics = []kmsg.OffsetCommitRequestTopic{t}
	return r
}

// commitErr commits and returns the first partition error.
func (h *harness) commitErr(r *kmsg.OffsetCommitRequest) error {
	h.t.Helper()
	resp := h.c.OffsetCommit(context.Background(), r)
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return kerr.ErrorForCode(p.ErrorCode)
			}
		}
	}
	return nil
}

// errCode is the Kafka error code of err (from kerr), 0 for nil.
func errCode(err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return 0
}

// fetched returns a group's committed offset of topic/partition via OffsetFetch v8.
func (h *harness) fetched(group, topic string, partition int32) kmsg.OffsetFetchResponseGroupTopicPartition {
	h.t.Helper()
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 8
	rg := kmsg.NewOffsetFetchRequestGroup()
	rg.Group = group
	rt := kmsg.NewOffsetFetchRequestGroupTopic()
	rt.Topic = topic
	rt.Partitions = []int32{partition}
	rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{rt}
	r.Groups = []kmsg.OffsetFetchRequestGroup{rg}
	resp := h.c.OffsetFetch(context.Background(), r)
	if g := resp.Groups[0]; g.ErrorCode != 0 {
		h.t.Fatalf("fetch %s: %v", group, kerr.ErrorForCode(g.ErrorCode))
	}
	return resp.Groups[0].Topics[0].Partitions[0]
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
		time.Sleep(10 * time.Millisecond)
	}
}

func wantErr(t *testing.T, what string, got int16, want *kerr.Error) {
	t.Helper()
	var wantCode int16
	if want != nil {
		wantCode = want.Code
	}
	if got != wantCode {
		t.Fatalf("%s: got %v, want %v", what, kerr.ErrorForCode(got), want)
	}
}
