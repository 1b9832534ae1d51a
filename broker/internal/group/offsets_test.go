package group

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// roundTrip encodes resp at its version and decodes it again, as a client would.
func roundTrip[R kmsg.Response](t *testing.T, resp R) R {
	t.Helper()
	out := reflect.New(reflect.TypeOf(resp).Elem()).Interface().(R)
	out.SetVersion(resp.GetVersion())
	if err := out.ReadFrom(resp.AppendTo(nil)); err != nil {
		t.Fatalf("decoding %T v%d: %v", resp, resp.GetVersion(), err)
	}
	return out
}

func TestOffsetCommitFetchVersions(t *testing.T) {
	h := newHarness(t, Options{PartitionExists: func(topic string, p int32) bool { return topic != "missing" && p < 8 }})
	ctx := context.Background()

	// v1 simple commit (old librdkafka), fetched with v1.
	c1 := commitReq(1, "s", "", -1, "t1", map[int32]int64{0: 10})
	meta := "m1"
	c1.Topics[0].Partitions[0].Metadata = &meta
	c1.Topics[0].Partitions[0].Timestamp = time.Now().UnixMilli()
	if err := h.commitErr(c1); err != nil {
		t.Fatal(err)
	}
	f1 := kmsg.NewPtrOffsetFetchRequest()
	f1.Version = 1
	f1.Group = "s"
	ft := kmsg.NewOffsetFetchRequestTopic()
	ft.Topic = "t1"
	ft.Partitions = []int32{0, 1}
	f1.Topics = []kmsg.OffsetFetchRequestTopic{ft}
	r1 := roundTrip(t, h.c.OffsetFetch(ctx, f1))
	ps := r1.Topics[0].Partitions
	if len(ps) != 2 || ps[0].Offset != 10 || *ps[0].Metadata != "m1" || ps[1].Offset != -1 || *ps[1].Metadata != "" {
		t.Fatalf("v1 fetch: %+v", ps)
	}

	// v6+ carries the leader epoch; v8 is flexible.
	for _, v := range []int16{2, 6, 8, 9} {
		c := commitReq(v, "s", "", -1, "t2", map[int32]int64{3: int64(100 + v)})
		c.Topics[0].Partitions[0].LeaderEpoch = 7
		md := strings.Repeat("x", int(v))
		c.Topics[0].Partitions[0].Metadata = &md
		resp := roundTrip(t, h.c.OffsetCommit(ctx, c))
		if resp.Topics[0].Topic != "t2" || resp.Topics[0].Partitions[0].Partition != 3 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("v%d commit response: %+v", v, resp)
		}
		got := h.fetched("s", "t2", 3)
		wantEpoch := int32(-1)
		if v >= 6 {
			wantEpoch = 7
		}
		if got.Offset != int64(100+v) || got.LeaderEpoch != wantEpoch || *got.Metadata != md {
			t.Fatalf("after v%d commit: %+v", v, got)
		}
	}

	// Partition errors do not fail the rest of the request.
	c := commitReq(8, "s", "", -1, "t1", map[int32]int64{1: 11, 9: 1})
	big := strings.Repeat("x", maxOffsetMetadata+1)
	mt := kmsg.NewOffsetCommitRequestTopic()
	mt.Topic = "missing"
	mp := kmsg.NewOffsetCommitRequestTopicPartition()
	mt.Partitions = []kmsg.OffsetCommitRequestTopicPartition{mp}
	bt := kmsg.NewOffsetCommitRequestTopic()
	bt.Topic = "t3"
	bp := kmsg.NewOffsetCommitRequestTopicPartition()
	bp.Metadata = &big
	bt.Partitions = []kmsg.OffsetCommitRequestTopicPartition{bp}
	c.Topics = append(c.Topics, mt, bt)
	resp := h.c.OffsetCommit(ctx, c)
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			want := int16(0)
			switch {
			case tp.Topic == "missing" || p.Partition == 9:
				want = kerr.UnknownTopicOrPartition.Code
			case tp.Topic == "t3":
				want = kerr.OffsetMetadataTooLarge.Code
			}
			if p.ErrorCode != want {
				t.Fatalf("%s[%d]: %v", tp.Topic, p.Partition, kerr.ErrorForCode(p.ErrorCode))
			}
		}
	}
	if got := h.fetched("s", "t1", 1); got.Offset != 11 {
		t.Fatalf("t1[1] = %d", got.Offset)
	}

	// v2+ null topics fetch everything, sorted; v7 RequireStable is accepted.
	for _, v := range []int16{2, 5, 7} {
		f := kmsg.NewPtrOffsetFetchRequest()
		f.Version = v
		f.Group = "s"
		f.RequireStable = true
		r := roundTrip(t, h.c.OffsetFetch(ctx, f))
		var got []string
		for _, tp := range r.Topics {
			for _, p := range tp.Partitions {
				got = append(got, tp.Topic+":"+string(rune('0'+p.Partition)))
			}
		}
		if want := []string{"t1:0", "t1:1", "t2:3"}; r.ErrorCode != 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("v%d fetch all: %v %v", v, kerr.ErrorForCode(r.ErrorCode), got)
		}
	}

	// v8 batches groups; an unknown group has no offsets and no error.
	f := kmsg.NewPtrOffsetFetchRequest()
	f.Version = 8
	for _, name := range []string{"s", "unknown", ""} {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = name
		f.Groups = append(f.Groups, rg)
	}
	rt := kmsg.NewOffsetFetchRequestGroupTopic()
	rt.Topic = "t1"
	rt.Partitions = []int32{0}
	f.Groups[1].Topics = []kmsg.OffsetFetchRequestGroupTopic{rt}
	r8 := roundTrip(t, h.c.OffsetFetch(ctx, f))
	if len(r8.Groups) != 3 || len(r8.Groups[0].Topics) != 2 || r8.Groups[1].ErrorCode != 0 ||
		r8.Groups[1].Topics[0].Partitions[0].Offset != -1 || r8.Groups[2].ErrorCode != kerr.InvalidGroupID.Code {
		t.Fatalf("v8 fetch: %+v", r8.Groups)
	}
}

