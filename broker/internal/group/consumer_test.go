package group

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// topicSet is a mutable set of topics the coordinator assigns from, standing in for the broker's.
type topicSet struct {
	mu     sync.Mutex
	topics map[string]TopicInfo
}

func newTopicSet(parts map[string]int32) *topicSet {
	ts := &topicSet{topics: make(map[string]TopicInfo)}
	for name, n := range parts {
		ts.set(name, n)
	}
	return ts
}

func (ts *topicSet) set(name string, partitions int32) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var id [16]byte
	copy(id[:], name)
	ts.topics[name] = TopicInfo{Name: name, ID: id, Partitions: partitions}
}

func (ts *topicSet) id(name string) [16]byte {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.topics[name].ID
}

func (ts *topicSet) list() []TopicInfo {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []TopicInfo
	for _, t := range ts.topics {
		out = append(out, t)
	}
	return out
}

func newConsumerHarness(t *testing.T, parts map[string]int32, opts Options) (*harness, *topicSet) {
	ts := newTopicSet(parts)
	opts.Topics = ts.list
	return newHarness(t, opts), ts
}

// cgMember drives one KIP-848 member: it remembers its ID, epoch and what it owns.
type cgMember struct {
	h        *harness
	ts       *topicSet
	group    string
	id       string
	instance *string
	epoch    int32
	owned    map[string][]int32 // topic name -> partitions
}

func (h *harness) member(ts *topicSet, group, id string) *cgMember {
	return &cgMember{h: h, ts: ts, group: group, id: id, owned: map[string][]int32{}}
}

func (m *cgMember) request(topics ...string) *kmsg.ConsumerGroupHeartbeatRequest {
	r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	r.Version = 1
	r.Group = m.group
	r.MemberID = m.id
	r.MemberEpoch = m.epoch
	r.InstanceID = m.instance
	r.RebalanceTimeoutMillis = 60000
	r.SubscribedTopicNames = topics
	r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	for name, ps := range m.owned {
		t := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		t.TopicID = m.ts.id(name)
		t.Partitions = ps
		r.Topics = append(r.Topics, t)
	}
	return r
}

// send sends r and applies a successful response: the new epoch and, when present, the assignment.
func (m *cgMember) send(r *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	m.h.t.Helper()
	resp := m.h.c.ConsumerGroupHeartbeat(WithClient(context.Background(), "client", "/127.0.0.1"), r)
	if resp.ErrorCode != 0 {
		return resp
	}
	m.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		m.owned = map[string][]int32{}
		for _, t := range resp.Assignment.Topics {
			for _, ti := range m.ts.list() {
				if ti.ID == t.TopicID {
					m.owned[ti.Name] = slices.Sorted(slices.Values(t.Partitions))
				}
			}
		}
	}
	return resp
}

// beat sends a full heartbeat subscribed to topics and fails the test on an error.
func (m *cgMember) beat(topics ...string) *kmsg.ConsumerGroupHeartbeatResponse {
	m.h.t.Helper()
	resp := m.send(m.request(topics...))
	if resp.ErrorCode != 0 {
		m.h.t.Fatalf("heartbeat of %s: %v %v", m.id, kerr.ErrorForCode(resp.ErrorCode), resp.ErrorMessage)
	}
	return resp
}

func (m *cgMember) count() int {
	n := 0
	for _, ps := range m.owned {
		n += len(ps)
	}
	return n
}

func (h *harness) describeConsumer(group string) kmsg.ConsumerGroupDescribeResponseGroup {
	h.t.Helper()
	r := kmsg.NewPtrConsumerGroupDescribeRequest()
	r.Groups = []string{group}
	return h.c.ConsumerGroupDescribe(context.Background(), r).Groups[0]
}

