// Command txn measures Seiche's transactional produce against its idempotent produce, the baseline, in
// one run against one in-process broker: the same franz-go producer configuration (acks=all,
// idempotent, linger 1 ms), the same 100-byte records into a new topic of -partitions partitions, once
// without transactions and once per transaction size in -txn-sizes (records per transaction: Begin,
// produce them, Flush, EndTransaction(commit)). Throughput is timed from the first Produce to the last
// commit (or acknowledgement). Each run is then read back with a read_committed consumer, untimed, which
// must see every record exactly once.
//
//	go run ./txn [-records 500000] [-partitions 3] [-txn-sizes 100,1000,10000] [-count 3]
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
)

type params struct {
	records    int
	partitions int
	txnSizes   []int
	count      int
	log        io.Writer
}

func main() {
	var p params
	var sizes string
	flag.IntVar(&p.records, "records", 500_000, "records produced per run")
	flag.IntVar(&p.partitions, "partitions", 3, "partitions of each run's topic")
	flag.StringVar(&sizes, "txn-sizes", "100,1000,10000", "records per transaction, comma separated")
	flag.IntVar(&p.count, "count", 3, "runs per configuration; the table shows medians")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "txn benchmark: bad transaction size %q\n", s)
			os.Exit(2)
		}
		p.txnSizes = append(p.txnSizes, n)
	}
	p.log = os.Stderr
	res, err := run(context.Background(), p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "txn benchmark:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, p)
}

// results maps a transaction size (0: idempotent, no transactions) to each run's records/s.
type results map[int][]float64

const valueSize = 100

func run(ctx context.Context, p params) (results, error) {
	dir, err := os.MkdirTemp("", "seiche-txn-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir),
		broker.Logger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() {
		b.Close()
		<-done
	}()
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		return nil, err
	}
	defer adm.Close()

	res := results{}
	configs := append([]int{0}, p.txnSizes...)
	for round := 0; round < p.count; round++ {
		// Alternate the order, so that neither side always runs on a warmer broker.
		order := slices.Clone(configs)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, size := range order {
			topic := fmt.Sprintf("bench-%d-%d", size, round)
			if _, err := kadm.NewClient(adm).CreateTopic(ctx, int32(p.partitions), 1, nil, topic); err != nil {
				return nil, err
			}
			rate, err := produce(ctx, b.Addr(), topic, p.records, size)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name(size), err)
			}
			if err := verify(ctx, b.Addr(), topic, p.records); err != nil {
				return nil, fmt.Errorf("%s: %w", name(size), err)
			}
			fmt.Fprintf(p.log, "round %d %s: %.0f records/s\n", round+1, name(size), rate)
			res[size] = append(res[size], rate)
		}
	}
	return res, nil
}

func name(size int) string {
	if size == 0 {
		return "idempotent"
	}
	return fmt.Sprintf("transactional, %d records/transaction", size)
}

// produce writes n records numbered 0..n-1 into topic, in transactions of size records (no transactions
// when size is 0), and returns records/s.
func produce(ctx context.Context, addr, topic string, n, size int) (float64, error) {
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.DefaultProduceTopic(topic), kgo.ProducerLinger(time.Millisecond),
		kgo.ProducerBatchMaxBytes(1 << 20), kgo.MaxBufferedRecords(1 << 20)}
	if size > 0 {
		opts = append(opts, kgo.TransactionalID("bench-"+topic))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	var mu sync.Mutex // promises may run on several goroutines
	var failed error
	promise := func(_ *kgo.Record, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && failed == nil {
			failed = err
		}
	}
	start := time.Now()
	for i := 0; i < n; {
		end := n
		if size > 0 {
			end = min(n, i+size)
			if err := cl.BeginTransaction(); err != nil {
				return 0, err
			}
		}
		for ; i < end; i++ {
			v := make([]byte, valueSize)
			binary.BigEndian.PutUint64(v, uint64(i))
			cl.Produce(ctx, &kgo.Record{Value: v}, promise)
		}
		if err := cl.Flush(ctx); err != nil {
			return 0, err
		}
		if size > 0 {
			if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
				return 0, err
			}
		}
	}
	elapsed := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if failed != nil {
		return 0, failed
	}
	return float64(n) / elapsed.Seconds(), nil
}

// verify reads topic with read_committed and checks that records 0..n-1 are there, each once.
func verify(ctx context.Context, addr, topic string, n int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return err
	}
	defer cl.Close()
	seen := make([]bool, n)
	got := 0
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for got < n {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("read back %d of %d records: %w", got, n, err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return ferr
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			i := binary.BigEndian.Uint64(r.Value)
			if i >= uint64(n) || seen[i] {
				return fmt.Errorf("record %d read twice or out of range", i)
			}
			seen[i] = true
			got++
		}
	}
	return nil
}

func median(vs []float64) float64 {
	vs = slices.Sorted(slices.Values(vs))
	if len(vs)%2 == 0 {
		return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return vs[len(vs)/2]
}

func (r results) print(w io.Writer, p params) {
	base := median(r[0])
	fmt.Fprintf(w, "| producer | records/s (median of %d, ± half range) | MB/s | vs idempotent |\n|---|---:|---:|---:|\n", p.count)
	for _, size := range append([]int{0}, p.txnSizes...) {
		vs := r[size]
		if len(vs) == 0 {
			continue
		}
		m := median(vs)
		half := (slices.Max(vs) - slices.Min(vs)) / 2
		fmt.Fprintf(w, "| %s | %.0f ± %.0f | %.1f | %.2f× |\n", name(size), m, half, m*valueSize/1e6, m/base)
	}
}
