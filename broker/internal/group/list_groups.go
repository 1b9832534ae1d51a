package group

import (
	"context"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ListGroups lists every group with its protocol type, state (v4+) and type (v5+: classic, consumer),
// keeping only the states in StatesFilter and the types in TypesFilter when they are given. Both
// filters match case-insensitively, as in Kafka.
func (c *Coordinator) ListGroups(_ context.Context, r *kmsg.ListGroupsRequest) *kmsg.ListGroupsResponse {
	resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
	if !c.enter() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	defer c.exit()
	in := func(filter []string, v string) bool {
		return len(filter) == 0 || slices.ContainsFunc(filter, func(f string) bool { return strings.EqualFold(f, v) })
	}
	for _, g := range c.groups() {
		g.mu.Lock()
		typ, state := g.typeAndStateLocked()
		if !g.mu.dead && in(r.TypesFilter, typ) && in(r.StatesFilter, state) {
			lg := kmsg.NewListGroupsResponseGroup()
			lg.Group = g.name
			lg.ProtocolType = g.mu.protocolType
			lg.GroupState = state
			lg.GroupType = typ
			resp.Groups = append(resp.Groups, lg)
		}
		g.mu.Unlock()
	}
	return resp
}
