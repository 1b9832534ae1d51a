package runtime

import (
	"fmt"
	"regexp"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/serde"
)

func tasksN(sub int, n int32) []TaskID {
	var out []TaskID
	for p := range n {
		out = append(out, TaskID{Subtopology: sub, Partition: p})
	}
	return out
}

func counts(a map[string][]TaskID) map[string]int {
	out := map[string]int{}
	for m, ts := range a {
		out[m] = len(ts)
	}
	return out
}

func TestAssignTasksBalancedAndSticky(t *testing.T) {
	tasks := append(tasksN(0, 12), tasksN(1, 6)...)
	members := []member{{id: "a"}, {id: "b"}, {id: "c"}}
	first := assignTasks(members, tasks)
	for m, n := range counts(first) {
		if n != 6 {
			t.Errorf("member %s got %d tasks, want 6: %v", m, n, first)
		}
	}
	// c dies: a and b keep all of theirs and split c's.
	second := assignTasks([]member{{id: "a", prev: first["a"]}, {id: "b", prev: first["b"]}}, tasks)
	for _, m := range []string{"a", "b"} {
		if len(second[m]) != 9 {
			t.Errorf("after c left, %s has %d tasks, want 9", m, len(second[m]))
		}
		for _, id := range first[m] {
			if !slices.Contains(second[m], id) {
				t.Errorf("%s lost its task %v", m, id)
			}
		}
	}
	// d joins: it takes three tasks from each, and a and b keep the rest of theirs.
	third := assignTasks([]member{{id: "a", prev: second["a"]}, {id: "b", prev: second["b"]}, {id: "d"}}, tasks)
	moved := 0
	for _, m := range []string{"a", "b"} {
		if len(third[m]) != 6 {
			t.Errorf("after d joined, %s has %d tasks", m, len(third[m]))
		}
		for _, id := range third[m] {
			if !slices.Contains(second[m], id) {
				moved++
			}
		}
	}
	if moved != 0 || len(third["d"]) != 6 {
		t.Errorf("d joined: %d tasks moved between a and b, d has %d", moved, len(third["d"]))
	}
}

func TestAssignTasksUneven(t *testing.T) {
	tasks := tasksN(0, 7)
	prev := []TaskID{{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}}
	got := assignTasks([]member{{id: "a", prev: prev}, {id: "b"}, {id: "c"}}, tasks)
	c := counts(got)
	if c["a"] != 3 || c["b"]+c["c"] != 4 || c["b"] < 2 || c["c"] < 2 {
		t.Errorf("counts %v, want a=3 and 2 each for b, c", c)
	}
	for _, id := range got["a"] {
		if !slices.Contains(prev, id) {
			t.Errorf("a got %v, not one of its previous tasks", id)
		}
	}
	// A task claimed by two members (a zombie's stale claim) goes to one only.
	got = assignTasks([]member{{id: "a", prev: tasks[:4]}, {id: "b", prev: tasks[:4]}}, tasks)
	seen := map[TaskID]bool{}
	for _, ts := range got {
		for _, id := range ts {
			if seen[id] {
				t.Fatalf("task %v assigned twice: %v", id, got)
			}
			seen[id] = true
		}
	}
	if len(seen) != 7 {
		t.Errorf("%d of 7 tasks assigned", len(seen))
	}
}

func twoSubTopology() *Topology {
	topo := NewTopology()
	AddSource(topo, "a", SourceSpec[string, string]{Topics: []string{"in-a", "in-b"}, Keys: serde.String(), Values: serde.String()})
	AddSink(topo, "to-rep", SinkSpec[string, string]{Topic: "rep", Keys: serde.String(), Values: serde.String()}, "a")
	topo.AddRepartitionTopic("rep", 0)
	AddSource(topo, "from-rep", SourceSpec[string, string]{Topics: []string{"rep"}, Keys: serde.String(), Values: serde.String()})
	AddSource(topo, "logs", SourceSpec[string, string]{Pattern: regexp.MustCompile(`logs-.*`), Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "p", func() Processor[string, string, string, string] { return &upper{} }, "from-rep", "logs")
	return topo
}

func TestPlanTasks(t *testing.T) {
	p, err := newPlan("app", twoSubTopology())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int32{"in-a": 3, "in-b": 2, "logs-x": 5, "logsy": 9}
	if err := p.repartitionCounts(counts); err != nil {
		t.Fatal(err)
	}
	if counts["app-rep"] != 3 {
		t.Errorf("repartition topic sized %d, want 3 (largest input of its writer)", counts["app-rep"])
	}
	tasks := p.tasks(counts)
	if len(tasks) != 3+5 {
		t.Fatalf("%d tasks, want 8: %v", len(tasks), tasks)
	}
	if got := tasks[TaskID{0, 2}]; !slices.Equal(got, []TopicPartition{{"in-a", 2}}) {
		t.Errorf("task 0_2 reads %v", got)
	}
	if got := tasks[TaskID{1, 1}]; !slices.Equal(got, []TopicPartition{{"app-rep", 1}, {"logs-x", 1}}) {
		t.Errorf("task 1_1 reads %v", got)
	}
	if _, ok := p.subFor("logsy"); ok {
		t.Errorf("pattern logs-.* matched logsy: patterns must match whole names")
	}
}

// TestBalancerRoundTrip runs the balancer as franz-go would: members' JoinGroup metadata into the
// leader's Balance, and each member's SyncGroup assignment back through ParseSyncAssignment.
func TestBalancerRoundTrip(t *testing.T) {
	p, err := newPlan("app", twoSubTopology())
	if err != nil {
		t.Fatal(err)
	}
	infos := map[string]assignmentInfo{}
	bals := map[string]*balancer{}
	var members []kmsg.JoinGroupResponseMember
	for i, id := range []string{"m1", "m2"} {
		b := &balancer{plan: p, process: fmt.Sprint("proc", i), host: fmt.Sprintf("h%d:1", i), prev: new(atomic.Pointer[[]TaskID]),
			onAssign: func(info assignmentInfo) { infos[id] = info }, copartErr: p.checkCopartition}
		bals[id] = b
		m := kmsg.NewJoinGroupResponseMember()
		m.MemberID = id
		m.ProtocolMetadata = b.JoinGroupMetadata([]string{"app-rep", "in-a", "in-b"}, nil, -1)
		members = append(members, m)
	}
	mb, topics, err := bals["m1"].MemberBalancer(members)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := topics["in-a"]; !ok {
		t.Errorf("member topics %v", topics)
	}
	res, err := mb.(kgo.GroupMemberBalancerOrError).BalanceOrError(map[string]int32{"in-a": 4, "in-b": 4, "app-rep": 4})
	if err != nil {
		t.Fatal(err)
	}
	into := res.IntoSyncAssignment()
	total := 0
	for _, sa := range into {
		got, err := bals[sa.MemberID].ParseSyncAssignment(sa.MemberAssignment)
		if err != nil {
			t.Fatal(err)
		}
		for _, parts := range got {
			total += len(parts)
		}
		// A task's co-partitioned partitions go together: in-a p and in-b p to one member.
		if !slices.Equal(got["in-a"], got["in-b"]) {
			t.Errorf("member %s got in-a %v but in-b %v", sa.MemberID, got["in-a"], got["in-b"])
		}
	}
	if total != 12 {
		t.Errorf("%d partitions assigned, want 12", total)
	}
	for id, info := range infos {
		if len(info.Tasks) != 4 || len(info.Hosts) != 2 {
			t.Errorf("member %s: assignment info %+v", id, info)
		}
	}
}
