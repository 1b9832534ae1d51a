package group

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestJoinSingleMember(t *testing.T) {
	h := newHarness(t, Options{})
	// v0: no MEMBER_ID_REQUIRED, no rebalance timeout (the session timeout is used).
	j := h.join(joinReq(0, "g", ""))
	if j.MemberID == "" || j.Generation != 1 || j.LeaderID != j.MemberID || j.Protocol == nil || *j.Protocol != "range" {
		t.Fatalf("join response: %+v", j)
	}
	if len(j.Members) != 1 || j.Members[0].MemberID != j.MemberID || !bytes.Equal(j.Members[0].ProtocolMetadata, consumerMeta("t1")) {
		t.Fatalf("leader's members: %+v", j.Members)
	}
	if d := h.describe("g"); d.State != "CompletingRebalance" {
		t.Fatalf("state after join: %s", d.State)
	}
	s := h.c.SyncGroup(context.Background(), syncReq(0, "g", j.MemberID, 1, map[string]string{j.MemberID: "assignment"}))
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "assignment" {
		t.Fatalf("sync: %v %q", kerr.ErrorForCode(s.ErrorCode), s.MemberAssignment)
	}
	if err := h.heartbeat("g", j.MemberID, 1); err != nil {
		t.Fatal(err)
	}
	d := h.describe("g")
	if d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol != "range" || len(d.Members) != 1 ||
		string(d.Members[0].MemberAssignment) != "assignment" || !bytes.Equal(d.Members[0].ProtocolMetadata, consumerMeta("t1")) {
		t.Fatalf("describe: %+v", d)
	}
	// A follower-less leader rejoining in Stable rebalances into the next generation.
	j2 := h.join(joinReq(0, "g", j.MemberID))
	if j2.Generation != 2 || j2.MemberID != j.MemberID {
		t.Fatalf("leader rejoin: %+v", j2)
	}
}

func TestMemberIDRequired(t *testing.T) {
	h := newHarness(t, Options{})
	first := h.c.JoinGroup(context.Background(), joinReq(4, "g", ""))
	wantErr(t, "first join", first.ErrorCode, kerr.MemberIDRequired)
	if first.MemberID == "" || first.Generation != -1 {
		t.Fatalf("MEMBER_ID_REQUIRED response: %+v", first)
	}
	// The client's ID is used as Kafka does when the broker passes it.
	ctx := WithClient(context.Background(), "my-client", "10.0.0.1")
	second := h.c.JoinGroup(ctx, joinReq(9, "g", ""))
	if second.ErrorCode != kerr.MemberIDRequired.Code || !strings.HasPrefix(second.MemberID, "my-client-") {
		t.Fatalf("member ID with client ID: %+v", second)
	}
	// An ID that was never handed out is unknown.
	bogus := h.c.JoinGroup(context.Background(), joinReq(4, "g", "bogus"))
	wantErr(t, "unknown member ID", bogus.ErrorCode, kerr.UnknownMemberID)

	r := joinReq(9, "g", second.MemberID)
	ch := asyncJoin(ctx, h.c, r)
	// The rebalance waits for the other pending member ID until it joins or expires.
	pending(t, ch)
	j1 := h.join(joinReq(4, "g", first.MemberID))
	j2 := await(t, ch)
	// The first member to join leads.
	if j1.Generation != 1 || j2.Generation != 1 || j1.LeaderID != second.MemberID || len(j2.Members) != 2 || len(j1.Members) != 0 {
		t.Fatalf("joins: %+v %+v", j1, j2)
	}
	if j2.ProtocolType == nil || *j2.ProtocolType != "consumer" {
		t.Fatalf("v9 protocol type: %v", j2.ProtocolType)
	}
	d := h.describe("g")
	if d.Members[0].ClientID != "my-client" || d.Members[0].ClientHost != "10.0.0.1" || d.Members[1].ClientID != "" {
		t.Fatalf("client IDs and hosts: %+v", d.Members)
	}
}

