package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(77, 1, 1, handleShareGroupDescribe) }

func handleShareGroupDescribe(r *request) result {
	return respond(r.c.b.groups.ShareGroupDescribe(r.ctx, r.kreq.(*kmsg.ShareGroupDescribeRequest)))
}
