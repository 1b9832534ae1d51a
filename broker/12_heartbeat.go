package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(12, 0, 4, handleHeartbeat) }

func handleHeartbeat(r *request) result {
	return respond(r.c.b.groups.Heartbeat(r.ctx, r.kreq.(*kmsg.HeartbeatRequest)))
}
