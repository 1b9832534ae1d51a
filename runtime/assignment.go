package runtime

import (
	"encoding/json"
	"fmt"
	"sort"
)

// subscriptionInfo is the user data a member sends in JoinGroup: who it is and which tasks it ran,
// so that the leader can keep tasks where their state already is (Kafka Streams'
// SubscriptionInfo, in JSON).
type subscriptionInfo struct {
	Version int      `json:"v"`
	Process string   `json:"process"`        // instance id shared by the instance's threads
	Host    string   `json:"host,omitempty"` // application.server: host:port for pull queries
	Prev    []string `json:"prev,omitempty"` // tasks run in the previous generation
}

// assignmentInfo is the user data the leader sends each member in SyncGroup: its tasks, and which
// partitions every host holds (Kafka Streams' AssignmentInfo partitionsByHost), so that any
// instance can route a key lookup to the instance holding the key's partition.
type assignmentInfo struct {
	Version int                       `json:"v"`
	Tasks   []string                  `json:"tasks"`
	Hosts   map[string][]hostTopicPar `json:"hosts,omitempty"`
}

type hostTopicPar struct {
	Topic      string  `json:"t"`
	Partitions []int32 `json:"p"`
}

const userDataVersion = 1

func parseTaskID(s string) (TaskID, error) {
	var id TaskID
	if _, err := fmt.Sscanf(s, "%d_%d", &id.Subtopology, &id.Partition); err != nil {
		return id, fmt.Errorf("runtime: bad task id %q", s)
	}
	return id, nil
}

func taskStrings(ids []TaskID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func decodeSubscription(b []byte) (subscriptionInfo, error) {
	var s subscriptionInfo
	if len(b) == 0 {
		return s, fmt.Errorf("runtime: member sent no subscription info (not a seiche streams member?)")
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("runtime: decode subscription info: %w", err)
	}
	if s.Version != userDataVersion {
		return s, fmt.Errorf("runtime: subscription info version %d, want %d", s.Version, userDataVersion)
	}
	return s, nil
}

// member is one group member as the assignor sees it.
type member struct {
	id      string
	process string
	host    string
	prev    []TaskID
}

// assignTasks spreads tasks over members: balanced (counts differ by at most one) and sticky (a
// member keeps the tasks it ran as far as balance allows). members and tasks must be sorted; the
// result is deterministic.
func assignTasks(members []member, tasks []TaskID) map[string][]TaskID {
	out := make(map[string][]TaskID, len(members))
	if len(members) == 0 {
		return out
	}
	exists := make(map[TaskID]bool, len(tasks))
	for _, t := range tasks {
		exists[t] = true
	}
	owner := make(map[TaskID]string, len(tasks))
	count := make(map[string]int, len(members))
	base, extra := len(tasks)/len(members), len(tasks)%len(members)
	give := func(m string, t TaskID) {
		owner[t] = m
		count[m]++
		out[m] = append(out[m], t)
	}
	// Keep previous tasks up to the base share.
	for _, m := range members {
		for _, t := range m.prev {
			if count[m.id] >= base {
				break
			}
			if _, taken := owner[t]; exists[t] && !taken {
				give(m.id, t)
			}
		}
	}
	// Members that ran more may keep one more while extra shares remain.
	for _, m := range members {
		if extra == 0 {
			break
		}
		if count[m.id] != base {
			continue
		}
		for _, t := range m.prev {
			if _, taken := owner[t]; exists[t] && !taken {
				give(m.id, t)
				extra--
				break
			}
		}
	}
	// The rest go to the least loaded member, first in member order on ties.
	for _, t := range tasks {
		if _, taken := owner[t]; taken {
			continue
		}
		best := ""
		for _, m := range members {
			if best == "" || count[m.id] < count[best] {
				best = m.id
			}
		}
		give(best, t)
	}
	for _, ts := range out {
		sortTasks(ts)
	}
	return out
}

// hostPartitions groups the partitions of every member's tasks by host.
func hostPartitions(members []member, assigned map[string][]TaskID, taskParts map[TaskID][]TopicPartition) map[string][]hostTopicPar {
	byHost := map[string]map[string][]int32{}
	for _, m := range members {
		if m.host == "" {
			continue
		}
		h := byHost[m.host]
		if h == nil {
			h = map[string][]int32{}
			byHost[m.host] = h
		}
		for _, t := range assigned[m.id] {
			for _, tp := range taskParts[t] {
				h[tp.Topic] = append(h[tp.Topic], tp.Partition)
			}
		}
	}
	out := make(map[string][]hostTopicPar, len(byHost))
	for host, topics := range byHost {
		var list []hostTopicPar
		for topic, parts := range topics {
			sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
			list = append(list, hostTopicPar{Topic: topic, Partitions: parts})
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Topic < list[j].Topic })
		out[host] = list
	}
	return out
}
