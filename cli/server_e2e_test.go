package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/internal/testutil"
)

// buildSeiche builds the seiche binary into a temporary directory and returns its path.
func buildSeiche(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		t.Fatalf("go env GOMOD: %q %v", out, err)
	}
	bin := filepath.Join(t.TempDir(), "seiche")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Dir(gomod)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProc is a `seiche server` child process.
type serverProc struct {
	cmd        *exec.Cmd
	stderr     *syncBuffer
	brokerAddr string
	url        string // the REST API's base URL
	exited     chan struct{}
	exitErr    error
}

var (
	brokerListening = regexp.MustCompile(`msg="broker listening" addr=(\S+)`)
	restListening   = regexp.MustCompile(`msg="REST API listening" addr=(\S+)`)
)

// startSeiche starts `seiche server` on free ports with its data in dir and returns once its REST
// API answers /healthcheck with 200 (the engine has replayed its command topic).
func startSeiche(t *testing.T, bin, dir string, args ...string) *serverProc {
	t.Helper()
	return startSeicheRole(t, bin, dir, true, true, args...)
}

// startSeicheRole is startSeiche for a server that runs a broker, the SQL engine, or both: it waits
// for what the server runs (the engine's /healthcheck).
func startSeicheRole(t *testing.T, bin, dir string, runsBroker, runsEngine bool, args ...string) *serverProc {
	t.Helper()
	p := &serverProc{stderr: &syncBuffer{}, exited: make(chan struct{})}
	args = append([]string{"server", "--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--data-dir", dir}, args...)
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stderr = p.stderr
	p.cmd.Stdout = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.exitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("seiche server (%s) stderr:\n%s", dir, p.stderr.String())
		}
	})
	testutil.CheckFor(t, 60*time.Second, func() error {
		select {
		case <-p.exited:
			t.Fatalf("seiche server exited: %v\n%s", p.exitErr, p.stderr.String())
		default:
		}
		log := p.stderr.String()
		b, r := brokerListening.FindStringSubmatch(log), restListening.FindStringSubmatch(log)
		if runsBroker {
			if b == nil {
				return errors.New("no broker address in the server's log yet")
			}
			p.brokerAddr = b[1]
		}
		if !runsEngine {
			return nil
		}
		if r == nil {
			return errors.New("no REST address in the server's log yet")
		}
		p.url = "http://" + r[1]
		resp, err := http.Get(p.url + "/healthcheck")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/healthcheck: HTTP %d", resp.StatusCode)
		}
		return nil
	})
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *serverProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// postJSON posts body to the server and returns the status and the whole answer.
func (p *serverProc) postJSON(t *testing.T, path string, body any) (int, []byte) {
	t.Helper()
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp.StatusCode, raw
}

// ksql runs statements through /ksql, failing the test unless they succeed, and returns the entities.
func (p *serverProc) ksql(t *testing.T, sql string, props map[string]any) []map[string]any {
	t.Helper()
	status, raw := p.postJSON(t, "/ksql", map[string]any{"ksql": sql, "streamsProperties": props})
	var ents []map[string]any
	if err := json.Unmarshal(raw, &ents); status != http.StatusOK || err != nil {
		t.Fatalf("/ksql %q: HTTP %d %v: %s", sql, status, err, raw)
	}
	return ents
}

// query runs a query through /query and returns its rows (each its columns as compact JSON) and
// its final message.
func (p *serverProc) query(t *testing.T, sql string, props map[string]any) (rows []string, final string, err error) {
	t.Helper()
	status, raw := p.postJSON(t, "/query", map[string]any{"ksql": sql, "streamsProperties": props})
	if status != http.StatusOK {
		return nil, "", fmt.Errorf("%s: HTTP %d: %s", sql, status, raw)
	}
	var elems []struct {
		Header *json.RawMessage `json:"header"`
		Row    *struct {
			Columns json.RawMessage `json:"columns"`
		} `json:"row"`
		FinalMessage string `json:"finalMessage"`
		ErrorMessage any    `json:"errorMessage"`
	}
	if err := json.Unmarshal(raw, &elems); err != nil || len(elems) == 0 || elems[0].Header == nil {
		return nil, "", fmt.Errorf("%s: not a header and rows: %v: %s", sql, err, raw)
	}
	for _, el := range elems[1:] {
		switch {
		case el.Row != nil:
			var b bytes.Buffer
			if err := json.Compact(&b, el.Row.Columns); err != nil {
				return nil, "", err
			}
			rows = append(rows, b.String())
		case el.ErrorMessage != nil:
			return nil, "", fmt.Errorf("%s: error message: %v", sql, el.ErrorMessage)
		default:
			final = el.FinalMessage
		}
	}
	return rows, final, nil
}

