package runtime

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// MissingSourceTopicsError is returned by Run when topics the topology reads do not exist (internal
// topics excepted: the runtime creates those).
type MissingSourceTopicsError struct{ Topics []string }

func (e *MissingSourceTopicsError) Error() string {
	return "runtime: source topics do not exist: " + strings.Join(e.Topics, ", ")
}

// CopartitionError is returned by Run when topics that must be co-partitioned (read by sources
// declared with Topology.CopartitionSources, as joins do) have different partition counts: their
// partitions with the same number could not meet in one task.
type CopartitionError struct {
	Topics map[string]int32 // topic → partition count
}

func (e *CopartitionError) Error() string {
	names := make([]string, 0, len(e.Topics))
	for t := range e.Topics {
		names = append(names, t)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, t := range names {
		parts[i] = fmt.Sprintf("%s (%d)", t, e.Topics[t])
	}
	return "runtime: co-partitioned topics have different partition counts: " + strings.Join(parts, ", ") +
		"; repartition the stream or table read from one of them to match the others"
}

// copartitionGroups returns the run-time topics of each co-partition group.
func (p *plan) copartitionGroups() [][]string {
	var groups [][]string
	for _, g := range p.topo.copart {
		var topics []string
		for _, src := range g {
			for _, t := range p.topo.byName[src].topics {
				topics = append(topics, p.decorate(t))
			}
		}
		groups = append(groups, topics)
	}
	return groups
}

// checkCopartition checks the partition counts of every co-partition group; topics not in counts
// are skipped.
func (p *plan) checkCopartition(counts map[string]int32) error {
	for _, g := range p.copartitionGroups() {
		seen := map[string]int32{}
		distinct := map[int32]bool{}
		for _, t := range g {
			if n, ok := counts[t]; ok {
				seen[t] = n
				distinct[n] = true
			}
		}
		if len(distinct) > 1 {
			return &CopartitionError{Topics: seen}
		}
	}
	return nil
}

// repartitionCounts computes the partition count of every repartition topic: its own, or that of
// the largest input topic of the sub-topology writing to it. counts has the input topics' counts
// and gets the repartition topics' added. Repartition topics written from sub-topologies reading
// other repartition topics are resolved in order.
func (p *plan) repartitionCounts(counts map[string]int32) error {
	pending := map[string]*internalTopic{}
	for name, it := range p.topo.internal {
		pending[name] = it
	}
	for len(pending) > 0 {
		progress := false
		for name, it := range pending {
			n := it.partitions
			if n == 0 {
				writer := p.writerOf(name)
				if writer == nil {
					return fmt.Errorf("runtime: no sink writes repartition topic %s", name)
				}
				resolved := true
				for _, t := range p.subTopics[writer.id] {
					c, ok := counts[t]
					if !ok {
						resolved = false
						break
					}
					n = max(n, c)
				}
				if !resolved {
					continue
				}
				if n == 0 {
					return fmt.Errorf("runtime: cannot size repartition topic %s: its writer reads no topic with a known partition count", name)
				}
			}
			counts[p.decorate(name)] = n
			delete(pending, name)
			progress = true
		}
		if !progress {
			return errors.New("runtime: repartition topics form a cycle")
		}
	}
	return nil
}

func (p *plan) writerOf(topic string) *subtopology {
	for _, st := range p.subs {
		for _, n := range st.nodes {
			if n.kind == sinkKind && n.sinkTopic == topic {
				return st
			}
		}
	}
	return nil
}

// prepareTopics checks the source topics, creates the internal ones and returns the partition
// count of every topic read by name.
func (a *App) prepareTopics(ctx context.Context, adm *kadm.Client) (map[string]int32, error) {
	p := a.plan
	var external []string
	for _, t := range p.allTopics() {
		if _, ok := p.internalByRuntime(t); !ok {
			external = append(external, t)
		}
	}
	counts := map[string]int32{}
	if len(external) > 0 {
		details, err := adm.ListTopics(ctx, external...)
		if err != nil {
			return nil, fmt.Errorf("runtime: describe source topics: %w", err)
		}
		var missing []string
		for _, t := range external {
			d, ok := details[t]
			if !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition) {
				missing = append(missing, t)
				continue
			}
			if d.Err != nil {
				return nil, fmt.Errorf("runtime: describe source topic %s: %w", t, d.Err)
			}
			counts[t] = int32(len(d.Partitions))
		}
		if len(missing) > 0 {
			return nil, &MissingSourceTopicsError{Topics: missing}
		}
	}
	if err := p.repartitionCounts(counts); err != nil {
		return nil, err
	}
	for name := range p.topo.internal {
		topic := p.decorate(name)
		if err := a.ensureTopic(ctx, adm, topic, counts[topic], repartitionTopicConfigs(), true); err != nil {
			return nil, err
		}
	}
	if a.cfg.plogTopic != "" {
		if err := a.ensureTopic(ctx, adm, a.cfg.plogTopic, 1, nil, false); err != nil {
			return nil, err
		}
	}
	if err := p.checkCopartition(counts); err != nil {
		return nil, err
	}
	return counts, nil
}

// repartitionTopicConfigs are the configs a repartition topic is created with, Kafka Streams' own
// (RepartitionTopicConfig): no time-based retention, since its records keep the timestamps of the
// input they came from, which may be older than any retention.ms (a replay, a backfill, event times
// from another era); under the broker's default of seven days the broker would delete what the
// application has written there but not yet read, and the application would skip it
// (OFFSET_OUT_OF_RANGE, then the reset offset) without an error.
func repartitionTopicConfigs() map[string]*string {
	return map[string]*string{
		"cleanup.policy": kadm.StringPtr("delete"),
		"retention.ms":   kadm.StringPtr("-1"),
		"segment.bytes":  kadm.StringPtr("52428800"),
	}
}

// ensureTopic creates topic unless it exists; exact demands an existing topic have partitions.
func (a *App) ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, configs map[string]*string, exact bool) error {
	_, err := adm.CreateTopic(ctx, partitions, a.cfg.replication, configs, topic)
	switch {
	case err == nil:
		a.cfg.logger.Info("runtime: created topic", "topic", topic, "partitions", partitions)
		return nil
	case !errors.Is(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("runtime: create topic %s: %w", topic, err)
	case !exact:
		return nil
	}
	details, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return fmt.Errorf("runtime: describe topic %s: %w", topic, err)
	}
	if n := int32(len(details[topic].Partitions)); n != partitions {
		return fmt.Errorf("runtime: internal topic %s has %d partitions, want %d: delete it or reset the application", topic, n, partitions)
	}
	return nil
}

func (p *plan) internalByRuntime(topic string) (string, bool) {
	for name := range p.internal {
		if p.decorate(name) == topic {
			return name, true
		}
	}
	return "", false
}
