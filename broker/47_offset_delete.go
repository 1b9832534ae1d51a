package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(47, 0, 0, handleOffsetDelete) }

func handleOffsetDelete(r *request) result {
	return respond(r.c.b.groups.OffsetDelete(r.ctx, r.kreq.(*kmsg.OffsetDeleteRequest)))
}