func TestPendingMemberExpires(t *testing.T) {
	h := newHarness(t, Options{})
	m1, gen := h.stableGroup("g")
	r := joinReq(4, "g", "")
	r.SessionTimeoutMillis = 100
	first := h.c.JoinGroup(context.Background(), r)
	wantErr(t, "first join", first.ErrorCode, kerr.MemberIDRequired)
	// The pending ID does not trigger a rebalance on its own, and is forgotten after the session timeout.
	if err := h.heartbeat("g", m1, gen); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 2*time.Second, func() error {
		h.c.mu.Lock()
		g := h.c.mu.groups["g"]
		h.c.mu.Unlock()
		g.mu.Lock()
		defer g.mu.Unlock()
		if len(g.mu.pending) > 0 {
			return errors.New("pending member still there")
		}
		return nil
	})
	r.MemberID = first.MemberID
	wantErr(t, "late join", h.c.JoinGroup(context.Background(), r).ErrorCode, kerr.UnknownMemberID)
}

// TestRebalance walks a group from one member to three: the leader gets every member's metadata, sync
// distributes the leader's assignments, and heartbeats tell existing members to rejoin.
func TestRebalance(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	m1, gen1 := h.stableGroup("g")

	// A second member joins: the join waits for the existing member to rejoin.
	first := h.c.JoinGroup(ctx, joinReq(5, "g", ""))
	r2 := joinReq(5, "g", first.MemberID)
	r2.Protocols[0].Metadata = consumerMeta("t1", "t2")
	join2 := asyncJoin(ctx, h.c, r2)
	checkFor(t, 2*time.Second, func() error {
		if err := h.heartbeat("g", m1, gen1); !errors.Is(err, kerr.RebalanceInProgress) {
			return fmt.Errorf("heartbeat: %v", err)
		}
		return nil
	})
	pending(t, join2)
	if d := h.describe("g"); d.State != "PreparingRebalance" || d.Protocol != "" || d.Members[0].MemberAssignment != nil {
		t.Fatalf("describe during rebalance: %+v", d)
	}
	// Commits of the current generation are still accepted while preparing.
	if err := h.commitErr(commitReq(8, "g", m1, gen1, "t1", map[int32]int64{0: 5})); err != nil {
		t.Fatal(err)
	}
	j1 := h.join(joinReq(5, "g", m1))
	j2 := await(t, join2)
	gen2 := j1.Generation
	if gen2 != gen1+1 || j2.Generation != gen2 || j1.LeaderID != m1 || j2.LeaderID != m1 {
		t.Fatalf("generations/leader: %+v %+v", j1, j2)
	}
	if len(j1.Members) != 2 || len(j2.Members) != 0 {
		t.Fatalf("only the leader gets members: %d %d", len(j1.Members), len(j2.Members))
	}
	for _, m := range j1.Members {
		want := consumerMeta("t1")
		if m.MemberID == j2.MemberID {
			want = consumerMeta("t1", "t2")
		}
		if !bytes.Equal(m.ProtocolMetadata, want) {
			t.Fatalf("metadata of %s: %x", m.MemberID, m.ProtocolMetadata)
		}
	}
	// A heartbeat between join and sync is fine; a commit is not yet.
	if err := h.heartbeat("g", j2.MemberID, gen2); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "commit in CompletingRebalance", errCode(h.commitErr(commitReq(8, "g", m1, gen2, "t1", map[int32]int64{0: 6}))), kerr.RebalanceInProgress)

	// The follower's sync waits for the leader's.
	sync2 := asyncSync(ctx, h.c, syncReq(5, "g", j2.MemberID, gen2, nil))
	pending(t, sync2)
	s1 := h.c.SyncGroup(ctx, syncReq(5, "g", m1, gen2, map[string]string{m1: "p0", j2.MemberID: "p1"}))
	s2 := await(t, sync2)
	if string(s1.MemberAssignment) != "p0" || string(s2.MemberAssignment) != "p1" || s2.Protocol == nil || *s2.Protocol != "range" {
		t.Fatalf("assignments: %q %q %v", s1.MemberAssignment, s2.MemberAssignment, s2.Protocol)
	}
	// A stale generation is fenced.
	wantErr(t, "old generation sync", h.c.SyncGroup(ctx, syncReq(5, "g", m1, gen1, nil)).ErrorCode, kerr.IllegalGeneration)
	if err := h.heartbeat("g", m1, gen1); !errors.Is(err, kerr.IllegalGeneration) {
		t.Fatalf("old generation heartbeat: %v", err)
	}

	// A third member: both existing members see REBALANCE_IN_PROGRESS and rejoin.
	first3 := h.c.JoinGroup(ctx, joinReq(5, "g", ""))
	join3 := asyncJoin(ctx, h.c, joinReq(5, "g", first3.MemberID))
	for _, m := range []string{m1, j2.MemberID} {
		checkFor(t, 2*time.Second, func() error {
			if err := h.heartbeat("g", m, gen2); !errors.Is(err, kerr.RebalanceInProgress) {
				return fmt.Errorf("heartbeat of %s: %v", m, err)
			}
			return nil
		})
	}
	rejoin1 := asyncJoin(ctx, h.c, joinReq(5, "g", m1))
	pending(t, rejoin1)
	h.join(joinReq(5, "g", j2.MemberID))
	j1 = await(t, rejoin1)
	j3 := await(t, join3)
	if j1.Generation != gen2+1 || j3.Generation != gen2+1 || len(j1.Members) != 3 {
		t.Fatalf("third generation: %+v %+v", j1, j3)
	}
}

