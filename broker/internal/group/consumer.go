package group

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Defaults of the KIP-848 consumer group protocol, as Kafka 4.x ships them.
const (
	defaultConsumerSessionTimeout    = 45 * time.Second // group.consumer.session.timeout.ms
	defaultConsumerHeartbeatInterval = 5 * time.Second  // group.consumer.heartbeat.interval.ms
	defaultConsumerRebalanceTimeout  = 5 * time.Minute  // used when a member sends none
)

// consumerAssignors are the server-side assignors Seiche implements (group.consumer.assignors). The
// first configured one is the default.
var consumerAssignors = []string{"uniform", "range"}

// TopicInfo describes one topic for server-side assignment.
type TopicInfo struct {
	Name       string
	ID         [16]byte
	Partitions int32
}

// idPart is one partition of a topic named by its ID, the way KIP-848 assignments name partitions.
type idPart struct {
	id [16]byte
	p  int32
}

// partSet is a set of partitions.
type partSet map[idPart]struct{}

func (s partSet) clone() partSet { return maps.Clone(s) }

func (s partSet) sorted() []idPart {
	out := slices.Collect(maps.Keys(s))
	slices.SortFunc(out, func(a, b idPart) int {
		if c := slices.Compare(a.id[:], b.id[:]); c != 0 {
			return c
		}
		return cmp.Compare(a.p, b.p)
	})
	return out
}

// memberState is a KIP-848 member's reconciliation state (Kafka's MemberState).
type memberState int8

const (
	memberStable               memberState = iota // owns its target assignment at the target epoch
	memberUnrevokedPartitions                     // must revoke partitionsPendingRevocation first
	memberUnreleasedPartitions                    // waits for partitions other members still own
)

// consumerMember is one KIP-848 member. Its fields are guarded by its group's mu.
type consumerMember struct {
	id               string
	instanceID       *string
	rackID           *string
	clientID         string
	clientHost       string
	rebalanceTimeout time.Duration
	topics           []string // subscribed topic names, sorted
	regex            string   // subscribed regular expression, "" for none
	re               *regexp.Regexp
	assignor         string // the server assignor the member asked for, "" for the default

	epoch, prevEpoch int32
	state            memberState
	assigned         partSet          // what the member has been told to own
	revoking         partSet          // what it must give up before it advances
	target           partSet          // its part of the group's target assignment
	assignedAt       map[idPart]int32 // member epoch at which each owned partition was assigned (KIP-1251)

	deadline    time.Time   // the session expires when timer fires after deadline
	timer       *time.Timer // session timer, re-armed by heartbeats
	revokeTimer *time.Timer // the rebalance timeout of a pending revocation
}

// consumerGroup is the KIP-848 state of a group. It lives in its group's mu.
type consumerGroup struct {
	epoch           int32 // the group epoch, bumped on every membership or subscription change
	assignmentEpoch int32 // the group epoch the target assignment was computed for
	members         map[string]*consumerMember
	static          map[string]string // instance ID -> member ID
	owners          map[idPart]string // partition -> member that owns it (assigned or revoking)
	metadata        string            // the subscribed topics' IDs and partition counts the target was built on
}

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{
		members: make(map[string]*consumerMember),
		static:  make(map[string]string),
		owners:  make(map[idPart]string),
	}
}

// state is the group state Kafka reports for consumer groups.
func (cg *consumerGroup) state() string {
	switch {
	case len(cg.members) == 0:
		return "Empty"
	case cg.assignmentEpoch != cg.epoch:
		return "Assigning"
	}
	for _, m := range cg.members {
		if m.epoch != cg.assignmentEpoch || m.state != memberStable {
			return "Reconciling"
		}
	}
	return "Stable"
}

// compileSubscription compiles a subscribed regular expression. Kafka matches it against whole topic
// names with RE2/J, whose syntax is Go's RE2.
func compileSubscription(re string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + re + ")$")
}

