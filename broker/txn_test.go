package broker_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
)

// txnProduce runs one transaction of n records to topic, committing or aborting it.
func txnProduce(t *testing.T, cl *kgo.Client, topic string, from, n int, commit bool) {
	t.Helper()
	ctx := testContext(t)
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	for i := from; i < from+n; i++ {
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte(strconv.Itoa(i))}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
		t.Fatalf("end transaction (commit %v): %v", commit, err)
	}
}

// readAll consumes topic from the start with the isolation level until it has read want records, and
// checks that nothing more arrives after that within a further fetch.
func readAll(t *testing.T, addr, topic string, level kgo.IsolationLevel, want int) []*kgo.Record {
	t.Helper()
	cl := newClient(t, addr, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(level), kgo.FetchMaxWait(200*time.Millisecond))
	recs := consumeN(t, cl, want)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	extra := cl.PollFetches(ctx)
	if n := extra.NumRecords(); n > 0 {
		t.Fatalf("read %d records more than the %d expected", n, want)
	}
	return recs
}

func TestTransactionsCommitAbortReadCommitted(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "txn-out", 2, nil)
	prod := newClient(t, b.Addr(), kgo.TransactionalID("tx-1"), kgo.DefaultProduceTopic("txn-out"))

	txnProduce(t, prod, "txn-out", 0, 50, true)
	txnProduce(t, prod, "txn-out", 50, 30, false)
	txnProduce(t, prod, "txn-out", 80, 20, true)

	got := readAll(t, b.Addr(), "txn-out", kgo.ReadCommitted(), 70)
	seen := map[string]bool{}
	for _, r := range got {
		i, _ := strconv.Atoi(string(r.Key))
		if i >= 50 && i < 80 {
			t.Fatalf("read_committed returned aborted record %d", i)
		}
		if seen[string(r.Key)] {
			t.Fatalf("record %s read twice", r.Key)
		}
		seen[string(r.Key)] = true
	}
	// read_uncommitted sees the aborted records too.
	readAll(t, b.Addr(), "txn-out", kgo.ReadUncommitted(), 100)
}
