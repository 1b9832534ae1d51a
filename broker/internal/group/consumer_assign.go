package group

import (
	"cmp"
	"slices"
	"strings"
)

// computeTargetLocked computes the group's target assignment for its current epoch with the group's
// server assignor: the one most members asked for, ties to the first configured, as Kafka picks it.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) computeTargetLocked(topics map[string]TopicInfo) {
	cg := g.mu.consumer
	cg.assignmentEpoch = cg.epoch
	members := slices.SortedFunc(func(yield func(*consumerMember) bool) {
		for _, m := range cg.members {
			if !yield(m) {
				return
			}
		}
	}, func(a, b *consumerMember) int { return strings.Compare(a.id, b.id) })
	if len(members) == 0 {
		return
	}
	var parts []assignable
	for _, name := range g.consumerTopicsLocked(topics) {
		t := topics[name]
		for p := range t.Partitions {
			parts = append(parts, assignable{topic: name, idPart: idPart{t.ID, p}})
		}
	}
	var targets map[string]partSet
	switch g.assignorLocked() {
	case "range":
		targets = assignRange(members, parts)
	default:
		targets = assignUniform(members, parts)
	}
	for _, m := range members {
		m.target = targets[m.id]
		if m.target == nil {
			m.target = make(partSet)
		}
	}
}

// assignorLocked is the server assignor the group uses now.
// REQUIRES: g.mu is held and g is a consumer group.
func (g *group) assignorLocked() string {
	votes := make(map[string]int)
	for _, m := range g.mu.consumer.members {
		if m.assignor != "" {
			votes[m.assignor]++
		}
	}
	best := g.c.assignors[0]
	for _, a := range g.c.assignors {
		if votes[a] > votes[best] {
			best = a
		}
	}
	return best
}

// assignable is one partition of a subscribed topic.
type assignable struct {
	topic string
	idPart
}

// assignUniform is Kafka's uniform assignor: every member gets as close to the same number of
// partitions as its subscription allows, and partitions stay where they are whenever that keeps the
// balance (sticky), so a rebalance moves as few partitions as possible.
func assignUniform(members []*consumerMember, parts []assignable) map[string]partSet {
	out := make(map[string]partSet, len(members))
	load := make(map[string]int, len(members))
	eligible := func(m *consumerMember, a assignable) bool { return m.subscribes(a.topic) }
	byID := make(map[string]*consumerMember, len(members))
	for _, m := range members {
		out[m.id] = make(partSet)
		byID[m.id] = m
	}
	// Quota: with n members sharing everything, nobody needs more than ceil(P/n).
	quota := (len(parts) + len(members) - 1) / len(members)
	var free []assignable
	for _, a := range parts {
		kept := false
		for _, m := range members {
			if _, ok := m.target[a.idPart]; ok && eligible(m, a) && load[m.id] < quota {
				out[m.id][a.idPart] = struct{}{}
				load[m.id]++
				kept = true
				break
			}
		}
		if !kept {
			free = append(free, a)
		}
	}
	leastLoaded := func(a assignable, except string) *consumerMember {
		var best *consumerMember
		for _, m := range members {
			if m.id != except && eligible(m, a) && (best == nil || load[m.id] < load[best.id]) {
				best = m
			}
		}
		return best
	}
	for _, a := range free {
		if m := leastLoaded(a, ""); m != nil {
			out[m.id][a.idPart] = struct{}{}
			load[m.id]++
		}
	}
	// Balance: move partitions from the most to the least loaded member that may take them, until no
	// move narrows the spread. Each move lowers the sum of squared loads, so this terminates.
	topicOf := make(map[idPart]assignable, len(parts))
	for _, a := range parts {
		topicOf[a.idPart] = a
	}
	for moved := true; moved; {
		moved = false
		order := slices.Clone(members)
		slices.SortStableFunc(order, func(a, b *consumerMember) int { return cmp.Compare(load[b.id], load[a.id]) })
		for _, from := range order {
			for _, p := range out[from.id].sorted() {
				to := leastLoaded(topicOf[p], from.id)
				if to == nil || load[to.id]+1 >= load[from.id] {
					continue
				}
				delete(out[from.id], p)
				out[to.id][p] = struct{}{}
				load[from.id]--
				load[to.id]++
				moved = true
			}
		}
	}
	return out
}

// assignRange is Kafka's range assignor: for each topic, the members subscribed to it, in member ID
// order, get consecutive ranges of its partitions, the first ones one partition more when the count
// does not divide evenly. Co-partitioned topics therefore land on the same members.
func assignRange(members []*consumerMember, parts []assignable) map[string]partSet {
	out := make(map[string]partSet, len(members))
	for _, m := range members {
		out[m.id] = make(partSet)
	}
	for i := 0; i < len(parts); {
		j := i
		for j < len(parts) && parts[j].topic == parts[i].topic {
			j++
		}
		var subs []*consumerMember
		for _, m := range members {
			if m.subscribes(parts[i].topic) {
				subs = append(subs, m)
			}
		}
		if n := len(subs); n > 0 {
			count := j - i
			next := i
			for k, m := range subs {
				take := count / n
				if k < count%n {
					take++
				}
				for _, a := range parts[next : next+take] {
					out[m.id][a.idPart] = struct{}{}
				}
				next += take
			}
		}
		i = j
	}
	return out
}
