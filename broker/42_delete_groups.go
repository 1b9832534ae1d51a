package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(42, 0, 2, handleDeleteGroups) }

func handleDeleteGroups(r *request) result {
	return respond(r.c.b.groups.DeleteGroups(r.ctx, r.kreq.(*kmsg.DeleteGroupsRequest)))
}
