package group

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

type state int8

const (
	stateEmpty state = iota
	statePreparingRebalance
	stateCompletingRebalance
	stateStable
	stateDead
)

// String returns the state's name exactly as Kafka spells it in DescribeGroups and ListGroups.
func (s state) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	default:
		return "Dead"
	}
}

type topicPartition struct {
	topic     string
	partition int32
}

// committed is one committed offset.
type committed struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	at          time.Time // when it was committed
}

// joinResult is what a JoinGroup call gets; JoinGroup turns it into a response of its request's version.
type joinResult struct {
	err            *kerr.Error
	memberID       string
	generation     int32
	protocolType   *string
	protocol       *string
	leader         string
	skipAssignment bool
	members        []kmsg.JoinGroupResponseMember // the leader's copy of every member's metadata
}

func joinError(memberID string, err *kerr.Error) joinResult {
	return joinResult{err: err, memberID: memberID, generation: -1}
}

// syncResult is what a SyncGroup call gets.
type syncResult struct {
	err          *kerr.Error
	protocolType *string
	protocol     *string
	assignment   []byte
}

// member is one group member. Its fields are guarded by its group's mu.
type member struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	protocolType     string
	protocols        []kmsg.JoinGroupRequestProtocol
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	joinOrder        uint64 // the leader is the earliest joined member still present
	isNew            bool   // joined during the current rebalance and has not completed one yet
	assignment       []byte

	join chan joinResult // set while the member awaits the end of the join phase; buffered, sent once
	sync chan syncResult // set while the member awaits the leader's assignment; buffered, sent once

	deadline time.Time   // the session expires when timer fires after deadline
	timer    *time.Timer // session timer, re-armed by heartbeats
}

func (m *member) metadataFor(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return nil
}

func (m *member) supports(protocol string) bool {
	return slices.ContainsFunc(m.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == protocol })
}

// matches reports whether protocols are exactly the member's current protocols, in order.
func (m *member) matches(protocols []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, protocols, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// group is one consumer group. Every field in mu is guarded by mu; see the package doc for lock order.
type group struct {
	c    *Coordinator
	name string

	mu struct {
		sync.Mutex
		dead         bool // removed from the coordinator; lookups retry
		state        state
		generation   int32
		protocolType string
		protocol     string
		leader       string
		members      map[string]*member
		static       map[string]string      // instance ID -> member ID
		pending      map[string]*time.Timer // member IDs handed out with MEMBER_ID_REQUIRED -> expiry
		pendingSync  map[string]struct{}    // members of this generation that have not sent SyncGroup
		nextOrder    uint64
		offsets      map[string]map[int32]committed
		emptySince   time.Time
		consumer     *consumerGroup // set while the group is a KIP-848 consumer group
		share        *shareGroup    // set while the group is a KIP-932 share group

		// timer is the group's one deadline: the end of the join phase in PreparingRebalance, the
		// pending-sync deadline in CompletingRebalance and Stable. timerSeq invalidates stale firings.
		timer    *time.Timer
		timerSeq uint64

		// The initial rebalance delay of a group leaving Empty (Kafka's InitialDelayedJoin).
		initialDelay   bool
		newMemberAdded bool
		delayRemaining time.Duration
	}
}

func (c *Coordinator) newGroup(name string) *group {
	g := &group{c: c, name: name}
	g.mu.members = make(map[string]*member)
	g.mu.static = make(map[string]string)
	g.mu.pending = make(map[string]*time.Timer)
	g.mu.offsets = make(map[string]map[int32]committed)
	g.mu.emptySince = time.Now()
	return g
}

// orderedMembersLocked returns the members in join order.
// REQUIRES: g.mu is held.
func (g *group) orderedMembersLocked() []*member {
	ms := make([]*member, 0, len(g.mu.members))
	for _, m := range g.mu.members {
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b *member) int { return cmp.Compare(a.joinOrder, b.joinOrder) })
	return ms
}