func TestSessionTimeoutRemovesMember(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	r1 := joinReq(3, "g", "")
	r1.SessionTimeoutMillis = 300
	r1.RebalanceTimeoutMillis = 300
	j1 := h.join(r1)
	r2 := joinReq(3, "g", "")
	r2.SessionTimeoutMillis = 200
	join2 := asyncJoin(ctx, h.c, r2)
	// Member 1 rejoins; member 2 then never heartbeats.
	checkFor(t, 2*time.Second, func() error {
		if err := h.heartbeat("g", j1.MemberID, j1.Generation); !errors.Is(err, kerr.RebalanceInProgress) {
			return fmt.Errorf("heartbeat: %v", err)
		}
		return nil
	})
	r1.MemberID = j1.MemberID
	j1 = h.join(r1)
	j2 := await(t, join2)
	h.c.SyncGroup(ctx, syncReq(3, "g", j1.MemberID, j1.Generation, nil))
	if len(j1.Members) != 2 {
		t.Fatalf("members: %d", len(j1.Members))
	}
	// Member 1 keeps heartbeating and is told to rejoin once member 2 expires.
	checkFor(t, 3*time.Second, func() error {
		if err := h.heartbeat("g", j1.MemberID, j1.Generation); !errors.Is(err, kerr.RebalanceInProgress) {
			return fmt.Errorf("heartbeat: %v", err)
		}
		return nil
	})
	j1 = h.join(r1)
	if len(j1.Members) != 1 || j1.Members[0].MemberID != j1.MemberID {
		t.Fatalf("after expiry: %+v", j1.Members)
	}
	if err := h.heartbeat("g", j2.MemberID, j2.Generation); !errors.Is(err, kerr.UnknownMemberID) {
		t.Fatalf("expired member heartbeat: %v", err)
	}
	// Finally member 1 expires too and the group becomes Empty.
	h.c.SyncGroup(ctx, syncReq(3, "g", j1.MemberID, j1.Generation, nil))
	checkFor(t, 3*time.Second, func() error {
		if d := h.describe("g"); d.State != "Empty" || len(d.Members) != 0 {
			return fmt.Errorf("state %s with %d members", d.State, len(d.Members))
		}
		return nil
	})
}

func TestRebalanceTimeoutRemovesSilentMember(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	r1 := joinReq(3, "g", "")
	r1.RebalanceTimeoutMillis = 200
	j1 := h.join(r1)
	h.c.SyncGroup(ctx, syncReq(3, "g", j1.MemberID, j1.Generation, nil))
	// Member 1 has a long session timeout but never rejoins: the join phase ends after the rebalance
	// timeout without it.
	r2 := joinReq(3, "g", "")
	r2.RebalanceTimeoutMillis = 200
	j2 := await(t, asyncJoin(ctx, h.c, r2))
	if j2.ErrorCode != 0 || j2.LeaderID != j2.MemberID || len(j2.Members) != 1 {
		t.Fatalf("join after rebalance timeout: %+v", j2)
	}
	if err := h.heartbeat("g", j1.MemberID, j1.Generation); !errors.Is(err, kerr.UnknownMemberID) {
		t.Fatalf("removed member heartbeat: %v", err)
	}
}