func TestCommitValidation(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	m1, gen := h.stableGroup("g")
	if err := h.commitErr(commitReq(8, "g", m1, gen, "t1", map[int32]int64{0: 1})); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		req  *kmsg.OffsetCommitRequest
		want *kerr.Error
	}{
		{"wrong generation", commitReq(8, "g", m1, gen+1, "t1", map[int32]int64{0: 2}), kerr.IllegalGeneration},
		{"old generation v2", commitReq(2, "g", m1, gen-1, "t1", map[int32]int64{0: 2}), kerr.IllegalGeneration},
		{"unknown member", commitReq(8, "g", "nobody", gen, "t1", map[int32]int64{0: 2}), kerr.UnknownMemberID},
		{"simple commit to active group", commitReq(8, "g", "", -1, "t1", map[int32]int64{0: 2}), kerr.UnknownMemberID},
		{"v0 commit to active group", commitReq(0, "g", "", -1, "t1", map[int32]int64{0: 2}), kerr.UnknownMemberID},
		{"member of unknown group", commitReq(8, "nogroup", "m", 3, "t1", map[int32]int64{0: 2}), kerr.IllegalGeneration},
		{"empty group id", commitReq(8, "", "", -1, "t1", map[int32]int64{0: 2}), kerr.InvalidGroupID},
	} {
		if err := h.commitErr(tc.req); !errors.Is(err, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
		}
	}
	if got := h.fetched("g", "t1", 0); got.Offset != 1 {
		t.Fatalf("rejected commits changed the offset to %d", got.Offset)
	}
	if d := h.describe("nogroup"); d.State != "Dead" {
		t.Fatalf("a rejected commit created a group: %+v", d)
	}
	// Once the group is Empty, simple commits (v0 too) are accepted; the old member is gone.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Group, lr.MemberID = "g", m1
	h.c.LeaveGroup(ctx, lr)
	if err := h.commitErr(commitReq(0, "g", "", -1, "t1", map[int32]int64{0: 3})); err != nil {
		t.Fatal(err)
	}
	if err := h.commitErr(commitReq(8, "g", m1, gen, "t1", map[int32]int64{0: 4})); !errors.Is(err, kerr.UnknownMemberID) {
		t.Fatalf("commit by departed member: %v", err)
	}
	if got := h.fetched("g", "t1", 0); got.Offset != 3 {
		t.Fatalf("offset %d, want 3", got.Offset)
	}
}