// ConsumerGroupHeartbeat is KIP-848's one request for joining, heartbeating, reconciling and leaving a
// consumer group (Kafka's GroupMetadataManager.consumerGroupHeartbeat). The coordinator computes the
// target assignment itself with the member's server assignor, and hands it out incrementally: a member
// first revokes what moves away, and only then is given partitions that other members released.
func (c *Coordinator) ConsumerGroupHeartbeat(ctx context.Context, r *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	resp.HeartbeatIntervalMillis = int32(c.consumerHeartbeat.Milliseconds())
	if !c.enter() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	defer c.exit()
	if err, msg := c.validateConsumerHeartbeat(r); err != nil {
		resp.ErrorCode, resp.ErrorMessage = err.Code, &msg
		return resp
	}
	g := c.lockGroup(r.Group, r.MemberEpoch == 0)
	if g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		resp.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Consumer group %s not found.", r.Group))
		return resp
	}
	defer g.mu.Unlock()
	if g.mu.share != nil || g.mu.consumer == nil && (g.mu.state != stateEmpty || len(g.mu.members) > 0) {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		resp.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Group %s is not a consumer group.", r.Group))
		return resp
	}
	if g.mu.consumer == nil {
		if r.MemberEpoch != 0 {
			resp.ErrorCode = kerr.UnknownMemberID.Code
			return resp
		}
		g.mu.consumer = newConsumerGroup()
		g.mu.protocolType = "consumer"
	}
	resp.HeartbeatIntervalMillis = int32(c.groupDuration(g.name, "consumer.heartbeat.interval.ms", c.consumerHeartbeat).Milliseconds())
	if err := g.consumerHeartbeatLocked(clientFrom(ctx), r, resp); err != nil {
		resp.ErrorCode = err.Code
		resp.MemberEpoch = 0
		resp.MemberID = nil
		resp.Assignment = nil
	}
	return resp
}

// validateConsumerHeartbeat applies Kafka's request validation (throwIfConsumerGroupHeartbeatRequestIsInvalid).
func (c *Coordinator) validateConsumerHeartbeat(r *kmsg.ConsumerGroupHeartbeatRequest) (*kerr.Error, string) {
	switch {
	case r.Group == "":
		return kerr.InvalidGroupID, "GroupId can't be empty."
	case r.Version >= 1 && r.MemberID == "" || r.Version == 0 && r.MemberEpoch != 0 && r.MemberID == "":
		return kerr.InvalidRequest, "MemberId can't be empty."
	case r.InstanceID != nil && *r.InstanceID == "":
		return kerr.InvalidRequest, "InstanceId can't be empty."
	case r.RackID != nil && *r.RackID == "":
		return kerr.InvalidRequest, "RackId can't be empty."
	case r.MemberEpoch < -2:
		return kerr.InvalidRequest, fmt.Sprintf("MemberEpoch is %d, but must be greater than or equal to -2.", r.MemberEpoch)
	case r.MemberEpoch == -2 && r.InstanceID == nil:
		return kerr.InvalidRequest, "InstanceId can't be null."
	case r.MemberEpoch == 0 && r.RebalanceTimeoutMillis == -1:
		return kerr.InvalidRequest, "RebalanceTimeoutMs must be provided in first request."
	case r.MemberEpoch == 0 && len(r.Topics) > 0, r.MemberEpoch == 0 && r.Topics == nil:
		return kerr.InvalidRequest, "TopicPartitions must be empty when (re-)joining."
	case r.MemberEpoch == 0 && r.SubscribedTopicNames == nil && r.SubscribedTopicRegex == nil:
		return kerr.InvalidRequest, "SubscribedTopicNames or SubscribedTopicRegex must be set in first request."
	case r.ServerAssignor != nil && !slices.Contains(c.assignors, *r.ServerAssignor):
		return kerr.UnsupportedAssignor, fmt.Sprintf("ServerAssignor %s is not supported. Supported assignors: %s.",
			*r.ServerAssignor, strings.Join(c.assignors, ", "))
	}
	if r.SubscribedTopicRegex != nil {
		if _, err := compileSubscription(*r.SubscribedTopicRegex); err != nil {
			return kerr.InvalidRegularExpression, fmt.Sprintf("SubscribedTopicRegex %s is not a valid regular expression: %v",
				*r.SubscribedTopicRegex, err)
		}
	}
	return nil, ""
}