func TestPendingSyncExpiry(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	r1 := joinReq(3, "g", "")
	r1.RebalanceTimeoutMillis = 200
	j1 := h.join(r1)
	// The leader never sends SyncGroup: after the rebalance timeout it is removed and the group is Empty.
	checkFor(t, 2*time.Second, func() error {
		if d := h.describe("g"); d.State != "Empty" {
			return fmt.Errorf("state %s", d.State)
		}
		return nil
	})
	wantErr(t, "late sync", h.c.SyncGroup(ctx, syncReq(3, "g", j1.MemberID, j1.Generation, nil)).ErrorCode, kerr.UnknownMemberID)
}

func TestLeaveGroup(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	m1, gen := h.stableGroup("g")
	// v0 leave of an unknown member.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Group = "g"
	lr.MemberID = "nobody"
	wantErr(t, "unknown leave", h.c.LeaveGroup(ctx, lr).ErrorCode, kerr.UnknownMemberID)
	lr.Group = "nogroup"
	wantErr(t, "leave unknown group", h.c.LeaveGroup(ctx, lr).ErrorCode, kerr.UnknownMemberID)

	// A member joins; the rebalance waits for m1, which leaves instead: the join completes without it.
	first := h.c.JoinGroup(ctx, joinReq(5, "g", ""))
	join2 := asyncJoin(ctx, h.c, joinReq(5, "g", first.MemberID))
	pending(t, join2)
	lr.Group, lr.MemberID = "g", m1
	wantErr(t, "leave", h.c.LeaveGroup(ctx, lr).ErrorCode, nil)
	j2 := await(t, join2)
	if j2.ErrorCode != 0 || j2.Generation != gen+1 || j2.LeaderID != j2.MemberID || len(j2.Members) != 1 {
		t.Fatalf("join after leader left: %+v", j2)
	}

	// v3+ batch leave: one by member ID, one by instance ID, one unknown.
	r3 := joinReq(5, "g", "")
	inst := "i3"
	r3.InstanceID = &inst
	join3 := asyncJoin(ctx, h.c, r3)
	h.waitMembers("g", 2)
	h.join(joinReq(5, "g", j2.MemberID))
	j3 := await(t, join3)
	lr = kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 5
	lr.Group = "g"
	byID := kmsg.NewLeaveGroupRequestMember()
	byID.MemberID = j2.MemberID
	byInstance := kmsg.NewLeaveGroupRequestMember()
	byInstance.InstanceID = &inst
	unknown := kmsg.NewLeaveGroupRequestMember()
	unknown.MemberID = "nobody"
	lr.Members = []kmsg.LeaveGroupRequestMember{byID, byInstance, unknown}
	resp := h.c.LeaveGroup(ctx, lr)
	if resp.ErrorCode != 0 || len(resp.Members) != 3 || resp.Members[0].ErrorCode != 0 || resp.Members[1].ErrorCode != 0 ||
		resp.Members[2].ErrorCode != kerr.UnknownMemberID.Code || resp.Members[1].InstanceID == nil {
		t.Fatalf("batch leave: %+v", resp)
	}
	if d := h.describe("g"); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("after everyone left: %+v", d)
	}
	if err := h.heartbeat("g", j3.MemberID, j3.Generation); !errors.Is(err, kerr.UnknownMemberID) {
		t.Fatalf("heartbeat after leave: %v", err)
	}
}

