// Command failover measures how long a persistent query's partition is without a server after the
// server running it is killed with SIGKILL: from the kill to the first output the new owner produces,
// in a cluster of two SQL servers (child processes of the built seiche binary, against a third that
// runs only the broker), without and with standby replicas (num.standby.replicas=1).
//
// The query is a count per key (CREATE TABLE ... AS SELECT K, COUNT(*) ... GROUP BY K) over a topic
// preloaded with -records records of distinct keys, so that the state of each partition is
// -records/-partitions entries: what a new owner without a standby copy restores from the changelog
// before it can process. After the load is processed, new records go to one partition every 5 ms,
// each with a new key; the server running that partition is killed; the figure is the time from the
// kill to the first output record of a key produced after it, which only the new owner can write.
//
//	go run ./failover [-records 400000] [-session-timeout 6s] [-count 3]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/engine"
)

type params struct {
	records        int
	partitions     int
	sessionTimeout time.Duration
	commitInterval time.Duration
	count          int
	log            io.Writer
}

func main() {
	var p params
	flag.IntVar(&p.records, "records", 400_000, "records (distinct keys) preloaded before the kill")
	flag.IntVar(&p.partitions, "partitions", 4, "partitions of the input topic")
	flag.DurationVar(&p.sessionTimeout, "session-timeout", 6*time.Second, "the queries' consumer group session timeout")
	flag.DurationVar(&p.commitInterval, "commit-interval", 100*time.Millisecond, "the queries' commit interval")
	flag.IntVar(&p.count, "count", 3, "kills per configuration; the table shows medians")
	flag.Parse()
	p.log = os.Stderr
	res, err := run(context.Background(), p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "failover benchmark:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, p)
}

type results map[int][]time.Duration // standby replicas → failover times

func (r results) print(w io.Writer, p params) {
	fmt.Fprintf(w, "| standby replicas | SIGKILL → first output of the new owner (median of %d) | all runs | session timeout |\n|---:|---:|---|---:|\n", p.count)
	for _, n := range []int{0, 1} {
		ds := append([]time.Duration(nil), r[n]...)
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		var all []string
		for _, d := range r[n] {
			all = append(all, d.Round(10*time.Millisecond).String())
		}
		if len(ds) == 0 {
			continue
		}
		fmt.Fprintf(w, "| %d | %v | %s | %v |\n", n, ds[len(ds)/2].Round(10*time.Millisecond), strings.Join(all, ", "), p.sessionTimeout)
	}
}

func run(ctx context.Context, p params) (results, error) {
	work, err := os.MkdirTemp("", "seiche-failover-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "seiche")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = seicheDir()
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build: %v\n%s", err, out)
	}
	res := results{}
	for i := 0; i < p.count; i++ {
		for _, standbys := range []int{0, 1} {
			fmt.Fprintf(p.log, "run %d/%d, %d standby replicas\n", i+1, p.count, standbys)
			d, err := once(ctx, p, bin, filepath.Join(work, fmt.Sprintf("run-%d-%d", i, standbys)), standbys)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(p.log, "  failover %v\n", d.Round(time.Millisecond))
			res[standbys] = append(res[standbys], d)
		}
	}
	return res, nil
}

// proc is a seiche server child process.
type proc struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    strings.Builder
	lines  chan string
	exited chan struct{}
}

func start(bin, dir string, args ...string) (*proc, error) {
	p := &proc{cmd: exec.Command(bin, append([]string{"server", "--data-dir", dir, "--listen", "127.0.0.1:0"}, args...)...),
		lines: make(chan string, 1024), exited: make(chan struct{})}
	r, w := io.Pipe()
	p.cmd.Stdout, p.cmd.Stderr = w, w
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() { _ = p.cmd.Wait(); w.Close(); close(p.exited) }()
	return p, nil
}