// consumerHeartbeatLocked runs one heartbeat against a consumer group.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) consumerHeartbeatLocked(ci clientInfo, r *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) *kerr.Error {
	cg := g.mu.consumer
	switch r.MemberEpoch {
	case -1, -2:
		return g.consumerLeaveLocked(r, resp)
	}

	epochBefore := cg.epoch // one heartbeat bumps the group epoch at most once
	m, err := g.consumerMemberLocked(ci, r)
	if err != nil {
		return err
	}
	if ci.id != "" || ci.host != "" {
		m.clientID, m.clientHost = ci.id, ci.host
	}
	changed := false
	if r.RackID != nil && (m.rackID == nil || *m.rackID != *r.RackID) {
		rack := *r.RackID
		m.rackID = &rack
	}
	if r.RebalanceTimeoutMillis > 0 {
		m.rebalanceTimeout = time.Duration(r.RebalanceTimeoutMillis) * time.Millisecond
	}
	if r.SubscribedTopicNames != nil {
		topics := slices.Sorted(slices.Values(r.SubscribedTopicNames))
		topics = slices.Compact(topics)
		if !slices.Equal(topics, m.topics) {
			m.topics = topics
			changed = true
		}
	}
	if r.SubscribedTopicRegex != nil && *r.SubscribedTopicRegex != m.regex {
		m.regex = *r.SubscribedTopicRegex
		m.re = nil
		if m.regex != "" {
			m.re, _ = compileSubscription(m.regex) // validated
		}
		changed = true
	}
	if r.ServerAssignor != nil && *r.ServerAssignor != m.assignor {
		m.assignor = *r.ServerAssignor
		changed = true
	}
	if changed && cg.epoch == epochBefore {
		cg.epoch++
	}
	// Topics created, deleted or grown, and topics newly matching a regex, change the target too.
	topics := g.c.topicsByName()
	if md := g.consumerMetadataLocked(topics); md != cg.metadata {
		cg.metadata = md
		if cg.epoch == epochBefore {
			cg.epoch++
		}
	}
	if cg.epoch > cg.assignmentEpoch {
		g.computeTargetLocked(topics)
	}
	g.scheduleConsumerSessionLocked(m)

	before := m.assigned.clone()
	g.reconcileLocked(m, r.Topics)
	if m.state == memberUnrevokedPartitions {
		g.armRevokeTimerLocked(m)
	} else if m.revokeTimer != nil {
		m.revokeTimer.Stop()
		m.revokeTimer = nil
	}
	g.persistConsumerLocked()

	id := m.id
	resp.MemberID = &id
	resp.MemberEpoch = m.epoch
	full := r.MemberEpoch == 0 || r.Topics != nil && (r.SubscribedTopicNames != nil || r.SubscribedTopicRegex != nil)
	if full || !maps.Equal(before, m.assigned) || r.Topics != nil && !sameParts(r.Topics, m.assigned) {
		resp.Assignment = g.wireAssignment(m.assigned)
	}
	return nil
}

// consumerMemberLocked finds or creates the member a heartbeat is for, checking its epoch.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) consumerMemberLocked(ci clientInfo, r *kmsg.ConsumerGroupHeartbeatRequest) (*consumerMember, *kerr.Error) {
	cg := g.mu.consumer
	if r.MemberEpoch != 0 {
		m := cg.members[r.MemberID]
		if m == nil {
			if r.InstanceID != nil && cg.static[*r.InstanceID] != "" {
				return nil, kerr.FencedInstanceID
			}
			return nil, kerr.UnknownMemberID
		}
		if m.epoch == -2 {
			return nil, kerr.FencedMemberEpoch
		}
		if r.InstanceID != nil && (m.instanceID == nil || *m.instanceID != *r.InstanceID) {
			return nil, kerr.FencedInstanceID
		}
		if r.MemberEpoch != m.epoch {
			// A member that missed our last response may retry with its previous epoch, as long as what
			// it owns is part of what it was assigned.
			if r.MemberEpoch != m.prevEpoch || r.Topics == nil || !subsetOf(r.Topics, m.assigned) {
				return nil, kerr.FencedMemberEpoch
			}
		}
		return m, nil
	}

	memberID := r.MemberID
	if memberID == "" {
		memberID = newMemberID(ci.id, r.InstanceID)
	}
	if m := cg.members[memberID]; m != nil && m.epoch != -2 {
		// A member that lost its epoch (it was fenced, or lost our response) rejoins with epoch 0 and
		// owning nothing; it gets its current assignment again.
		return m, nil
	}
	m := &consumerMember{
		id:               memberID,
		clientID:         ci.id,
		clientHost:       ci.host,
		rebalanceTimeout: defaultConsumerRebalanceTimeout,
		assigned:         make(partSet),
		revoking:         make(partSet),
		target:           make(partSet),
		assignedAt:       make(map[idPart]int32),
	}
	if r.InstanceID != nil {
		id := *r.InstanceID
		m.instanceID = &id
		if oldID, ok := cg.static[id]; ok {
			old := cg.members[oldID]
			if old != nil && old.epoch != -2 {
				return nil, kerr.UnreleasedInstanceID
			}
			if old != nil {
				// The static member comes back: it takes over what its previous incarnation owned, and
				// the group epoch does not change unless its subscription does.
				m.epoch, m.prevEpoch = old.prevEpoch, old.prevEpoch // a departed member keeps its epoch in prevEpoch
				m.topics, m.regex, m.re, m.assignor = old.topics, old.regex, old.re, old.assignor
				m.assigned, m.target, m.assignedAt = old.assigned, old.target, old.assignedAt
				g.dropConsumerMemberLocked(old)
				for p := range m.assigned {
					cg.owners[p] = m.id
				}
				cg.members[m.id] = m
				cg.static[id] = m.id
				g.c.logger.Info("static consumer group member rejoined", "group", g.name, "member", m.id, "instance", id)
				return m, nil
			}
		}
		cg.static[id] = m.id
	}
	cg.members[m.id] = m
	cg.epoch++
	g.c.logger.Info("consumer group member joined", "group", g.name, "member", m.id, "epoch", cg.epoch)
	return m, nil
}

