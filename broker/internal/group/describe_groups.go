package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupOperations is the authorized-operations bit set reported when asked (v3+): without ACLs every
// group operation is allowed, READ (3), DELETE (6) and DESCRIBE (8).
const groupOperations = 1<<3 | 1<<6 | 1<<8

// DescribeGroups describes each classic group as Kafka does: the protocol and the members' metadata
// and assignments are shown only while Stable. A group that does not exist, or is a consumer or share
// group (described by their own requests), is "Dead": with no error before v6, and with
// GROUP_ID_NOT_FOUND and a message from v6 (KIP-1043).
func (c *Coordinator) DescribeGroups(_ context.Context, r *kmsg.DescribeGroupsRequest) *kmsg.DescribeGroupsResponse {
	resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
	entered := c.enter()
	if entered {
		defer c.exit()
	}
	for _, name := range r.Groups {
		dg := kmsg.NewDescribeGroupsResponseGroup()
		dg.Group = name
		switch {
		case !entered:
			dg.ErrorCode = kerr.CoordinatorNotAvailable.Code
		case name == "":
			dg.ErrorCode = kerr.InvalidGroupID.Code
		default:
			c.describe(&dg, r.Version)
			if r.IncludeAuthorizedOperations {
				dg.AuthorizedOperations = groupOperations
			}
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) describe(dg *kmsg.DescribeGroupsResponseGroup, version int16) {
	notFound := func(msg string) {
		dg.State = stateDead.String()
		if version >= 6 {
			dg.ErrorCode = kerr.GroupIDNotFound.Code
			dg.ErrorMessage = kmsg.StringPtr(msg)
		}
	}
	g := c.lockGroup(dg.Group, false)
	if g == nil {
		notFound("Group " + dg.Group + " not found.")
		return
	}
	defer g.mu.Unlock()
	if g.mu.consumer != nil || g.mu.share != nil {
		notFound("Group " + g.name + " is not a classic group.")
		return
	}
	dg.State = g.mu.state.String()
	dg.ProtocolType = g.mu.protocolType
	stable := g.mu.state == stateStable
	if stable {
		dg.Protocol = g.mu.protocol
	}
	for _, m := range g.orderedMembersLocked() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		if stable {
			dm.ProtocolMetadata = m.metadataFor(g.mu.protocol)
			dm.MemberAssignment = m.assignment
		}
		dg.Members = append(dg.Members, dm)
	}
}
