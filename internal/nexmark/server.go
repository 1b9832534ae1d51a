package nexmark

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/runtime"
)

// queryGroupPrefix starts the consumer group of every persistent query of the server's default
// service id ("_seiche-<service id>-query-<query id>").
const queryGroupPrefix = "_seiche-seiche-query-"

var (
	brokerListening = regexp.MustCompile(`msg="broker listening" addr=(\S+)`)
	restListening   = regexp.MustCompile(`msg="REST API listening" addr=(\S+)`)
)

// measureServer starts `seiche server` (cfg.Seiche) on a data directory of its own, deploys the
// DDL and q's statements through its REST API (reading from the earliest offset, committing every
// CommitInterval), then produces the events to its broker and times the query until its consumer
// groups have committed every input record and the output is read to its end. The CPU time is the
// server process's (broker and engine) plus this process's (producer and output reader).
func measureServer(ctx context.Context, cfg Config, q Query, in []runtime.RawRecord) (Result, error) {
	var r Result
	dir, err := os.MkdirTemp("", "seiche-nexmark-server-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	args := []string{"server", "--data-dir", dir, "--listen", "127.0.0.1:0",
		"--http-listen", "127.0.0.1:0", "--num-partitions", strconv.Itoa(cfg.Partitions)}
	for k, v := range noRetention {
		args = append(args, "--topic-config", k+"="+v)
	}
	cmd := exec.Command(cfg.Seiche, args...)
	logs := &lockedBuffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return r, err
	}
	exited := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			logs.write(sc.Text() + "\n")
		}
	}()
	go func() { exited <- cmd.Wait(); pw.Close() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	addr, err := logs.wait(brokerListening, exited)
	if err != nil {
		return r, err
	}
	rest, err := logs.wait(restListening, exited)
	if err != nil {
		return r, err
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return r, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, t := range Topics {
		if _, err := adm.CreateTopic(ctx, int32(cfg.Partitions), -1, nil, t); err != nil {
			return r, err
		}
	}
	if err := postKSQL(ctx, "http://"+rest, DDL+q.SQL); err != nil {
		return r, err
	}
	groups := func(ctx context.Context) ([]string, error) {
		listed, err := adm.ListGroups(ctx)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, g := range listed.Groups() {
			if strings.HasPrefix(g, queryGroupPrefix) {
				out = append(out, g)
			}
		}
		return out, nil
	}
	failed := make(chan error, 1)
	go func() {
		err := <-exited
		failed <- fmt.Errorf("seiche server exited: %v\n%s", err, logs.tail())
		exited <- err
	}()
	pid := cmd.Process.Pid
	return drive(ctx, cfg, q, ImplSQL, in, drivenBy{
		addr: addr, adm: adm, groups: groups, failed: failed,
		cpu:   func() time.Duration { return cpuTime() + processCPU(pid) },
		cpuOf: "the seiche server process (broker, engine) and this process (producer, output reader)",
	})
}

// postKSQL runs statements through the server's /ksql endpoint, its queries reading their sources
// from the start.
func postKSQL(ctx context.Context, url, statements string) error {
	body, err := json.Marshal(map[string]any{"ksql": statements, "streamsProperties": map[string]any{
		"ksql.streams.auto.offset.reset": "earliest",
		"commit.interval.ms":             CommitInterval.Milliseconds(),
	}})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/ksql", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/vnd.ksql.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST /ksql: %s: %s", resp.Status, answer)
	}
	return nil
}

// processCPU returns the user plus system CPU time of process pid, from /proc/<pid>/stat (Linux),
// or 0 when it cannot be read.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name (which may hold spaces, so it is cut at the last ')'):
	// state is field 3, utime 14 and stime 15, in clock ticks (USER_HZ, 100 on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// lockedBuffer collects a child's log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *lockedBuffer) write(s string) {
	l.mu.Lock()
	l.buf.WriteString(s)
	l.mu.Unlock()
}

func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.buf.String()
	return s[max(0, len(s)-4000):]
}

// wait waits up to a minute for a log line matching re and returns its first group.
func (l *lockedBuffer) wait(re *regexp.Regexp, exited chan error) (string, error) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		m := re.FindStringSubmatch(l.buf.String())
		l.mu.Unlock()
		if m != nil {
			return m[1], nil
		}
		select {
		case err := <-exited:
			exited <- err
			return "", fmt.Errorf("seiche server exited: %v\n%s", err, l.tail())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return "", fmt.Errorf("no %q in the server's log after a minute:\n%s", re, l.tail())
}
