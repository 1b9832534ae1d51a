package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(3, 0, 12, handleMetadata) }

// authorizedOperationsUnset is Kafka's "not requested" value for authorized operations fields.
const authorizedOperationsUnset = -2147483648

func handleMetadata(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)

	bk := kmsg.NewMetadataResponseBroker()
	bk.NodeID, bk.Host, bk.Port = b.cfg.nodeID, b.advHost, b.advPort
	resp.Brokers = append(resp.Brokers, bk)
	resp.ClusterID = &b.clusterID
	resp.ControllerID = b.cfg.nodeID
	resp.AuthorizedOperations = authorizedOperationsUnset

	// v0 asks for all topics with an empty list; v1+ with a null one.
	var topics []*topic
	var internal, missing []kmsg.MetadataResponseTopic
	if req.Topics == nil || (req.Version == 0 && len(req.Topics) == 0) {
		topics = b.topics.all()
		for _, name := range internalTopics {
			if b.topics.get(name) == nil { // not already listed as a log from an older data directory
				internal = append(internal, internalTopicMetadata(b, name))
			}
		}
	} else {
		autoCreate := b.cfg.autoCreateTopics && (req.Version < 4 || req.AllowAutoTopicCreation)
		for _, rt := range req.Topics {
			if name := b.internalTopicRequested(rt); name != "" {
				internal = append(internal, internalTopicMetadata(b, name))
				continue
			}
			var t *topic
			switch {
			case rt.Topic != nil:
				t = b.topics.get(*rt.Topic)
				if t == nil && autoCreate {
					// Another request may create it concurrently; either way it exists afterwards unless the
					// name is invalid, which is reported below.
					b.topics.create(*rt.Topic, b.cfg.defaultPartitions, nil, false)
					t = b.topics.get(*rt.Topic)
				}
			case rt.TopicID != [16]byte{}:
				t = b.topics.getByID(rt.TopicID)
			}
			if t == nil {
				mt := kmsg.NewMetadataResponseTopic()
				mt.Topic, mt.TopicID = rt.Topic, rt.TopicID
				mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
				if rt.Topic != nil && validTopicName(*rt.Topic) != nil {
					mt.ErrorCode = kerr.InvalidTopicException.Code
				} else if rt.Topic == nil {
					mt.ErrorCode = kerr.UnknownTopicID.Code
				}
				mt.AuthorizedOperations = authorizedOperationsUnset
				missing = append(missing, mt)
				continue
			}
			topics = append(topics, t)
		}
	}
	for _, t := range topics {
		mt := kmsg.NewMetadataResponseTopic()
		name := t.name
		mt.Topic, mt.TopicID = &name, t.id
		mt.AuthorizedOperations = authorizedOperationsUnset
		for _, p := range t.partitions {
			mp := kmsg.NewMetadataResponseTopicPartition()
			mp.Partition, mp.Leader, mp.LeaderEpoch = p.index, b.cfg.nodeID, leaderEpoch
			mp.Replicas = []int32{b.cfg.nodeID}
			mp.ISR = []int32{b.cfg.nodeID}
			mt.Partitions = append(mt.Partitions, mp)
		}
		resp.Topics = append(resp.Topics, mt)
	}
	resp.Topics = append(resp.Topics, internal...)
	resp.Topics = append(resp.Topics, missing...)
	return respond(resp)
}

// internalTopicMetadata describes an internal topic as Kafka lists it: IsInternal, led by this broker.
func internalTopicMetadata(b *Broker, name string) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic, mt.TopicID, mt.IsInternal = &name, internalTopicID(b.clusterID, name), true
	mt.AuthorizedOperations = authorizedOperationsUnset
	mp := kmsg.NewMetadataResponseTopicPartition()
	mp.Partition, mp.Leader, mp.LeaderEpoch = 0, b.cfg.nodeID, leaderEpoch
	mp.Replicas, mp.ISR = []int32{b.cfg.nodeID}, []int32{b.cfg.nodeID}
	mt.Partitions = append(mt.Partitions, mp)
	return mt
}

// leaderEpoch is the epoch of every partition's leadership: one node is always the leader, so it never
// changes. Stored batches carry it as their partition leader epoch.
const leaderEpoch = 0

// internalTopicRequested returns the name of the internal topic rt asks for, by name or by topic ID,
// or "". A log of the same name (from a data directory older than the internal topics) wins.
func (b *Broker) internalTopicRequested(rt kmsg.MetadataRequestTopic) string {
	if rt.Topic != nil {
		if isInternalTopic(*rt.Topic) && b.topics.get(*rt.Topic) == nil {
			return *rt.Topic
		}
		return ""
	}
	for _, name := range internalTopics {
		if internalTopicID(b.clusterID, name) == rt.TopicID {
			return name
		}
	}
	return ""
}
