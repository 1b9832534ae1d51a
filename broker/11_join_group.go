package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(11, 0, 9, handleJoinGroup) }

// handleJoinGroup blocks until the group's rebalance completes, so it answers off the read goroutine.
func handleJoinGroup(r *request) result {
	req := r.kreq.(*kmsg.JoinGroupRequest)
	return respondLater(func() kmsg.Response { return r.c.b.groups.JoinGroup(r.ctx, req) })
}
