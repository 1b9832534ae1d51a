package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(19, 0, 7, handleCreateTopics) }

func handleCreateTopics(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := make(map[string]int, len(req.Topics))
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		st.NumPartitions, st.ReplicationFactor = -1, -1
		fail := func(code *kerr.Error, format string, args ...any) {
			m := fmt.Sprintf(format, args...)
			st.ErrorCode, st.ErrorMessage = code.Code, &m
		}
		partitions := rt.NumPartitions
		switch {
		case seen[rt.Topic] > 1:
			fail(kerr.InvalidRequest, "topic %q is named more than once in the request", rt.Topic)
		case len(rt.ReplicaAssignment) > 0 && (partitions != -1 || rt.ReplicationFactor != -1):
			fail(kerr.InvalidRequest, "both replica assignment and partitions/replication factor were given")
		case rt.ReplicationFactor > 1:
			fail(kerr.InvalidReplicationFactor, "replication factor %d is larger than the number of brokers, 1", rt.ReplicationFactor)
		case rt.ReplicationFactor == 0 || rt.ReplicationFactor < -1:
			fail(kerr.InvalidReplicationFactor, "replication factor must be larger than 0")
		}
		if st.ErrorCode == 0 && len(rt.ReplicaAssignment) > 0 {
			partitions = int32(len(rt.ReplicaAssignment))
			for i, a := range rt.ReplicaAssignment {
				if a.Partition != int32(i) {
					fail(kerr.InvalidReplicaAssignment, "partitions must be numbered consecutively from 0")
					break
				}
				if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.nodeID {
					fail(kerr.InvalidReplicaAssignment, "replica assignment must name only broker %d", b.cfg.nodeID)
					break
				}
			}
		}
		if partitions == -1 {
			partitions = b.cfg.defaultPartitions
		}
		if st.ErrorCode == 0 {
			configs := make(map[string]string, len(rt.Configs))
			for _, c := range rt.Configs {
				if c.Value != nil {
					configs[c.Name] = *c.Value
				}
			}
			t, err := b.topics.create(rt.Topic, partitions, configs, req.ValidateOnly)
			if err != nil {
				st.ErrorCode, st.ErrorMessage = errCode(err)
			} else {
				st.TopicID = t.id
				st.NumPartitions, st.ReplicationFactor = partitions, 1
				if req.Version >= 5 {
					for _, c := range t.config.describe(nil, 0, false) {
						cc := kmsg.NewCreateTopicsResponseTopicConfig()
						cc.Name, cc.Value, cc.Source, cc.IsSensitive = c.Name, c.Value, int8(c.Source), false
						st.Configs = append(st.Configs, cc)
					}
				}
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return respond(resp)
}