// waitLog waits for a log line matching re and returns its first group.
func (p *proc) waitLog(re *regexp.Regexp, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		m := re.FindStringSubmatch(p.out.String())
		p.mu.Unlock()
		if m != nil {
			return m[1], nil
		}
		select {
		case <-p.exited:
			return "", fmt.Errorf("server exited:\n%s", p.tail())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("no %q in the server's log after %v:\n%s", re, d, p.tail())
}

func (p *proc) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.out.String()
	return s[max(0, len(s)-4000):]
}

func (p *proc) stop(sig syscall.Signal) {
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

var (
	brokerListening = regexp.MustCompile(`msg="broker listening" addr=(\S+)`)
	restListening   = regexp.MustCompile(`msg="REST API listening" addr=(\S+)`)
)

func once(ctx context.Context, p params, bin, dir string, standbys int) (time.Duration, error) {
	brk, err := start(bin, filepath.Join(dir, "broker"), "--http-listen", "")
	if err != nil {
		return 0, err
	}
	defer brk.stop(syscall.SIGTERM)
	addr, err := brk.waitLog(brokerListening, 30*time.Second)
	if err != nil {
		return 0, err
	}
	config := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(config, fmt.Appendf(nil, "ksql.streams.auto.offset.reset=earliest\nksql.streams.commit.interval.ms=%d\n"+
		"ksql.streams.session.timeout.ms=%d\nksql.streams.num.standby.replicas=%d\n",
		p.commitInterval.Milliseconds(), p.sessionTimeout.Milliseconds(), standbys), 0o644); err != nil {
		return 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, int32(p.partitions), 1, nil, "events"); err != nil {
		return 0, err
	}
	// The load, before the servers start: each partition's state is records/partitions keys.
	for i := 0; i < p.records; i += 10_000 {
		var recs []*kgo.Record
		for j := i; j < min(i+10_000, p.records); j++ {
			recs = append(recs, &kgo.Record{Topic: "events", Partition: int32(j % p.partitions), Key: fmt.Appendf(nil, "k%08d", j), Value: []byte(`{"V":1}`)})
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			return 0, err
		}
	}
	var servers []*proc
	urls := map[string]*proc{}
	for i := range 2 {
		s, err := start(bin, filepath.Join(dir, fmt.Sprint("sql", i)), "--bootstrap", addr, "--http-listen", "127.0.0.1:0", "--service-id", "bench", "--config", config)
		if err != nil {
			return 0, err
		}
		defer s.stop(syscall.SIGKILL)
		a, err := s.waitLog(restListening, 30*time.Second)
		if err != nil {
			return 0, err
		}
		servers = append(servers, s)
		urls[a] = s
	}
	var any string
	for a := range urls {
		any = a
	}
	if _, err := ksql(any, "CREATE STREAM EVENTS (K STRING KEY, V INT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');"); err != nil {
		return 0, err
	}
	// The query's id names its group; it is the command's offset, which depends on what the servers
	// wrote before (each may create the processing log stream).
	queryID, err := ksql(any, "CREATE TABLE COUNTS WITH (KAFKA_TOPIC='counts', PARTITIONS=1) AS SELECT K, COUNT(*) AS N FROM EVENTS GROUP BY K;")
	if err != nil {
		return 0, err
	}
	// Wait until the load is processed (the query's group has committed the end of every partition)
	// and the standby copies, if any, have had time to catch up.
	group := "_seiche-bench-query-" + queryID
	reported := time.Now()
	if err := waitFor(5*time.Minute, func() error {
		ends, err := adm.ListEndOffsets(ctx, "events")
		if err != nil {
			return err
		}
		offs, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return err
		}
		lag := int64(0)
		ends.Each(func(e kadm.ListedOffset) {
			o, _ := offs.Lookup("events", e.Partition)
			lag += e.Offset - max(o.At, 0)
		})
		if lag > 0 {
			if time.Since(reported) > 10*time.Second {
				reported = time.Now()
				fmt.Fprintf(p.log, "  the count lags %d records\n", lag)
			}
			return fmt.Errorf("the count lags %d records", lag)
		}
		return nil
	}); err != nil {
		var logs []string
		for a, s := range urls {
			logs = append(logs, a+":\n"+s.tail())
		}
		return 0, fmt.Errorf("%w\n%s", err, strings.Join(logs, "\n"))
	}
	// The victim: the server running partition 0.
	victim, err := owner(any, queryID, 0)
	if err != nil {
		return 0, err
	}
	if standbys > 0 {
		time.Sleep(3 * time.Second) // the copies apply the changelog's tail
	}
	out, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("counts"), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()))
	if err != nil {
		return 0, err
	}
	defer out.Close()
	firstAfter := make(chan time.Time, 1)
	octx, stopOut := context.WithCancel(ctx)
	defer stopOut()
	go func() {
		for octx.Err() == nil {
			fs := out.PollFetches(octx)
			fs.EachRecord(func(r *kgo.Record) {
				if strings.HasPrefix(string(r.Key), "after-") {
					select {
					case firstAfter <- time.Now():
					default:
					}
				}
			})
		}
	}()
	time.Sleep(time.Second) // the output consumer is at the end
	killed := time.Now()
	urls[victim].stop(syscall.SIGKILL)
	pctx, stopProduce := context.WithCancel(ctx)
	defer stopProduce()
	go func() {
		for i := 0; pctx.Err() == nil; i++ {
			cl.Produce(pctx, &kgo.Record{Topic: "events", Partition: 0, Key: fmt.Appendf(nil, "after-%d", i), Value: []byte(`{"V":1}`)}, nil)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	select {
	case t := <-firstAfter:
		return t.Sub(killed), nil
	case <-time.After(3 * time.Minute):
		var logs []string
		for a, s := range urls {
			logs = append(logs, a+":\n"+s.tail())
		}
		return 0, fmt.Errorf("no output from a new owner within 3 minutes of the kill:\n%s", strings.Join(logs, "\n"))
	}
}

// ksql runs one statement and returns the id of the query it started, if any.
func ksql(url, stmt string) (string, error) {
	body, _ := json.Marshal(map[string]any{"ksql": stmt})
	resp, err := http.Post("http://"+url+"/ksql", "application/json", strings.NewReader(string(body)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("/ksql: HTTP %d: %s", resp.StatusCode, raw)
	}
	var ents []struct {
		CommandStatus struct {
			QueryID string `json:"queryId"`
		} `json:"commandStatus"`
	}
	if err := json.Unmarshal(raw, &ents); err != nil || len(ents) != 1 {
		return "", fmt.Errorf("/ksql: %v: %s", err, raw)
	}
	return ents[0].CommandStatus.QueryID, nil
}

// owner returns the host:port of the server running partition p of query id, from /clusterStatus.
func owner(url, id string, p int32) (string, error) {
	var found string
	err := waitFor(30*time.Second, func() error {
		resp, err := http.Get("http://" + url + "/clusterStatus")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var body engine.ClusterStatus
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		for h, st := range body.ClusterStatus {
			for _, ap := range st.ActiveStandbyPerQuery[id].ActivePartitions {
				if ap.Topic == "events" && ap.Partition == p {
					found = h
					return nil
				}
			}
		}
		return errors.New("no server runs the partition yet")
	})
	return found, err
}

func waitFor(d time.Duration, fn func() error) error {
	deadline := time.Now().Add(d)
	for {
		err := fn()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// seicheDir is the directory of the seiche module (the benchmarks module replaces it with ..), found
// with go list so that it is right from any working directory: go run ./x runs in benchmarks/, go test
// in the program's own directory.
func seicheDir() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/seichedb/seiche").Output()
	if err != nil {
		return ".."
	}
	return strings.TrimSpace(string(out))
}