func TestInvalidGroupID(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	bad := kerr.InvalidGroupID
	wantErr(t, "join", h.c.JoinGroup(ctx, joinReq(5, "", "")).ErrorCode, bad)
	wantErr(t, "sync", h.c.SyncGroup(ctx, syncReq(5, "", "m", 1, nil)).ErrorCode, bad)
	wantErr(t, "heartbeat", errCode(h.heartbeat("", "m", 1)), bad)
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Version = 4
	wantErr(t, "leave", h.c.LeaveGroup(ctx, lr).ErrorCode, bad)
	f := kmsg.NewPtrOffsetFetchRequest()
	f.Version = 1
	ft := kmsg.NewOffsetFetchRequestTopic()
	ft.Topic = "t"
	ft.Partitions = []int32{0}
	f.Topics = []kmsg.OffsetFetchRequestTopic{ft}
	wantErr(t, "fetch v1", h.c.OffsetFetch(ctx, f).Topics[0].Partitions[0].ErrorCode, bad)
	f.Version = 3
	wantErr(t, "fetch v3", h.c.OffsetFetch(ctx, f).ErrorCode, bad)
	dr := kmsg.NewPtrDescribeGroupsRequest()
	dr.Groups = []string{""}
	wantErr(t, "describe", h.c.DescribeGroups(ctx, dr).Groups[0].ErrorCode, bad)
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Groups = []string{""}
	wantErr(t, "delete", h.c.DeleteGroups(ctx, dg).Groups[0].ErrorCode, bad)
	od := kmsg.NewPtrOffsetDeleteRequest()
	wantErr(t, "offset delete", h.c.OffsetDelete(ctx, od).ErrorCode, bad)
}

func TestOffsetsSurviveRestart(t *testing.T) {
	h := newHarness(t, Options{})
	m1, gen := h.stableGroup("cg")
	c := commitReq(7, "cg", m1, gen, "t1", map[int32]int64{0: 42, 1: 43})
	md := "meta"
	for i := range c.Topics[0].Partitions {
		if p := &c.Topics[0].Partitions[i]; p.Partition == 0 {
			p.LeaderEpoch = 3
			p.Metadata = &md
		}
	}
	if err := h.commitErr(c); err != nil {
		t.Fatal(err)
	}
	if err := h.commitErr(commitReq(8, "cg", m1, gen, "t2", map[int32]int64{0: 5})); err != nil {
		t.Fatal(err)
	}
	if err := h.commitErr(commitReq(1, "simple", "", -1, "t1", map[int32]int64{0: 7})); err != nil {
		t.Fatal(err)
	}

	h.restart()
	if got := h.fetched("cg", "t1", 0); got.Offset != 42 || got.LeaderEpoch != 3 || *got.Metadata != "meta" {
		t.Fatalf("after restart: %+v", got)
	}
	if got := h.fetched("simple", "t1", 0); got.Offset != 7 {
		t.Fatalf("simple group after restart: %+v", got)
	}
	// Groups come back Empty, with their protocol type; old members are gone and the generation goes on.
	lr := kmsg.NewPtrListGroupsRequest()
	lr.Version = 4
	groups := h.c.ListGroups(context.Background(), lr).Groups
	if len(groups) != 2 || groups[0].Group != "cg" || groups[0].ProtocolType != "consumer" || groups[0].GroupState != "Empty" ||
		groups[1].Group != "simple" || groups[1].ProtocolType != "" {
		t.Fatalf("groups after restart: %+v", groups)
	}
	if err := h.heartbeat("cg", m1, gen); !errors.Is(err, kerr.UnknownMemberID) {
		t.Fatalf("old member after restart: %v", err)
	}
	j := h.joinNew(joinReq(5, "cg", ""))
	if j.Generation != gen+1 {
		t.Fatalf("generation after restart: %d, want %d", j.Generation, gen+1)
	}

	// Deleting a topic removes its offsets durably; a group left with none disappears.
	if err := h.c.DeleteTopicOffsets("t1"); err != nil {
		t.Fatal(err)
	}
	h.restart()
	if got := h.fetched("cg", "t1", 0); got.Offset != -1 {
		t.Fatalf("offset of deleted topic: %d", got.Offset)
	}
	if got := h.fetched("cg", "t2", 0); got.Offset != 5 {
		t.Fatalf("offset of other topic: %d", got.Offset)
	}
	if d := h.describe("simple"); d.State != "Dead" {
		t.Fatalf("group without offsets after topic deletion: %+v", d)
	}
}

