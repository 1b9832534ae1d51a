package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// The README is the front door: these tests run its quick start as written, with the binary built
// from this checkout in place of `go run .`, and free ports in place of the defaults (other tests may
// hold them), so that the README cannot drift from the code.

// readmeBlock returns the lines of the first fenced block of the given language after heading.
func readmeBlock(t *testing.T, heading, lang string) []string {
	t.Helper()
	f, err := os.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var lines []string
	state := 0 // 0: looking for heading, 1: for the block, 2: in it
	for sc.Scan() {
		l := sc.Text()
		switch {
		case state == 0 && l == heading:
			state = 1
		case state == 1 && l == "```"+lang:
			state = 2
		case state == 2 && l == "```":
			return lines
		case state == 2:
			lines = append(lines, l)
		}
	}
	t.Fatalf("README.md has no %s block under %q", lang, heading)
	return nil
}

var build struct {
	once sync.Once
	bin  string
	err  error
}

// buildBinary builds the binary once for the tests of the package.
func buildBinary(t *testing.T) string {
	t.Helper()
	build.once.Do(func() {
		dir, err := os.MkdirTemp("", "seiche-readme-test")
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(dir, "seiche")
		if out, err := exec.Command("go", "build", "-o", build.bin, ".").CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.bin != "" {
		os.RemoveAll(filepath.Dir(build.bin))
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestREADMEShellSession pipes the README's first shell session into `seiche shell`, which starts
// its embedded server, and checks that the push query shows the three rows inserted.
func TestREADMEShellSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a server: not in -short")
	}
	var script strings.Builder
	for _, l := range readmeBlock(t, "## Two commands", "sql") {
		for _, prompt := range []string{"seiche> ", "     -> "} {
			if strings.HasPrefix(l, prompt) {
				script.WriteString(strings.TrimPrefix(l, prompt) + "\n")
			}
		}
	}
	if !strings.Contains(script.String(), "EMIT CHANGES LIMIT 3;") {
		t.Fatalf("the README's session has no push query with LIMIT 3:\n%s", script.String())
	}
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "shell", "--data-dir", filepath.Join(t.TempDir(), "data"),
		"--http-listen", freeAddr(t), "--listen", "127.0.0.1:0")
	cmd.Stdin = strings.NewReader(script.String())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("seiche shell: %v\n%s", err, out)
	}
	for _, want := range []string{"started one here", "Stream created", "| alice ", "/home", "| bob ", "/cart", "/docs", "Limit Reached"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("the README's shell session does not show %q:\n%s", want, out)
		}
	}
}

// TestREADMEServerCurl runs the README's server example: the server in the background, each curl
// command against it, and `stop`.
func TestREADMEServerCurl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a server: not in -short")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (Debian: apt-get install curl): the README's example uses it")
	}
	lines := readmeBlock(t, "## The SQL server", "sh")
	bin := buildBinary(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "seiche-data")
	httpAddr := freeAddr(t)
	var curls []string
	started, stopped := false, false
	for _, l := range lines {
		cmd, _, _ := strings.Cut(l, "#")
		cmd = strings.TrimSpace(cmd)
		switch {
		case cmd == "":
		case cmd == "go run . server &":
			srv := exec.Command(bin, "server", "--data-dir", data, "--listen", "127.0.0.1:0", "--http-listen", httpAddr)
			srv.Dir = dir
			if err := srv.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Process.Kill(); _ = srv.Wait() })
			deadline := time.Now().Add(60 * time.Second)
			for {
				resp, err := http.Get("http://" + httpAddr + "/healthcheck")
				if err == nil {
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						break
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("the server is not healthy after 60s: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
			}
			started = true
		case strings.HasPrefix(cmd, "curl "):
			curls = append(curls, strings.ReplaceAll(cmd, "localhost:8088", httpAddr))
		default:
			t.Fatalf("the README's server example has a line this test does not know how to run: %q", l)
		}
		if strings.Contains(l, "go run . stop") {
			stopped = true
		}
	}
	if !started || !stopped || len(curls) < 5 {
		t.Fatalf("the README's server example changed shape (server started %v, stop named %v, %d curl commands)", started, stopped, len(curls))
	}
	errorBody := regexp.MustCompile(`"@type":"(statement_error|generic_error)"|"error_code"`)
	for _, c := range curls {
		// A pull query right after its CTAS may find the table not yet materialized: ask again.
		deadline := time.Now().Add(30 * time.Second)
		for {
			cmd := exec.Command("sh", "-c", c)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			ok := err == nil && !errorBody.Match(out)
			if ok && strings.Contains(c, "WHERE user") {
				ok = strings.Contains(string(out), "alice")
			}
			if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s\n%v: %s", c, err, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "rows.arrow")); err != nil || fi.Size() == 0 {
		t.Fatalf("the Arrow answer: %v", err)
	}
	out, err := exec.Command(bin, "stop", "--data-dir", data).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Stopped the server") {
		t.Fatalf("stop: %v: %s", err, out)
	}
}
