package group

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Defaults of KIP-932 share groups, as Kafka 4.2 ships them.
const (
	defaultShareSessionTimeout    = 45 * time.Second // group.share.session.timeout.ms
	defaultShareHeartbeatInterval = 5 * time.Second  // group.share.heartbeat.interval.ms
	shareProtocolType             = "\x00share"      // stored protocol type marking a share group
)

// shareMember is one share group member. Its fields are guarded by its group's mu.
type shareMember struct {
	id         string
	rackID     *string
	clientID   string
	clientHost string
	topics     []string // subscribed topic names, sorted
	epoch      int32
	assigned   partSet
	deadline   time.Time
	timer      *time.Timer
}

// shareGroup is the KIP-932 state of a group. It lives in its group's mu.
type shareGroup struct {
	epoch           int32
	assignmentEpoch int32
	members         map[string]*shareMember
	metadata        string // the subscribed topics the assignment was built on
}

func (sg *shareGroup) state() string {
	if len(sg.members) == 0 {
		return "Empty"
	}
	return "Stable"
}

// ShareGroupHeartbeat joins, heartbeats and leaves a share group (Kafka's
// GroupMetadataManager.shareGroupHeartbeat). Share group members need no reconciliation: partitions
// are shared, so a member's assignment simply follows the target, which the simple assignor computes
// so that every subscribed partition has at least one member, and members outnumbering partitions
// share them.
func (c *Coordinator) ShareGroupHeartbeat(ctx context.Context, r *kmsg.ShareGroupHeartbeatRequest) *kmsg.ShareGroupHeartbeatResponse {
	resp := r.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
	resp.HeartbeatIntervalMillis = int32(defaultShareHeartbeatInterval.Milliseconds())
	if !c.enter() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	defer c.exit()
	var msg string
	switch {
	case r.GroupID == "":
		resp.ErrorCode, msg = kerr.InvalidGroupID.Code, "GroupId can't be empty."
	case r.MemberID == "":
		resp.ErrorCode, msg = kerr.InvalidRequest.Code, "MemberId can't be empty."
	case r.MemberEpoch < -1:
		resp.ErrorCode, msg = kerr.InvalidRequest.Code, fmt.Sprintf("MemberEpoch is %d, but must be greater than or equal to -1.", r.MemberEpoch)
	case r.MemberEpoch == 0 && len(r.SubscribedTopicNames) == 0:
		resp.ErrorCode, msg = kerr.InvalidRequest.Code, "SubscribedTopicNames must be set in first request."
	case r.RackID != nil && *r.RackID == "":
		resp.ErrorCode, msg = kerr.InvalidRequest.Code, "RackId can't be empty."
	}
	if resp.ErrorCode != 0 {
		resp.ErrorMessage = &msg
		return resp
	}
	g := c.lockGroup(r.GroupID, r.MemberEpoch == 0)
	if g == nil {
		resp.ErrorCode = kerr.UnknownMemberID.Code
		return resp
	}
	defer g.mu.Unlock()
	if g.mu.share == nil && (g.mu.consumer != nil || g.mu.state != stateEmpty || len(g.mu.members) > 0 || g.offsetCountLocked() > 0) {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		resp.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s is not a share group.", r.GroupID))
		return resp
	}
	if g.mu.share == nil {
		if r.MemberEpoch != 0 {
			resp.ErrorCode = kerr.UnknownMemberID.Code
			return resp
		}
		g.mu.share = &shareGroup{members: make(map[string]*shareMember)}
		g.mu.protocolType = "share"
	}
	resp.HeartbeatIntervalMillis = int32(g.c.groupDuration(g.name, "share.heartbeat.interval.ms", defaultShareHeartbeatInterval).Milliseconds())
	if err := g.shareHeartbeatLocked(clientFrom(ctx), r, resp); err != nil {
		resp.ErrorCode = err.Code
		resp.MemberID, resp.MemberEpoch, resp.Assignment = nil, 0, nil
	}
	return resp
}

