package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(15, 0, 6, handleDescribeGroups) }

func handleDescribeGroups(r *request) result {
	return respond(r.c.b.groups.DescribeGroups(r.ctx, r.kreq.(*kmsg.DescribeGroupsRequest)))
}
