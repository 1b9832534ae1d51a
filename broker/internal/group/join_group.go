package group

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup adds the caller to the group, or rejoins it, and blocks until the group's join phase ends,
// then returns the new generation (the leader also gets every member's metadata). It returns early with
// COORDINATOR_NOT_AVAILABLE when ctx is done or the coordinator closes; a member that was already in
// the group stays in it until its session expires, as in Kafka, while a brand-new member is dropped.
// JoinGroup v4+ without a member ID is answered at once with MEMBER_ID_REQUIRED and the ID to rejoin
// with. It must be called on a goroutine that may block for the rebalance timeout.
func (c *Coordinator) JoinGroup(ctx context.Context, r *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
	if !c.enter() {
		return fillJoin(resp, joinError(r.MemberID, kerr.CoordinatorNotAvailable))
	}
	defer c.exit()
	res, w := c.join(ctx, r)
	if w != nil {
		select {
		case res = <-w.ch:
		case <-ctx.Done():
			res = c.abandonJoin(w)
		case <-c.closing:
			res = joinError(r.MemberID, kerr.CoordinatorNotAvailable)
		}
	}
	return fillJoin(resp, res)
}

func fillJoin(resp *kmsg.JoinGroupResponse, res joinResult) *kmsg.JoinGroupResponse {
	if res.err != nil {
		resp.ErrorCode = res.err.Code
	}
	resp.MemberID = res.memberID
	resp.Generation = res.generation
	resp.ProtocolType = res.protocolType
	resp.Protocol = res.protocol
	resp.LeaderID = res.leader
	resp.SkipAssignment = res.skipAssignment
	resp.Members = res.members
	return resp
}

// joinWait is a JoinGroup waiting for the end of the join phase.
type joinWait struct {
	g  *group
	m  *member
	ch chan joinResult
}

// abandonJoin is called when a waiting JoinGroup's connection closed. A member that joined with this
// very request is removed: it never learned its generation, and its client will start over. An
// existing member stays, counted as rejoined, exactly as Kafka (which cannot see the disconnect) keeps
// it; if its client does not come back, its session expires.
func (c *Coordinator) abandonJoin(w *joinWait) joinResult {
	g := w.g
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case res := <-w.ch:
		return res
	default:
	}
	if !g.mu.dead && g.mu.members[w.m.id] == w.m && w.m.join == w.ch && w.m.isNew {
		g.c.logger.Info("new group member disconnected while joining", "group", g.name, "member", w.m.id)
		g.removeMemberLocked(w.m, "new member "+w.m.id+" disconnected")
	}
	return joinError(w.m.id, kerr.CoordinatorNotAvailable)
}