// REQUIRES: g.mu is held and g is a share group.
func (g *group) shareHeartbeatLocked(ci clientInfo, r *kmsg.ShareGroupHeartbeatRequest, resp *kmsg.ShareGroupHeartbeatResponse) *kerr.Error {
	sg := g.mu.share
	m := sg.members[r.MemberID]
	if r.MemberEpoch == -1 {
		if m == nil {
			return kerr.UnknownMemberID
		}
		id := m.id
		resp.MemberID, resp.MemberEpoch = &id, -1
		g.c.logger.Info("share group member left", "group", g.name, "member", m.id)
		g.removeShareMemberLocked(m)
		return nil
	}
	epochBefore := sg.epoch
	switch {
	case m == nil && r.MemberEpoch != 0:
		return kerr.UnknownMemberID
	case m == nil:
		m = &shareMember{id: r.MemberID, clientID: ci.id, clientHost: ci.host, assigned: make(partSet)}
		sg.members[m.id] = m
		sg.epoch++
		g.c.logger.Info("share group member joined", "group", g.name, "member", m.id, "epoch", sg.epoch)
	case r.MemberEpoch != 0 && r.MemberEpoch != m.epoch:
		return kerr.FencedMemberEpoch
	}
	if r.RackID != nil {
		rack := *r.RackID
		m.rackID = &rack
	}
	if r.SubscribedTopicNames != nil {
		topics := slices.Compact(slices.Sorted(slices.Values(r.SubscribedTopicNames)))
		if !slices.Equal(topics, m.topics) {
			m.topics = topics
			if sg.epoch == epochBefore {
				sg.epoch++
			}
		}
	}
	topics := g.c.topicsByName()
	if md := g.shareMetadataLocked(topics); md != sg.metadata {
		sg.metadata = md
		if sg.epoch == epochBefore {
			sg.epoch++
		}
	}
	if sg.epoch != sg.assignmentEpoch {
		g.assignShareLocked(topics)
		g.persistShareLocked()
	}
	g.scheduleShareSessionLocked(m)
	id := m.id
	resp.MemberID = &id
	if m.epoch != sg.assignmentEpoch || r.MemberEpoch == 0 || r.SubscribedTopicNames != nil {
		m.epoch = sg.assignmentEpoch
		a := kmsg.NewShareGroupHeartbeatResponseAssignment()
		a.TopicPartitions = []kmsg.ShareGroupHeartbeatResponseAssignmentTopicPartition{}
		for _, p := range m.assigned.sorted() {
			if n := len(a.TopicPartitions); n == 0 || a.TopicPartitions[n-1].TopicID != p.id {
				a.TopicPartitions = append(a.TopicPartitions, kmsg.ShareGroupHeartbeatResponseAssignmentTopicPartition{TopicID: p.id})
			}
			t := &a.TopicPartitions[len(a.TopicPartitions)-1]
			t.Partitions = append(t.Partitions, p.p)
		}
		resp.Assignment = &a
	}
	resp.MemberEpoch = m.epoch
	return nil
}

// shareMetadataLocked describes the topics the share group subscribes to.
// REQUIRES: g.mu is held and g is a share group.
func (g *group) shareMetadataLocked(topics map[string]TopicInfo) string {
	var s string
	for _, name := range g.shareTopicsLocked(topics) {
		t := topics[name]
		s += fmt.Sprintf("%s/%x/%d;", name, t.ID, t.Partitions)
	}
	return s
}