// consumerLeaveLocked handles epoch -1 (leave) and -2 (a static member leaving temporarily: it keeps
// its partitions, unassigned to anyone else, until it rejoins or its session expires).
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) consumerLeaveLocked(r *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) *kerr.Error {
	cg := g.mu.consumer
	m := cg.members[r.MemberID]
	if m == nil && r.InstanceID != nil {
		m = cg.members[cg.static[*r.InstanceID]]
	}
	if m == nil {
		return kerr.UnknownMemberID
	}
	if r.InstanceID != nil && (m.instanceID == nil || *m.instanceID != *r.InstanceID) {
		return kerr.FencedInstanceID
	}
	id := m.id
	resp.MemberID = &id
	resp.MemberEpoch = r.MemberEpoch
	if r.MemberEpoch == -2 {
		g.c.logger.Info("static consumer group member left temporarily", "group", g.name, "member", m.id)
		m.prevEpoch, m.epoch = m.epoch, -2
		for p := range m.revoking {
			delete(cg.owners, p)
		}
		m.revoking = make(partSet)
		if m.revokeTimer != nil {
			m.revokeTimer.Stop()
			m.revokeTimer = nil
		}
		g.scheduleConsumerSessionLocked(m)
		return nil
	}
	g.c.logger.Info("consumer group member left", "group", g.name, "member", m.id)
	g.removeConsumerMemberLocked(m)
	return nil
}

// removeConsumerMemberLocked removes m, frees its partitions and bumps the group epoch so the others
// take them over.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) removeConsumerMemberLocked(m *consumerMember) {
	cg := g.mu.consumer
	g.dropConsumerMemberLocked(m)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	cg.epoch++
	if len(cg.members) == 0 {
		g.mu.emptySince = time.Now()
	}
	g.computeTargetLocked(g.c.topicsByName())
	g.persistConsumerLocked()
}

// dropConsumerMemberLocked takes m out of the group and frees what it owns, without changing epochs.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) dropConsumerMemberLocked(m *consumerMember) {
	cg := g.mu.consumer
	if m.timer != nil {
		m.timer.Stop()
	}
	if m.revokeTimer != nil {
		m.revokeTimer.Stop()
	}
	for p, owner := range cg.owners {
		if owner == m.id {
			delete(cg.owners, p)
		}
	}
	delete(cg.members, m.id)
}

// scheduleConsumerSessionLocked expects m's next heartbeat within the session timeout.
// REQUIRES: g.mu is held.
func (g *group) scheduleConsumerSessionLocked(m *consumerMember) {
	d := g.c.groupDuration(g.name, "consumer.session.timeout.ms", g.c.consumerSession)
	m.deadline = time.Now().Add(d)
	if m.timer == nil {
		m.timer = time.AfterFunc(d, func() { g.consumerTimerFired(m, false) })
	} else {
		m.timer.Reset(d)
	}
}

// armRevokeTimerLocked fences m if it has not revoked its partitions within its rebalance timeout.
// REQUIRES: g.mu is held.
func (g *group) armRevokeTimerLocked(m *consumerMember) {
	if m.revokeTimer == nil {
		m.revokeTimer = time.AfterFunc(m.rebalanceTimeout, func() { g.consumerTimerFired(m, true) })
	}
}

