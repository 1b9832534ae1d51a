package compat

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestKcat runs the matrix with kcat, that is with librdkafka as Debian ships it (2.0.2 in bookworm),
// with its idempotent producer. librdkafka before 2.11 caps versions below the broker's (seen: Produce
// v7, Fetch v11, JoinGroup v5, SyncGroup v3, Heartbeat v3, LeaveGroup v1, OffsetCommit and OffsetFetch
// v7); each cell logs the versions it used.
func TestKcat(t *testing.T) {
	t.Parallel()
	path, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not found: apt-get install kcat (what .ci/run does)")
	}
	c := kcat{path}
	t.Run("metadata", c.testMetadata)
	runMatrix(t, c)
}

type kcat struct{ path string }

// recFormat makes kcat print consumed records in the matrix's line protocol.
const recFormat = `rec %p %o %s\n`

func (c kcat) argv(args ...string) []string {
	// -u: unbuffered output, so a running member's records reach the test as they arrive.
	return append([]string{c.path, "-u", "-X", "client.id=seiche-compat"}, args...)
}

// groupArgs are the consumer settings of kcat's balanced consumer (-G): the earliest offset where the
// group has none, fast heartbeats so rebalances are quick, and commits every 100ms and at exit.
func (c kcat) groupArgs(addr, topic, group string) []string {
	return c.argv("-b", addr, "-f", recFormat,
		"-X", "auto.offset.reset=earliest",
		"-X", "enable.auto.commit=true",
		"-X", "auto.commit.interval.ms=100",
		"-X", "heartbeat.interval.ms=500",
		"-X", "session.timeout.ms=10000",
		"-G", group, topic)
}

func (kcat) idempotent() bool { return true }

func (c kcat) produce(ctx context.Context, t *testing.T, addr, topic string, values []string) error {
	var in strings.Builder
	for _, v := range values {
		in.WriteString(v + ":" + v + "\n")
	}
	_, err := runProc(ctx, t, "kcat -P", c.argv("-P", "-b", addr, "-t", topic, "-K", ":",
		"-X", "enable.idempotence=true", "-X", "acks=all"), nil, in.String())
	return err
}

func (c kcat) consume(ctx context.Context, t *testing.T, addr, topic string, n int) ([]rec, error) {
	return runProc(ctx, t, "kcat -C", c.argv("-C", "-b", addr, "-t", topic, "-o", "beginning",
		"-c", strconv.Itoa(n), "-f", recFormat), nil, "")
}

func (c kcat) consumeCommit(ctx context.Context, t *testing.T, addr, topic, group string, n int) ([]rec, error) {
	// With -c kcat stops after n records and closes the consumer, which commits the offsets it
	// consumed and leaves the group.
	return runProc(ctx, t, "kcat -G", append(c.groupArgs(addr, topic, group), "-c", strconv.Itoa(n)), nil, "")
}

func (c kcat) join(ctx context.Context, t *testing.T, addr, topic, group string) (member, error) {
	p, err := startProc(ctx, t, "kcat -G", c.groupArgs(addr, topic, group), nil, "", true)
	if p != nil {
		p.stopSignal = interrupt
	}
	return p, err
}

// testMetadata checks kcat -L: the broker and the topic's partitions, each led by the broker.
func (c kcat) testMetadata(t *testing.T) {
	ctx, addr, topic := cell(t)
	out, err := exec.CommandContext(ctx, c.path, "-L", "-J", "-b", addr, "-t", topic).Output()
	if err != nil {
		t.Fatalf("kcat -L: %v", err)
	}
	var md struct {
		Brokers []struct {
			ID   int32  `json:"id"`
			Name string `json:"name"`
		} `json:"brokers"`
		Topics []struct {
			Topic      string `json:"topic"`
			Error      string `json:"error"`
			Partitions []struct {
				Partition int32  `json:"partition"`
				Leader    int32  `json:"leader"`
				Error     string `json:"error"`
			} `json:"partitions"`
		} `json:"topics"`
	}
	if err := json.Unmarshal(out, &md); err != nil {
		t.Fatalf("kcat -L -J: %v in %s", err, out)
	}
	if len(md.Brokers) != 1 || !strings.HasSuffix(md.Brokers[0].Name, addr) {
		t.Errorf("kcat -L: brokers %+v, want one at %s", md.Brokers, addr)
	}
	if len(md.Topics) != 1 || md.Topics[0].Topic != topic || md.Topics[0].Error != "" {
		t.Fatalf("kcat -L: topics %+v, want %s alone", md.Topics, topic)
	}
	ps := md.Topics[0].Partitions
	if len(ps) != partitions {
		t.Fatalf("kcat -L: %d partitions, want %d: %s", len(ps), partitions, out)
	}
	for _, p := range ps {
		if p.Error != "" || len(md.Brokers) == 0 || p.Leader != md.Brokers[0].ID {
			t.Errorf("kcat -L: partition %d: leader %d, error %q", p.Partition, p.Leader, p.Error)
		}
	}
}
