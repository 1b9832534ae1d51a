package runtime

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// balancer is the Seiche group balancer (Kafka Streams' StreamsPartitionAssignor): it assigns
// tasks, not partitions, so a task's co-partitioned input partitions always go to one member; it is
// sticky (a member keeps the tasks it ran, as far as balance allows); and it sends every member the
// partitions each host holds, for pull-query routing. Every member of an application's group must
// use it: it is the only protocol they offer.
//
// It is an eager protocol: every rebalance revokes every partition, and threads suspend their
// tasks (committed) instead of closing them, resuming those they get back. A cooperative variant
// can follow once the runtime restores state off the rebalance path.
type balancer struct {
	plan        *plan
	process     string
	host        string
	prev        *atomic.Pointer[[]TaskID] // the tasks of the member's latest assignment, for JoinGroupMetadata
	prevStandby *atomic.Pointer[[]TaskID] // the member's standby tasks; nil for none
	onAssign    func(assignmentInfo)      // every SyncGroup result, before OnPartitionsAssigned
	copartErr   func(map[string]int32) error
	// replicas is num.standby.replicas, used when this member leads; logger tells of copies the
	// group has too few instances for (nil: not told).
	replicas int
	logger   *slog.Logger
}

const protocolName = "seiche-streams"

func (b *balancer) ProtocolName() string { return protocolName }
func (b *balancer) IsCooperative() bool  { return false }

func (b *balancer) JoinGroupMetadata(topics []string, current map[string][]int32, generation int32) []byte {
	var prev []TaskID
	if p := b.prev.Load(); p != nil {
		prev = *p
	}
	var standby []TaskID
	if b.prevStandby != nil {
		if p := b.prevStandby.Load(); p != nil {
			standby = *p
		}
	}
	ud, _ := json.Marshal(subscriptionInfo{Version: userDataVersion, Process: b.process, Host: b.host,
		Prev: taskStrings(prev), Standby: taskStrings(standby)})
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 2
	meta.Topics = topics
	meta.UserData = ud
	meta.Generation = generation
	owned := make([]string, 0, len(current))
	for t := range current {
		owned = append(owned, t)
	}
	sort.Strings(owned)
	for _, t := range owned {
		op := kmsg.NewConsumerMemberMetadataOwnedPartition()
		op.Topic = t
		op.Partitions = current[t]
		meta.OwnedPartitions = append(meta.OwnedPartitions, op)
	}
	return meta.AppendTo(nil)
}

func (b *balancer) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(assignment); err != nil {
		return nil, fmt.Errorf("runtime: parse assignment: %w", err)
	}
	out := make(map[string][]int32, len(a.Topics))
	for _, t := range a.Topics {
		out[t.Topic] = t.Partitions
	}
	if len(a.UserData) > 0 {
		var info assignmentInfo
		if err := json.Unmarshal(a.UserData, &info); err != nil {
			return nil, fmt.Errorf("runtime: decode assignment info: %w", err)
		}
		if info.Version != userDataVersion {
			return nil, fmt.Errorf("runtime: assignment info version %d, want %d", info.Version, userDataVersion)
		}
		b.onAssign(info)
	}
	return out, nil
}

func (b *balancer) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	cb, err := kgo.NewConsumerBalancer(b, members)
	if err != nil {
		return nil, nil, err
	}
	return cb, cb.MemberTopics(), nil
}

// Balance implements kgo.ConsumerBalancerBalance: it runs on the leader.
func (b *balancer) Balance(cb *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	var members []member
	var derr error
	cb.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		sub, err := decodeSubscription(meta.UserData)
		if err != nil {
			derr = fmt.Errorf("member %s: %w", m.MemberID, err)
			return
		}
		mem := member{id: m.MemberID, process: sub.Process, host: sub.Host}
		for _, s := range sub.Prev {
			if id, err := parseTaskID(s); err == nil {
				mem.prev = append(mem.prev, id)
			}
		}
		for _, s := range sub.Standby {
			if id, err := parseTaskID(s); err == nil {
				mem.prevStandby = append(mem.prevStandby, id)
			}
		}
		sortTasks(mem.prev)
		sortTasks(mem.prevStandby)
		members = append(members, mem)
	})
	if derr != nil {
		cb.SetError(derr)
		return nil
	}
	if err := b.copartErr(topics); err != nil {
		cb.SetError(err)
		return nil
	}
	taskParts := b.plan.tasks(topics)
	tasks := make([]TaskID, 0, len(taskParts))
	for id := range taskParts {
		tasks = append(tasks, id)
	}
	sortTasks(tasks)
	assigned := assignTasks(members, tasks)
	hosts := hostPartitions(members, assigned, taskParts)
	var stateful []TaskID
	for _, id := range tasks {
		if len(b.plan.subs[id.Subtopology].stores) > 0 {
			stateful = append(stateful, id)
		}
	}
	standbys, missing := assignStandbys(members, assigned, stateful, b.replicas)
	if missing > 0 && b.logger != nil {
		b.logger.Warn("runtime: too few instances for the standby replicas asked; some tasks have fewer copies",
			"num_standby_replicas", b.replicas, "copies_missing", missing)
	}
	standbyHosts := hostPartitions(members, standbys, taskParts)
	var out syncAssignment
	for _, m := range members {
		byTopic := map[string][]int32{}
		for _, id := range assigned[m.id] {
			for _, tp := range taskParts[id] {
				byTopic[tp.Topic] = append(byTopic[tp.Topic], tp.Partition)
			}
		}
		var ka kmsg.ConsumerMemberAssignment
		names := make([]string, 0, len(byTopic))
		for t := range byTopic {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			at := kmsg.NewConsumerMemberAssignmentTopic()
			at.Topic = t
			at.Partitions = byTopic[t]
			sort.Slice(at.Partitions, func(i, j int) bool { return at.Partitions[i] < at.Partitions[j] })
			ka.Topics = append(ka.Topics, at)
		}
		info := assignmentInfo{Version: userDataVersion, Tasks: taskStrings(assigned[m.id]), Hosts: hosts}
		if b.replicas > 0 {
			info.Standby, info.StandbyHosts = taskStrings(standbys[m.id]), standbyHosts
		}
		ka.UserData, _ = json.Marshal(info)
		sa := kmsg.NewSyncGroupRequestGroupAssignment()
		sa.MemberID = m.id
		sa.MemberAssignment = ka.AppendTo(nil)
		out = append(out, sa)
	}
	return out
}

type syncAssignment []kmsg.SyncGroupRequestGroupAssignment

func (s syncAssignment) IntoSyncAssignment() []kmsg.SyncGroupRequestGroupAssignment { return s }