func (g *group) consumerTimerFired(m *consumerMember, revoke bool) {
	if !g.c.enter() {
		return
	}
	defer g.c.exit()
	g.mu.Lock()
	defer g.mu.Unlock()
	cg := g.mu.consumer
	if g.mu.dead || cg == nil || cg.members[m.id] != m {
		return
	}
	if revoke {
		if m.revokeTimer == nil || m.state != memberUnrevokedPartitions {
			return
		}
		g.c.logger.Info("consumer group member did not revoke its partitions in time", "group", g.name, "member", m.id)
	} else {
		if d := time.Until(m.deadline); d > 0 {
			m.timer.Reset(d) // a heartbeat raced with the firing
			return
		}
		g.c.logger.Info("consumer group member session expired", "group", g.name, "member", m.id)
	}
	g.removeConsumerMemberLocked(m)
}

// consumerMetadataLocked describes the topics the group subscribes to: their names, IDs and partition
// counts. A change means the target assignment must be recomputed.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) consumerMetadataLocked(topics map[string]TopicInfo) string {
	var b strings.Builder
	for _, name := range g.consumerTopicsLocked(topics) {
		t := topics[name]
		fmt.Fprintf(&b, "%s/%x/%d;", name, t.ID, t.Partitions)
	}
	return b.String()
}

// consumerTopicsLocked lists the existing topics any member subscribes to, sorted.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) consumerTopicsLocked(topics map[string]TopicInfo) []string {
	set := make(map[string]struct{})
	for _, m := range g.mu.consumer.members {
		for name := range topics {
			if m.subscribes(name) {
				set[name] = struct{}{}
			}
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func (m *consumerMember) subscribes(topic string) bool {
	_, named := slices.BinarySearch(m.topics, topic)
	return named || m.re != nil && m.re.MatchString(topic)
}

// reconcileLocked moves m toward its target assignment (Kafka's CurrentAssignmentBuilder). owned is what
// the member reports owning, nil if it did not say.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) reconcileLocked(m *consumerMember, owned []kmsg.ConsumerGroupHeartbeatRequestTopic) {
	cg := g.mu.consumer
	switch m.state {
	case memberStable:
		if m.epoch == cg.assignmentEpoch {
			return
		}
	case memberUnrevokedPartitions:
		if owned == nil || ownsAny(owned, m.revoking) {
			return
		}
	}
	for p := range m.revoking {
		if cg.owners[p] == m.id {
			delete(cg.owners, p)
		}
	}
	m.revoking = make(partSet)

	kept := make(partSet)
	revoke := make(partSet)
	for p := range m.assigned {
		if _, ok := m.target[p]; ok {
			kept[p] = struct{}{}
		} else {
			revoke[p] = struct{}{}
		}
	}
	if len(revoke) > 0 && (owned == nil || ownsAny(owned, revoke)) {
		// Revocation first: the member keeps its epoch until it confirms it let go.
		m.state = memberUnrevokedPartitions
		m.assigned = kept
		m.revoking = revoke
		g.setOwnersLocked(m)
		return
	}
	unreleased := false
	for p := range m.target {
		if _, ok := kept[p]; ok {
			continue
		}
		if owner, ok := cg.owners[p]; ok && owner != m.id {
			unreleased = true
			continue
		}
		kept[p] = struct{}{}
	}
	m.prevEpoch, m.epoch = m.epoch, cg.assignmentEpoch
	for p := range kept {
		if _, ok := m.assigned[p]; !ok {
			m.assignedAt[p] = m.epoch
		}
	}
	for p := range m.assignedAt {
		if _, ok := kept[p]; !ok {
			delete(m.assignedAt, p)
		}
	}
	m.assigned = kept
	m.state = memberStable
	if unreleased {
		m.state = memberUnreleasedPartitions
	}
	g.setOwnersLocked(m)
}

// setOwnersLocked records that m owns exactly its assigned and revoking partitions.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) setOwnersLocked(m *consumerMember) {
	cg := g.mu.consumer
	for p, owner := range cg.owners {
		if owner == m.id {
			_, a := m.assigned[p]
			_, r := m.revoking[p]
			if !a && !r {
				delete(cg.owners, p)
			}
		}
	}
	for p := range m.assigned {
		cg.owners[p] = m.id
	}
	for p := range m.revoking {
		cg.owners[p] = m.id
	}
}

func ownsAny(owned []kmsg.ConsumerGroupHeartbeatRequestTopic, s partSet) bool {
	for _, t := range owned {
		for _, p := range t.Partitions {
			if _, ok := s[idPart{t.TopicID, p}]; ok {
				return true
			}
		}
	}
	return false
}

