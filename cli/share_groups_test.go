package cli

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/internal/testutil"
)

// shareRows runs share-groups describe with args and returns its rows, split into columns, after
// checking the header.
func shareRows(t *testing.T, addr string, header []string, args ...string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(ok(t, addr, "", append([]string{"share-groups", "describe"}, args...)...)), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, header) {
		t.Fatalf("share-groups describe %s header: %q", strings.Join(args, " "), lines[0])
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

var shareOffsetsHeader = []string{"GROUP", "TOPIC", "PARTITION", "LEADER-EPOCH", "START-OFFSET", "LAG"}

// startOffsets returns the START-OFFSET and LAG columns of a share group's partitions.
func startOffsets(t *testing.T, addr, group string) [][]string {
	t.Helper()
	var got [][]string
	for _, r := range shareRows(t, addr, shareOffsetsHeader, group) {
		got = append(got, []string{r[1], r[2], r[4], r[5]})
	}
	return got
}

func TestShareGroups(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "jobs", "--partitions", "2")
	ok(t, addr, "a\nb\n", "produce", "jobs", "--partition", "0")
	ok(t, addr, "c\n", "produce", "jobs", "--partition", "1")

	// A share group that does not exist yet is made to start at the beginning: a dry run first.
	r := run(t, addr, "", "share-groups", "reset-offsets", "workers", "--topic", "jobs", "--to-earliest")
	if r.err != nil || r.stdout != "GROUP    TOPIC  PARTITION  NEW-OFFSET\nworkers  jobs   0          0\nworkers  jobs   1          0\n" ||
		!strings.Contains(r.stderr, "Dry run") {
		t.Fatalf("share-groups reset-offsets (dry run): %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if got := ok(t, addr, "", "share-groups", "list"); got != "GROUP  STATE\n" {
		t.Fatalf("share-groups list after a dry run:\n%s", got)
	}
	ok(t, addr, "", "share-groups", "reset-offsets", "workers", "--topic", "jobs", "--to-earliest", "--execute")
	if got := ok(t, addr, "", "share-groups", "list"); got != "GROUP    STATE\nworkers  Empty\n" {
		t.Fatalf("share-groups list:\n%s", got)
	}
	if got, want := startOffsets(t, addr, "workers"), [][]string{{"jobs", "0", "0", "2"}, {"jobs", "1", "0", "1"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("share-groups describe before consuming: %q, want %q", got, want)
	}

	// A member takes all three records.
	sc, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ShareGroup("workers"), kgo.ConsumeTopics("jobs"), kgo.ClientID("worker-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for n := 0; n < 3; {
		fs := sc.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		n += fs.NumRecords()
	}
	members := shareRows(t, addr, []string{"GROUP", "CONSUMER-ID", "HOST", "CLIENT-ID", "#PARTITIONS", "ASSIGNMENT"}, "workers", "--members")
	if len(members) != 1 || members[0][0] != "workers" || members[0][3] != "worker-1" || members[0][4] != "2" || members[0][5] != "jobs:0,1" {
		t.Fatalf("share-groups describe --members: %q", members)
	}
	state := shareRows(t, addr, []string{"GROUP", "COORDINATOR", "(ID)", "ASSIGNMENT-STRATEGY", "STATE", "GROUP-EPOCH", "ASSIGNMENT-EPOCH", "#MEMBERS"}, "workers", "--state")
	if len(state) != 1 || state[0][0] != "workers" || state[0][4] != "Stable" || state[0][7] != "1" {
		t.Fatalf("share-groups describe --state: %q", state)
	}
	fails(t, addr, "", "can only be reset while it has no members, but its state is Stable",
		"share-groups", "reset-offsets", "workers", "--topic", "jobs", "--to-earliest", "--execute")
	fails(t, addr, "", "share group workers has active members", "share-groups", "delete", "workers")

	// The member accepts what it was given, and leaves: nothing is left to deliver.
	sc.MarkAcks(kgo.AckAccept)
	if err := sc.FlushAcks(ctx); err != nil {
		t.Fatal(err)
	}
	sc.Close()
	testutil.CheckFor(t, 10*time.Second, func() error {
		if got, want := startOffsets(t, addr, "workers"), [][]string{{"jobs", "0", "2", "0"}, {"jobs", "1", "1", "0"}}; !slices.EqualFunc(got, want, slices.Equal) {
			return fmt.Errorf("share-groups describe after the member left: %q, want %q", got, want)
		}
		return nil
	})

	// Back one record on partition 0; then the group's state for the topic is dropped.
	ok(t, addr, "", "share-groups", "reset-offsets", "workers", "--topic", "jobs:0", "--shift-by", "-1", "--execute")
	if got, want := startOffsets(t, addr, "workers"), [][]string{{"jobs", "0", "1", "1"}, {"jobs", "1", "1", "0"}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("share-groups describe after --shift-by -1: %q, want %q", got, want)
	}
	if got := ok(t, addr, "", "share-groups", "delete-offsets", "workers", "--topic", "jobs"); got != "Deleted the offsets of share group 'workers' for jobs.\n" {
		t.Fatalf("share-groups delete-offsets: %q", got)
	}
	if got := startOffsets(t, addr, "workers"); len(got) != 0 {
		t.Fatalf("share-groups describe after delete-offsets: %q", got)
	}

	// seiche consume reads as a member of the share group, acknowledging what it prints.
	ok(t, addr, "", "share-groups", "reset-offsets", "workers", "--topic", "jobs", "--to-earliest", "--execute")
	r = run(t, addr, "", "consume", "jobs", "--share-group", "workers", "--max-messages", "2")
	if lines := sortedLines(r.stdout); r.err != nil || len(lines) != 2 || !strings.Contains(r.stderr, "Processed a total of 2 messages") {
		t.Fatalf("consume --share-group --max-messages 2: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	testutil.CheckFor(t, 10*time.Second, func() error {
		lag := 0
		for _, row := range startOffsets(t, addr, "workers") {
			n, _ := strconv.Atoi(row[3])
			lag += n
		}
		if lag != 1 {
			return fmt.Errorf("share-groups describe after consuming two of three records: lag %d in all, want 1", lag)
		}
		return nil
	})
	fails(t, addr, "", "do not apply to a share group", "consume", "jobs", "--share-group", "workers", "--from-beginning")
	fails(t, addr, "", "--group and --share-group cannot both be given", "consume", "jobs", "--share-group", "workers", "--group", "g")

	// A consumer group is not a share group; a share group is not a consumer group.
	ok(t, addr, "", "consume", "jobs", "--group", "readers", "--from-beginning", "--max-messages", "3")
	fails(t, addr, "", "group readers is a consumer group, not a share group", "share-groups", "delete", "readers")
	fails(t, addr, "", "group readers is a consumer group, not a share group",
		"share-groups", "reset-offsets", "readers", "--topic", "jobs", "--to-earliest")
	fails(t, addr, "", "group workers is a share group, not a consumer group (see seiche share-groups)", "groups", "describe", "workers")

	if got := ok(t, addr, "", "share-groups", "delete", "workers"); got != "Deletion of requested share groups ('workers') was successful.\n" {
		t.Fatalf("share-groups delete: %q", got)
	}
	if got := ok(t, addr, "", "share-groups", "list"); got != "GROUP  STATE\n" {
		t.Fatalf("share-groups list after delete:\n%s", got)
	}
	fails(t, addr, "", "share group workers does not exist", "share-groups", "describe", "workers")
}
