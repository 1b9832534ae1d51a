package state

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	crashEnvBroker = "SEICHE_STATE_CRASH_BROKER"
	crashEnvDir    = "SEICHE_STATE_CRASH_DIR"
	crashEnvSeed   = "SEICHE_STATE_CRASH_SEED"
	crashApp       = "crash"
	crashTask      = "0_1"
	crashPartition = 1
)

func crashClient(t testing.TB, addr string) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// openCrashStores opens the crash test's task and stores; ends receives each store's final restore
// progress.
func openCrashStores(t testing.TB, db *DB, cl *KafkaChangelog, ends map[string]RestoreProgress) (*Task, KeyValueStore, WindowStore) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tk, err := db.OpenTask(crashApp, crashTask, crashPartition, WithChangelog(cl), ChangelogPartitions(2),
		OnRestore(func(p RestoreProgress) {
			if p.Done && ends != nil {
				ends[p.Store] = p
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	kv, err := tk.KeyValueStore(ctx, "counts", Caching(2048))
	if err != nil {
		t.Fatal(err)
	}
	ws, err := tk.WindowStore(ctx, "windows", 10*time.Millisecond, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tk, kv, ws
}

// TestCrashHelperProcess is the child of TestCrashRestore: it writes to logged stores and commits
// in a loop, printing each commit, until it is killed.
func TestCrashHelperProcess(t *testing.T) {
	addr := os.Getenv(crashEnvBroker)
	if addr == "" {
		t.Skip("helper process for TestCrashRestore")
	}
	db, err := Open(os.Getenv(crashEnvDir))
	if err != nil {
		t.Fatal(err)
	}
	cl := crashClient(t, addr)
	tk, kv, ws := openCrashStores(t, db, NewKafkaChangelog(cl), nil)
	seed, _ := strconv.Atoi(os.Getenv(crashEnvSeed))
	rng := rand.New(rand.NewSource(int64(seed)))
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second) // never outlive a parent that died
	for i := 0; time.Now().Before(deadline); i++ {
		k := []byte(fmt.Sprintf("k%03d", rng.Intn(300)))
		switch r := rng.Intn(10); {
		case r == 0:
			err = kv.Delete(k)
		case r < 7:
			err = kv.Put(k, []byte(strconv.Itoa(i)))
		case r < 9:
			err = ws.Put(k, int64(rng.Intn(50))*10, []byte(strconv.Itoa(i)))
		default:
			err = ws.Put(k, int64(rng.Intn(50))*10, nil)
		}
		if err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			if err := tk.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			fmt.Printf("committed %d\n", i+1)
		}
	}
}

// foldChangelog reads [0, end) of a changelog partition and folds it into the state it describes.
func foldChangelog(t *testing.T, cl *KafkaChangelog, topic string, end int64, window bool) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out := map[string]string{}
	start, _, err := cl.Offsets(ctx, topic, crashPartition)
	if err != nil {
		t.Fatal(err)
	}
	err = cl.Read(ctx, topic, crashPartition, start, end, func(recs []ChangelogRecord) error {
		for _, r := range recs {
			k := string(r.Key)
			if window {
				n := len(r.Key) - 12
				k = fmt.Sprintf("%s@%d", r.Key[:n], int64(binary.BigEndian.Uint64(r.Key[n:])))
			}
			if r.Value == nil {
				delete(out, k)
			} else {
				out[k] = string(r.Value)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func storeContents(t *testing.T, kv KeyValueStore, ws WindowStore) (map[string]string, map[string]string) {
	t.Helper()
	kvs, wins := map[string]string{}, map[string]string{}
	it, err := kv.All()
	if err != nil {
		t.Fatal(err)
	}
	for it.Next() {
		kvs[string(it.Key())] = string(it.Value())
	}
	if err := it.Close(); err != nil {
		t.Fatal(err)
	}
	wit, err := ws.All()
	if err != nil {
		t.Fatal(err)
	}
	for wit.Next() {
		wins[fmt.Sprintf("%s@%d", wit.Key(), wit.Window().Start)] = string(wit.Value())
	}
	if err := wit.Close(); err != nil {
		t.Fatal(err)
	}
	return kvs, wins
}

func diffMaps(a, b map[string]string) string {
	var d []string
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			d = append(d, fmt.Sprintf("%s: store %q changelog %q (present %v)", k, v, bv, ok))
		}
	}
	for k, v := range b {
		if _, ok := a[k]; !ok {
			d = append(d, fmt.Sprintf("%s: missing from store, changelog %q", k, v))
		}
	}
	if len(d) > 10 {
		d = append(d[:10], fmt.Sprintf("... %d more", len(d)-10))
	}
	return strings.Join(d, "\n")
}

// TestCrashRestore: a process writing to logged stores is killed with SIGKILL; reopening its state
// directory gives exactly the state its changelogs describe, and so does rebuilding it from nothing
// after the directory is deleted. The writer is killed three times at varying points (during a
// commit's wait for acks, between commits), each time on the state the previous run left.
func TestCrashRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker and child processes")
	}
	b := brokertest.Start(t)
	dir := filepath.Join(t.TempDir(), "state")
	cl := crashClient(t, b.Addr())
	defer cl.Close()
	kc := NewKafkaChangelog(cl)

	var first [2]map[string]string
	check := func(what string) {
		db, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ends := map[string]RestoreProgress{}
		tk, kv, ws := openCrashStores(t, db, kc, ends)
		defer tk.Close()
		gotKV, gotW := storeContents(t, kv, ws)
		wantKV := foldChangelog(t, kc, ChangelogTopic(crashApp, "counts"), ends["counts"].End, false)
		wantW := foldChangelog(t, kc, ChangelogTopic(crashApp, "windows"), ends["windows"].End, true)
		if d := diffMaps(gotKV, wantKV); d != "" {
			t.Fatalf("%s: key-value store differs from its changelog (end %d):\n%s", what, ends["counts"].End, d)
		}
		if d := diffMaps(gotW, wantW); d != "" {
			t.Fatalf("%s: window store differs from its changelog (end %d):\n%s", what, ends["windows"].End, d)
		}
		if len(gotKV) == 0 || len(gotW) == 0 {
			t.Fatalf("%s: empty stores", what)
		}
		for _, p := range ends {
			t.Logf("%s: %s restored offsets [%d,%d): %d records", what, p.Store, p.From, p.End, p.Records)
		}
		t.Logf("%s: %d keys, %d windows, equal to their changelogs", what, len(gotKV), len(gotW))
		first = [2]map[string]string{gotKV, gotW}
	}

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 1; round <= 3; round++ {
		runAndKill(t, b.Addr(), dir, round, 10+rng.Intn(30), time.Duration(rng.Intn(3000))*time.Microsecond)
		check(fmt.Sprintf("round %d: after SIGKILL", round))
	}
	before := first
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	check("after deleting the state directory")
	if d := diffMaps(first[0], before[0]) + diffMaps(first[1], before[1]); d != "" {
		t.Fatalf("rebuilt contents differ from the restarted store's:\n%s", d)
	}
}

// runAndKill starts the writer, lets it commit commits times, waits delay more, and kills it.
func runAndKill(t *testing.T, addr, dir string, round, commits int, delay time.Duration) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), crashEnvBroker+"="+addr, crashEnvDir+"="+dir, crashEnvSeed+"="+strconv.Itoa(round))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	seen := 0
	var lines []string
	for seen < commits && sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.HasPrefix(sc.Text(), "committed ") {
			seen++
		}
	}
	if seen < commits {
		t.Fatalf("writer stopped after %d commits:\n%s", seen, strings.Join(lines, "\n"))
	}
	// Not a synchronization sleep: it moves the kill to a random point of the write/commit cycle.
	time.Sleep(delay)
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	t.Logf("round %d: killed the writer %v after its commit #%d", round, delay, commits)
}