// emptyLocked reports whether the group has no members of any protocol.
// REQUIRES: g.mu is held.
func (g *group) emptyLocked() bool {
	return g.mu.state == stateEmpty && (g.mu.consumer == nil || len(g.mu.consumer.members) == 0) &&
		(g.mu.share == nil || len(g.mu.share.members) == 0)
}

// REQUIRES: g.mu is held.
func (g *group) setOffsetLocked(topic string, partition int32, o committed) {
	ps := g.mu.offsets[topic]
	if ps == nil {
		ps = make(map[int32]committed)
		g.mu.offsets[topic] = ps
	}
	ps[partition] = o
}

// REQUIRES: g.mu is held.
func (g *group) offsetCountLocked() int {
	n := 0
	for _, ps := range g.mu.offsets {
		n += len(ps)
	}
	return n
}

// removeOffsetsLocked durably deletes the given offsets, which must exist. An Empty group left with no
// offsets (and no member about to join) is removed too, as Kafka's offset cleanup does.
// REQUIRES: g.mu is held.
func (g *group) removeOffsetsLocked(tps []topicPartition) error {
	drop := g.emptyLocked() && len(g.mu.pending) == 0 && g.offsetCountLocked() == len(tps)
	if len(tps) == 0 && !drop {
		return nil
	}
	b := g.c.db.NewBatch()
	defer b.Close()
	for _, tp := range tps {
		b.Delete(offsetKey(g.name, tp.topic, tp.partition), nil)
	}
	if drop {
		b.Delete(metaKey(g.name), nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("group: delete offsets of group %q: %w", g.name, err)
	}
	for _, tp := range tps {
		delete(g.mu.offsets[tp.topic], tp.partition)
		if len(g.mu.offsets[tp.topic]) == 0 {
			delete(g.mu.offsets, tp.topic)
		}
	}
	if drop {
		g.markDeadLocked()
	}
	return nil
}

// deleteLocked durably deletes an Empty group and all its offsets.
// REQUIRES: g.mu is held.
func (g *group) deleteLocked() error {
	b := g.c.db.NewBatch()
	defer b.Close()
	prefix := groupOffsetsPrefix(g.name)
	b.DeleteRange(prefix, prefixEnd(prefix), nil)
	b.Delete(metaKey(g.name), nil)
	g.c.deleteGroupConfigs(b, g.name)
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("group: delete group %q: %w", g.name, err)
	}
	g.mu.offsets = make(map[string]map[int32]committed)
	g.markDeadLocked()
	return nil
}

// markDeadLocked makes the group Dead and removes it from the coordinator; later lookups of its name
// find nothing or a new group. Only Empty groups die, so no member is waiting.
// REQUIRES: g.mu is held.
func (g *group) markDeadLocked() {
	g.mu.dead = true
	g.mu.state = stateDead
	g.stopTimersLocked()
	g.mu.pending = make(map[string]*time.Timer)
	g.c.mu.Lock()
	if g.c.mu.groups[g.name] == g {
		delete(g.c.mu.groups, g.name)
	}
	g.c.mu.Unlock()
}

// persistMetaLocked stores the generation and protocol type. It does not sync: losing them only makes a
// restarted group start from an older generation, and the next synced write makes them durable.
// REQUIRES: g.mu is held.
func (g *group) persistMetaLocked() {
	if err := g.c.db.Set(metaKey(g.name), encodeMeta(g.mu.generation, g.mu.protocolType), pebble.NoSync); err != nil {
		g.c.logger.Error("storing group metadata", "group", g.name, "err", err)
	}
}

// stopTimersLocked stops every timer of the group and its members.
// REQUIRES: g.mu is held.
func (g *group) stopTimersLocked() {
	g.stopGroupTimerLocked()
	for _, t := range g.mu.pending {
		t.Stop()
	}
	for _, m := range g.mu.members {
		if m.timer != nil {
			m.timer.Stop()
		}
	}
}

// REQUIRES: g.mu is held.
func (g *group) stopGroupTimerLocked() {
	g.mu.timerSeq++
	if g.mu.timer != nil {
		g.mu.timer.Stop()
		g.mu.timer = nil
	}
}

