package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
)

// latestProc keeps the latest value of every key in the store "latest".
type latestProc struct {
	ctx ProcessorContext[string, string]
}

func (p *latestProc) Init(ctx ProcessorContext[string, string]) error { p.ctx = ctx; return nil }
func (p *latestProc) Close() error                                    { return nil }
func (p *latestProc) Process(r Record[string, string]) error {
	kv, err := GetKeyValueStore(p.ctx, "latest", serde.String(), serde.String())
	if err != nil {
		return err
	}
	return kv.Put(r.Key, r.Value)
}

// latestTopology keeps the latest value of every key of "sb-in". Replaying records (at-least-once,
// after a crash) leaves the same state, so the tests can ask for exact contents.
func latestTopology() *Topology {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, string]{Topics: []string{"sb-in"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "latest", func() Processor[string, string, string, string] { return &latestProc{} }, "src")
	topo.AddStateStore(KeyValueStore("latest"), "latest")
	return topo
}

type standbyFixture struct {
	t    *testing.T
	addr string
	cl   *kgo.Client
}

func newStandbyFixture(t *testing.T, partitions int32) *standbyFixture {
	addr, cl := testBroker(t)
	createTopics(t, cl, partitions, "sb-in")
	return &standbyFixture{t: t, addr: addr, cl: cl}
}

// app returns instance i (host "host-<i>:8080", a static member) with replicas standby replicas
// and its state in dir.
func (f *standbyFixture) app(i, replicas int, sessionTimeout time.Duration, dir string) *App {
	f.t.Helper()
	a, err := New(latestTopology(), ApplicationID("standby"), Bootstrap(f.addr), StateDir(dir),
		StandbyReplicas(replicas), GroupInstanceID(fmt.Sprintf("instance-%d", i)), ApplicationServer(fmt.Sprintf("host-%d:8080", i)),
		SessionTimeout(sessionTimeout), HeartbeatInterval(250*time.Millisecond), CommitInterval(200*time.Millisecond),
		Logger(testLogger(f.t)))
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

// produce writes value v<round> to keys k000 … k<keys-1>.
func (f *standbyFixture) produce(round, keys int) {
	f.t.Helper()
	recs := make([]*kgo.Record, keys)
	for k := range keys {
		recs[k] = &kgo.Record{Topic: "sb-in", Key: fmt.Appendf(nil, "k%03d", k), Value: fmt.Appendf(nil, "v%d", round)}
	}
	if err := f.cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		f.t.Fatal(err)
	}
}

