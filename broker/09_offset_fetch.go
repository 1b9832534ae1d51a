package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(9, 0, 9, handleOffsetFetch) }

func handleOffsetFetch(r *request) result {
	return respond(r.c.b.groups.OffsetFetch(r.ctx, r.kreq.(*kmsg.OffsetFetchRequest)))
}