// armGroupTimerLocked replaces the group's deadline with one d from now.
// REQUIRES: g.mu is held.
func (g *group) armGroupTimerLocked(d time.Duration) {
	g.stopGroupTimerLocked()
	seq := g.mu.timerSeq
	g.mu.timer = time.AfterFunc(d, func() { g.groupTimerFired(seq) })
}

func (g *group) groupTimerFired(seq uint64) {
	if !g.c.enter() {
		return
	}
	defer g.c.exit()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.dead || seq != g.mu.timerSeq {
		return
	}
	g.mu.timer = nil
	switch g.mu.state {
	case statePreparingRebalance:
		if g.mu.initialDelay && g.mu.newMemberAdded && g.mu.delayRemaining > 0 {
			// Members are still arriving: wait another delay, bounded by the rebalance timeout.
			g.mu.newMemberAdded = false
			d := min(g.c.initialDelay, g.mu.delayRemaining)
			g.mu.delayRemaining -= d
			g.armGroupTimerLocked(d)
			return
		}
		g.completeJoinLocked()
	case stateCompletingRebalance, stateStable:
		g.expirePendingSyncLocked()
	}
}

// scheduleSessionLocked expects the member's next heartbeat within d.
// REQUIRES: g.mu is held.
func (g *group) scheduleSessionLocked(m *member, d time.Duration) {
	m.deadline = time.Now().Add(d)
	if m.timer == nil {
		m.timer = time.AfterFunc(d, func() { g.sessionTimerFired(m) })
	} else {
		m.timer.Reset(d)
	}
}

func (g *group) sessionTimerFired(m *member) {
	if !g.c.enter() {
		return
	}
	defer g.c.exit()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.mu.dead || g.mu.members[m.id] != m {
		return
	}
	if d := time.Until(m.deadline); d > 0 {
		m.timer.Reset(d) // a heartbeat raced with the firing
		return
	}
	// A member waiting in a rebalance is alive; the rebalance deadlines bound the wait. A new member
	// still waiting to join is not: it is dropped after newMemberJoinTimeout, as in Kafka, so that
	// clients that gave up and retried do not pile up.
	if (m.join != nil && !m.isNew) || m.sync != nil {
		g.scheduleSessionLocked(m, m.sessionTimeout)
		return
	}
	g.c.logger.Info("group member session expired", "group", g.name, "member", m.id)
	g.removeMemberLocked(m, "session timeout of member "+m.id)
}

// addPendingLocked remembers a member ID handed out with MEMBER_ID_REQUIRED until the member joins with
// it or sessionTimeout passes.
// REQUIRES: g.mu is held.
func (g *group) addPendingLocked(id string, sessionTimeout time.Duration) {
	g.mu.pending[id] = time.AfterFunc(sessionTimeout, func() {
		if !g.c.enter() {
			return
		}
		defer g.c.exit()
		g.mu.Lock()
		defer g.mu.Unlock()
		if _, ok := g.mu.pending[id]; ok && !g.mu.dead {
			g.removePendingLocked(id)
		}
	})
}

// removePendingLocked forgets a pending member ID; the join phase may now be complete.
// REQUIRES: g.mu is held.
func (g *group) removePendingLocked(id string) {
	if t, ok := g.mu.pending[id]; ok {
		t.Stop()
		delete(g.mu.pending, id)
	}
	g.tryCompleteJoinLocked()
}

