package cli

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/internal/testutil"
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

// consume fails, within its timeout and with a message saying what is wrong, against a cluster
// that does not answer, a topic that does not exist and a partition that does not exist.
func TestConsumeFailsClearly(t *testing.T) {
	t.Parallel()
	closed := closedAddr(t)
	for _, args := range [][]string{
		{"consume", "t"},
		{"consume", "t", "--partition", "0", "--offset", "3"},
		{"consume", "t", "--group", "g"},
	} {
		failsWithin(t, 5*time.Second, closed, "", []string{"no answer from " + closed, "connection refused"},
			append(args, "--timeout", "1s")...)
	}

	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "one", "--partitions", "1")
	failsWithin(t, 5*time.Second, addr, "", []string{"consume: topic nope does not exist"}, "consume", "nope")
	failsWithin(t, 5*time.Second, addr, "", []string{"consume: topic nope does not exist"}, "consume", "one", "nope", "--group", "g")
	failsWithin(t, 5*time.Second, addr, "", []string{"consume: topic one has 1 partitions (0 to 0): partition 3 does not exist"},
		"consume", "one", "--partition", "3")
	// Nothing was created on the way.
	if got := ok(t, addr, "", "topics", "list"); got != "one\n" {
		t.Fatalf("topics after consuming unknown ones: %q", got)
	}
}

// An --offset outside the log is reset as --reset says: latest (the default) waits at the end and
// prints what arrives, earliest reads from the start, none fails. Kafka's console consumer does the
// same with auto.offset.reset.
func TestConsumeOffsetOutsideLog(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "ev", "--partitions", "1")
	ok(t, addr, "a\nb\nc\nd\n", "produce", "ev")

	r := run(t, addr, "", "consume", "ev", "--partition", "0", "--offset", "100", "--timeout-ms", "300")
	if r.err != nil || r.stdout != "" ||
		r.stderr != "seiche: offset 100 is past the end of ev partition 0 (4); waiting at the end, offset 4, as --reset latest says\nProcessed a total of 0 messages\n" {
		t.Fatalf("consume --offset 100 past the end: %+v", r)
	}

	// Waiting at the end: the next record produced is the one printed, not a rewind to 0.
	var out syncBuffer
	done := make(chan result, 1)
	go func() {
		done <- runTo(context.Background(), &out, addr, strings.NewReader(""), "consume", "ev", "--partition", "0", "--offset", "100", "--max-messages", "1")
	}()
	testutil.CheckFor(t, 10*time.Second, func() error {
		ok(t, addr, "e\n", "produce", "ev")
		select {
		case r := <-done:
			if r.err != nil || r.stdout != "e\n" {
				t.Fatalf("consume --offset 100 --max-messages 1 while e is produced: %+v", r)
			}
			return nil
		case <-time.After(100 * time.Millisecond):
			return errors.New("consume has printed nothing yet")
		}
	})

	if got := ok(t, addr, "", "consume", "ev", "--partition", "0", "--offset", "100", "--reset", "earliest", "--max-messages", "2"); got != "a\nb\n" {
		t.Fatalf("consume --offset 100 --reset earliest: %q", got)
	}
	if got := ok(t, addr, "", "consume", "ev", "--partition", "0", "--offset", "100", "-X", "auto.offset.reset=earliest", "--max-messages", "1"); got != "a\n" {
		t.Fatalf("consume --offset 100 -X auto.offset.reset=earliest: %q", got)
	}
	fails(t, addr, "", "consume: offset 100 is past the end of ev partition 0 (", "consume", "ev", "--partition", "0", "--offset", "100", "--reset", "none")

	// Before the log start (records deleted), too.
	var del kadm.Offsets
	del.Add(kadm.Offset{Topic: "ev", Partition: 0, At: 2})
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if resp, err := kadm.NewClient(cl).DeleteRecords(context.Background(), del); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}
	r = run(t, addr, "", "consume", "ev", "--partition", "0", "--offset", "1", "--reset", "earliest", "--max-messages", "1")
	if r.err != nil || r.stdout != "c\n" || !strings.HasPrefix(r.stderr, "seiche: offset 1 is before the start of ev partition 0 (2); reading from the start, offset 2") {
		t.Fatalf("consume --offset 1 before the log start: %+v", r)
	}
	fails(t, addr, "", "--reset none needs --partition and --offset", "consume", "ev", "--reset", "none")
	fails(t, addr, "", "--from-beginning and a reset to latest", "consume", "ev", "--from-beginning", "--reset", "latest")
	fails(t, addr, "", `--reset "soon"`, "consume", "ev", "--reset", "soon")
}

