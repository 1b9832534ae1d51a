package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DeleteGroups deletes Empty groups and their committed offsets durably. A group with members gets
// NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND.
func (c *Coordinator) DeleteGroups(_ context.Context, r *kmsg.DeleteGroupsRequest) *kmsg.DeleteGroupsResponse {
	resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
	entered := c.enter()
	if entered {
		defer c.exit()
	}
	for _, name := range r.Groups {
		dg := kmsg.NewDeleteGroupsResponseGroup()
		dg.Group = name
		var err *kerr.Error
		if !entered {
			err = kerr.CoordinatorNotAvailable
		} else {
			err = c.deleteGroup(name)
		}
		if err != nil {
			dg.ErrorCode = err.Code
		}
		resp.Groups = append(resp.Groups, dg)
	}
	return resp
}

func (c *Coordinator) deleteGroup(name string) *kerr.Error {
	if name == "" {
		return kerr.InvalidGroupID
	}
	g := c.lockGroup(name, false)
	if g == nil {
		return kerr.GroupIDNotFound
	}
	defer g.mu.Unlock()
	if !g.emptyLocked() {
		return kerr.NonEmptyGroup
	}
	if g.mu.share != nil && c.deleteShareGroup != nil {
		if err := c.deleteShareGroup(name); err != nil {
			c.logger.Error("deleting share group state", "group", name, "err", err)
			return kerr.UnknownServerError
		}
	}
	if err := g.deleteLocked(); err != nil {
		c.logger.Error("deleting group", "group", name, "err", err)
		return kerr.UnknownServerError
	}
	c.logger.Info("deleted group", "group", name)
	return nil
}
