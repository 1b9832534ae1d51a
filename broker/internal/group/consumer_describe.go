package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerGroupDescribe describes KIP-848 consumer groups: epochs, assignor, and every member's
// subscription, current assignment and target assignment. A group that does not exist, or is not a
// consumer group, gets GROUP_ID_NOT_FOUND.
func (c *Coordinator) ConsumerGroupDescribe(_ context.Context, r *kmsg.ConsumerGroupDescribeRequest) *kmsg.ConsumerGroupDescribeResponse {
	resp := r.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	entered := c.enter()
	if entered {
		defer c.exit()
	}
	for _, name := range r.Groups {
		dg := kmsg.NewConsumerGroupDescribeResponseGroup()
		dg.Group = name
		dg.AuthorizedOperations = -2147483648 // not requested
		if r.IncludeAuthorizedOperations {
			dg.AuthorizedOperations = groupOperations
		}
		switch {
		case !entered:
			dg.ErrorCode = kerr.CoordinatorNotAvailable.Code
		case name == "":
			dg.ErrorCode = kerr.InvalidGroupID.Code
		default:
			c.describeConsumer(&dg)
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) describeConsumer(dg *kmsg.ConsumerGroupDescribeResponseGroup) {
	g := c.lockGroup(dg.Group, false)
	if g == nil {
		dg.ErrorCode = kerr.GroupIDNotFound.Code
		dg.ErrorMessage = kmsg.StringPtr("Group " + dg.Group + " not found.")
		return
	}
	defer g.mu.Unlock()
	cg := g.mu.consumer
	if cg == nil {
		dg.ErrorCode = kerr.GroupIDNotFound.Code
		dg.ErrorMessage = kmsg.StringPtr("Group " + dg.Group + " is not a consumer group.")
		return
	}
	topics := c.topicsByName()
	names := make(map[[16]byte]string, len(topics))
	for _, t := range topics {
		names[t.ID] = t.Name
	}
	dg.State = cg.state()
	dg.Epoch = cg.epoch
	dg.AssignmentEpoch = cg.assignmentEpoch
	dg.AssignorName = g.assignorLocked()
	for _, id := range sortedKeys(cg.members) {
		m := cg.members[id]
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.RackID = m.rackID
		dm.MemberEpoch = m.epoch
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		dm.SubscribedTopics = append([]string{}, m.topics...)
		if m.regex != "" {
			re := m.regex
			dm.SubscribedTopicRegex = &re
		}
		dm.Assignment = describedAssignment(m.assigned, names)
		dm.TargetAssignment = describedAssignment(m.target, names)
		dm.MemberType = 1 // consumer protocol; 0 would be a classic member
		dg.Members = append(dg.Members, dm)
	}
}

func describedAssignment(s partSet, names map[[16]byte]string) kmsg.Assignment {
	var a kmsg.Assignment
	for _, p := range s.sorted() {
		if n := len(a.TopicPartitions); n == 0 || a.TopicPartitions[n-1].TopicID != p.id {
			t := kmsg.NewAssignmentTopicPartition()
			t.TopicID, t.Topic = p.id, names[p.id]
			a.TopicPartitions = append(a.TopicPartitions, t)
		}
		t := &a.TopicPartitions[len(a.TopicPartitions)-1]
		t.Partitions = append(t.Partitions, p.p)
	}
	return a
}