func TestConsumerGroupReconciliationRevokesBeforeAssigning(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 4}, Options{})
	a := h.member(ts, "g", "member-a")
	resp := a.beat("t")
	if a.epoch != 1 || a.count() != 4 {
		t.Fatalf("first member: epoch %d, owns %v", a.epoch, a.owned)
	}
	if resp.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("heartbeat interval %d, want Kafka's default 5000", resp.HeartbeatIntervalMillis)
	}

	b := h.member(ts, "g", "member-b")
	b.beat("t")
	if b.count() != 0 {
		t.Fatalf("b was given %v while a still owns every partition", b.owned)
	}
	if got := h.describeConsumer("g").State; got != "Reconciling" {
		t.Fatalf("state %s, want Reconciling", got)
	}
	// a must revoke two partitions first, keeping its epoch while it does.
	oldEpoch := a.epoch
	a.beat("t")
	if a.count() != 2 || a.epoch != oldEpoch {
		t.Fatalf("a after the rebalance: epoch %d (was %d), owns %v; want 2 partitions at the old epoch", a.epoch, oldEpoch, a.owned)
	}
	// b still gets nothing: a has not confirmed the revocation.
	b.beat("t")
	if b.count() != 0 {
		t.Fatalf("b was given %v before a revoked", b.owned)
	}
	a.beat("t") // a now reports owning two partitions: the revocation is done
	if a.epoch <= oldEpoch {
		t.Fatalf("a did not advance its epoch after revoking: %d", a.epoch)
	}
	b.beat("t")
	if b.count() != 2 {
		t.Fatalf("b owns %v after a revoked, want 2 partitions", b.owned)
	}
	for _, p := range b.owned["t"] {
		if slices.Contains(a.owned["t"], p) {
			t.Fatalf("partition %d owned by both members: a %v, b %v", p, a.owned, b.owned)
		}
	}
	d := h.describeConsumer("g")
	if d.State != "Stable" || d.Epoch != a.epoch || d.AssignmentEpoch != d.Epoch || d.AssignorName != "uniform" || len(d.Members) != 2 {
		t.Fatalf("describe: %+v", d)
	}
	for _, m := range d.Members {
		if len(m.Assignment.TopicPartitions) != 1 || m.Assignment.TopicPartitions[0].Topic != "t" ||
			len(m.Assignment.TopicPartitions[0].Partitions) != 2 || m.MemberType != 1 {
			t.Fatalf("described member %+v", m)
		}
	}
}

func TestConsumerGroupHeartbeatErrors(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 1}, Options{})
	a := h.member(ts, "g", "member-a")
	a.beat("t")

	for _, tc := range []struct {
		name string
		edit func(*kmsg.ConsumerGroupHeartbeatRequest)
		want *kerr.Error
	}{
		{"empty group", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group = "" }, kerr.InvalidGroupID},
		{"empty member id", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID = "" }, kerr.InvalidRequest},
		{"epoch below -2", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -3 }, kerr.InvalidRequest},
		{"join owning partitions", func(r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.MemberID, r.MemberEpoch = "member-new", 0
			r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: ts.id("t"), Partitions: []int32{0}}}
		}, kerr.InvalidRequest},
		{"join without subscription", func(r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.MemberID, r.MemberEpoch, r.SubscribedTopicNames = "member-new", 0, nil
		}, kerr.InvalidRequest},
		{"unknown assignor", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = kmsg.StringPtr("sticky") }, kerr.UnsupportedAssignor},
		{"bad regex", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicRegex = kmsg.StringPtr("t(") }, kerr.InvalidRegularExpression},
		{"future epoch", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = a.epoch + 1 }, kerr.FencedMemberEpoch},
		{"unknown member", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID = "nobody" }, kerr.UnknownMemberID},
		{"leave of unknown member", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID, r.MemberEpoch = "nobody", -1 }, kerr.UnknownMemberID},
		{"static leave without instance", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -2 }, kerr.InvalidRequest},
		{"unknown group", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group = "other" }, kerr.GroupIDNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := a.request("t")
			tc.edit(r)
			resp := h.c.ConsumerGroupHeartbeat(context.Background(), r)
			wantErr(t, tc.name, resp.ErrorCode, tc.want)
		})
	}
	// None of the rejected requests changed the member.
	a.beat("t")
	if a.count() != 1 {
		t.Fatalf("a owns %v", a.owned)
	}
}