// shareTopicsLocked lists the existing topics any member subscribes to, sorted.
// REQUIRES: g.mu is held and g is a share group.
func (g *group) shareTopicsLocked(topics map[string]TopicInfo) []string {
	var out []string
	for _, m := range g.mu.share.members {
		for _, t := range m.topics {
			if _, ok := topics[t]; ok {
				out = append(out, t)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// assignShareLocked is Kafka's share-group simple assignor: per topic, the subscribed members (in member
// ID order) take its partitions round-robin; when they outnumber the partitions, each partition goes
// to several members, member i getting partition i mod n.
// REQUIRES: g.mu is held and g is a share group.
func (g *group) assignShareLocked(topics map[string]TopicInfo) {
	sg := g.mu.share
	sg.assignmentEpoch = sg.epoch
	ids := sortedKeys(sg.members)
	for _, m := range sg.members {
		m.assigned = make(partSet)
	}
	for _, name := range g.shareTopicsLocked(topics) {
		t := topics[name]
		var subs []*shareMember
		for _, id := range ids {
			if _, ok := slices.BinarySearch(sg.members[id].topics, name); ok {
				subs = append(subs, sg.members[id])
			}
		}
		if len(subs) == 0 || t.Partitions == 0 {
			continue
		}
		for p := range max(t.Partitions, int32(len(subs))) {
			m := subs[int(p)%len(subs)]
			m.assigned[idPart{t.ID, p % t.Partitions}] = struct{}{}
		}
	}
}

// REQUIRES: g.mu is held and g is a share group.
func (g *group) removeShareMemberLocked(m *shareMember) {
	sg := g.mu.share
	if m.timer != nil {
		m.timer.Stop()
	}
	delete(sg.members, m.id)
	sg.epoch++
	if len(sg.members) == 0 {
		g.mu.emptySince = time.Now()
	}
	g.assignShareLocked(g.c.topicsByName())
	g.persistShareLocked()
	if g.c.shareMemberGone != nil {
		g.c.shareMemberGone(g.name, m.id)
	}
}

// REQUIRES: g.mu is held.
func (g *group) scheduleShareSessionLocked(m *shareMember) {
	d := g.c.groupDuration(g.name, "share.session.timeout.ms", defaultShareSessionTimeout)
	m.deadline = time.Now().Add(d)
	if m.timer == nil {
		m.timer = time.AfterFunc(d, func() { g.shareSessionFired(m) })
	} else {
		m.timer.Reset(d)
	}
}

func (g *group) shareSessionFired(m *shareMember) {
	if !g.c.enter() {
		return
	}
	defer g.c.exit()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.dead || g.mu.share == nil || g.mu.share.members[m.id] != m {
		return
	}
	if d := time.Until(m.deadline); d > 0 {
		m.timer.Reset(d)
		return
	}
	g.c.logger.Info("share group member session expired", "group", g.name, "member", m.id)
	g.removeShareMemberLocked(m)
}

// REQUIRES: g.mu is held and g is a share group.
func (g *group) persistShareLocked() {
	if err := g.c.db.Set(metaKey(g.name), encodeMeta(g.mu.share.epoch, shareProtocolType), pebble.NoSync); err != nil {
		g.c.logger.Error("storing share group metadata", "group", g.name, "err", err)
	}
}

// ShareGroupDescribe describes share groups: epochs, the assignor and every member's subscription and
// assignment. A group that does not exist, or is not a share group, gets GROUP_ID_NOT_FOUND.
func (c *Coordinator) ShareGroupDescribe(_ context.Context, r *kmsg.ShareGroupDescribeRequest) *kmsg.ShareGroupDescribeResponse {
	resp := r.ResponseKind().(*kmsg.ShareGroupDescribeResponse)
	entered := c.enter()
	if entered {
		defer c.exit()
	}
	for _, name := range r.GroupIDs {
		dg := kmsg.NewShareGroupDescribeResponseGroup()
		dg.GroupID = name
		dg.AuthorizedOperations = -2147483648
		if r.IncludeAuthorizedOperations {
			dg.AuthorizedOperations = groupOperations
		}
		switch {
		case !entered:
			dg.ErrorCode = kerr.CoordinatorNotAvailable.Code
		case name == "":
			dg.ErrorCode = kerr.InvalidGroupID.Code
		default:
			c.describeShare(&dg)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) describeShare(dg *kmsg.ShareGroupDescribeResponseGroup) {
	g := c.lockGroup(dg.GroupID, false)
	if g == nil || g.mu.share == nil {
		if g != nil {
			g.mu.Unlock()
		}
		dg.ErrorCode = kerr.GroupIDNotFound.Code
		dg.ErrorMessage = kmsg.StringPtr("Group " + dg.GroupID + " is not a share group.")
		return
	}
	defer g.mu.Unlock()
	sg := g.mu.share
	names := make(map[[16]byte]string)
	for _, t := range c.topicsByName() {
		names[t.ID] = t.Name
	}
	dg.GroupState = sg.state()
	dg.GroupEpoch = sg.epoch
	dg.AssignmentEpoch = sg.assignmentEpoch
	dg.Assignor = "simple"
	for _, id := range sortedKeys(sg.members) {
		m := sg.members[id]
		dm := kmsg.NewShareGroupDescribeResponseGroupMember()
		dm.MemberID, dm.RackID, dm.MemberEpoch = m.id, m.rackID, m.epoch
		dm.ClientID, dm.ClientHost = m.clientID, m.clientHost
		dm.SubscribedTopicNames = append([]string{}, m.topics...)
		for _, p := range m.assigned.sorted() {
			tps := &dm.Assignment.TopicPartitions
			if n := len(*tps); n == 0 || (*tps)[n-1].TopicID != p.id {
				*tps = append(*tps, kmsg.ShareGroupDescribeResponseGroupMemberAssignmentTopicPartition{TopicID: p.id, Topic: names[p.id]})
			}
			t := &(*tps)[len(*tps)-1]
			t.Partitions = append(t.Partitions, p.p)
		}
		dg.Members = append(dg.Members, dm)
	}
}

// ShareGroupState reports whether group is a share group and whether it has members. The broker asks
// before the share-group admin APIs change a group's share-partition state.
func (c *Coordinator) ShareGroupState(group string) (exists, empty bool) {
	if !c.enter() {
		return false, false
	}
	defer c.exit()
	g := c.lockGroup(group, false)
	if g == nil {
		return false, true
	}
	defer g.mu.Unlock()
	if g.mu.share == nil {
		return false, g.emptyLocked()
	}
	return true, len(g.mu.share.members) == 0
}

// EnsureShareGroup makes group an (empty) share group if no group has the name, as Kafka's
// AlterShareGroupOffsets does. It reports false if the name belongs to a group of another type.
func (c *Coordinator) EnsureShareGroup(group string) bool {
	if !c.enter() {
		return false
	}
	defer c.exit()
	g := c.lockGroup(group, true)
	defer g.mu.Unlock()
	if g.mu.share != nil {
		return true
	}
	if g.mu.consumer != nil || !g.emptyLocked() || g.offsetCountLocked() > 0 || g.mu.protocolType != "" {
		return false
	}
	g.mu.share = &shareGroup{members: make(map[string]*shareMember)}
	g.mu.protocolType = "share"
	g.persistShareLocked()
	return true
}

// GroupType returns the type of the named group: "classic", "consumer" or "share", or "" if no group
// has the name.
func (c *Coordinator) GroupType(name string) string {
	if !c.enter() {
		return ""
	}
	defer c.exit()
	g := c.lockGroup(name, false)
	if g == nil {
		return ""
	}
	defer g.mu.Unlock()
	typ, _ := g.typeAndStateLocked()
	return typ
}