// contents reads every entry of the readers, with the partition each key is in.
func contents(readers map[int32]StoreReader) (map[string]string, map[string]int32, error) {
	vals, parts := map[string]string{}, map[string]int32{}
	for p, r := range readers {
		err := r.Scan(nil, nil, func(k, v []byte, _ int64) bool {
			vals[string(k)], parts[string(k)] = string(v), p
			return true
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return vals, parts, nil
}

// checkLatest returns nil when vals holds value v<round> for every key of keys, and nothing else.
func checkLatest(vals map[string]string, round, keys int) error {
	if len(vals) != keys {
		return fmt.Errorf("%d keys, want %d", len(vals), keys)
	}
	for k, v := range vals {
		if want := fmt.Sprintf("v%d", round); v != want {
			return fmt.Errorf("%s = %s, want %s", k, v, want)
		}
	}
	return nil
}

// allStores returns the readers of "latest" on the instances: active with LocalStores, or standby.
func allStores(standby bool, apps ...*App) (map[int32]StoreReader, error) {
	out := map[int32]StoreReader{}
	for _, a := range apps {
		var rs map[int32]StoreReader
		if standby {
			sb, err := a.StandbyStores("latest")
			if err != nil {
				return nil, err
			}
			rs = map[int32]StoreReader{}
			for p, r := range sb {
				rs[p] = r
			}
		} else {
			var err error
			if rs, err = a.LocalStores("latest"); err != nil {
				return nil, err
			}
		}
		for p, r := range rs {
			if out[p] != nil {
				return nil, fmt.Errorf("partition %d read on two instances (standby %v)", p, standby)
			}
			out[p] = r
		}
	}
	return out, nil
}

// TestStandbyReplicas runs two instances with one standby replica: each stateful task runs on one
// and has its copy on the other; the copies follow what the active tasks write, can be read with
// their lag, and StoreMetadata names their hosts. An instance restarted on its state directory
// resumes its copies from their checkpoints.
func TestStandbyReplicas(t *testing.T) {
	const keys = 200
	f := newStandbyFixture(t, 4)
	dirs := []string{t.TempDir(), t.TempDir()}
	apps := []*App{f.app(0, 1, 6*time.Second, dirs[0]), f.app(1, 1, 6*time.Second, dirs[1])}
	if stores, err := apps[0].StandbyStores("latest"); err != nil || len(stores) != 0 {
		t.Errorf("StandbyStores before Run = %v, %v; want an empty map", stores, err)
	}
	if _, err := apps[0].StandbyStores("nope"); err == nil {
		t.Errorf("StandbyStores of a store no sub-topology has: no error")
	}
	for _, a := range apps {
		startApp(t, a)
	}
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		for i, a := range apps {
			other := apps[1-i]
			if act, sb := a.Tasks(), a.StandbyTasks(); len(act) != 2 || !slices.Equal(sb, other.Tasks()) {
				return fmt.Errorf("instance %d runs %v and keeps copies of %v; instance %d runs %v", i, act, sb, 1-i, other.Tasks())
			}
		}
		return nil
	})

	f.produce(0, keys)
	f.produce(1, keys)
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		rs, err := allStores(false, apps...)
		if err != nil {
			return err
		}
		vals, _, err := contents(rs)
		if err != nil {
			return err
		}
		return checkLatest(vals, 1, keys)
	})
	// The copies catch up: everything the active tasks wrote, and no lag left.
	var parts map[string]int32
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		for _, a := range apps {
			sb, err := a.StandbyStores("latest")
			if err != nil {
				return err
			}
			for p, r := range sb {
				if lag, err := r.Lag(); err != nil || lag != 0 {
					return fmt.Errorf("copy of partition %d: lag %d (%v)", p, lag, err)
				}
			}
		}
		rs, err := allStores(true, apps...)
		if err != nil {
			return err
		}
		if len(rs) != 4 {
			return fmt.Errorf("copies of %d partitions, want 4", len(rs))
		}
		var vals map[string]string
		if vals, parts, err = contents(rs); err != nil {
			return err
		}
		return checkLatest(vals, 1, keys)
	})
	// A copy's partition holds the keys the active's does.
	active, err := allStores(false, apps...)
	if err != nil {
		t.Fatal(err)
	}
	_, activeParts, err := contents(active)
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range parts {
		if activeParts[k] != p {
			t.Errorf("key %s: copy in partition %d, active in %d", k, p, activeParts[k])
		}
	}
	applied, _ := gatherSum(t, apps[1], "seiche_stream_standby_records_total")
	if applied < keys/2 {
		t.Errorf("instance 1's copies applied %.0f changelog records, want about %d", applied, keys)
	}

	for i, a := range apps {
		md, err := a.StoreMetadata("latest")
		if err != nil {
			t.Fatal(err)
		}
		if md.Partitions != 4 || len(md.Active) != 4 || len(md.Standby) != 4 {
			t.Fatalf("instance %d: store metadata %+v", i, md)
		}
		for p, host := range md.Active {
			other := "host-0:8080"
			if host == other {
				other = "host-1:8080"
			}
			if !slices.Equal(md.Standby[p], []string{other}) {
				t.Errorf("instance %d: partition %d active on %s, copies on %v; want [%s]", i, p, host, md.Standby[p], other)
			}
		}
	}

	// Instance 1 stops and comes back on its state directory within the session timeout (a static
	// member: the group keeps its tasks for it). Its copies resume from their checkpoints: they
	// apply only what instance 0 wrote meanwhile, and hold everything.
	copies := apps[1].StandbyTasks()
	apps[1].Close()
	f.produce(2, keys)
	apps[1] = f.app(1, 1, 6*time.Second, dirs[1])
	startApp(t, apps[1])
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if sb := apps[1].StandbyTasks(); !slices.Equal(sb, copies) {
			return fmt.Errorf("restarted instance keeps copies of %v, want %v", sb, copies)
		}
		sb, err := apps[1].StandbyStores("latest")
		if err != nil {
			return err
		}
		rs := map[int32]StoreReader{}
		for p, r := range sb {
			if lag, err := r.Lag(); err != nil || lag != 0 {
				return fmt.Errorf("copy of partition %d: lag %d (%v)", p, lag, err)
			}
			rs[p] = r
		}
		vals, _, err := contents(rs)
		if err != nil {
			return err
		}
		for k, v := range vals {
			if v != "v2" {
				return fmt.Errorf("copy of %s = %s, want v2", k, v)
			}
		}
		if len(vals) < keys/4 {
			return fmt.Errorf("copies hold %d keys", len(vals))
		}
		return nil
	})
	reapplied, _ := gatherSum(t, apps[1], "seiche_stream_standby_records_total")
	t.Logf("copies applied %.0f changelog records before the restart, %.0f after", applied, reapplied)
	if reapplied > applied/2+keys/10 {
		t.Errorf("after the restart the copies applied %.0f records; they had %.0f, of which about half came since", reapplied, applied)
	}
}