func TestConsumerGroupRegexSubscription(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"orders": 1, "orders-eu": 2, "payments": 1}, Options{})
	a := h.member(ts, "g", "member-a")
	r := a.request()
	r.SubscribedTopicNames = nil
	r.SubscribedTopicRegex = kmsg.StringPtr("orders.*")
	a.send(r)
	if len(a.owned) != 2 || len(a.owned["orders-eu"]) != 2 || len(a.owned["orders"]) != 1 {
		t.Fatalf("regex orders.* assigned %v", a.owned)
	}
	// The regex matches whole names: "rders" matches nothing.
	b := h.member(ts, "g2", "member-b")
	r = b.request()
	r.SubscribedTopicNames = nil
	r.SubscribedTopicRegex = kmsg.StringPtr("rders")
	b.send(r)
	if b.count() != 0 {
		t.Fatalf("regex rders assigned %v", b.owned)
	}
	// A topic created later that matches joins the assignment on the next heartbeat.
	ts.set("orders-us", 1)
	r = a.request()
	r.SubscribedTopicNames = nil
	a.send(r)
	if len(a.owned["orders-us"]) != 1 {
		t.Fatalf("new matching topic not assigned: %v", a.owned)
	}
	d := h.describeConsumer("g")
	if got := d.Members[0].SubscribedTopicRegex; got == nil || *got != "orders.*" {
		t.Fatalf("described regex %v", got)
	}
}

func TestConsumerGroupRangeAssignor(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"a": 3, "b": 3}, Options{ConsumerAssignors: []string{"range", "uniform"}})
	m1, m2 := h.member(ts, "g", "m1"), h.member(ts, "g", "m2")
	m1.beat("a", "b")
	m2.beat("a", "b")
	for range 3 {
		m1.beat("a", "b")
		m2.beat("a", "b")
	}
	// Range: per topic, m1 gets partitions 0-1 and m2 gets 2, for both topics alike.
	if !slices.Equal(m1.owned["a"], []int32{0, 1}) || !slices.Equal(m1.owned["b"], []int32{0, 1}) ||
		!slices.Equal(m2.owned["a"], []int32{2}) || !slices.Equal(m2.owned["b"], []int32{2}) {
		t.Fatalf("range assignment: m1 %v, m2 %v", m1.owned, m2.owned)
	}
	if d := h.describeConsumer("g"); d.AssignorName != "range" || d.State != "Stable" {
		t.Fatalf("describe: %s %s", d.AssignorName, d.State)
	}
}

func TestUniformAssignorIsBalancedAndSticky(t *testing.T) {
	ts := newTopicSet(map[string]int32{"a": 7, "b": 5})
	var members []*consumerMember
	for i := range 3 {
		members = append(members, &consumerMember{id: fmt.Sprint("m", i), topics: []string{"a", "b"}, target: partSet{}})
	}
	members[2].topics = []string{"b"} // heterogeneous: m2 only takes b
	var parts []assignable
	for _, name := range []string{"a", "b"} {
		for p := range ts.topics[name].Partitions {
			parts = append(parts, assignable{topic: name, idPart: idPart{ts.id(name), p}})
		}
	}
	first := assignUniform(members, parts)
	total := 0
	for _, m := range members {
		n := len(first[m.id])
		total += n
		if n < 3 || n > 5 {
			t.Fatalf("unbalanced: %s has %d partitions", m.id, n)
		}
		for p := range first[m.id] {
			if p.id == ts.id("a") && !m.subscribes("a") {
				t.Fatalf("%s got partition %v of a topic it does not subscribe to", m.id, p)
			}
		}
		m.target = first[m.id]
	}
	if total != 12 {
		t.Fatalf("%d of 12 partitions assigned", total)
	}
	// A fourth member joins: everyone keeps what it had except what the newcomer takes.
	members = append(members, &consumerMember{id: "m3", topics: []string{"a", "b"}, target: partSet{}})
	second := assignUniform(members, parts)
	moved := 0
	for _, m := range members[:3] {
		for p := range first[m.id] {
			if _, ok := second[m.id][p]; !ok {
				moved++
			}
		}
	}
	if n := len(second["m3"]); n != 3 || moved != 3 {
		t.Fatalf("newcomer got %d partitions, %d moved; want 3 and 3", n, moved)
	}
}