func TestStaticMembership(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	static := func(version int16, inst, memberID string) *kmsg.JoinGroupRequest {
		r := joinReq(version, "g", memberID)
		r.InstanceID = &inst
		return r
	}
	// Static members join without MEMBER_ID_REQUIRED.
	j1 := h.join(static(5, "i1", ""))
	h.c.SyncGroup(ctx, syncReq(5, "g", j1.MemberID, j1.Generation, map[string]string{j1.MemberID: "a1"}))
	join2 := asyncJoin(ctx, h.c, static(5, "i2", ""))
	h.waitMembers("g", 2)
	h.join(static(5, "i1", j1.MemberID))
	j2 := await(t, join2)
	gen := j2.Generation
	sync2 := asyncSync(ctx, h.c, syncReq(5, "g", j2.MemberID, gen, nil))
	h.c.SyncGroup(ctx, syncReq(5, "g", j1.MemberID, gen, map[string]string{j1.MemberID: "a1", j2.MemberID: "a2"}))
	await(t, sync2)

	// i2 restarts and rejoins without its member ID: it gets a new ID in the same generation, without a
	// rebalance, and the old leader ID so it does not compute an assignment.
	re := h.join(static(5, "i2", ""))
	if re.MemberID == j2.MemberID || re.Generation != gen || re.LeaderID != j1.MemberID || len(re.Members) != 0 {
		t.Fatalf("static rejoin: %+v", re)
	}
	if err := h.heartbeat("g", j1.MemberID, gen); err != nil {
		t.Fatalf("other member's heartbeat after static rejoin: %v", err)
	}
	s := h.c.SyncGroup(ctx, syncReq(5, "g", re.MemberID, gen, nil))
	if s.ErrorCode != 0 || string(s.MemberAssignment) != "a2" {
		t.Fatalf("static member keeps its assignment: %v %q", kerr.ErrorForCode(s.ErrorCode), s.MemberAssignment)
	}
	// The old member ID is fenced.
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version = 4
	hb.Group, hb.MemberID, hb.Generation = "g", j2.MemberID, gen
	inst := "i2"
	hb.InstanceID = &inst
	wantErr(t, "fenced heartbeat", h.c.Heartbeat(ctx, hb).ErrorCode, kerr.FencedInstanceID)
	c := commitReq(7, "g", j2.MemberID, gen, "t1", map[int32]int64{0: 1})
	c.InstanceID = &inst
	wantErr(t, "fenced commit", errCode(h.commitErr(c)), kerr.FencedInstanceID)
	wantErr(t, "fenced join", h.c.JoinGroup(ctx, static(5, "i2", j2.MemberID)).ErrorCode, kerr.FencedInstanceID)

	// The static leader restarting with v9 is told it leads but should skip the assignment.
	lead := h.join(static(9, "i1", ""))
	if lead.Generation != gen || lead.LeaderID != lead.MemberID || !lead.SkipAssignment || len(lead.Members) != 2 {
		t.Fatalf("v9 static leader rejoin: %+v", lead)
	}
	if d := h.describe("g"); d.State != "Stable" {
		t.Fatalf("state after static rejoins: %s", d.State)
	}
}

func TestInconsistentProtocol(t *testing.T) {
	h := newHarness(t, Options{})
	h.stableGroup("g")
	r := joinReq(3, "g", "")
	r.ProtocolType = "connect"
	wantErr(t, "other protocol type", h.c.JoinGroup(context.Background(), r).ErrorCode, kerr.InconsistentGroupProtocol)
	r = joinReq(3, "g", "")
	r.Protocols[0].Name = "roundrobin"
	wantErr(t, "no common protocol", h.c.JoinGroup(context.Background(), r).ErrorCode, kerr.InconsistentGroupProtocol)
	r = joinReq(3, "g2", "")
	r.Protocols = nil
	wantErr(t, "no protocols", h.c.JoinGroup(context.Background(), r).ErrorCode, kerr.InconsistentGroupProtocol)
	r = joinReq(3, "g2", "")
	r.SessionTimeoutMillis = 0
	wantErr(t, "session timeout", h.c.JoinGroup(context.Background(), r).ErrorCode, kerr.InvalidSessionTimeout)
}

func TestProtocolSelection(t *testing.T) {
	h := newHarness(t, Options{})
	proto := func(names ...string) []kmsg.JoinGroupRequestProtocol {
		var ps []kmsg.JoinGroupRequestProtocol
		for _, n := range names {
			p := kmsg.NewJoinGroupRequestProtocol()
			p.Name = n
			p.Metadata = []byte(n)
			ps = append(ps, p)
		}
		return ps
	}
	r1 := joinReq(3, "g", "")
	r1.Protocols = proto("a", "b", "c")
	j1 := h.join(r1)
	r2 := joinReq(3, "g", "")
	r2.Protocols = proto("c", "b")
	join2 := asyncJoin(context.Background(), h.c, r2)
	r3 := joinReq(3, "g", "")
	r3.Protocols = proto("b", "c")
	join3 := asyncJoin(context.Background(), h.c, r3)
	h.waitMembers("g", 3)
	r1.MemberID = j1.MemberID
	j1 = h.join(r1)
	await(t, join2)
	await(t, join3)
	// Candidates are b and c; votes: m1 b, m2 c, m3 b.
	if *j1.Protocol != "b" || string(j1.Members[1].ProtocolMetadata) != "b" {
		t.Fatalf("selected %q", *j1.Protocol)
	}
}

