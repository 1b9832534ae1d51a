package broker

import (
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/group"
)

func init() { register(68, 0, 1, handleConsumerGroupHeartbeat) }

// handleConsumerGroupHeartbeat serves KIP-848 consumer groups; it never blocks.
func handleConsumerGroupHeartbeat(r *request) result {
	host, _, _ := net.SplitHostPort(r.c.remote)
	ctx := group.WithClient(r.ctx, r.clientID, "/"+host)
	return respond(r.c.b.groups.ConsumerGroupHeartbeat(ctx, r.kreq.(*kmsg.ConsumerGroupHeartbeatRequest)))
}
