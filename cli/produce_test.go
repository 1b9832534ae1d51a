package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
)

// closedAddr returns an address nothing listens on: a port that was free a moment ago.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// timed runs the command and fails the test unless it fails with an error containing every one
// of want within limit.
func failsWithin(t *testing.T, limit time.Duration, addr, stdin string, want []string, args ...string) result {
	t.Helper()
	start := time.Now()
	r := run(t, addr, stdin, args...)
	took := time.Since(start)
	if r.err == nil {
		t.Fatalf("seiche %s succeeded, want an error", strings.Join(args, " "))
	}
	for _, w := range want {
		if !strings.Contains(r.err.Error(), w) {
			t.Fatalf("seiche %s: error %q, want one containing %q", strings.Join(args, " "), r.err, w)
		}
	}
	if took > limit {
		t.Fatalf("seiche %s took %s, want at most %s", strings.Join(args, " "), took, limit)
	}
	return r
}

func TestProduceUnreachableBroker(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	failsWithin(t, 5*time.Second, addr, "a\nb\n",
		[]string{"2 of 2 records were not acknowledged within 1s", "no answer from " + addr, "connection refused"},
		"produce", "t", "--timeout", "1s")
	// Below kgo's one-second minimum the command still keeps to its timeout.
	failsWithin(t, 3*time.Second, addr, "a\n", []string{"not acknowledged within 300ms"}, "produce", "t", "--timeout", "300ms")
}

// A broker that goes away while records are being produced: the command stops within the timeout
// of the first record that got no answer, even though standard input stays open: with a line typed
// after, and with a flood of lines that fills the client's buffer (Produce then blocks in kgo).
func TestProduceBrokerGoesDown(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct {
		args   []string
		after  func(w io.Writer)
		record string // how many records the error may count
	}{
		"typed": {
			after: func(w io.Writer) { fmt.Fprintln(w, "two") },
			// The first record is in the log, but its acknowledgement may have been cut off with
			// the connection: 1 or 2 of 2.
			record: " of 2 records were not acknowledged within 2s",
		},
		"flooded": {
			args: []string{"-X", "buffer.memory=4096"},
			after: func(w io.Writer) {
				for i := 0; ; i++ {
					if _, err := fmt.Fprintf(w, "%0100d\n", i); err != nil {
						return // the command stopped reading and the test closed the pipe
					}
				}
			},
			record: " records were not acknowledged within 2s",
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := brokertest.Start(t)
			addr := b.Addr()
			ok(t, addr, "", "topics", "create", "typed", "--partitions", "1")

			in, typist := io.Pipe()
			t.Cleanup(func() { in.Close() })
			done := make(chan result, 1)
			go func() {
				var out syncBuffer
				done <- runTo(context.Background(), &out, addr, in, append([]string{"produce", "typed", "--timeout", "2s"}, c.args...)...)
			}()
			fmt.Fprintln(typist, "one")
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("typed"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if fs := cl.PollRecords(ctx, 1); fs.NumRecords() != 1 {
				t.Fatalf("the first record did not arrive: %v", fs.Err0())
			}
			cl.Close()
			b.Close()
			start := time.Now()
			go c.after(typist)
			select {
			case r := <-done:
				want := c.record + " (no answer from " + addr
				if r.err == nil || !strings.Contains(r.err.Error(), want) || !strings.Contains(r.err.Error(), "may or may not have been written") {
					t.Fatalf("produce after the broker went down: error %v, want one containing %q", r.err, want)
				}
				if took := time.Since(start); took > 6*time.Second {
					t.Fatalf("produce took %s after the broker went down, with --timeout 2s", took)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("produce still running 30s after the broker went down, with --timeout 2s")
			}
		})
	}
}

// A record over max.request.size is refused by the producer, saying the limit is its own and how
// to raise it; raised with -X, a 2 MiB record goes through to a topic that allows it, and one the
// topic does not allow is refused by the broker.
func TestProduceLargeRecord(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "big", "--partitions", "1", "--config", "max.message.bytes=3145728")
	ok(t, addr, "", "topics", "create", "small", "--partitions", "1")
	record := strings.Repeat("x", 2<<20)

	r := run(t, addr, record+"\n", "produce", "big")
	if r.err == nil || !strings.Contains(r.err.Error(), "more than max.request.size (1048576 bytes), the producer's limit: raise it with -X max.request.size") ||
		strings.Contains(r.err.Error(), "server") {
		t.Fatalf("produce of a 2 MiB record with the default max.request.size: %v", r.err)
	}

	ok(t, addr, record+"\n", "produce", "big", "-X", "max.request.size=3145728")
	got := ok(t, addr, "", "consume", "big", "--from-beginning", "--max-messages", "1")
	if got != record+"\n" {
		t.Fatalf("consumed a record of %d bytes, want the %d produced", len(got)-1, len(record))
	}

	r = run(t, addr, record+"\n", "produce", "small", "--producer-property", "max.request.size=3145728")
	if r.err == nil || !strings.Contains(r.err.Error(), "MESSAGE_TOO_LARGE") {
		t.Fatalf("produce of a 2 MiB record to a topic with the default max.message.bytes: %v", r.err)
	}
}