func TestConsumerGroupLeaveAndStaticMembership(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 2}, Options{})
	a := h.member(ts, "g", "member-a")
	a.instance = kmsg.StringPtr("instance-a")
	b := h.member(ts, "g", "member-b")
	a.beat("t")
	b.beat("t")
	for range 2 {
		a.beat("t")
		b.beat("t")
	}
	if a.count() != 1 || b.count() != 1 {
		t.Fatalf("a %v b %v", a.owned, b.owned)
	}
	aOwned := a.owned["t"][0]

	// A second process with the same instance ID is refused while a is active.
	dup := h.member(ts, "g", "member-dup")
	dup.instance = kmsg.StringPtr("instance-a")
	wantErr(t, "duplicate instance", dup.send(dup.request("t")).ErrorCode, kerr.UnreleasedInstanceID)

	// Static leave (-2): a's partition stays reserved for it.
	r := a.request("t")
	r.MemberEpoch = -2
	if resp := h.c.ConsumerGroupHeartbeat(context.Background(), r); resp.ErrorCode != 0 || resp.MemberEpoch != -2 {
		t.Fatalf("static leave: %v epoch %d", kerr.ErrorForCode(resp.ErrorCode), resp.MemberEpoch)
	}
	b.beat("t")
	if b.count() != 1 {
		t.Fatalf("b took a's partition while a was away: %v", b.owned)
	}
	// The instance comes back under a new member ID and gets its partition back.
	back := h.member(ts, "g", "member-a2")
	back.instance = kmsg.StringPtr("instance-a")
	back.beat("t")
	if back.count() != 1 || back.owned["t"][0] != aOwned {
		t.Fatalf("returning static member owns %v, want partition %d", back.owned, aOwned)
	}
	// The old member ID is gone.
	wantErr(t, "old static member id", a.send(a.request("t")).ErrorCode, kerr.FencedInstanceID)

	// A full leave (-1) hands the partition to b.
	r = back.request("t")
	r.MemberEpoch = -1
	if resp := h.c.ConsumerGroupHeartbeat(context.Background(), r); resp.ErrorCode != 0 || resp.MemberEpoch != -1 {
		t.Fatalf("leave: %v epoch %d", kerr.ErrorForCode(resp.ErrorCode), resp.MemberEpoch)
	}
	b.beat("t")
	if b.count() != 2 {
		t.Fatalf("b owns %v after the other member left", b.owned)
	}
}

func TestConsumerGroupSessionTimeout(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 2}, Options{
		ConsumerSessionTimeout: 100 * time.Millisecond, ConsumerHeartbeatInterval: 20 * time.Millisecond,
	})
	a := h.member(ts, "g", "member-a")
	if resp := a.beat("t"); resp.HeartbeatIntervalMillis != 20 {
		t.Fatalf("heartbeat interval %d", resp.HeartbeatIntervalMillis)
	}
	checkFor(t, 5*time.Second, func() error {
		if d := h.describeConsumer("g"); d.State != "Empty" {
			return fmt.Errorf("state %s with %d members", d.State, len(d.Members))
		}
		return nil
	})
	wantErr(t, "expired member", a.send(a.request("t")).ErrorCode, kerr.UnknownMemberID)
}

func consumerCommit(group, memberID string, epoch int32, topic string, partition int32) *kmsg.OffsetCommitRequest {
	r := commitReq(9, group, memberID, epoch, topic, map[int32]int64{partition: 10})
	return r
}

