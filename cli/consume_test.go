package cli

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProduceConsume(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "events", "--partitions", "1")

	before := time.Now().UnixMilli()
	if got := ok(t, addr, "k1:v1\nk2:v:2\r\nk3:\nk4:NULL", "produce", "events",
		"--key-separator", ":", "--header", "src=test", "--header", "n=1", "--null-marker", "NULL"); got != "" {
		t.Fatalf("produce printed %q", got)
	}
	after := time.Now().UnixMilli()

	consume := func(args ...string) string {
		t.Helper()
		r := run(t, addr, "", append([]string{"consume", "events", "--from-beginning", "--max-messages", "4"}, args...)...)
		if r.err != nil {
			t.Fatalf("consume %v: %v", args, r.err)
		}
		if r.stderr != "Processed a total of 4 messages\n" {
			t.Fatalf("consume %v: stderr %q", args, r.stderr)
		}
		return r.stdout
	}

	if got, want := consume(), "v1\nv:2\n\nnull\n"; got != want {
		t.Fatalf("consume --format value:\ngot  %q\nwant %q", got, want)
	}
	if got, want := consume("--format", "kv"), "k1\tv1\nk2\tv:2\nk3\t\nk4\tnull\n"; got != want {
		t.Fatalf("consume --format kv:\ngot  %q\nwant %q", got, want)
	}
	if got, want := consume("--format", "kv", "--separator", "|", "--print-headers", "--print-offset", "--null-literal", "<nil>"),
		"Offset:0|src:test,n:1|k1|v1\nOffset:1|src:test,n:1|k2|v:2\nOffset:2|src:test,n:1|k3|\nOffset:3|src:test,n:1|k4|<nil>\n"; got != want {
		t.Fatalf("consume --format kv with --print-*:\ngot  %q\nwant %q", got, want)
	}

	got := consume("--format", "json")
	tsRE := regexp.MustCompile(`"timestamp":(\d+)`)
	for _, m := range tsRE.FindAllStringSubmatch(got, -1) {
		ts, _ := strconv.ParseInt(m[1], 10, 64)
		if ts < before || ts > after {
			t.Fatalf("consume --format json: timestamp %d outside the produce call [%d, %d]", ts, before, after)
		}
	}
	got = tsRE.ReplaceAllString(got, `"timestamp":0`)
	const headers = `"headers":[{"key":"src","value":"test"},{"key":"n","value":"1"}]`
	want := `{"topic":"events","partition":0,"offset":0,"timestamp":0,"key":"k1","value":"v1",` + headers + "}\n" +
		`{"topic":"events","partition":0,"offset":1,"timestamp":0,"key":"k2","value":"v:2",` + headers + "}\n" +
		`{"topic":"events","partition":0,"offset":2,"timestamp":0,"key":"k3","value":"",` + headers + "}\n" +
		`{"topic":"events","partition":0,"offset":3,"timestamp":0,"key":"k4","value":null,` + headers + "}\n"
	if got != want {
		t.Fatalf("consume --format json:\ngot:\n%s\nwant:\n%s", got, want)
	}

	// One partition from an offset, and --timeout-ms ending a consume that has nothing more to read.
	r := run(t, addr, "", "consume", "events", "--partition", "0", "--offset", "2", "--timeout-ms", "300", "--format", "kv")
	if r.err != nil || r.stdout != "k3\t\nk4\tnull\n" || r.stderr != "Processed a total of 2 messages\n" {
		t.Fatalf("consume --partition 0 --offset 2 --timeout-ms 300: got %+v", r)
	}
	r = run(t, addr, "", "consume", "events", "--partition", "0", "--offset", "latest", "--timeout-ms", "100")
	if r.err != nil || r.stdout != "" {
		t.Fatalf("consume --offset latest --timeout-ms 100: got %+v", r)
	}

	// Produce options: acks, compression and a fixed partition.
	ok(t, addr, "", "topics", "create", "spread", "--partitions", "3")
	for _, c := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		ok(t, addr, c+"\n", "produce", "spread", "--partition", "2", "--compression", c, "--acks", "1")
	}
	r = run(t, addr, "", "consume", "spread", "--partition", "2", "--offset", "earliest", "--max-messages", "5")
	if r.err != nil || r.stdout != "none\ngzip\nsnappy\nlz4\nzstd\n" {
		t.Fatalf("consume of records produced with each compression: got %+v", r)
	}
}

func TestProduceLineWithoutSeparator(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "lines", "--partitions", "1")

	r := run(t, addr, "a:1\nno separator here\nb:2\n", "produce", "lines", "--key-separator", ":")
	if r.err == nil || !strings.Contains(r.err.Error(), `line 2: no key separator ":" in "no separator here"`) {
		t.Fatalf("produce with a line lacking the separator: got error %v", r.err)
	}
	// The lines before the bad one were produced, and nothing after it.
	r = run(t, addr, "", "consume", "lines", "--from-beginning", "--timeout-ms", "300", "--format", "kv")
	if r.err != nil || r.stdout != "a\t1\n" {
		t.Fatalf("consume after the failed produce: got %+v", r)
	}

	fails(t, addr, "", "--acks", "produce", "lines", "--acks", "2")
	fails(t, addr, "", "--compression", "produce", "lines", "--compression", "brotli")
	fails(t, addr, "", "want key=value", "produce", "lines", "--header", "nope")
	fails(t, addr, "", "--offset needs --partition", "consume", "lines", "--offset", "1")
	fails(t, addr, "", "cannot both be given", "consume", "lines", "--partition", "0", "--group", "g")
	fails(t, addr, "", "--format", "consume", "lines", "--format", "xml")
}
