package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// emptyConsumerAssignment is sent to a "consumer" protocol member the leader gave no assignment:
// Kafka sends zero bytes, which some clients fail to decode.
var emptyConsumerAssignment = func() []byte {
	a := kmsg.NewConsumerMemberAssignment()
	return a.AppendTo(nil)
}()

// SyncGroup returns the member's assignment for the current generation. In CompletingRebalance it
// blocks until the leader's SyncGroup brings the assignments; it returns REBALANCE_IN_PROGRESS early
// when ctx is done, the coordinator closes or a new rebalance starts.
func (c *Coordinator) SyncGroup(ctx context.Context, r *kmsg.SyncGroupRequest) *kmsg.SyncGroupResponse {
	resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
	if !c.enter() {
		return fillSync(resp, syncResult{err: kerr.CoordinatorNotAvailable})
	}
	defer c.exit()
	res, ch := c.sync(r)
	if ch != nil {
		select {
		case res = <-ch:
		case <-ctx.Done():
			// The member stays awaiting the assignment, as in Kafka; if its client does not come back
			// its session expires once the assignment arrives.
			res = syncResult{err: kerr.RebalanceInProgress}
		case <-c.closing:
			res = syncResult{err: kerr.RebalanceInProgress}
		}
	}
	return fillSync(resp, res)
}

func fillSync(resp *kmsg.SyncGroupResponse, res syncResult) *kmsg.SyncGroupResponse {
	if res.err != nil {
		resp.ErrorCode = res.err.Code
	}
	resp.ProtocolType = res.protocolType
	resp.Protocol = res.protocol
	resp.MemberAssignment = res.assignment
	return resp
}

// sync runs Kafka's doSyncGroup. It returns an immediate result or a channel to wait on.
func (c *Coordinator) sync(r *kmsg.SyncGroupRequest) (syncResult, chan syncResult) {
	fail := func(err *kerr.Error) (syncResult, chan syncResult) { return syncResult{err: err}, nil }
	if r.Group == "" {
		return fail(kerr.InvalidGroupID)
	}
	g := c.lockGroup(r.Group, false)
	if g == nil {
		return fail(kerr.UnknownMemberID)
	}
	defer g.mu.Unlock()
	if err := g.validateMemberLocked(r.MemberID, r.InstanceID); err != nil {
		return fail(err)
	}
	if r.Generation != g.mu.generation {
		return fail(kerr.IllegalGeneration)
	}
	if r.ProtocolType != nil && *r.ProtocolType != g.mu.protocolType ||
		r.Protocol != nil && *r.Protocol != g.mu.protocol {
		return fail(kerr.InconsistentGroupProtocol)
	}
	m := g.mu.members[r.MemberID]
	switch g.mu.state {
	case stateEmpty:
		return fail(kerr.UnknownMemberID)
	case statePreparingRebalance:
		return fail(kerr.RebalanceInProgress)
	case stateCompletingRebalance:
		if m.sync != nil {
			m.sync <- syncResult{err: kerr.RebalanceInProgress} // superseded by this request
		}
		ch := make(chan syncResult, 1)
		m.sync = ch
		g.syncReceivedLocked(m)
		if m.id == g.mu.leader {
			g.assignLocked(r.GroupAssignment)
		}
		return syncResult{}, ch
	case stateStable:
		g.syncReceivedLocked(m)
		g.scheduleSessionLocked(m, m.sessionTimeout)
		return g.assignmentLocked(m), nil
	default:
		return fail(kerr.CoordinatorNotAvailable)
	}
}

// assignLocked stores the leader's assignments, makes the group Stable and answers every waiting
// SyncGroup. Members the leader left out get an empty assignment.
// REQUIRES: g.mu is held and the group is CompletingRebalance.
func (g *group) assignLocked(assignments []kmsg.SyncGroupRequestGroupAssignment) {
	byMember := make(map[string][]byte, len(assignments))
	for _, a := range assignments {
		byMember[a.MemberID] = a.MemberAssignment
	}
	for _, m := range g.mu.members {
		a, ok := byMember[m.id]
		if !ok {
			g.c.logger.Warn("group leader sent no assignment for a member", "group", g.name, "member", m.id)
		}
		if len(a) == 0 && g.mu.protocolType == "consumer" {
			a = emptyConsumerAssignment
		}
		m.assignment = a
	}
	g.mu.state = stateStable
	g.c.logger.Debug("group is stable", "group", g.name, "generation", g.mu.generation)
	for _, m := range g.mu.members {
		if m.sync != nil {
			m.sync <- g.assignmentLocked(m)
			m.sync = nil
			g.scheduleSessionLocked(m, m.sessionTimeout)
		}
	}
}

// REQUIRES: g.mu is held.
func (g *group) assignmentLocked(m *member) syncResult {
	protocolType, protocol := g.mu.protocolType, g.mu.protocol
	return syncResult{protocolType: &protocolType, protocol: &protocol, assignment: m.assignment}
}