// The size check is kgo's to the byte, or a little stricter: a record the producer lets through is
// never refused by kgo with its MESSAGE_TOO_LARGE, and one byte more gets the producer's message.
func TestProduceSizeLimitBoundary(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "edge", "--partitions", "1")
	const limit = 2048
	for _, keyed := range []bool{false, true} {
		var line string
		for n := 1; ; n++ {
			r := &kgo.Record{Value: []byte(strings.Repeat("v", n)), Headers: []kgo.RecordHeader{{Key: "h", Value: []byte("x")}}}
			line = string(r.Value)
			if keyed {
				r.Key = []byte("key")
				line = "key:" + line
			}
			if batchBytes(r) == limit {
				break
			}
			if batchBytes(r) > limit {
				t.Fatalf("no value size makes a batch of exactly %d bytes", limit)
			}
		}
		args := []string{"produce", "edge", "-X", "max.request.size=" + strconv.Itoa(limit), "--header", "h=x"}
		if keyed {
			args = append(args, "--key-separator", ":")
		}
		ok(t, addr, line+"\n", args...)
		fails(t, addr, line+"v\n", "more than max.request.size (2048 bytes)", args...)
	}
}

func TestProduceProperties(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "props", "--partitions", "1")

	r := run(t, addr, "a\n", "produce", "props", "-X", "linger.ms=1", "-X", "enable.idempotence=false", "-X", "acks=1",
		"--command-property", "compression.type=zstd", "-X", "key.serializer=org.apache.kafka.common.serialization.StringSerializer")
	if r.err != nil || r.stderr != "seiche: warning: -X key.serializer ignored: records are the input's bytes\n" {
		t.Fatalf("produce with properties: %+v", r)
	}
	fails(t, addr, "", "-X no.such.thing: not a producer property this tool supports; supported: acks,", "produce", "props", "-X", "no.such.thing=1")
	fails(t, addr, "", "-X fetch.min.bytes: a consumer property; this command takes producer properties", "produce", "props", "-X", "fetch.min.bytes=1")
	fails(t, addr, "", "-X linger.ms=soon: want a whole number", "produce", "props", "-X", "linger.ms=soon")
	fails(t, addr, "", "-X max.request.size=12: want a number of bytes from 1024", "produce", "props", "-X", "max.request.size=12")
	fails(t, addr, "", "--acks 1 and -X acks=all disagree", "produce", "props", "--acks", "1", "-X", "acks=all")
	fails(t, addr, "", "-X bootstrap.servers: give the brokers with --bootstrap", "produce", "props", "-X", "bootstrap.servers=x:9092")
	fails(t, addr, "", `-X "linger.ms": want key=value`, "produce", "props", "-X", "linger.ms")
}