func TestConsumerGroupOffsetCommit(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 2}, Options{})
	a := h.member(ts, "g", "member-a")
	a.beat("t")
	if err := h.commitErr(consumerCommit("g", a.id, a.epoch, "t", 0)); err != nil {
		t.Fatalf("commit at the member epoch: %v", err)
	}
	if got := h.fetched("g", "t", 0).Offset; got != 10 {
		t.Fatalf("committed offset %d", got)
	}
	wantErr(t, "future epoch", int16(errCode(h.commitErr(consumerCommit("g", a.id, a.epoch+1, "t", 0)))), kerr.FencedMemberEpoch)
	wantErr(t, "unknown member", int16(errCode(h.commitErr(consumerCommit("g", "nobody", a.epoch, "t", 0)))), kerr.UnknownMemberID)
	wantErr(t, "OffsetCommit v8", int16(errCode(h.commitErr(commitReq(8, "g", a.id, a.epoch, "t", map[int32]int64{0: 1})))), kerr.UnsupportedVersion)
	wantErr(t, "simple commit to a group with members", int16(errCode(h.commitErr(commitReq(9, "g", "", -1, "t", map[int32]int64{0: 1})))), kerr.UnknownMemberID)

	// A second member makes a's epoch move on; a's older epoch still commits the partition it has owned
	// since then (KIP-1251), not one it was given later.
	old := a.epoch
	b := h.member(ts, "g", "member-b")
	b.beat("t")
	a.beat("t")
	a.beat("t")
	if a.epoch == old {
		t.Fatalf("a's epoch did not move")
	}
	kept := a.owned["t"][0]
	if err := h.commitErr(consumerCommit("g", a.id, old, "t", kept)); err != nil {
		t.Fatalf("commit of a partition owned since epoch %d: %v", old, err)
	}
	wantErr(t, "commit of a partition no longer owned", int16(errCode(h.commitErr(consumerCommit("g", a.id, old, "t", 1-kept)))), kerr.StaleMemberEpoch)

	// OffsetFetch v9 naming the member checks its epoch.
	f := kmsg.NewPtrOffsetFetchRequest()
	f.Version = 9
	fg := kmsg.NewOffsetFetchRequestGroup()
	fg.Group, fg.MemberID, fg.MemberEpoch = "g", kmsg.StringPtr(a.id), old
	f.Groups = []kmsg.OffsetFetchRequestGroup{fg}
	wantErr(t, "fetch at an old epoch", h.c.OffsetFetch(context.Background(), f).Groups[0].ErrorCode, kerr.StaleMemberEpoch)
	f.Groups[0].MemberEpoch = a.epoch
	wantErr(t, "fetch at the member epoch", h.c.OffsetFetch(context.Background(), f).Groups[0].ErrorCode, nil)
}

func TestConsumerGroupAndClassicProtocolsExclude(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 1}, Options{})
	a := h.member(ts, "g", "member-a")
	a.beat("t")

	// A classic member cannot join a consumer group with members.
	resp := h.c.JoinGroup(context.Background(), joinReq(9, "g", "member-x"))
	wantErr(t, "classic join of a consumer group", resp.ErrorCode, kerr.InconsistentGroupProtocol)
	// A KIP-848 member cannot join a classic group with members.
	h.joinNew(joinReq(9, "classic", ""))
	other := h.member(ts, "classic", "member-y")
	wantErr(t, "consumer join of a classic group", other.send(other.request("t")).ErrorCode, kerr.GroupIDNotFound)

	// DescribeGroups does not describe consumer groups; ConsumerGroupDescribe does not describe classic ones.
	// Before v6 such a group is Dead without an error; from v6, GROUP_ID_NOT_FOUND (KIP-1043).
	dg := h.describe("g")
	if dg.ErrorCode != 0 || dg.State != "Dead" {
		t.Fatalf("DescribeGroups v5 of a consumer group: %v, state %q; want Dead and no error", kerr.ErrorForCode(dg.ErrorCode), dg.State)
	}
	dg = h.describeVersion("g", 6)
	wantErr(t, "DescribeGroups v6 of a consumer group", dg.ErrorCode, kerr.GroupIDNotFound)
	if dg.State != "Dead" || dg.ErrorMessage == nil || *dg.ErrorMessage != "Group g is not a classic group." {
		t.Fatalf("DescribeGroups v6 of a consumer group: state %q, message %v", dg.State, dg.ErrorMessage)
	}
	if dg = h.describeVersion("nobody", 6); dg.ErrorCode != kerr.GroupIDNotFound.Code || dg.State != "Dead" {
		t.Fatalf("DescribeGroups v6 of no group: %v, state %q", kerr.ErrorForCode(dg.ErrorCode), dg.State)
	}
	wantErr(t, "ConsumerGroupDescribe of a classic group", h.describeConsumer("classic").ErrorCode, kerr.GroupIDNotFound)

	// ListGroups knows both types and filters on them.
	lr := kmsg.NewPtrListGroupsRequest()
	lr.Version = 5
	lr.TypesFilter = []string{"consumer"}
	lg := h.c.ListGroups(context.Background(), lr)
	if len(lg.Groups) != 1 || lg.Groups[0].Group != "g" || lg.Groups[0].GroupType != "consumer" ||
		lg.Groups[0].ProtocolType != "consumer" || lg.Groups[0].GroupState != "Stable" {
		t.Fatalf("ListGroups consumer: %+v", lg.Groups)
	}
	lr.TypesFilter = nil
	if lg := h.c.ListGroups(context.Background(), lr); len(lg.Groups) != 2 {
		t.Fatalf("ListGroups: %+v", lg.Groups)
	}

	// DeleteGroups refuses a consumer group with members and deletes it once empty.
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"g"}
	wantErr(t, "delete non-empty consumer group", h.c.DeleteGroups(context.Background(), del).Groups[0].ErrorCode, kerr.NonEmptyGroup)
	r := a.request("t")
	r.MemberEpoch = -1
	h.c.ConsumerGroupHeartbeat(context.Background(), r)
	wantErr(t, "delete empty consumer group", h.c.DeleteGroups(context.Background(), del).Groups[0].ErrorCode, nil)
	wantErr(t, "describe deleted group", h.describeConsumer("g").ErrorCode, kerr.GroupIDNotFound)
}

