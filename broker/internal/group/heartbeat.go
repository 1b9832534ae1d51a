package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat keeps a member's session alive. It answers REBALANCE_IN_PROGRESS while the group is
// PreparingRebalance, telling the member to rejoin.
func (c *Coordinator) Heartbeat(_ context.Context, r *kmsg.HeartbeatRequest) *kmsg.HeartbeatResponse {
	resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
	if err := c.heartbeat(r); err != nil {
		resp.ErrorCode = err.Code
	}
	return resp
}

func (c *Coordinator) heartbeat(r *kmsg.HeartbeatRequest) *kerr.Error {
	if !c.enter() {
		return kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	if r.Group == "" {
		return kerr.InvalidGroupID
	}
	g := c.lockGroup(r.Group, false)
	if g == nil {
		return kerr.UnknownMemberID
	}
	defer g.mu.Unlock()
	if err := g.validateMemberLocked(r.MemberID, r.InstanceID); err != nil {
		return err
	}
	if r.Generation != g.mu.generation {
		return kerr.IllegalGeneration
	}
	m := g.mu.members[r.MemberID]
	switch g.mu.state {
	case stateCompletingRebalance, stateStable:
		// Clients may heartbeat between their JoinGroup and SyncGroup responses.
		g.scheduleSessionLocked(m, m.sessionTimeout)
		return nil
	case statePreparingRebalance:
		g.scheduleSessionLocked(m, m.sessionTimeout)
		return kerr.RebalanceInProgress
	default:
		return kerr.UnknownMemberID
	}
}
