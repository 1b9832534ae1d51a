package broker

import (
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/group"
)

// ShareGroupHeartbeat v1 (Kafka 4.1+, share groups generally available).
func init() { register(76, 1, 1, handleShareGroupHeartbeat) }

func handleShareGroupHeartbeat(r *request) result {
	host, _, _ := net.SplitHostPort(r.c.remote)
	ctx := group.WithClient(r.ctx, r.clientID, "/"+host)
	return respond(r.c.b.groups.ShareGroupHeartbeat(ctx, r.kreq.(*kmsg.ShareGroupHeartbeatRequest)))
}
