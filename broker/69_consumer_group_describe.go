package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(69, 0, 1, handleConsumerGroupDescribe) }

func handleConsumerGroupDescribe(r *request) result {
	return respond(r.c.b.groups.ConsumerGroupDescribe(r.ctx, r.kreq.(*kmsg.ConsumerGroupDescribeRequest)))
}