// TestStandbyFailover kills the instance running half the tasks (no LeaveGroup, nothing
// committed): the survivor, which kept copies of them, takes them over, restores only the tail of
// their changelogs its copies had not applied, and ends with the complete state.
func TestStandbyFailover(t *testing.T) {
	const (
		keys           = 500
		rounds         = 6
		sessionTimeout = 4 * time.Second
	)
	f := newStandbyFixture(t, 4)
	survivor, victim := f.app(0, 1, sessionTimeout, t.TempDir()), f.app(1, 1, sessionTimeout, t.TempDir())
	startApp(t, survivor)
	victimDone := make(chan struct{})
	go func() { victim.Run(context.Background()); close(victimDone) }()
	t.Cleanup(func() { victim.crash(); <-victimDone })
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if sb := survivor.StandbyTasks(); len(sb) != 2 || !slices.Equal(sb, victim.Tasks()) {
			return fmt.Errorf("survivor keeps copies of %v; victim runs %v", sb, victim.Tasks())
		}
		return nil
	})
	moving := victim.Tasks()

	for r := range rounds {
		f.produce(r, keys)
	}
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		rs, err := allStores(true, survivor)
		if err != nil {
			return err
		}
		vals, _, err := contents(rs)
		if err != nil {
			return err
		}
		if len(rs) != 2 || len(vals) < keys/4 {
			return fmt.Errorf("copies of %d partitions with %d keys", len(rs), len(vals))
		}
		for _, r := range rs {
			if lag, err := r.(StandbyReader).Lag(); err != nil || lag != 0 {
				return fmt.Errorf("copy lags %d (%v)", lag, err)
			}
		}
		for k, v := range vals {
			if v != fmt.Sprintf("v%d", rounds-1) {
				return fmt.Errorf("copy of %s = %s", k, v)
			}
		}
		return nil
	})
	// The changelog records of the tasks that are to move: what a restore without copies reads.
	copied, _ := gatherSum(t, survivor, "seiche_stream_standby_records_total")
	restoredBefore, _ := gatherSum(t, survivor, "seiche_stream_restore_records_total")
	t.Logf("victim runs %v; the survivor's copies applied %.0f changelog records", moving, copied)
	if copied < keys*rounds/4 {
		t.Fatalf("the copies applied %.0f records, want at least %d", copied, keys*rounds/4)
	}

	copies, err := survivor.StandbyStores("latest")
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	victim.crash()
	<-victimDone
	checkFor(t, sessionTimeout+15*time.Second, 20*time.Millisecond, func() error {
		if act := survivor.Tasks(); len(act) != 4 {
			return fmt.Errorf("survivor runs %v", act)
		}
		return nil
	})
	t.Logf("survivor took over %v after the victim died", time.Since(killed).Round(time.Millisecond))
	if sb := survivor.StandbyTasks(); len(sb) != 0 {
		t.Errorf("survivor alone keeps copies of %v", sb)
	}
	// The copies became the active tasks: readers of the copies are done with.
	for p, r := range copies {
		if _, _, _, err := r.Get([]byte("k000")); !errors.Is(err, ErrStoreMigrated) {
			t.Errorf("reader of the promoted copy of partition %d: Get error %v, want ErrStoreMigrated", p, err)
		}
		if _, err := r.Lag(); !errors.Is(err, ErrStoreMigrated) {
			t.Errorf("reader of the promoted copy of partition %d: Lag error %v, want ErrStoreMigrated", p, err)
		}
	}
	restored, _ := gatherSum(t, survivor, "seiche_stream_restore_records_total")
	restored -= restoredBefore
	t.Logf("the takeover restored %.0f changelog records; the copies had applied %.0f", restored, copied)
	if restored > copied/10 {
		t.Errorf("the takeover restored %.0f records, not far below the %.0f of the changelogs", restored, copied)
	}

	// The state is complete, and the survivor goes on processing.
	f.produce(rounds, keys)
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		rs, err := survivor.LocalStores("latest")
		if err != nil {
			return err
		}
		vals, _, err := contents(rs)
		if err != nil {
			return err
		}
		return checkLatest(vals, rounds, keys)
	})
	md, err := survivor.StoreMetadata("latest")
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Standby) != 0 || len(md.Active) != 4 {
		t.Errorf("store metadata with one instance left: %+v", md)
	}
}