func TestDeleteGroups(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	h.stableGroup("active")
	if err := h.commitErr(commitReq(8, "idle", "", -1, "t1", map[int32]int64{0: 1})); err != nil {
		t.Fatal(err)
	}
	r := kmsg.NewPtrDeleteGroupsRequest()
	r.Version = 2
	r.Groups = []string{"active", "idle", "unknown"}
	resp := roundTrip(t, h.c.DeleteGroups(ctx, r))
	wantErr(t, "delete active", resp.Groups[0].ErrorCode, kerr.NonEmptyGroup)
	wantErr(t, "delete idle", resp.Groups[1].ErrorCode, nil)
	wantErr(t, "delete unknown", resp.Groups[2].ErrorCode, kerr.GroupIDNotFound)
	if got := h.fetched("idle", "t1", 0); got.Offset != -1 {
		t.Fatalf("offset of deleted group: %d", got.Offset)
	}
	h.restart()
	if got := h.fetched("idle", "t1", 0); got.Offset != -1 {
		t.Fatalf("offset of deleted group after restart: %d", got.Offset)
	}
	if d := h.describe("idle"); d.State != "Dead" {
		t.Fatalf("deleted group after restart: %+v", d)
	}
	// The name can be used again.
	if err := h.commitErr(commitReq(8, "idle", "", -1, "t1", map[int32]int64{0: 2})); err != nil {
		t.Fatal(err)
	}
}

func TestOffsetDelete(t *testing.T) {
	h := newHarness(t, Options{PartitionExists: func(topic string, _ int32) bool { return topic != "missing" }})
	ctx := context.Background()
	m1, gen := h.stableGroup("g") // subscribed to t1
	for _, topic := range []string{"t1", "t2"} {
		if err := h.commitErr(commitReq(8, "g", m1, gen, topic, map[int32]int64{0: 1})); err != nil {
			t.Fatal(err)
		}
	}
	del := func(group string, tps ...string) *kmsg.OffsetDeleteResponse {
		r := kmsg.NewPtrOffsetDeleteRequest()
		r.Group = group
		for _, topic := range tps {
			rt := kmsg.NewOffsetDeleteRequestTopic()
			rt.Topic = topic
			rt.Partitions = []kmsg.OffsetDeleteRequestTopicPartition{kmsg.NewOffsetDeleteRequestTopicPartition()}
			r.Topics = append(r.Topics, rt)
		}
		return roundTrip(t, h.c.OffsetDelete(ctx, r))
	}
	resp := del("g", "t1", "t2", "missing")
	if resp.ErrorCode != 0 || len(resp.Topics) != 3 {
		t.Fatalf("offset delete: %+v", resp)
	}
	wantErr(t, "subscribed topic", resp.Topics[0].Partitions[0].ErrorCode, kerr.GroupSubscribedToTopic)
	wantErr(t, "unsubscribed topic", resp.Topics[1].Partitions[0].ErrorCode, nil)
	wantErr(t, "missing topic", resp.Topics[2].Partitions[0].ErrorCode, kerr.UnknownTopicOrPartition)
	if h.fetched("g", "t1", 0).Offset != 1 || h.fetched("g", "t2", 0).Offset != -1 {
		t.Fatal("wrong offsets deleted")
	}
	wantErr(t, "unknown group", del("nogroup", "t1").ErrorCode, kerr.GroupIDNotFound)

	// A non-consumer group with members cannot lose offsets.
	r := joinReq(3, "connect", "")
	r.ProtocolType = "connect"
	h.join(r)
	wantErr(t, "non-consumer group", del("connect", "t1").ErrorCode, kerr.NonEmptyGroup)

	// An Empty group can lose everything, and then it is gone.
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Group, lr.MemberID = "g", m1
	h.c.LeaveGroup(ctx, lr)
	if resp := del("g", "t1"); resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("delete from empty group: %+v", resp)
	}
	if d := h.describe("g"); d.State != "Dead" {
		t.Fatalf("group without offsets: %+v", d)
	}
}