func subsetOf(owned []kmsg.ConsumerGroupHeartbeatRequestTopic, s partSet) bool {
	for _, t := range owned {
		for _, p := range t.Partitions {
			if _, ok := s[idPart{t.TopicID, p}]; !ok {
				return false
			}
		}
	}
	return true
}

func sameParts(owned []kmsg.ConsumerGroupHeartbeatRequestTopic, s partSet) bool {
	n := 0
	for _, t := range owned {
		n += len(t.Partitions)
	}
	return n == len(s) && subsetOf(owned, s)
}

// wireAssignment groups a partition set by topic for a heartbeat response.
func (g *group) wireAssignment(s partSet) *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	a := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
	for _, p := range s.sorted() {
		if n := len(a.Topics); n == 0 || a.Topics[n-1].TopicID != p.id {
			t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
			t.TopicID = p.id
			a.Topics = append(a.Topics, t)
		}
		t := &a.Topics[len(a.Topics)-1]
		t.Partitions = append(t.Partitions, p.p)
	}
	if a.Topics == nil {
		a.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
	}
	return &a
}

// persistConsumerLocked stores the group's type and epoch so a restarted broker still knows the group
// as a consumer group. Like a classic group's generation it is written without a sync of its own.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) persistConsumerLocked() {
	if err := g.c.db.Set(metaKey(g.name), encodeMeta(g.mu.consumer.epoch, consumerProtocolType), pebble.NoSync); err != nil {
		g.c.logger.Error("storing consumer group metadata", "group", g.name, "err", err)
	}
}

// consumerProtocolType marks a stored group as a KIP-848 consumer group. Classic groups store the
// protocol type their members join with; KIP-848 groups report "consumer" too, so the marker cannot
// collide with a classic consumer group's "consumer".
const consumerProtocolType = "\x00consumer"

// topicsByName snapshots the broker's topics.
func (c *Coordinator) topicsByName() map[string]TopicInfo {
	out := make(map[string]TopicInfo)
	if c.topics == nil {
		return out
	}
	for _, t := range c.topics() {
		out[t.Name] = t
	}
	return out
}

// validateConsumerCommitLocked is Kafka's ConsumerGroup.validateOffsetCommit with KIP-1251: anyone may
// commit to a group without members with a negative epoch; otherwise the member must exist, commit
// with OffsetCommit v9+ (any TxnOffsetCommit version: transactional is set for those) and an epoch no
// newer than its own. An older epoch still commits the partitions the member has owned since that
// epoch; stale reports the others.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) validateConsumerCommitLocked(version int16, epoch int32, memberID string, transactional bool) (stale func(string, int32) bool, err *kerr.Error) {
	cg := g.mu.consumer
	if epoch < 0 && len(cg.members) == 0 {
		return nil, nil
	}
	m := cg.members[memberID]
	switch {
	case m == nil:
		return nil, kerr.UnknownMemberID
	case version < 9 && !transactional:
		return nil, kerr.UnsupportedVersion
	case epoch > m.epoch && m.epoch != -2:
		return nil, kerr.FencedMemberEpoch
	case epoch == m.epoch:
		return nil, nil
	}
	topics := g.c.topicsByName()
	return func(topic string, partition int32) bool {
		t, ok := topics[topic]
		if !ok {
			return true
		}
		since, ok := m.assignedAt[idPart{t.ID, partition}]
		return !ok || epoch < since
	}, nil
}

// typeAndStateLocked is the group's type and state as ListGroups reports them.
// REQUIRES: g.mu is held.
func (g *group) typeAndStateLocked() (typ, state string) {
	if g.mu.consumer != nil {
		return "consumer", g.mu.consumer.state()
	}
	if g.mu.share != nil {
		return "share", g.mu.share.state()
	}
	return "classic", g.mu.state.String()
}

// validateConsumerFetch is Kafka's ConsumerGroup.validateOffsetFetch: a fetch that names a member of a
// KIP-848 group must come from that member at its current epoch.
func (c *Coordinator) validateConsumerFetch(group string, memberID *string, epoch int32) *kerr.Error {
	if memberID == nil && epoch < 0 {
		return nil
	}
	g := c.lockGroup(group, false)
	if g == nil {
		return nil
	}
	defer g.mu.Unlock()
	cg := g.mu.consumer
	if cg == nil {
		return nil
	}
	var m *consumerMember
	if memberID != nil {
		m = cg.members[*memberID]
	}
	switch {
	case m == nil:
		return kerr.UnknownMemberID
	case epoch != m.epoch:
		return kerr.StaleMemberEpoch
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