// TestStandbyFailoverSticky runs three instances with two standby replicas, so that every task has
// a copy on each other instance, and kills one: the two others keep the tasks they ran, take the
// dead one's over from their copies without restoring (almost) anything, and each keeps a copy of
// every task the other runs.
func TestStandbyFailoverSticky(t *testing.T) {
	const (
		keys           = 300
		sessionTimeout = 4 * time.Second
	)
	f := newStandbyFixture(t, 6)
	apps := []*App{f.app(0, 2, sessionTimeout, t.TempDir()), f.app(1, 2, sessionTimeout, t.TempDir()), f.app(2, 2, sessionTimeout, t.TempDir())}
	for _, a := range apps[:2] {
		startApp(t, a)
	}
	victim := apps[2]
	victimDone := make(chan struct{})
	go func() { victim.Run(context.Background()); close(victimDone) }()
	t.Cleanup(func() { victim.crash(); <-victimDone })
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		for i, a := range apps {
			if act, sb := a.Tasks(), a.StandbyTasks(); len(act) != 2 || len(sb) != 4 {
				return fmt.Errorf("instance %d runs %v and keeps copies of %v", i, act, sb)
			}
		}
		return nil
	})
	f.produce(0, keys)
	f.produce(1, keys)
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		for i, a := range apps[:2] {
			sb, err := a.StandbyStores("latest")
			if err != nil {
				return err
			}
			rs := map[int32]StoreReader{}
			for p, r := range sb {
				if lag, err := r.Lag(); err != nil || lag != 0 {
					return fmt.Errorf("instance %d: copy of partition %d lags %d (%v)", i, p, lag, err)
				}
				rs[p] = r
			}
			vals, _, err := contents(rs)
			if err != nil {
				return err
			}
			if len(vals) < keys/3 {
				return fmt.Errorf("instance %d: copies hold %d keys", i, len(vals))
			}
			for k, v := range vals {
				if v != "v1" {
					return fmt.Errorf("instance %d: copy of %s = %s", i, k, v)
				}
			}
		}
		return nil
	})
	before := [][]TaskID{apps[0].Tasks(), apps[1].Tasks()}
	moving := victim.Tasks()
	victim.crash()
	<-victimDone
	checkFor(t, sessionTimeout+15*time.Second, 20*time.Millisecond, func() error {
		if a, b := apps[0].Tasks(), apps[1].Tasks(); len(a) != 3 || len(b) != 3 {
			return fmt.Errorf("survivors run %v and %v", a, b)
		}
		return nil
	})
	for i, a := range apps[:2] {
		act := a.Tasks()
		for _, id := range before[i] {
			if !slices.Contains(act, id) {
				t.Errorf("instance %d lost its task %v: ran %v, runs %v", i, id, before[i], act)
			}
		}
		other := apps[1-i].Tasks()
		checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			if sb := a.StandbyTasks(); !slices.Equal(sb, other) {
				return fmt.Errorf("instance %d keeps copies of %v; the other runs %v", i, sb, other)
			}
			return nil
		})
		restored, _ := gatherSum(t, a, "seiche_stream_restore_records_total")
		t.Logf("instance %d ran %v, runs %v, restored %.0f records", i, before[i], act, restored)
		if restored > keys/10 {
			t.Errorf("instance %d restored %.0f records taking over %v", i, restored, moving)
		}
	}
	f.produce(2, keys)
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		rs, err := allStores(false, apps[:2]...)
		if err != nil {
			return err
		}
		vals, _, err := contents(rs)
		if err != nil {
			return err
		}
		return checkLatest(vals, 2, keys)
	})
}