func TestConsumerGroupSurvivesRestart(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 1}, Options{})
	a := h.member(ts, "g", "member-a")
	a.beat("t")
	if err := h.commitErr(consumerCommit("g", a.id, a.epoch, "t", 0)); err != nil {
		t.Fatal(err)
	}
	epoch := a.epoch
	h.restart()
	d := h.describeConsumer("g")
	if d.ErrorCode != 0 || d.State != "Empty" || d.Epoch < epoch {
		t.Fatalf("after restart: %v state %s epoch %d (was %d)", kerr.ErrorForCode(d.ErrorCode), d.State, d.Epoch, epoch)
	}
	// The member's session did not survive: it is told to rejoin, and does, above the old epoch.
	wantErr(t, "heartbeat after restart", a.send(a.request("t")).ErrorCode, kerr.UnknownMemberID)
	a.epoch, a.owned = 0, map[string][]int32{}
	a.beat("t")
	if a.epoch <= epoch || a.count() != 1 {
		t.Fatalf("rejoined at epoch %d (was %d) owning %v", a.epoch, epoch, a.owned)
	}
	if got := h.fetched("g", "t", 0).Offset; got != 10 {
		t.Fatalf("offset after restart %d", got)
	}
}

func TestConsumerGroupOptionsValidated(t *testing.T) {
	h := newHarness(t, Options{})
	for _, o := range []Options{
		{ConsumerAssignors: []string{"uniform", "sticky"}},
		{ConsumerSessionTimeout: time.Second, ConsumerHeartbeatInterval: 2 * time.Second},
	} {
		if _, err := New(h.db, o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// TxnOffsetCommit to a KIP-848 group takes the member epoch as its generation, as OffsetCommit does,
// at any version (Kafka's ConsumerGroup.validateOffsetCommit with isTransactional): an exactly-once
// consumer of a consumer-protocol group commits its offsets in its transaction.
func TestConsumerGroupTxnOffsetCommit(t *testing.T) {
	h, ts := newConsumerHarness(t, map[string]int32{"t": 2}, Options{})
	a := h.member(ts, "g", "member-a")
	a.beat("t")
	txnCommit := func(memberID string, epoch int32, partition int32) error {
		r := kmsg.NewPtrTxnOffsetCommitRequest()
		r.Version = 3
		r.TransactionalID, r.Group, r.ProducerID, r.ProducerEpoch = "tx", "g", 7, 0
		r.MemberID, r.Generation = memberID, epoch
		rt := kmsg.NewTxnOffsetCommitRequestTopic()
		rt.Topic = "t"
		rp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset = partition, 10
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		resp := h.c.TxnOffsetCommit(context.Background(), r)
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					return kerr.ErrorForCode(p.ErrorCode)
				}
			}
		}
		return nil
	}
	if err := txnCommit(a.id, a.epoch, a.owned["t"][0]); err != nil {
		t.Fatalf("transactional commit at the member epoch: %v", err)
	}
	wantErr(t, "future epoch", errCode(txnCommit(a.id, a.epoch+1, 0)), kerr.FencedMemberEpoch)
	wantErr(t, "unknown member", errCode(txnCommit("nobody", a.epoch, 0)), kerr.UnknownMemberID)
	if err := h.c.CompleteTxnOffsets(7, []string{"g"}, true); err != nil {
		t.Fatal(err)
	}
	if got := h.fetched("g", "t", a.owned["t"][0]).Offset; got != 10 {
		t.Fatalf("committed offset after the transaction committed: %d", got)
	}
}
