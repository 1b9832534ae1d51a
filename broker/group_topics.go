package broker

import "github.com/seichedb/seiche/broker/internal/group"

// infos describes every topic for the group coordinator's server-side assignors.
func (tm *topicManager) infos() []group.TopicInfo {
	tm.mu.RLock()
	defer tm.mu.RUnlock()
	out := make([]group.TopicInfo, 0, len(tm.mu.topics))
	for _, t := range tm.mu.topics {
		out = append(out, group.TopicInfo{Name: t.name, ID: t.id, Partitions: int32(len(t.partitions))})
	}
	return out
}