func TestJoinAndSyncReturnOnCancel(t *testing.T) {
	h := newHarness(t, Options{})
	m1, gen := h.stableGroup("g")

	// A new member's JoinGroup waits for m1 to rejoin; its connection closes.
	ctx, cancel := context.WithCancel(context.Background())
	first := h.c.JoinGroup(ctx, joinReq(5, "g", ""))
	join2 := asyncJoin(ctx, h.c, joinReq(5, "g", first.MemberID))
	h.waitMembers("g", 2)
	cancel()
	if r := await(t, join2); r.ErrorCode == 0 {
		t.Fatalf("cancelled join succeeded: %+v", r)
	}
	// The new member was dropped, so m1's rejoin completes the rebalance alone.
	j1 := h.join(joinReq(5, "g", m1))
	if j1.Generation != gen+1 || len(j1.Members) != 1 {
		t.Fatalf("rejoin after cancelled member: %+v", j1)
	}

	// A follower's SyncGroup waiting for the leader returns when its context is cancelled.
	first = h.c.JoinGroup(context.Background(), joinReq(5, "g", ""))
	join2 = asyncJoin(context.Background(), h.c, joinReq(5, "g", first.MemberID))
	h.waitMembers("g", 2)
	h.join(joinReq(5, "g", m1))
	j2 := await(t, join2)
	ctx, cancel = context.WithCancel(context.Background())
	sync2 := asyncSync(ctx, h.c, syncReq(5, "g", j2.MemberID, j2.Generation, nil))
	pending(t, sync2)
	cancel()
	wantErr(t, "cancelled sync", await(t, sync2).ErrorCode, kerr.RebalanceInProgress)

	// Close answers waiting calls and later ones.
	syncW := asyncSync(context.Background(), h.c, syncReq(5, "g", j2.MemberID, j2.Generation, nil))
	pending(t, syncW)
	first = h.c.JoinGroup(context.Background(), joinReq(5, "g2", ""))
	r := joinReq(5, "g2", first.MemberID)
	r.RebalanceTimeoutMillis = 60_000
	h.join(r)
	first = h.c.JoinGroup(context.Background(), joinReq(5, "g2", ""))
	joinW := asyncJoin(context.Background(), h.c, joinReq(5, "g2", first.MemberID))
	pending(t, joinW)
	closed := make(chan struct{})
	go func() {
		h.c.Close()
		close(closed)
	}()
	wantErr(t, "sync at close", await(t, syncW).ErrorCode, kerr.RebalanceInProgress)
	wantErr(t, "join at close", await(t, joinW).ErrorCode, kerr.CoordinatorNotAvailable)
	await(t, closed)
	wantErr(t, "join after close", h.c.JoinGroup(context.Background(), joinReq(5, "g", "")).ErrorCode, kerr.CoordinatorNotAvailable)
	if err := h.c.DeleteTopicOffsets("t1"); !errors.Is(err, ErrClosed) {
		t.Fatalf("DeleteTopicOffsets after close: %v", err)
	}
	h.c.Close() // idempotent
}

func TestInitialRebalanceDelay(t *testing.T) {
	h := newHarness(t, Options{InitialRebalanceDelay: 200 * time.Millisecond})
	ctx := context.Background()
	start := time.Now()
	join1 := asyncJoin(ctx, h.c, joinReq(3, "g", ""))
	pending(t, join1)
	// A second member arriving during the delay extends it and lands in the same generation.
	join2 := asyncJoin(ctx, h.c, joinReq(3, "g", ""))
	j1, j2 := await(t, join1), await(t, join2)
	if j1.Generation != 1 || j2.Generation != 1 || len(j1.Members)+len(j2.Members) != 2 {
		t.Fatalf("initial joins: %+v %+v", j1, j2)
	}
	if el := time.Since(start); el < 200*time.Millisecond {
		t.Fatalf("initial rebalance finished after %v, before the delay", el)
	}
}
