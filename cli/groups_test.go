package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/internal/testutil"
)

// groupRows runs groups describe and returns its rows without the header, split into columns.
func groupRows(t *testing.T, addr, group string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(ok(t, addr, "", "groups", "describe", group)), "\n")
	if got := strings.Fields(lines[0]); !slices.Equal(got, []string{"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"}) {
		t.Fatalf("groups describe header: %q", lines[0])
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

// groupState returns the group's state as groups list shows it, or "" if it is not listed.
func groupState(t *testing.T, addr, group string) string {
	t.Helper()
	for _, l := range strings.Split(ok(t, addr, "", "groups", "list"), "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == group {
			return f[1]
		}
	}
	return ""
}

func sortedLines(s string) []string {
	l := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	slices.Sort(l)
	return l
}

func TestGroups(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "clicks", "--partitions", "2")
	ok(t, addr, "a\nb\n", "produce", "clicks", "--partition", "0")
	ok(t, addr, "c\nd\n", "produce", "clicks", "--partition", "1")
	want := []string{"a", "b", "c", "d"}

	consume := func() {
		t.Helper()
		got := ok(t, addr, "", "consume", "clicks", "--group", "g1", "--from-beginning", "--max-messages", "4")
		if l := sortedLines(got); !slices.Equal(l, want) {
			t.Fatalf("consume --group g1: got %q, want %q in any order", l, want)
		}
	}
	consume()

	// The consumer left the group on exit, after committing what it printed.
	testutil.CheckFor(t, 5*time.Second, func() error {
		if s := groupState(t, addr, "g1"); s != "Empty" {
			return fmt.Errorf("groups list: state of g1 is %q, want Empty", s)
		}
		return nil
	})
	if got := ok(t, addr, "", "groups", "list"); got != "GROUP  STATE  PROTOCOL-TYPE\ng1     Empty  consumer\n" {
		t.Fatalf("groups list:\n%s", got)
	}
	lagRows := func(lag string) [][]string {
		return [][]string{
			{"g1", "clicks", "0", "2", "2", lag, "-", "-", "-"},
			{"g1", "clicks", "1", "2", "2", lag, "-", "-", "-"},
		}
	}
	if got := groupRows(t, addr, "g1"); !slices.EqualFunc(got, lagRows("0"), slices.Equal) {
		t.Fatalf("groups describe g1 after consuming everything: got %q", got)
	}
	r := run(t, addr, "", "groups", "describe", "g1")
	if r.stderr != "Consumer group 'g1' has no active members.\n" {
		t.Fatalf("groups describe of an empty group: stderr %q", r.stderr)
	}
	fails(t, addr, "", "consumer group nope does not exist", "groups", "describe", "nope")

	// Without --execute, reset-offsets prints the plan and changes nothing.
	plan := "GROUP  TOPIC   PARTITION  NEW-OFFSET\ng1     clicks  0          0\ng1     clicks  1          0\n"
	r = run(t, addr, "", "groups", "reset-offsets", "g1", "--topic", "clicks", "--to-earliest")
	if r.err != nil || r.stdout != plan || !strings.Contains(r.stderr, "--execute") {
		t.Fatalf("groups reset-offsets dry run: got %+v", r)
	}
	if got := groupRows(t, addr, "g1"); !slices.EqualFunc(got, lagRows("0"), slices.Equal) {
		t.Fatalf("groups describe g1 after a dry run: got %q", got)
	}
	if got := ok(t, addr, "", "groups", "reset-offsets", "g1", "--topic", "clicks", "--to-earliest", "--execute"); got != plan {
		t.Fatalf("groups reset-offsets --execute: got\n%s", got)
	}
	if got := groupRows(t, addr, "g1"); !slices.EqualFunc(got, [][]string{
		{"g1", "clicks", "0", "0", "2", "2", "-", "-", "-"},
		{"g1", "clicks", "1", "0", "2", "2", "-", "-", "-"},
	}, slices.Equal) {
		t.Fatalf("groups describe g1 after reset to earliest: got %q", got)
	}
	consume() // reads everything again

	// The other scenarios, as dry runs from committed offsets 2 and 2.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--topic", "clicks", "--shift-by", "-1"}, "0 1\n1 1"},
		{[]string{"--topic", "clicks", "--partition", "1", "--to-offset", "1"}, "1 1"},
		{[]string{"--topic", "clicks:0", "--to-offset", "99"}, "0 2"},
		{[]string{"--all-topics", "--to-datetime", "2000-01-01T00:00:00Z"}, "0 0\n1 0"},
		{[]string{"--all-topics", "--to-datetime", "2999-01-01T00:00:00+02:00"}, "0 2\n1 2"},
		{[]string{"--topic", "clicks", "--to-latest", "--dry-run"}, "0 2\n1 2"},
	} {
		r := run(t, addr, "", append([]string{"groups", "reset-offsets", "g1"}, tc.args...)...)
		if r.err != nil {
			t.Fatalf("groups reset-offsets %v: %v", tc.args, r.err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n")[1:] {
			f := strings.Fields(l)
			got = append(got, f[2]+" "+f[3])
		}
		if strings.Join(got, "\n") != tc.want {
			t.Fatalf("groups reset-offsets %v: got plan\n%s", tc.args, r.stdout)
		}
	}
	fails(t, addr, "", "exactly one of", "groups", "reset-offsets", "g1", "--topic", "clicks")
	fails(t, addr, "", "exactly one of", "groups", "reset-offsets", "g1", "--topic", "clicks", "--to-earliest", "--to-latest")
	fails(t, addr, "", "topic nope does not exist", "groups", "reset-offsets", "g1", "--topic", "nope", "--to-earliest")
	fails(t, addr, "", "no partition 7", "groups", "reset-offsets", "g1", "--topic", "clicks", "--partition", "7", "--to-earliest")

	// Offsets can be set for a group that does not exist yet, as with Kafka's tool.
	ok(t, addr, "", "groups", "reset-offsets", "g3", "--topic", "clicks", "--to-offset", "1", "--execute")
	if got := groupRows(t, addr, "g3"); !slices.EqualFunc(got, [][]string{
		{"g3", "clicks", "0", "1", "2", "1", "-", "-", "-"},
		{"g3", "clicks", "1", "1", "2", "1", "-", "-", "-"},
	}, slices.Equal) {
		t.Fatalf("groups describe g3 after reset-offsets created it: got %q", got)
	}

	// A group with a running member cannot be reset; the consumer stops on cancellation.
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan result, 1)
	go func() {
		done <- runTo(ctx, &out, addr, strings.NewReader(""), "consume", "clicks", "--group", "g2", "--from-beginning")
	}()
	testutil.CheckFor(t, 10*time.Second, func() error {
		if got := out.String(); len(sortedLines(got)) != 4 {
			return fmt.Errorf("consume --group g2 printed %q so far, want 4 records", got)
		}
		if s := groupState(t, addr, "g2"); s != "Stable" {
			return fmt.Errorf("state of g2 is %q, want Stable", s)
		}
		return nil
	})
	fails(t, addr, "", "its state is Stable", "groups", "reset-offsets", "g2", "--topic", "clicks", "--to-earliest", "--execute")
	fails(t, addr, "", "has active members", "groups", "delete", "g2")
	rows := groupRows(t, addr, "g2")
	if len(rows) != 2 || len(rows[0]) != 9 || rows[0][6] == "-" {
		t.Fatalf("groups describe of a group with a member: got %q", rows)
	}
	switch rows[0][8] {
	case "seiche-consume":
	case "-":
		// The broker does not yet record a member's client ID and host (JoinGroup's context lacks
		// group.WithClient); the CLI prints "-" for them until it does.
		t.Logf("groups describe: the broker reported no client ID for the member")
	default:
		t.Fatalf("groups describe of a group with a member: client ID %q, want seiche-consume", rows[0][8])
	}
	cancel()
	select {
	case r := <-done:
		if r.err != nil || len(sortedLines(r.stdout)) != 4 {
			t.Fatalf("consume --group g2 stopped by cancellation: got %+v", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("consume --group g2 did not stop within 10s of cancellation")
	}
	// Its final commit covers everything it printed.
	testutil.CheckFor(t, 5*time.Second, func() error {
		rows := groupRows(t, addr, "g2")
		for _, r := range rows {
			if r[5] != "0" {
				return fmt.Errorf("groups describe g2 after the consumer stopped: %q", rows)
			}
		}
		return nil
	})

	if got := ok(t, addr, "", "groups", "delete", "g1", "g2"); got != "Deletion of requested consumer groups ('g1', 'g2') was successful.\n" {
		t.Fatalf("groups delete: got %q", got)
	}
	if s := groupState(t, addr, "g1"); s != "" {
		t.Fatalf("groups list after deleting g1 shows it as %q", s)
	}
	fails(t, addr, "", "consumer group g1 does not exist", "groups", "delete", "g1")
}

// A KIP-848 consumer group, which DescribeGroups does not describe, is described and guarded against
// resets while it has members, as a classic group is.
func TestGroupsConsumerProtocol(t *testing.T) {
	t.Parallel()
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "views", "--partitions", "2")
	ok(t, addr, "a\nb\n", "produce", "views", "--partition", "0")
	ok(t, addr, "c\n", "produce", "views", "--partition", "1")

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("next"), kgo.ConsumeTopics("views"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer()),
		kgo.ClientID("next-gen"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for n := 0; n < 3; {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		n += fs.NumRecords()
	}
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	rows := groupRows(t, addr, "next")
	if len(rows) != 2 {
		t.Fatalf("groups describe of a consumer-protocol group: %q", rows)
	}
	for i, want := range [][]string{{"next", "views", "0", "2", "2", "0"}, {"next", "views", "1", "1", "1", "0"}} {
		if !slices.Equal(rows[i][:6], want) || rows[i][6] == "-" || rows[i][8] != "next-gen" {
			t.Fatalf("groups describe row %d: %q, want %q and the member", i, rows[i], want)
		}
	}
	fails(t, addr, "", "its state is Stable", "groups", "reset-offsets", "next", "--topic", "views", "--to-earliest", "--execute")

	cl.Close() // leaves the group: it is empty, and can be reset
	testutil.CheckFor(t, 5*time.Second, func() error {
		if s := groupState(t, addr, "next"); s != "Empty" {
			return fmt.Errorf("state of next is %q, want Empty", s)
		}
		return nil
	})
	ok(t, addr, "", "groups", "reset-offsets", "next", "--topic", "views", "--to-earliest", "--execute")
	if rows := groupRows(t, addr, "next"); !slices.EqualFunc(rows, [][]string{
		{"next", "views", "0", "0", "2", "2", "-", "-", "-"},
		{"next", "views", "1", "0", "1", "1", "-", "-", "-"},
	}, slices.Equal) {
		t.Fatalf("groups describe after the reset: %q", rows)
	}

	// A share group is named as such, not as a missing consumer group.
	sc, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ShareGroup("sharers"), kgo.ConsumeTopics("views"))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	testutil.CheckFor(t, 10*time.Second, func() error { // the client joins as it starts
		if groupState(t, addr, "sharers") == "" {
			return fmt.Errorf("groups list does not show the share group yet")
		}
		return nil
	})
	fails(t, addr, "", "group sharers is a share group, not a consumer group", "groups", "describe", "sharers")
	fails(t, addr, "", "group sharers is a share group, not a consumer group", "groups", "reset-offsets", "sharers", "--topic", "views", "--to-earliest", "--execute")
}
