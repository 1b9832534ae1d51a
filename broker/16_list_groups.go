package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(16, 0, 5, handleListGroups) }

func handleListGroups(r *request) result {
	return respond(r.c.b.groups.ListGroups(r.ctx, r.kreq.(*kmsg.ListGroupsRequest)))
}