func TestListGroups(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	h.stableGroup("stable")
	if err := h.commitErr(commitReq(8, "empty", "", -1, "t1", map[int32]int64{0: 1})); err != nil {
		t.Fatal(err)
	}
	list := func(v int16, states, types []string) []string {
		r := kmsg.NewPtrListGroupsRequest()
		r.Version = v
		r.StatesFilter = states
		r.TypesFilter = types
		resp := roundTrip(t, h.c.ListGroups(ctx, r))
		var out []string
		for _, g := range resp.Groups {
			s := g.Group + "/" + g.ProtocolType
			if v >= 4 {
				s += "/" + g.GroupState
			}
			if v >= 5 {
				s += "/" + g.GroupType
			}
			out = append(out, s)
		}
		return out
	}
	for _, tc := range []struct {
		v             int16
		states, types []string
		want          []string
	}{
		{0, nil, nil, []string{"empty/", "stable/consumer"}},
		{4, nil, nil, []string{"empty//Empty", "stable/consumer/Stable"}},
		{4, []string{"stable"}, nil, []string{"stable/consumer/Stable"}},
		{4, []string{"Empty", "PreparingRebalance"}, nil, []string{"empty//Empty"}},
		{5, nil, []string{"consumer"}, nil},
		{5, []string{"Stable"}, []string{"Classic"}, []string{"stable/consumer/Stable/classic"}},
	} {
		if got := list(tc.v, tc.states, tc.types); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("v%d states %v types %v: got %v, want %v", tc.v, tc.states, tc.types, got, tc.want)
		}
	}
}

func TestDescribeGroups(t *testing.T) {
	h := newHarness(t, Options{})
	m1, _ := h.stableGroup("g")
	r := kmsg.NewPtrDescribeGroupsRequest()
	r.Version = 3
	r.Groups = []string{"g", "unknown"}
	r.IncludeAuthorizedOperations = true
	resp := roundTrip(t, h.c.DescribeGroups(context.Background(), r))
	g, u := resp.Groups[0], resp.Groups[1]
	if g.State != "Stable" || g.Protocol != "range" || len(g.Members) != 1 || g.Members[0].MemberID != m1 ||
		string(g.Members[0].MemberAssignment) != "a1" || g.AuthorizedOperations != groupOperations {
		t.Fatalf("describe: %+v", g)
	}
	if u.ErrorCode != 0 || u.State != "Dead" || len(u.Members) != 0 {
		t.Fatalf("describe unknown: %+v", u)
	}
}

func TestOffsetRetention(t *testing.T) {
	h := newHarness(t, Options{})
	ctx := context.Background()
	if err := h.commitErr(commitReq(8, "simple", "", -1, "t1", map[int32]int64{0: 1})); err != nil {
		t.Fatal(err)
	}
	m1, gen := h.stableGroup("left")
	if err := h.commitErr(commitReq(8, "left", m1, gen, "t1", map[int32]int64{0: 1})); err != nil {
		t.Fatal(err)
	}
	lr := kmsg.NewPtrLeaveGroupRequest()
	lr.Group, lr.MemberID = "left", m1
	h.c.LeaveGroup(ctx, lr)
	m2, gen2 := h.stableGroup("active")
	if err := h.commitErr(commitReq(8, "active", m2, gen2, "t1", map[int32]int64{0: 1})); err != nil {
		t.Fatal(err)
	}
	m3, _ := h.stableGroup("nocommits")
	lr.Group, lr.MemberID = "nocommits", m3
	h.c.LeaveGroup(ctx, lr)

	exists := func(name string) bool { return h.describe(name).State != "Dead" }
	// An Empty group without offsets goes at the first check; offsets stay for the retention period.
	h.c.expire(time.Now().Add(6 * 24 * time.Hour))
	if exists("nocommits") || !exists("simple") || !exists("left") || !exists("active") {
		t.Fatal("wrong groups expired before the retention period")
	}
	h.c.expire(time.Now().Add(8 * 24 * time.Hour))
	if exists("simple") || exists("left") || !exists("active") {
		t.Fatal("wrong groups expired after the retention period")
	}
	if h.fetched("active", "t1", 0).Offset != 1 {
		t.Fatal("an active group lost its offsets")
	}
	h.restart()
	if exists("simple") || exists("left") || h.fetched("left", "t1", 0).Offset != -1 {
		t.Fatal("expired offsets came back after restart")
	}
}