// join runs the JoinGroup state machine (Kafka's GroupCoordinator.handleJoinGroup). It returns either
// an immediate result or a wait.
func (c *Coordinator) join(ctx context.Context, r *kmsg.JoinGroupRequest) (joinResult, *joinWait) {
	fail := func(memberID string, err *kerr.Error) (joinResult, *joinWait) { return joinError(memberID, err), nil }
	if r.Group == "" {
		return fail(r.MemberID, kerr.InvalidGroupID)
	}
	sessionTimeout := time.Duration(r.SessionTimeoutMillis) * time.Millisecond
	if sessionTimeout < minSessionTimeout || sessionTimeout > maxSessionTimeout {
		return fail(r.MemberID, kerr.InvalidSessionTimeout)
	}
	rebalanceTimeout := time.Duration(r.RebalanceTimeoutMillis) * time.Millisecond
	if r.Version == 0 || rebalanceTimeout <= 0 {
		rebalanceTimeout = sessionTimeout
	}
	var instanceID *string
	if r.Version >= 5 && r.InstanceID != nil {
		id := *r.InstanceID
		instanceID = &id
	}
	newMember := r.MemberID == ""
	g := c.lockGroup(r.Group, newMember)
	if g == nil {
		return fail(r.MemberID, kerr.UnknownMemberID)
	}
	defer g.mu.Unlock()
	if g.mu.share != nil {
		return fail(r.MemberID, kerr.InconsistentGroupProtocol)
	}
	if g.mu.consumer != nil {
		// Kafka's migration policy "disabled": a classic member cannot join a KIP-848 group that has
		// members; an empty one becomes a classic group.
		if len(g.mu.consumer.members) > 0 {
			return fail(r.MemberID, kerr.InconsistentGroupProtocol)
		}
		g.mu.consumer = nil
		g.mu.protocolType = ""
	}
	self := r.MemberID
	if newMember && instanceID != nil {
		self = g.mu.static[*instanceID]
	}
	if !g.supportsProtocolsLocked(self, r.ProtocolType, r.Protocols) {
		return fail(r.MemberID, kerr.InconsistentGroupProtocol)
	}

	ci := clientFrom(ctx)
	ch := make(chan joinResult, 1)
	newMemberOf := func(id string) *member {
		return &member{
			id:               id,
			instanceID:       instanceID,
			clientID:         ci.id,
			clientHost:       ci.host,
			protocolType:     r.ProtocolType,
			protocols:        r.Protocols,
			sessionTimeout:   sessionTimeout,
			rebalanceTimeout: rebalanceTimeout,
		}
	}
	wait := func(m *member) (joinResult, *joinWait) {
		g.tryCompleteJoinLocked()
		return joinResult{}, &joinWait{g: g, m: m, ch: ch}
	}

	if newMember {
		id := newMemberID(ci.id, instanceID)
		switch {
		case instanceID != nil:
			if old, ok := g.mu.static[*instanceID]; ok {
				m := g.mu.members[old]
				if ci.id != "" || ci.host != "" {
					m.clientID, m.clientHost = ci.id, ci.host
				}
				return g.replaceStaticMemberLocked(m, id, r, sessionTimeout, rebalanceTimeout, ch)
			}
		case r.Version >= 4:
			// KIP-394: hand out the member ID first, so a client that times out and retries the join
			// does not leave a member behind that the rebalance has to wait for.
			g.addPendingLocked(id, sessionTimeout)
			return fail(id, kerr.MemberIDRequired)
		}
		m := newMemberOf(id)
		g.addMemberLocked(m, ch)
		return wait(m)
	}

	if _, ok := g.mu.pending[r.MemberID]; ok {
		t := g.mu.pending[r.MemberID]
		t.Stop()
		delete(g.mu.pending, r.MemberID)
		m := newMemberOf(r.MemberID)
		g.addMemberLocked(m, ch)
		return wait(m)
	}
	if err := g.validateMemberLocked(r.MemberID, instanceID); err != nil {
		return fail(r.MemberID, err)
	}
	m := g.mu.members[r.MemberID]
	if ci.id != "" || ci.host != "" {
		m.clientID, m.clientHost = ci.id, ci.host
	}
	switch g.mu.state {
	case statePreparingRebalance:
		g.updateMemberLocked(m, r, sessionTimeout, rebalanceTimeout, ch)
		return wait(m)
	case stateCompletingRebalance:
		if m.matches(r.Protocols) {
			// The member most likely missed the JoinGroup response: repeat it.
			return g.currentJoinResultLocked(m), nil
		}
		g.updateMemberLocked(m, r, sessionTimeout, rebalanceTimeout, ch)
		g.prepareRebalanceLocked("member " + m.id + " rejoined with new metadata")
		return wait(m)
	case stateStable:
		if m.id != g.mu.leader && m.matches(r.Protocols) {
			// A follower rejoining without changes gets the current generation and syncs.
			res := g.currentJoinResultLocked(m)
			return res, nil
		}
		// The leader rejoins to rebalance for changes only it sees (topic metadata, for consumers).
		g.updateMemberLocked(m, r, sessionTimeout, rebalanceTimeout, ch)
		g.prepareRebalanceLocked("member " + m.id + " rejoined")
		return wait(m)
	default:
		return fail(r.MemberID, kerr.UnknownMemberID)
	}
}

// replaceStaticMemberLocked gives a static member that rejoined without its member ID (it restarted) a
// new member ID in place of its old one (KIP-345). A Stable group whose protocol would not change keeps
// its generation and assignments: the member just syncs again. The old member ID is fenced.
// REQUIRES: g.mu is held.
func (g *group) replaceStaticMemberLocked(m *member, newID string, r *kmsg.JoinGroupRequest, sessionTimeout, rebalanceTimeout time.Duration, ch chan joinResult) (joinResult, *joinWait) {
	oldID := m.id
	oldLeader := g.mu.leader
	g.answerWaitersLocked(m, kerr.FencedInstanceID)
	delete(g.mu.members, oldID)
	m.id = newID
	g.mu.members[newID] = m
	g.mu.static[*m.instanceID] = newID
	if g.mu.leader == oldID {
		g.mu.leader = newID
	}
	if _, ok := g.mu.pendingSync[oldID]; ok {
		delete(g.mu.pendingSync, oldID)
		g.mu.pendingSync[newID] = struct{}{}
	}
	g.updateMemberLocked(m, r, sessionTimeout, rebalanceTimeout, ch)
	g.scheduleSessionLocked(m, sessionTimeout)
	g.c.logger.Info("static group member replaced", "group", g.name, "instance", *m.instanceID, "old", oldID, "new", newID)

	switch g.mu.state {
	case stateStable:
		if g.selectProtocolLocked() == g.mu.protocol {
			m.join = nil
			res := g.currentJoinResultLocked(m)
			res.members = nil
			// Before v9 the old leader ID is returned so that a restarted leader does not compute an
			// assignment a Stable group would ignore; v9+ tells it to skip the assignment instead.
			res.leader = oldLeader
			if r.Version >= 9 && g.mu.leader == newID {
				res.leader = newID
				res.members = g.joinMembersLocked()
				res.skipAssignment = true
			}
			return res, nil
		}
		g.prepareRebalanceLocked("static member " + newID + " rejoined with a protocol change")
	case stateCompletingRebalance:
		// The leader may have computed assignments for the old member ID: rebalance.
		g.prepareRebalanceLocked("static member " + newID + " rejoined during CompletingRebalance")
	}
	g.tryCompleteJoinLocked()
	return joinResult{}, &joinWait{g: g, m: m, ch: ch}
}
