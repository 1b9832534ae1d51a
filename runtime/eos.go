package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Exactly-once (processing.guarantee=exactly_once_v2, KIP-447), as Kafka Streams runs it:
//
//   - Each stream thread has one transactional producer, the thread's own client, made with
//     franz-go's GroupTransactSession. Its transactional.id is "<application.id>-<process id>-<n>"
//     for thread n (1-based), and its consumer reads committed records only.
//   - Every commit interval (100ms by default) the thread flushes its tasks' stores (changelog
//     records, and the output that record caches hold back), and ends the transaction: the
//     consumed offsets go to it with the group's generation (TxnOffsetCommit), and the output,
//     changelog and offsets commit together, or none of them. Only then do the stores commit
//     locally (Pebble), with the changelog offsets their data covers.
//   - A commit the broker refuses without failing the producer (the group moved on: an illegal
//     generation or unknown member, which is how a zombie thread is fenced under KIP-447) aborts
//     the transaction; the consumer rewinds to the committed offsets and the thread's tasks close
//     without committing and open again from their committed state.
//   - A rebalance aborts the transaction too (franz-go's GroupTransactSession favours aborting
//     over committing from inside the revoke callback): the revoke closes the tasks without
//     committing, and the thread aborts before it processes anything else.
//   - A fenced producer (ProducerFenced, InvalidProducerEpoch: another producer with the thread's
//     transactional.id started, or the broker lost track of the transaction) cannot go on: the
//     thread closes its tasks without committing, closes its client (leaving the group) and
//     joins again with a new one, as Kafka Streams handles a TaskMigratedException.
//
// State after a crash: Kafka Streams wipes the stores of a task that did not close cleanly under
// exactly-once, because RocksDB holds writes of transactions that were never committed. Seiche's
// stores are transactional (KIP-892's design): a task's writes stay in its Pebble batch until the
// thread's Kafka transaction has committed, and the batch commits with the changelog offset it
// covers. A crash leaves each store at a commit that the changelog holds (or behind it), and the
// restore reads the committed changelog records after it, so nothing has to be wiped.
//
// The process id that names the transactional ids is kept in the state directory
// (processIDFile), as Kafka Streams keeps its process id: a restarted instance gets its threads'
// transactional ids back, and its first InitProducerId aborts the transactions the previous run
// left open, instead of the broker waiting for the transaction timeout while read_committed
// consumers, restores included, stop at them.

const (
	// eosCommitInterval is commit.interval.ms under exactly-once unless set (Kafka Streams').
	eosCommitInterval = 100 * time.Millisecond
	// eosTransactionTimeout is the producers' transaction.timeout.ms (Kafka Streams' 10s under
	// exactly-once): how long the broker keeps a transaction whose producer went silent.
	eosTransactionTimeout = 10 * time.Second
	// processIDFile holds an instance's process id in its state directory.
	processIDFile = "seiche-process-id"
)

// eosClientOpts are the options of a stream thread's client under exactly-once.
func (th *thread) eosClientOpts() []kgo.Opt {
	a := th.app
	return []kgo.Opt{
		kgo.TransactionalID(fmt.Sprintf("%s-%s-%d", a.cfg.appID, a.processID, th.idx+1)),
		kgo.TransactionTimeout(eosTransactionTimeout),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	}
}

// beginLocked begins the thread's next transaction.
//
// REQUIRES: th.mu is held.
func (th *thread) beginLocked() error {
	if err := th.sess.Begin(); err != nil {
		return &txnError{op: "begin", err: err}
	}
	return nil
}

// commitTxnLocked commits every task in one transaction: flush the stores (changelog records and
// cached output are produced into the transaction), end the transaction with the consumed offsets,
// then commit the stores locally and begin the next transaction. A transaction the broker aborted
// (the group moved on) makes the tasks start again from their last commit.
//
// REQUIRES: th.mu is held.
func (th *thread) commitTxnLocked(ctx context.Context) error {
	th.mu.nextCommit = time.Now().Add(th.app.cfg.commitInterval)
	if th.mu.abortPending {
		return th.abortTxnLocked(ctx)
	}
	if len(th.mu.tasks) == 0 {
		return nil
	}
	start := time.Now()
	for _, t := range th.mu.tasks {
		if err := t.flushState(ctx); err != nil {
			return err
		}
	}
	if err := th.col.err(); err != nil {
		return th.outputLost(err)
	}
	committed, err := th.endTxn(ctx, kgo.TryCommit)
	if err != nil {
		return &txnError{op: "commit", err: err}
	}
	if !committed {
		th.logger.Info("runtime: transaction aborted: the group moved on before it committed; the tasks start again from their last commit")
		th.col.reset()
		if err := th.reviveLocked(ctx); err != nil {
			return err
		}
		return th.beginLocked()
	}
	if err := th.commitStatesLocked(ctx, start); err != nil {
		return err
	}
	return th.beginLocked()
}

