package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(37, 0, 3, handleCreatePartitions) }

func handleCreatePartitions(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewCreatePartitionsResponseTopic()
		st.Topic = rt.Topic
		ok := true
		for _, a := range rt.Assignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.nodeID {
				m := fmt.Sprintf("replica assignment must name only broker %d", b.cfg.nodeID)
				st.ErrorCode, st.ErrorMessage = kerr.InvalidReplicaAssignment.Code, &m
				ok = false
				break
			}
		}
		if ok {
			st.ErrorCode, st.ErrorMessage = errCode(b.topics.addPartitions(rt.Topic, rt.Count, req.ValidateOnly))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return respond(resp)
}
