package cli

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/internal/testutil"
)

func TestTopics(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)

	if got := ok(t, addr, "", "topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=3600000"); got != "Created topic orders.\n" {
		t.Fatalf("topics create: got %q", got)
	}
	fails(t, addr, "", "TOPIC_ALREADY_EXISTS", "topics", "create", "orders")
	if got := ok(t, addr, "", "topics", "create", "orders", "--if-not-exists"); got != "" {
		t.Fatalf("topics create --if-not-exists of an existing topic: got %q", got)
	}
	ok(t, addr, "", "topics", "create", "audit", "--replication-factor", "1")
	fails(t, addr, "", "INVALID_REPLICATION_FACTOR", "topics", "create", "big", "--replication-factor", "3")
	fails(t, addr, "", "want key=value", "topics", "create", "bad", "--config", "retention.ms")
	// The broker's message, not INVALID_PARTITIONS' generic "Number of partitions is below 1.".
	r := run(t, addr, "", "topics", "create", "huge", "--partitions", "100000")
	if r.err == nil || r.err.Error() != "create topic huge: INVALID_PARTITIONS: number of partitions must be between 1 and 10000" {
		t.Fatalf("topics create --partitions 100000: got error %v", r.err)
	}
	fails(t, addr, "", "--partitions 0: want a positive count, or -1 for the broker's default", "topics", "create", "none", "--partitions", "0")
	fails(t, addr, "", "--partitions -2", "topics", "create", "none", "--partitions", "-2")
	fails(t, addr, "", "--replication-factor 0", "topics", "create", "none", "--replication-factor", "0")

	ok(t, addr, "", "topics", "create", "defaults", "--partitions", "-1", "--replication-factor", "-1")
	if got := ok(t, addr, "", "topics", "describe", "defaults"); !strings.Contains(got, "PartitionCount: 1\tReplicationFactor: 1") {
		t.Fatalf("topics create --partitions -1 --replication-factor -1: described as\n%s", got)
	}
	ok(t, addr, "", "topics", "delete", "defaults")
	testutil.CheckFor(t, 5*time.Second, func() error {
		if got := ok(t, addr, "", "topics", "list"); got != "audit\norders\n" {
			return fmt.Errorf("topics list: got %q", got)
		}
		return nil
	})
	if got := ok(t, addr, "", "topics", "list"); got != "audit\norders\n" {
		t.Fatalf("topics list: got %q", got)
	}

	describe := func(want string) {
		t.Helper()
		got := ok(t, addr, "", "topics", "describe", "orders")
		got = regexp.MustCompile(`TopicId: \S+`).ReplaceAllString(got, "TopicId: ID")
		if got != want {
			t.Fatalf("topics describe orders:\ngot:\n%s\nwant:\n%s", got, want)
		}
	}
	partitionLines := func(n int) string {
		var b strings.Builder
		for p := range n {
			fmt.Fprintf(&b, "\tTopic: orders\tPartition: %d\tLeader: 0\tReplicas: 0\tIsr: 0\n", p)
		}
		return b.String()
	}
	describe("Topic: orders\tTopicId: ID\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=3600000\n" + partitionLines(3))

	if got := ok(t, addr, "", "topics", "alter", "orders", "--partitions", "4",
		"--config", "cleanup.policy=compact", "--config", "segment.ms=60000", "--delete-config", "retention.ms"); got != "" {
		t.Fatalf("topics alter: got %q", got)
	}
	describe("Topic: orders\tTopicId: ID\tPartitionCount: 4\tReplicationFactor: 1\tConfigs: cleanup.policy=compact,segment.ms=60000\n" + partitionLines(4))
	fails(t, addr, "", "orders partitions", "topics", "alter", "orders", "--partitions", "2")
	fails(t, addr, "", "nothing to alter", "topics", "alter", "orders")
	fails(t, addr, "", "orders configs", "topics", "alter", "orders", "--config", "no.such.config=1")

	all := ok(t, addr, "", "topics", "describe")
	if !strings.HasPrefix(all, "Topic: audit\t") || !strings.Contains(all, "\nTopic: orders\t") {
		t.Fatalf("topics describe without names should describe audit then orders, got:\n%s", all)
	}
	fails(t, addr, "", "topic nope does not exist", "topics", "describe", "nope")

	ok(t, addr, "", "topics", "delete", "orders", "audit")
	testutil.CheckFor(t, 5*time.Second, func() error {
		if got := ok(t, addr, "", "topics", "list"); got != "" {
			return fmt.Errorf("topics list after deleting every topic: got %q", got)
		}
		return nil
	})
	fails(t, addr, "", "topic orders does not exist", "topics", "delete", "orders")
	ok(t, addr, "", "topics", "delete", "orders", "--if-exists")
}
