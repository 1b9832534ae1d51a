package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(14, 0, 5, handleSyncGroup) }

// handleSyncGroup blocks until the group's rebalance completes, so it answers off the read goroutine.
func handleSyncGroup(r *request) result {
	req := r.kreq.(*kmsg.SyncGroupRequest)
	return respondLater(func() kmsg.Response { return r.c.b.groups.SyncGroup(r.ctx, req) })
}