// viewCounts is the expected content of the windowed count: user and window start to count.
type viewCounts map[string]map[int64]int

func (v viewCounts) rows() []string {
	var out []string
	for user, ws := range v {
		for w, n := range ws {
			out = append(out, fmt.Sprintf(`[%q,%d,%d]`, user, w, n))
		}
	}
	slices.Sort(out)
	return out
}

// TestServerSurvivesSIGKILL runs `seiche server` as a child process, feeds a windowed count from a
// Kafka client, kills the server with SIGKILL, restarts it on the same data directory, and checks that
// the count resumes exactly: nothing counted twice, nothing lost.
func TestServerSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the seiche binary and runs it as a child process; skipped with -short")
	}
	bin := buildSeiche(t)
	dir := t.TempDir()
	config := filepath.Join(t.TempDir(), "server.properties")
	// Server-wide query properties, as ksqlDB's server.properties spells them.
	if err := os.WriteFile(config, []byte("ksql.streams.auto.offset.reset=earliest\nksql.streams.commit.interval.ms=200\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := startSeiche(t, bin, dir, "--config", config)

	const topic = "pageviews"
	newClient := func(addr string) (*kgo.Client, *kadm.Client) {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl, kadm.NewClient(cl)
	}
	cl, adm := newClient(srv.brokerAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}

	// Page views of five users in tumbling one-minute windows from t0; model holds the expected counts.
	// The timestamps are recent: the broker deletes segments older than the topics' retention, as
	// Kafka does.
	t0 := time.Now().Truncate(time.Minute).Add(-10 * time.Minute).UnixMilli()
	model := viewCounts{}
	var produced []string
	produce := func(cl *kgo.Client, from, n int, window func(i int) int64) {
		t.Helper()
		var recs []*kgo.Record
		for i := from; i < from+n; i++ {
			user, w := fmt.Sprintf("u%d", i%5), window(i)
			page := fmt.Sprintf("/p/%d", i)
			recs = append(recs, &kgo.Record{Key: []byte(user), Value: []byte(fmt.Sprintf(`{"PAGE":%q}`, page)),
				Timestamp: time.UnixMilli(w + int64(i)*10)})
			if model[user] == nil {
				model[user] = map[int64]int{}
			}
			model[user][w]++
			produced = append(produced, fmt.Sprintf(`[%q,%q]`, user, page))
		}
		if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(cl, 0, 40, func(i int) int64 { return t0 + int64(i%2)*60_000 })

	srv.ksql(t, "CREATE STREAM PAGEVIEWS (USER_ID STRING KEY, PAGE STRING) WITH (KAFKA_TOPIC='pageviews', VALUE_FORMAT='JSON');", nil)
	ents := srv.ksql(t, "CREATE TABLE VIEWS AS SELECT USER_ID, COUNT(*) AS N FROM PAGEVIEWS WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY USER_ID;",
		map[string]any{"auto.offset.reset": "earliest"})
	st, _ := ents[0]["commandStatus"].(map[string]any)
	queryID, _ := st["queryId"].(string)
	if queryID != "CTAS_VIEWS_2" {
		t.Fatalf("CTAS: %v", ents)
	}

	const pull = "SELECT USER_ID, WINDOWSTART, N FROM VIEWS;"
	countsAre := func(srv *serverProc) func() error {
		return func() error {
			rows, _, err := srv.query(t, pull, nil)
			if err != nil {
				return err
			}
			slices.Sort(rows)
			if want := model.rows(); !slices.Equal(rows, want) {
				return fmt.Errorf("%s: %v, want %v", pull, rows, want)
			}
			return nil
		}
	}
	testutil.CheckFor(t, 60*time.Second, countsAre(srv))
	rows, _, err := srv.query(t, "SELECT USER_ID, WINDOWSTART, N FROM VIEWS WHERE USER_ID = 'u1';", nil)
	slices.Sort(rows)
	if want := (viewCounts{"u1": model["u1"]}).rows(); err != nil || !slices.Equal(rows, want) {
		t.Fatalf("key lookup: %v %v, want %v", rows, err, want)
	}

	// A push query reads the stream from the start: the server's properties say earliest.
	rows, final, err := srv.query(t, "SELECT USER_ID, PAGE FROM PAGEVIEWS EMIT CHANGES LIMIT 5;", nil)
	if err != nil || len(rows) != 5 || final != "Limit Reached" {
		t.Fatalf("push query: %v %q %v", rows, final, err)
	}
	for _, r := range rows {
		if !slices.Contains(produced, r) {
			t.Fatalf("push query row %s was never produced", r)
		}
	}

	// Leave a push query running, so that the kill leaves its state directory behind.
	pushCtx, stopPush := context.WithCancel(ctx)
	defer stopPush()
	body, _ := json.Marshal(map[string]any{"ksql": "SELECT * FROM PAGEVIEWS EMIT CHANGES;"})
	req, _ := http.NewRequestWithContext(pushCtx, http.MethodPost, srv.url+"/query", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("open push query: %v %v", resp, err)
	}
	defer resp.Body.Close()
	transient := filepath.Join(dir, "transient")
	testutil.CheckFor(t, 10*time.Second, func() error {
		if ents, _ := os.ReadDir(transient); len(ents) == 0 {
			return errors.New("no push query state under " + transient)
		}
		return nil
	})

	// committed waits until the query's group has committed the end of the input topic, so that
	// what the query counted is what its offsets say it read.
	committed := func(adm *kadm.Client) {
		t.Helper()
		group := "_seiche-seiche-query-" + queryID
		testutil.CheckFor(t, 30*time.Second, func() error {
			ends, err := adm.ListEndOffsets(ctx, topic)
			if err != nil {
				return err
			}
			offs, err := adm.FetchOffsets(ctx, group)
			if err != nil {
				return err
			}
			var lag []string
			ends.Each(func(e kadm.ListedOffset) {
				if o, ok := offs.Lookup(topic, e.Partition); (ok || e.Offset > 0) && o.At != e.Offset {
					lag = append(lag, fmt.Sprintf("%d: committed %d of %d", e.Partition, o.At, e.Offset))
				}
			})
			if lag != nil {
				return fmt.Errorf("group %s behind on %s: %v", group, topic, lag)
			}
			return nil
		})
	}
	committed(adm)

	srv.kill()
	var ws syscall.WaitStatus
	if s, ok := srv.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		ws = s
	}
	if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("server exit: %v, want killed by SIGKILL", srv.cmd.ProcessState)
	}
	stopPush()

	srv = startSeiche(t, bin, dir, "--config", config)
	testutil.CheckFor(t, 60*time.Second, countsAre(srv))
	if ents, err := os.ReadDir(transient); err == nil && len(ents) != 0 {
		t.Fatalf("the killed server's push query state is left under %s: %s", transient, ents[0].Name())
	}

	// New input: windows already counted go on from where they were, and a new window starts.
	cl, adm = newClient(srv.brokerAddr)
	produce(cl, 40, 21, func(i int) int64 { return t0 + int64(1+i%2)*60_000 })
	testutil.CheckFor(t, 60*time.Second, countsAre(srv))
	// Once everything is committed, the counts still hold: nothing came in twice.
	committed(adm)
	if err := countsAre(srv)(); err != nil {
		t.Fatal(err)
	}

	// SIGTERM stops the server gracefully.
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.exited:
		if srv.exitErr != nil {
			t.Fatalf("server exit after SIGTERM: %v", srv.exitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop within 30s of SIGTERM")
	}
}
