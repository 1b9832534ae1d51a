package runtime

import (
	"regexp"
	"sort"
)

// plan is a topology prepared for one application id: its sub-topologies with run-time (decorated)
// topic names. It is read-only once built and shared by the balancer and the stream threads.
type plan struct {
	appID       string
	topo        *Topology
	subs        []*subtopology
	internal    map[string]bool // undecorated names of repartition topics
	subTopics   [][]string      // per sub-topology: run-time topics read
	subPatterns [][]*regexp.Regexp
	topicSub    map[string]int // run-time topic → sub-topology reading it
}

func newPlan(appID string, t *Topology) (*plan, error) {
	if t.err != nil {
		return nil, t.err
	}
	p := &plan{appID: appID, topo: t, subs: t.subtopologies(), internal: map[string]bool{}, topicSub: map[string]int{}}
	for name := range t.internal {
		p.internal[name] = true
	}
	if len(p.subs) == 0 {
		return nil, errNoSources
	}
	for _, st := range p.subs {
		topics, patterns := st.sourceTopics()
		dec := make([]string, len(topics))
		for i, topic := range topics {
			dec[i] = p.decorate(topic)
			p.topicSub[dec[i]] = st.id
		}
		p.subTopics = append(p.subTopics, dec)
		p.subPatterns = append(p.subPatterns, patterns)
	}
	return p, nil
}

// stateful reports whether the application keeps state on disk: state stores or global stores.
func (p *plan) stateful() bool {
	for _, st := range p.subs {
		if len(st.stores) > 0 {
			return true
		}
	}
	return len(p.topo.globals) > 0
}

func (p *plan) decorate(topic string) string {
	if p.internal[topic] {
		return p.appID + "-" + topic
	}
	return topic
}

func (p *plan) usesPatterns() bool {
	for _, ps := range p.subPatterns {
		if len(ps) > 0 {
			return true
		}
	}
	return false
}

// allTopics returns every run-time topic read, sorted.
func (p *plan) allTopics() []string {
	var all []string
	for _, ts := range p.subTopics {
		all = append(all, ts...)
	}
	sort.Strings(all)
	return all
}

// subFor returns the sub-topology reading topic.
func (p *plan) subFor(topic string) (int, bool) {
	if id, ok := p.topicSub[topic]; ok {
		return id, true
	}
	for id, ps := range p.subPatterns {
		for _, re := range ps {
			if re.MatchString(topic) {
				return id, true
			}
		}
	}
	return 0, false
}

// tasks returns every task and its input partitions, given the partition counts of the topics
// read. A sub-topology has as many tasks as its largest input topic has partitions; task p reads
// partition p of every input topic that has one.
func (p *plan) tasks(partitions map[string]int32) map[TaskID][]TopicPartition {
	bySub := make([][]string, len(p.subs))
	for topic := range partitions {
		if id, ok := p.subFor(topic); ok {
			bySub[id] = append(bySub[id], topic)
		}
	}
	out := map[TaskID][]TopicPartition{}
	for id, topics := range bySub {
		sort.Strings(topics)
		var n int32
		for _, topic := range topics {
			n = max(n, partitions[topic])
		}
		for part := int32(0); part < n; part++ {
			tid := TaskID{Subtopology: id, Partition: part}
			for _, topic := range topics {
				if part < partitions[topic] {
					out[tid] = append(out[tid], TopicPartition{Topic: topic, Partition: part})
				}
			}
		}
	}
	return out
}

// taskFor returns the task reading tp.
func (p *plan) taskFor(tp TopicPartition) (TaskID, bool) {
	id, ok := p.subFor(tp.Topic)
	return TaskID{Subtopology: id, Partition: tp.Partition}, ok
}

func sortTasks(ids []TaskID) {
	sort.Slice(ids, func(i, j int) bool { return taskLess(ids[i], ids[j]) })
}

func taskLess(a, b TaskID) bool {
	if a.Subtopology != b.Subtopology {
		return a.Subtopology < b.Subtopology
	}
	return a.Partition < b.Partition
}
