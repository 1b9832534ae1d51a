package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(8, 0, 9, handleOffsetCommit) }

func handleOffsetCommit(r *request) result {
	return respond(r.c.b.groups.OffsetCommit(r.ctx, r.kreq.(*kmsg.OffsetCommitRequest)))
}