// With --group, --timeout-ms counts from the assignment: a join slower than the timeout (here the
// broker's initial rebalance delay) does not end the command before it has read anything.
func TestConsumeGroupTimeoutCountsFromAssignment(t *testing.T) {
	t.Parallel()
	addr := brokertest.Start(t, broker.GroupInitialRebalanceDelay(1500*time.Millisecond)).Addr()
	ok(t, addr, "", "topics", "create", "slow", "--partitions", "1")
	ok(t, addr, "a\nb\n", "produce", "slow")
	r := run(t, addr, "", "consume", "slow", "--group", "g", "--from-beginning", "--timeout-ms", "300")
	if r.err != nil || r.stdout != "a\nb\n" {
		t.Fatalf("consume --group --timeout-ms 300 with a 1.5s join: %+v", r)
	}
	// The printed records were committed: the next member of the group reads nothing.
	r = run(t, addr, "", "consume", "slow", "--group", "g", "--timeout-ms", "300")
	if r.err != nil || r.stdout != "" {
		t.Fatalf("consume --group again: %+v", r)
	}
	// enable.auto.commit=false commits nothing: the same records again.
	ok(t, addr, "c\n", "produce", "slow")
	for range 2 {
		r = run(t, addr, "", "consume", "slow", "--group", "g", "-X", "group.id=g", "-X", "enable.auto.commit=false", "--timeout-ms", "300")
		if r.err != nil || r.stdout != "c\n" {
			t.Fatalf("consume --group -X enable.auto.commit=false: %+v", r)
		}
	}
	fails(t, addr, "", "--group g and -X group.id=h disagree", "consume", "slow", "--group", "g", "-X", "group.id=h")
	fails(t, addr, "", "-X linger.ms: a producer property; this command takes consumer properties", "consume", "slow", "-X", "linger.ms=1")
}

// --key-format and --value-format decode the bytes of Kafka's serializers, hex, base64 and JSON.
func TestConsumeDecoders(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "typed", "--partitions", "1")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("typed"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	be := func(n int, v uint64) []byte {
		b := make([]byte, 8)
		binary.BigEndian.PutUint64(b, v)
		return b[8-n:]
	}
	long := func(v int64) []byte { return be(8, uint64(v)) }
	produce := func(rs ...*kgo.Record) {
		t.Helper()
		if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce(
		&kgo.Record{Key: long(-3), Value: long(1 << 40)},
		&kgo.Record{Key: long(7), Value: nil},
	)
	consume := func(n int, args ...string) string {
		t.Helper()
		return ok(t, addr, "", append([]string{"consume", "typed", "--from-beginning", "--max-messages", strconv.Itoa(n)}, args...)...)
	}
	if got := consume(2, "--format", "kv", "--key-format", "long", "--value-format", "long"); got != "-3\t1099511627776\n7\tnull\n" {
		t.Fatalf("long keys and values: %q", got)
	}
	got := consume(2, "--format", "json", "--key-format", "long", "--value-format", "long")
	got = regexp.MustCompile(`"timestamp":\d+`).ReplaceAllString(got, `"timestamp":0`)
	if want := `{"topic":"typed","partition":0,"offset":0,"timestamp":0,"key":-3,"value":1099511627776,"headers":[]}` + "\n" +
		`{"topic":"typed","partition":0,"offset":1,"timestamp":0,"key":7,"value":null,"headers":[]}` + "\n"; got != want {
		t.Fatalf("long keys and values as json:\ngot  %s\nwant %s", got, want)
	}

	ok(t, addr, "", "topics", "create", "kinds", "--partitions", "1")
	cases := []struct {
		format string
		value  []byte
		text   string // --format value
		json   string // the value in --format json, and its encoding
	}{
		{"int", be(4, uint64(0xfffffff9)), "-7", `"value":-7`},
		{"short", be(2, 300), "300", `"value":300`},
		{"double", be(8, math.Float64bits(2.5)), "2.5", `"value":2.5`},
		{"double", be(8, math.Float64bits(math.Inf(-1))), "-Inf", `"value":"-Inf"`},
		{"float", be(4, uint64(math.Float32bits(0.25))), "0.25", `"value":0.25`},
		{"hex", []byte{0, 0xff, 0x10}, "00ff10", `"value":"00ff10","value_encoding":"hex"`},
		{"base64", []byte{0, 0xff, 0x10}, "AP8Q", `"value":"AP8Q","value_encoding":"base64"`},
		{"json", []byte("{ \"a\": [1, 2],\n \"b\": \"<x>\" }"), `{"a":[1,2],"b":"<x>"}`, `"value":{"a":[1,2],"b":"<x>"}`},
		{"string", []byte{0xff, 'a'}, "\xffa", `"value":"/2E=","value_encoding":"base64"`},
	}
	for i, c := range cases {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "kinds", Value: c.value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		args := []string{"consume", "kinds", "--partition", "0", "--offset", strconv.Itoa(i), "--max-messages", "1", "--value-format", c.format}
		if got := ok(t, addr, "", args...); got != c.text+"\n" {
			t.Errorf("--value-format %s of %x: got %q, want %q", c.format, c.value, got, c.text)
		}
		if got := ok(t, addr, "", append(args, "--format", "json")...); !strings.Contains(got, c.json+`,"headers"`) {
			t.Errorf("--value-format %s --format json of %x: got %s, want it to contain %s", c.format, c.value, got, c.json)
		}
	}

	// A value that does not decode stops the command, naming the record.
	fails(t, addr, "", "consume kinds partition 0 offset 1: value: 2 bytes, not the 8 of a long",
		"consume", "kinds", "--partition", "0", "--offset", "1", "--max-messages", "1", "--value-format", "long")
	fails(t, addr, "", "consume kinds partition 0 offset 0: value: not JSON",
		"consume", "kinds", "--partition", "0", "--offset", "0", "--max-messages", "1", "--value-format", "json")
	fails(t, addr, "", `--key-format "varint": want string, long, int`, "consume", "kinds", "--key-format", "varint")
}
