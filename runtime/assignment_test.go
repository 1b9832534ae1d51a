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

// checkStandbys checks the placement rules of standby copies: each task has min(replicas,
// eligible instances) copies, none on the instance running it, no two on one instance or host.
func checkStandbys(t *testing.T, members []member, active, standby map[string][]TaskID, tasks []TaskID, replicas int) {
	t.Helper()
	proc, host := map[string]string{}, map[string]string{}
	procs := map[string]bool{}
	for _, m := range members {
		proc[m.id], host[m.id] = m.process, m.host
		procs[m.process] = true
	}
	holders := map[TaskID][]string{} // members: the active first
	for m, ts := range active {
		for _, id := range ts {
			holders[id] = append(holders[id], m)
		}
	}
	for m, ts := range standby {
		for _, id := range ts {
			holders[id] = append(holders[id], m)
		}
	}
	for _, id := range tasks {
		hs := holders[id]
		if want := 1 + min(replicas, len(procs)-1); len(hs) != want {
			t.Errorf("task %v held by %v, want %d holders", id, hs, want)
		}
		seenProc, seenHost := map[string]bool{}, map[string]bool{}
		for _, m := range hs {
			if seenProc[proc[m]] {
				t.Errorf("task %v: two copies on instance %s: %v", id, proc[m], hs)
			}
			if h := host[m]; h != "" && seenHost[h] {
				t.Errorf("task %v: two copies on host %s: %v", id, h, hs)
			}
			seenProc[proc[m]], seenHost[host[m]] = true, true
		}
	}
}

func TestAssignStandbysPlacement(t *testing.T) {
	tasks := append(tasksN(0, 12), tasksN(1, 6)...)
	three := []member{{id: "a", process: "pa"}, {id: "b", process: "pb"}, {id: "c", process: "pc"}}
	for _, replicas := range []int{1, 2, 3} {
		active := assignTasks(three, tasks)
		standby, missing := assignStandbys(three, active, tasks, replicas)
		checkStandbys(t, three, active, standby, tasks, replicas)
		if wantMissing := max(replicas-2, 0) * len(tasks); missing != wantMissing {
			t.Errorf("replicas %d: %d copies missing, want %d", replicas, missing, wantMissing)
		}
		for m, n := range counts(standby) {
			if want := min(replicas, 2) * len(tasks) / 3; n != want {
				t.Errorf("replicas %d: member %s keeps %d copies, want %d: %v", replicas, m, n, want, counts(standby))
			}
		}
	}
	// Only stateful tasks get copies; no replicas, no copies.
	active := assignTasks(three, tasks)
	standby, _ := assignStandbys(three, active, tasks[:12], 1)
	for m, ts := range standby {
		for _, id := range ts {
			if id.Subtopology != 0 {
				t.Errorf("member %s keeps a copy of stateless task %v", m, id)
			}
		}
	}
	if standby, _ := assignStandbys(three, active, tasks, 0); len(standby) != 0 {
		t.Errorf("copies with no replicas: %v", standby)
	}

	// Two threads of one instance: never a copy on the other thread of the active's instance; the
	// instance with two threads takes twice the copies.
	threads := []member{{id: "a1", process: "pa"}, {id: "a2", process: "pa"}, {id: "b1", process: "pb"}, {id: "c1", process: "pc"}}
	active = assignTasks(threads, tasks)
	standby, _ = assignStandbys(threads, active, tasks, 1)
	checkStandbys(t, threads, active, standby, tasks, 1)
	if c := counts(standby); c["a1"]+c["a2"] < 7 || c["a1"]+c["a2"] > 10 || c["a1"]-c["a2"] > 1 || c["a2"]-c["a1"] > 1 {
		t.Errorf("copies per member %v: want about half on pa, split between its threads", c)
	}

	// Two instances on one host: a task's copies go to another host.
	hosts := []member{{id: "a", process: "pa", host: "h1:1"}, {id: "b", process: "pb", host: "h1:1"}, {id: "c", process: "pc", host: "h2:1"}}
	active = assignTasks(hosts, tasks)
	standby, _ = assignStandbys(hosts, active, tasks, 1)
	checkStandbys(t, hosts, active, standby, tasks, 1)
	for _, id := range active["c"] {
		if !slices.Contains(standby["a"], id) && !slices.Contains(standby["b"], id) {
			t.Errorf("task %v active on h2 has no copy on h1", id)
		}
	}
	for _, m := range []string{"a", "b"} {
		for _, id := range standby[m] {
			if !slices.Contains(active["c"], id) {
				t.Errorf("%s keeps a copy of %v, whose active is on its own host h1", m, id)
			}
		}
	}
}

