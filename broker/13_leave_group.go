package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(13, 0, 5, handleLeaveGroup) }

func handleLeaveGroup(r *request) result {
	return respond(r.c.b.groups.LeaveGroup(r.ctx, r.kreq.(*kmsg.LeaveGroupRequest)))
}
