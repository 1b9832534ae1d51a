package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup removes members and rebalances the rest. v0–v2 name one member by ID; v3+ name a batch,
// each by member ID or, for administrative removal of static members, by instance ID alone.
func (c *Coordinator) LeaveGroup(_ context.Context, r *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := r.Members
	if r.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: r.MemberID}}
	}
	topErr, errs := c.leave(r.Group, leaving)
	if topErr == nil && r.Version < 3 {
		topErr = errs[0]
	}
	if topErr != nil {
		resp.ErrorCode = topErr.Code
		return resp
	}
	if r.Version >= 3 {
		for i, l := range leaving {
			rm := kmsg.NewLeaveGroupResponseMember()
			rm.MemberID = l.MemberID
			rm.InstanceID = l.InstanceID
			if errs[i] != nil {
				rm.ErrorCode = errs[i].Code
			}
			resp.Members = append(resp.Members, rm)
		}
	}
	return resp
}

// leave returns a group-level error, or one error (nil for success) per leaving member.
func (c *Coordinator) leave(name string, leaving []kmsg.LeaveGroupRequestMember) (*kerr.Error, []*kerr.Error) {
	if !c.enter() {
		return kerr.CoordinatorNotAvailable, nil
	}
	defer c.exit()
	if name == "" {
		return kerr.InvalidGroupID, nil
	}
	errs := make([]*kerr.Error, len(leaving))
	g := c.lockGroup(name, false)
	if g == nil {
		for i := range errs {
			errs[i] = kerr.UnknownMemberID
		}
		return nil, errs
	}
	defer g.mu.Unlock()
	for i, l := range leaving {
		id := l.MemberID
		switch {
		case id == "":
			if l.InstanceID == nil || g.mu.static[*l.InstanceID] == "" {
				errs[i] = kerr.UnknownMemberID
				continue
			}
			id = g.mu.static[*l.InstanceID]
		case g.mu.pending[id] != nil:
			g.removePendingLocked(id)
			continue
		default:
			if err := g.validateMemberLocked(id, l.InstanceID); err != nil {
				errs[i] = err
				continue
			}
		}
		m := g.mu.members[id]
		c.logger.Info("group member left", "group", name, "member", id)
		g.removeMemberLocked(m, "member "+id+" left")
	}
	return nil, errs
}
