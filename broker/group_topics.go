package broker

import "github.com/seichedb/seiche/broker/internal/group"

// groupTopics describes every topic for the group coordinator's server-side assignors and regex
// subscriptions: the topics of the log and, as Kafka does (a broker-resolved regex does not skip
// internal topics), the internal ones.
func (b *Broker) groupTopics() []group.TopicInfo {
	tm := b.topics
	tm.mu.RLock()
	out := make([]group.TopicInfo, 0, len(tm.mu.topics)+len(internalTopics))
	for _, t := range tm.mu.topics {
		out = append(out, group.TopicInfo{Name: t.name, ID: t.id, Partitions: int32(len(t.partitions))})
	}
	tm.mu.RUnlock()
	for _, name := range internalTopics {
		out = append(out, group.TopicInfo{Name: name, ID: internalTopicID(b.clusterID, name), Partitions: 1})
	}
	return out
}
