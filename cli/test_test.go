package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runTest runs `seiche test args...` in-process and returns its output and error.
func runTest(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := NewRootCommand()
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(append([]string{"test"}, args...))
	err := cmd.Execute()
	return out.String(), err
}

func TestTestCommandQTT(t *testing.T) {
	out, err := runTest(t, "-v", "testdata/qtt_sample.json")
	if err != errTestsFailed {
		t.Fatalf("err = %v, want errTestsFailed; output:\n%s", err, out)
	}
	for _, want := range []string{
		"pass  qtt_sample.json/project and filter\n",
		"FAIL  qtt_sample.json/wrong expectation: topic OUTPUT: records differ\n",
		`! 0 expected: key=1 value={"NAME":"not a"}`,
		`actual:   key=1 value={"NAME":"a"} ts=0`,
		"skip  qtt_sample.json/avro: schema-registry format AVRO\n",
		"1 passed, 1 failed, 1 skipped\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, err = runTest(t, "testdata/qtt_sample.json", "--case", "project")
	if err != nil || !strings.HasSuffix(out, "1 passed, 0 failed, 0 skipped\n") {
		t.Fatalf("--case: err %v, output:\n%s", err, out)
	}
}

func TestTestCommandRunnerFormat(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stmts := write("s.sql", `CREATE STREAM clicks (id INT KEY, url STRING) WITH (kafka_topic='clicks', value_format='JSON');
CREATE TABLE counts AS SELECT url, COUNT(*) AS n FROM clicks GROUP BY url;`)
	in := write("in.json", `{"inputs": [
  {"topic": "clicks", "key": 1, "value": {"URL": "/a"}, "timestamp": 10},
  {"topic": "clicks", "key": 2, "value": {"URL": "/a"}, "timestamp": 20}]}`)
	outPath := write("out.json", `{"outputs": [
  {"topic": "COUNTS", "key": "/a", "value": {"N": 1}, "timestamp": 10},
  {"topic": "COUNTS", "key": "/a", "value": {"N": 2}, "timestamp": 20}]}`)
	out, err := runTest(t, "--statements", stmts, "--input", in, "--output", outPath)
	if err != nil || !strings.Contains(out, ">>> Test passed!\n1 passed, 0 failed, 0 skipped\n") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}

	bad := write("bad.json", `{"outputs": [{"topic": "COUNTS", "key": "/a", "value": {"N": 7}}]}`)
	out, err = runTest(t, "--statements", stmts, "--input", in, "--output", bad)
	if err != errTestsFailed || !strings.Contains(out, "topic COUNTS: expected 1 records, got 2") {
		t.Fatalf("err %v, output:\n%s", err, out)
	}

	if _, err := runTest(t, "--statements", stmts); err == nil {
		t.Fatal("--statements alone: want an error")
	}
}

// Over a directory, progress goes to stderr, a line per file when stderr is not a terminal, and
// stdout ends with the summary as before.
func TestTestCommandProgress(t *testing.T) {
	sample, err := os.ReadFile("testdata/qtt_sample.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"a.json", "b.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), sample, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd := NewRootCommand()
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	cmd.SetArgs([]string{"test", dir})
	if err := cmd.Execute(); err != errTestsFailed {
		t.Fatalf("err = %v, want errTestsFailed; output:\n%s", err, stdout.String())
	}
	if !strings.HasSuffix(stdout.String(), "\n2 passed, 2 failed, 2 skipped\n") {
		t.Errorf("stdout does not end with the summary:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), "files") {
		t.Errorf("progress on stdout:\n%s", stdout.String())
	}
	lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "test: 1/2 files, 3 cases, ") || !strings.HasSuffix(lines[0], ": a.json (3 cases)") ||
		!strings.HasPrefix(lines[1], "test: 2/2 files, 6 cases, ") || !strings.HasSuffix(lines[1], ": b.json (3 cases)") {
		t.Errorf("stderr progress:\n%s", stderr.String())
	}
}

func TestTestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newTestProgress(&buf, 2)
	p.tty = true
	p.fileDone("a.json", 3)
	p.fileDone("b.json", 4)
	p.finish()
	if got := buf.String(); !strings.Contains(got, "\r\033[K1/2 files, 3 cases, ") || !strings.Contains(got, "\r\033[K2/2 files, 7 cases, ") ||
		!strings.HasSuffix(got, "b.json\r\033[K") || strings.Contains(got, "\n") {
		t.Errorf("terminal progress = %q", got)
	}
	if newTestProgress(&buf, 1) != nil {
		t.Error("a single file gets a progress reporter")
	}
}
