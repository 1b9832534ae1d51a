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
	// Standby are the standby tasks the member was given in the previous generation.
	Standby []string `json:"standby,omitempty"`
}

// assignmentInfo is the user data the leader sends each member in SyncGroup: its tasks, and which
// partitions every host holds (Kafka Streams' AssignmentInfo partitionsByHost), so that any
// instance can route a key lookup to the instance holding the key's partition.
type assignmentInfo struct {
	Version int                       `json:"v"`
	Tasks   []string                  `json:"tasks"`
	Hosts   map[string][]hostTopicPar `json:"hosts,omitempty"`
	// Standby are the member's standby tasks; StandbyHosts the partitions of the tasks every host
	// keeps a standby copy of (Kafka Streams' standbyPartitionByHost).
	Standby      []string                  `json:"standby,omitempty"`
	StandbyHosts map[string][]hostTopicPar `json:"standby_hosts,omitempty"`
}

type hostTopicPar struct {
	Topic      string  `json:"t"`
	Partitions []int32 `json:"p"`
}

// userDataVersion is the version of subscriptionInfo and assignmentInfo. Fields added since
// version 1 (the standby fields) are optional and ignored by members that do not know them: an
// older leader assigns no standby tasks, an older member runs none. So the version stays 1, and
// instances of both kinds can share a group during a rolling upgrade.
const userDataVersion = 1

func parseTaskID(s string) (TaskID, error) {
	var id TaskID
	if _, err := fmt.Sscanf(s, "%d_%d", &id.Subtopology, &id.Partition); err != nil {
		return id, fmt.Errorf("runtime: bad task id %q", s)
	}
	return id, nil
}

// parseTaskIDs parses task ids as the assignment carries them, skipping malformed ones.
func parseTaskIDs(ss []string) *[]TaskID {
	ids := make([]TaskID, 0, len(ss))
	for _, s := range ss {
		if id, err := parseTaskID(s); err == nil {
			ids = append(ids, id)
		}
	}
	sortTasks(ids)
	return &ids
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
	id          string
	process     string
	host        string
	prev        []TaskID
	prevStandby []TaskID
}

// assignTasks spreads tasks over members: balanced (counts differ by at most one) and sticky (a
// member keeps the tasks it ran as far as balance allows; a task whose member is gone goes, as far
// as balance allows, to a member of an instance that kept a standby copy of it, so that it
// restores only the changelog's tail). members and tasks must be sorted; the result is
// deterministic.
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
	// Then to the least loaded member of an instance holding a standby copy, within the shares.
	standbyAt := map[string]map[TaskID]bool{} // process → its standby tasks
	for _, m := range members {
		for _, t := range m.prevStandby {
			if standbyAt[m.process] == nil {
				standbyAt[m.process] = map[TaskID]bool{}
			}
			standbyAt[m.process][t] = true
		}
	}
	for _, t := range tasks {
		if _, taken := owner[t]; taken {
			continue
		}
		best := ""
		for _, m := range members {
			if standbyAt[m.process][t] && (count[m.id] < base || count[m.id] == base && extra > 0) &&
				(best == "" || count[m.id] < count[best]) {
				best = m.id
			}
		}
		if best != "" {
			if count[best] == base {
				extra--
			}
			give(best, t)
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

// assignStandbys places up to replicas standby copies of each stateful task (Kafka Streams'
// StandbyTaskAssignor): never on the instance (process) running the task, never two copies of a
// task on one instance or on one host (application.server, when set); sticky, in that an instance
// that held a task's state in the previous generation (active or standby) keeps a copy while it is
// within its share; otherwise on the least loaded instance, by copies per thread. Within an
// instance, the copy goes to its member with the fewest copies. members and stateful must be
// sorted; the result is deterministic. missing counts the copies no instance could take (too few
// instances for the replicas asked).
func assignStandbys(members []member, active map[string][]TaskID, stateful []TaskID, replicas int) (out map[string][]TaskID, missing int) {
	out = map[string][]TaskID{}
	if replicas <= 0 || len(members) == 0 {
		return out, 0
	}
	type proc struct {
		id      string
		host    string
		members []string
		had     map[TaskID]int // tasks whose state it held: 2 previous active, 1 previous standby
		copies  int
	}
	var procs []*proc
	byID := map[string]*proc{}
	holders := map[TaskID][]*proc{} // processes holding a task: its active, then its copies
	for _, m := range members {
		p := byID[m.process]
		if p == nil {
			p = &proc{id: m.process, host: m.host, had: map[TaskID]int{}}
			byID[m.process] = p
			procs = append(procs, p)
		}
		p.members = append(p.members, m.id)
		for _, t := range m.prevStandby {
			p.had[t] = max(p.had[t], 1)
		}
		for _, t := range m.prev {
			p.had[t] = 2
		}
		for _, t := range active[m.id] {
			holders[t] = append(holders[t], p)
		}
	}
	sort.Slice(procs, func(i, j int) bool { return procs[i].id < procs[j].id })
	threads := len(members)
	// The share of an instance is its part of all copies, by threads, rounded up.
	want := 0
	for range stateful {
		want += min(replicas, len(procs)-1)
	}
	share := func(p *proc) int { return (want*len(p.members) + threads - 1) / threads }
	eligible := func(p *proc, t TaskID) bool {
		for _, h := range holders[t] {
			if h == p || (p.host != "" && h.host == p.host) {
				return false
			}
		}
		return true
	}
	// less orders instances by copies per thread, then by id.
	less := func(a, b *proc) bool {
		if l, r := a.copies*len(b.members), b.copies*len(a.members); l != r {
			return l < r
		}
		return a.id < b.id
	}
	placed := map[TaskID]int{}
	place := func(p *proc, t TaskID) {
		p.copies++
		placed[t]++
		holders[t] = append(holders[t], p)
		best := ""
		for _, m := range p.members {
			if best == "" || len(out[m]) < len(out[best]) {
				best = m
			}
		}
		out[best] = append(out[best], t)
	}
	// Sticky copies first, for every task, so that no task's fresh copy takes the share of an
	// instance that already holds another's state: first where the task ran (its state is the
	// most recent there, and the task moved away, most often to balance a new instance), then
	// where it had a copy.
	for _, tier := range []int{2, 1} {
		for _, t := range stateful {
			for placed[t] < replicas {
				var best *proc
				for _, p := range procs {
					if p.had[t] == tier && p.copies < share(p) && eligible(p, t) && (best == nil || less(p, best)) {
						best = p
					}
				}
				if best == nil {
					break
				}
				place(best, t)
			}
		}
	}
	for _, t := range stateful {
		for placed[t] < replicas {
			var best *proc
			for _, p := range procs {
				if eligible(p, t) && (best == nil || less(p, best)) {
					best = p
				}
			}
			if best == nil {
				missing += replicas - placed[t]
				break
			}
			place(best, t)
		}
	}
	for _, ts := range out {
		sortTasks(ts)
	}
	return out, missing
}
