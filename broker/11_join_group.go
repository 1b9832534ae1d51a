package broker

import (
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/group"
)

func init() { register(11, 0, 9, handleJoinGroup) }

// handleJoinGroup blocks until the group's rebalance completes, so it answers off the read goroutine.
func handleJoinGroup(r *request) result {
	req := r.kreq.(*kmsg.JoinGroupRequest)
	// Members are named and described after their client, as Kafka does: client ID and "/host".
	host, _, _ := net.SplitHostPort(r.c.remote)
	ctx := group.WithClient(r.ctx, r.clientID, "/"+host)
	return respondLater(func() kmsg.Response { return r.c.b.groups.JoinGroup(ctx, req) })
}
