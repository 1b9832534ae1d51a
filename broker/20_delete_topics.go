package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(20, 0, 6, handleDeleteTopics) }

func handleDeleteTopics(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	del := func(name *string, id [16]byte) {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = name, id
		if name == nil {
			if t := b.topics.getByID(id); t != nil {
				n := t.name
				name, st.Topic = &n, &n
			} else {
				st.ErrorCode = kerr.UnknownTopicID.Code
			}
		}
		if name != nil {
			if t := b.topics.get(*name); t != nil {
				st.TopicID = t.id
			}
			st.ErrorCode, st.ErrorMessage = errCode(b.topics.remove(*name))
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Version >= 6 {
		for _, t := range req.Topics {
			del(t.Topic, t.TopicID)
		}
	} else {
		for _, n := range req.TopicNames {
			del(&n, [16]byte{})
		}
	}
	return respond(resp)
}