// rebalanceTimeoutLocked is the longest rebalance timeout of any member.
// REQUIRES: g.mu is held.
func (g *group) rebalanceTimeoutLocked() time.Duration {
	var d time.Duration
	for _, m := range g.mu.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// supportsProtocolsLocked reports whether a member joining with protocolType and protocols can be in
// the group: an Empty group accepts anything, otherwise the protocol type must match and one of the
// protocols must be supported by every other member. (Kafka counts the joining member itself with its
// old protocols, which rejects a lone member changing its protocols; excluding it is what was meant.)
// REQUIRES: g.mu is held.
func (g *group) supportsProtocolsLocked(self, protocolType string, protocols []kmsg.JoinGroupRequestProtocol) bool {
	if protocolType == "" || len(protocols) == 0 {
		return false
	}
	if g.mu.state == stateEmpty {
		return true
	}
	if protocolType != g.mu.protocolType {
		return false
	}
	for _, p := range protocols {
		all := true
		for _, m := range g.mu.members {
			if m.id != self && !m.supports(p.Name) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// selectProtocolLocked picks the protocol every member supports that most members prefer, as Kafka
// does: each member votes for its most preferred candidate. Ties go to the leader's preference.
// REQUIRES: g.mu is held and the group has members.
func (g *group) selectProtocolLocked() string {
	ms := g.orderedMembersLocked()
	var candidates []string
	for _, p := range ms[0].protocols {
		all := true
		for _, m := range ms[1:] {
			if !m.supports(p.Name) {
				all = false
				break
			}
		}
		if all && !slices.Contains(candidates, p.Name) {
			candidates = append(candidates, p.Name)
		}
	}
	if leader := g.mu.members[g.mu.leader]; leader != nil {
		slices.SortStableFunc(candidates, func(a, b string) int {
			return slices.IndexFunc(leader.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == a }) -
				slices.IndexFunc(leader.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == b })
		})
	}
	votes := make(map[string]int)
	for _, m := range ms {
		for _, p := range m.protocols {
			if slices.Contains(candidates, p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best := ""
	for _, name := range candidates {
		if best == "" || votes[name] > votes[best] {
			best = name
		}
	}
	return best
}

// joinMembersLocked is the member list the leader receives: every member's metadata for the selected
// protocol.
// REQUIRES: g.mu is held.
func (g *group) joinMembersLocked() []kmsg.JoinGroupResponseMember {
	var out []kmsg.JoinGroupResponseMember
	for _, m := range g.orderedMembersLocked() {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadataFor(g.mu.protocol)
		out = append(out, jm)
	}
	return out
}

// currentJoinResultLocked is the join result of the current generation for m.
// REQUIRES: g.mu is held.
func (g *group) currentJoinResultLocked(m *member) joinResult {
	protocolType, protocol := g.mu.protocolType, g.mu.protocol // copies: the result outlives the lock
	res := joinResult{
		memberID:     m.id,
		generation:   g.mu.generation,
		protocolType: &protocolType,
		protocol:     &protocol,
		leader:       g.mu.leader,
	}
	if m.id == g.mu.leader {
		res.members = g.joinMembersLocked()
	}
	return res
}

// addMemberLocked adds a new member awaiting join on ch and starts a rebalance if none is in progress.
// REQUIRES: g.mu is held.
func (g *group) addMemberLocked(m *member, ch chan joinResult) {
	m.isNew = true
	m.join = ch
	m.joinOrder = g.mu.nextOrder
	g.mu.nextOrder++
	if g.mu.state == statePreparingRebalance && g.mu.initialDelay {
		g.mu.newMemberAdded = true
	}
	if len(g.mu.members) == 0 {
		g.mu.protocolType = m.protocolType
	}
	g.mu.members[m.id] = m
	if g.mu.leader == "" {
		g.mu.leader = m.id
	}
	if m.instanceID != nil {
		g.mu.static[*m.instanceID] = m.id
	}
	g.scheduleSessionLocked(m, newMemberJoinTimeout)
	g.c.logger.Debug("group member added", "group", g.name, "member", m.id)
	g.maybePrepareRebalanceLocked("new member " + m.id)
}

// updateMemberLocked records a rejoining member's request and makes it await join on ch. A previous
// JoinGroup of the member still waiting is answered with REBALANCE_IN_PROGRESS so it does not hang.
// REQUIRES: g.mu is held.
func (g *group) updateMemberLocked(m *member, r *kmsg.JoinGroupRequest, sessionTimeout, rebalanceTimeout time.Duration, ch chan joinResult) {
	if m.join != nil && m.join != ch {
		m.join <- joinError(m.id, kerr.RebalanceInProgress)
	}
	m.protocols = r.Protocols
	m.protocolType = r.ProtocolType
	m.sessionTimeout = sessionTimeout
	m.rebalanceTimeout = rebalanceTimeout
	m.join = ch
}

// REQUIRES: g.mu is held.
func (g *group) maybePrepareRebalanceLocked(reason string) {
	switch g.mu.state {
	case stateEmpty, stateCompletingRebalance, stateStable:
		g.prepareRebalanceLocked(reason)
	}
}

// prepareRebalanceLocked starts a join phase: members must rejoin within the rebalance timeout.
// REQUIRES: g.mu is held.
func (g *group) prepareRebalanceLocked(reason string) {
	if g.mu.state == stateCompletingRebalance {
		// Members waiting for the assignment must rejoin instead.
		for _, m := range g.mu.members {
			m.assignment = nil
			if m.sync != nil {
				m.sync <- syncResult{err: kerr.RebalanceInProgress}
				m.sync = nil
				g.scheduleSessionLocked(m, m.sessionTimeout)
			}
		}
	}
	g.mu.pendingSync = nil
	rt := g.rebalanceTimeoutLocked()
	if g.mu.state == stateEmpty && g.c.initialDelay > 0 {
		g.mu.initialDelay = true
		g.mu.newMemberAdded = false
		g.mu.delayRemaining = max(rt-g.c.initialDelay, 0)
		g.armGroupTimerLocked(g.c.initialDelay)
	} else {
		g.mu.initialDelay = false
		g.armGroupTimerLocked(rt)
	}
	g.c.logger.Info("preparing group rebalance", "group", g.name, "from", g.mu.state.String(),
		"generation", g.mu.generation, "reason", reason)
	g.mu.state = statePreparingRebalance
	g.tryCompleteJoinLocked()
}

// tryCompleteJoinLocked ends the join phase early once every member has rejoined (Kafka's DelayedJoin;
// the initial delay only ends on its timer).
// REQUIRES: g.mu is held.
func (g *group) tryCompleteJoinLocked() {
	if g.mu.state != statePreparingRebalance || g.mu.initialDelay || len(g.mu.pending) > 0 {
		return
	}
	for _, m := range g.mu.members {
		if m.join == nil {
			return
		}
	}
	g.completeJoinLocked()
}

// completeJoinLocked ends the join phase: dynamic members that did not rejoin are removed, the
// generation advances, and every member gets its JoinGroup response, the leader with all members'
// metadata. The group is then CompletingRebalance, or Empty if nobody is left.
// REQUIRES: g.mu is held and the group is PreparingRebalance.
func (g *group) completeJoinLocked() {
	g.mu.initialDelay = false
	g.stopGroupTimerLocked()
	for _, m := range g.orderedMembersLocked() {
		if m.join == nil && m.instanceID == nil {
			g.c.logger.Info("group member did not rejoin in time", "group", g.name, "member", m.id)
			g.answerWaitersLocked(m, kerr.UnknownMemberID)
			g.dropMemberLocked(m)
		}
	}
	if len(g.mu.members) > 0 && !g.electJoinedLeaderLocked() {
		// Only static members that have not rejoined are left; wait for them to rejoin or expire.
		g.armGroupTimerLocked(g.rebalanceTimeoutLocked())
		return
	}
	g.mu.generation++
	if len(g.mu.members) == 0 {
		g.mu.state = stateEmpty
		g.mu.protocol = ""
		g.mu.leader = ""
		g.mu.emptySince = time.Now()
		g.persistMetaLocked()
		g.c.logger.Info("group is empty", "group", g.name, "generation", g.mu.generation)
		return
	}
	g.mu.protocol = g.selectProtocolLocked()
	g.mu.state = stateCompletingRebalance
	g.persistMetaLocked()
	g.c.logger.Info("group rebalanced", "group", g.name, "generation", g.mu.generation,
		"protocol", g.mu.protocol, "members", len(g.mu.members), "leader", g.mu.leader)
	g.mu.pendingSync = make(map[string]struct{}, len(g.mu.members))
	for _, m := range g.orderedMembersLocked() {
		m.assignment = nil
		if m.join != nil {
			m.join <- g.currentJoinResultLocked(m)
			m.join = nil
		}
		m.isNew = false
		g.scheduleSessionLocked(m, m.sessionTimeout)
		g.mu.pendingSync[m.id] = struct{}{}
	}
	g.armGroupTimerLocked(g.rebalanceTimeoutLocked())
}

// electJoinedLeaderLocked keeps the leader if it rejoined, or else makes the earliest member that
// rejoined the leader. It reports false if no member rejoined.
// REQUIRES: g.mu is held.
func (g *group) electJoinedLeaderLocked() bool {
	if l := g.mu.members[g.mu.leader]; l != nil && l.join != nil {
		return true
	}
	for _, m := range g.orderedMembersLocked() {
		if m.join != nil {
			g.mu.leader = m.id
			return true
		}
	}
	return false
}

// expirePendingSyncLocked removes the members of this generation that never sent SyncGroup within the
// rebalance timeout, and rebalances without them.
// REQUIRES: g.mu is held.
func (g *group) expirePendingSyncLocked() {
	if len(g.mu.pendingSync) == 0 {
		return
	}
	for id := range g.mu.pendingSync {
		if m := g.mu.members[id]; m != nil {
			g.c.logger.Info("group member did not sync in time", "group", g.name, "member", id)
			g.answerWaitersLocked(m, kerr.UnknownMemberID)
			g.dropMemberLocked(m)
		}
	}
	g.prepareRebalanceLocked("members did not send SyncGroup in time")
}

// syncReceivedLocked notes that m sent SyncGroup for this generation.
// REQUIRES: g.mu is held.
func (g *group) syncReceivedLocked(m *member) {
	delete(g.mu.pendingSync, m.id)
	if len(g.mu.pendingSync) == 0 && g.mu.pendingSync != nil {
		g.mu.pendingSync = nil
		g.stopGroupTimerLocked()
	}
}

// answerWaitersLocked answers m's waiting JoinGroup or SyncGroup with err.
// REQUIRES: g.mu is held.
func (g *group) answerWaitersLocked(m *member, err *kerr.Error) {
	if m.join != nil {
		m.join <- joinError(m.id, err)
		m.join = nil
	}
	if m.sync != nil {
		m.sync <- syncResult{err: err}
		m.sync = nil
	}
}

// removeMemberLocked removes m (it left, or its session expired) and rebalances the rest.
// REQUIRES: g.mu is held.
func (g *group) removeMemberLocked(m *member, reason string) {
	g.answerWaitersLocked(m, kerr.UnknownMemberID)
	g.dropMemberLocked(m)
	switch g.mu.state {
	case stateStable, stateCompletingRebalance:
		g.maybePrepareRebalanceLocked(reason)
	case statePreparingRebalance:
		g.tryCompleteJoinLocked()
	}
}

// dropMemberLocked takes m out of the group without changing the group's state.
// REQUIRES: g.mu is held.
func (g *group) dropMemberLocked(m *member) {
	if m.timer != nil {
		m.timer.Stop()
	}
	delete(g.mu.members, m.id)
	delete(g.mu.pendingSync, m.id)
	if m.instanceID != nil && g.mu.static[*m.instanceID] == m.id {
		delete(g.mu.static, *m.instanceID)
	}
	if g.mu.leader == m.id {
		g.mu.leader = ""
		if ms := g.orderedMembersLocked(); len(ms) > 0 {
			g.mu.leader = ms[0].id
		}
	}
}

// validateMemberLocked checks that memberID is a member and, for a static member, that it is the
// instance's current member ID.
// REQUIRES: g.mu is held.
func (g *group) validateMemberLocked(memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		cur, ok := g.mu.static[*instanceID]
		if !ok {
			return kerr.UnknownMemberID
		}
		if cur != memberID {
			return kerr.FencedInstanceID
		}
	}
	if g.mu.members[memberID] == nil {
		return kerr.UnknownMemberID
	}
	return nil
}