// TestAssignStandbysSticky follows a group through a member's death and a new member: the dead
// member's tasks go to the members that kept their copies, copies stay where they are, and a
// member whose active task moves keeps the task's state as a copy.
func TestAssignStandbysSticky(t *testing.T) {
	tasks := tasksN(0, 12)
	members := []member{{id: "a", process: "pa"}, {id: "b", process: "pb"}, {id: "c", process: "pc"}}
	active := assignTasks(members, tasks)
	standby, _ := assignStandbys(members, active, tasks, 1)
	copyOf := func(standby map[string][]TaskID, id TaskID) string {
		for m, ts := range standby {
			if slices.Contains(ts, id) {
				return m
			}
		}
		return ""
	}

	// c dies: each of its tasks goes to the member that kept its copy.
	two := []member{
		{id: "a", process: "pa", prev: active["a"], prevStandby: standby["a"]},
		{id: "b", process: "pb", prev: active["b"], prevStandby: standby["b"]},
	}
	active2 := assignTasks(two, tasks)
	for _, id := range active["c"] {
		if want := copyOf(standby, id); !slices.Contains(active2[want], id) {
			t.Errorf("c's task %v went to %v, not to %s which kept its copy", id, active2, want)
		}
	}
	for _, m := range []string{"a", "b"} {
		for _, id := range active[m] {
			if !slices.Contains(active2[m], id) {
				t.Errorf("%s lost its task %v", m, id)
			}
		}
	}
	standby2, _ := assignStandbys(two, active2, tasks, 1)
	checkStandbys(t, two, active2, standby2, tasks, 1)

	// d joins: tasks move to it, and the members they leave keep them as copies.
	three := []member{
		{id: "a", process: "pa", prev: active2["a"], prevStandby: standby2["a"]},
		{id: "b", process: "pb", prev: active2["b"], prevStandby: standby2["b"]},
		{id: "d", process: "pd"},
	}
	active3 := assignTasks(three, tasks)
	standby3, _ := assignStandbys(three, active3, tasks, 1)
	checkStandbys(t, three, active3, standby3, tasks, 1)
	if len(active3["d"]) != 4 {
		t.Fatalf("d runs %v", active3["d"])
	}
	for _, id := range active3["d"] {
		from := "a"
		if slices.Contains(active2["b"], id) {
			from = "b"
		}
		if got := copyOf(standby3, id); got != from {
			t.Errorf("task %v moved from %s to d; its copy is on %q, want %s", id, from, got, from)
		}
	}
	// Copies of tasks that did not move stay where they were, as far as the shares allow.
	kept, total := 0, 0
	for _, id := range tasks {
		if slices.Contains(active3["d"], id) {
			continue
		}
		total++
		if copyOf(standby3, id) == copyOf(standby2, id) {
			kept++
		}
	}
	if c := counts(standby3); c["a"] != 4 || c["b"] != 4 || c["d"] != 4 {
		t.Errorf("copies per member %v, want 4 each", c)
	}
	t.Logf("%d of %d copies of tasks that stayed put stayed put", kept, total)
	if kept < total/2 {
		t.Errorf("only %d of %d copies stayed put", kept, total)
	}
}

// TestBalancerRoundTripStandby: with standby replicas, each member learns its standby tasks and
// every host's standby partitions; a subscription without the standby field (an instance from
// before standby replicas) still decodes.
func TestBalancerRoundTripStandby(t *testing.T) {
	p, err := newPlan("app", countTopology())
	if err != nil {
		t.Fatal(err)
	}
	infos := map[string]assignmentInfo{}
	bals := map[string]*balancer{}
	var members []kmsg.JoinGroupResponseMember
	for i, id := range []string{"m1", "m2"} {
		b := &balancer{plan: p, process: fmt.Sprint("proc", i), host: fmt.Sprintf("h%d:1", i), prev: new(atomic.Pointer[[]TaskID]),
			prevStandby: new(atomic.Pointer[[]TaskID]), replicas: 1,
			onAssign: func(info assignmentInfo) { infos[id] = info }, copartErr: p.checkCopartition}
		bals[id] = b
		m := kmsg.NewJoinGroupResponseMember()
		m.MemberID = id
		m.ProtocolMetadata = b.JoinGroupMetadata([]string{"words"}, nil, -1)
		members = append(members, m)
	}
	mb, _, err := bals["m1"].MemberBalancer(members)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mb.(kgo.GroupMemberBalancerOrError).BalanceOrError(map[string]int32{"words": 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, sa := range res.IntoSyncAssignment() {
		if _, err := bals[sa.MemberID].ParseSyncAssignment(sa.MemberAssignment); err != nil {
			t.Fatal(err)
		}
	}
	a, b := infos["m1"], infos["m2"]
	if len(a.Tasks) != 2 || !slices.Equal(a.Tasks, b.Standby) || !slices.Equal(b.Tasks, a.Standby) {
		t.Errorf("m1 runs %v and keeps copies of %v; m2 runs %v and keeps copies of %v", a.Tasks, a.Standby, b.Tasks, b.Standby)
	}
	if len(a.StandbyHosts["h0:1"]) != 1 || len(a.StandbyHosts["h0:1"][0].Partitions) != 2 {
		t.Errorf("standby hosts %v", a.StandbyHosts)
	}
	old, err := decodeSubscription([]byte(`{"v":1,"process":"p","prev":["0_1"]}`))
	if err != nil || len(old.Standby) != 0 || len(old.Prev) != 1 {
		t.Errorf("subscription without standby tasks: %+v, %v", old, err)
	}
}