// endTxn ends the transaction. The end of Run does not cut it short: a commit or abort whose
// outcome is unknown can only be aborted afterwards, by a new producer epoch. It is bounded by the
// session timeout instead.
func (th *thread) endTxn(ctx context.Context, commit kgo.TransactionEndTry) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), th.app.cfg.sessionTimeout)
	defer cancel()
	return th.sess.End(ctx, commit)
}

// abortTxnLocked aborts the open transaction, whose tasks the caller has closed (a rebalance) or
// is about to close (a failure): records produced in it are discarded by the broker, and the
// consumer goes back to the committed offsets. It begins the next transaction.
//
// REQUIRES: th.mu is held.
func (th *thread) abortTxnLocked(ctx context.Context) error {
	th.mu.abortPending = false
	if _, err := th.endTxn(ctx, kgo.TryAbort); err != nil {
		return &txnError{op: "abort", err: err}
	}
	th.col.reset()
	return th.beginLocked()
}

// reviveLocked closes every task of the thread without committing and opens it again: after an
// aborted transaction, the stores return to their last commit and the processors start afresh
// (Kafka Streams closes such tasks dirty and revives them).
//
// REQUIRES: th.mu is held.
func (th *thread) reviveLocked(ctx context.Context) error {
	for id, t := range th.mu.tasks {
		if err := t.close(); err != nil {
			th.logger.Warn("runtime: close task", "task", id.String(), "err", err)
		}
		nt, err := th.createTask(ctx, id)
		if err != nil {
			delete(th.mu.tasks, id)
			for tp, owner := range th.mu.byTP {
				if owner == t {
					delete(th.mu.byTP, tp)
				}
			}
			th.publishLocked()
			return err
		}
		th.mu.tasks[id] = nt
		for tp, owner := range th.mu.byTP {
			if owner == t {
				th.mu.byTP[tp] = nt
			}
		}
	}
	th.publishLocked()
	return nil
}

// outputLost is the error for a record the broker refused: under exactly-once a fenced producer
// (the thread rejoins), otherwise the end of the application.
func (th *thread) outputLost(err error) error {
	if th.sess != nil && fenced(err) {
		return &txnError{op: "produce", err: err}
	}
	return fmt.Errorf("runtime: thread %d: output lost: %w", th.idx, err)
}

// txnError is a transaction that failed in the producer or the broker: the thread's producer
// cannot go on (see fenced), or the application stops.
type txnError struct {
	op  string
	err error
}

func (e *txnError) Error() string { return fmt.Sprintf("runtime: transaction %s: %v", e.op, e.err) }
func (e *txnError) Unwrap() error { return e.err }

// rejoin reports whether err is a transaction failure that Kafka Streams answers by closing the
// thread's tasks and rejoining with a new producer (TaskMigratedException): a fenced or stale
// producer, or a commit whose outcome is unknown (a request that failed in transit or timed out, a
// coordinator that moved). Other errors (authorization, a broker without transactions) stop the
// application.
func rejoin(err error) bool {
	var te *txnError
	if !errors.As(err, &te) {
		return false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return false
	}
	if fenced(err) {
		return true
	}
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Retriable || ke == kerr.UnknownServerError
	}
	return true // a transport error: the outcome is unknown, and a new producer aborts it
}

// fenced reports whether err means the producer's epoch is over.
func fenced(err error) bool {
	for _, e := range []error{kerr.ProducerFenced, kerr.InvalidProducerEpoch, kerr.InvalidProducerIDMapping,
		kerr.UnknownProducerID, kerr.TransactionAbortable, kerr.InvalidTxnState, kerr.OperationNotAttempted,
		kerr.FencedInstanceID} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// loadProcessID sets the instance's process id from its state directory, writing a new one there
// the first time (see processIDFile).
func (a *App) loadProcessID() error {
	db, err := a.stateDB()
	if err != nil {
		return err
	}
	path := filepath.Join(db.Dir(), processIDFile)
	b, err := os.ReadFile(path)
	if id := strings.TrimSpace(string(b)); err == nil && isProcessID(id) {
		a.processID = id
		return nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("runtime: read process id: %w", err)
	}
	var raw [8]byte
	rand.Read(raw[:])
	id := hex.EncodeToString(raw[:])
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o644); err != nil {
		return fmt.Errorf("runtime: write process id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("runtime: write process id: %w", err)
	}
	a.processID = id
	return nil
}

func isProcessID(s string) bool {
	if len(s) != 16 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
