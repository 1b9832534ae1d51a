package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() { register(newProduceCommand) }

func newProduceCommand() *cobra.Command {
	var cf *clientFlags // set below; the flags exist before RunE runs
	var (
		keySep      string
		parseKey    bool
		nullMarker  string
		acks        string
		compression string
		headers     []string
		partition   int32
		properties  []string
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce one record per line of standard input (like kafka-console-producer.sh)",
		Long: `Produce one record per line of standard input to TOPIC; the line is the record's value. With
--parse-key or --key-separator, each line is KEY<separator>VALUE, split at the first separator, and a
line without the separator is an error naming its line number.

Nothing is printed on success. All records read are flushed before the command exits, also on SIGINT
or SIGTERM; the command fails if any record could not be produced. A line that fails to parse stops
the reading: the lines before it are still produced.

Every record must be acknowledged within --timeout (or -X delivery.timeout.ms) of being read. When one
is not (the broker is down or unreachable), the command stops reading and fails, saying how many
records were not acknowledged: those may or may not have been written.

-X (or --producer-property) passes a Kafka producer property, e.g. -X max.request.size=4194304 to
produce records over the default limit of 1 MiB (the topic's max.message.bytes must allow them too),
-X linger.ms=5, -X enable.idempotence=false; acks and compression.type are the same as --acks and
--compression. An unsupported property is an error listing the supported ones.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			topic := args[0]
			if cmd.Flags().Changed("key-separator") {
				parseKey = true
			}
			if parseKey && keySep == "" {
				return errors.New("--key-separator: must not be empty")
			}
			var hdrs []kgo.RecordHeader
			for _, h := range headers {
				k, v, ok := strings.Cut(h, "=")
				if !ok || k == "" {
					return fmt.Errorf("--header %q: want key=value", h)
				}
				hdrs = append(hdrs, kgo.RecordHeader{Key: k, Value: []byte(v)})
			}
			props, err := parseProperties("producer", properties)
			if err != nil {
				return err
			}
			limits, err := parseProducerLimits(props, cf.timeout)
			if err != nil {
				return err
			}
			// acks and compression.type are the --acks and --compression flags by Kafka's names.
			for _, fp := range []struct {
				flag, key string
				v         *string
			}{{"acks", "acks", &acks}, {"compression", "compression.type", &compression}} {
				if v, ok := props.take(fp.key); ok {
					if cmd.Flags().Changed(fp.flag) && v != *fp.v {
						return fmt.Errorf("--%s %s and -X %s=%s disagree", fp.flag, *fp.v, fp.key, v)
					}
					*fp.v = v
				}
			}
			opts, err := producerOpts(acks, compression, partition)
			if err != nil {
				return err
			}
			opts = append(opts, limits.opts()...)
			popts, err := props.opts("producer", func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), "seiche: warning:", msg) })
			if err != nil {
				return err
			}
			cl, err := cf.newClient("seiche-produce", append(opts, popts...)...)
			if err != nil {
				return err
			}
			var closeOnce sync.Once
			closeClient := func() { closeOnce.Do(cl.Close) }
			defer closeClient()

			ctx, stop := signalContext(cmd.Context())
			defer stop()
			p := &lineProducer{
				cl:        cl,
				topic:     topic,
				partition: partition,
				headers:   hdrs,
				keySep:    []byte(keySep),
				parseKey:  parseKey,
				null:      []byte(nullMarker),
				hasNull:   cmd.Flags().Changed("null-marker"),
				limits:    limits,
			}
			readErr := p.run(ctx, cmd.InOrStdin())
			// Records already handed to the client are delivered even after a signal, each within its
			// delivery timeout. kgo enforces that timeout only when it writes a request or reads a
			// response, so not while no broker answers: past the deadline, closing the client fails
			// whatever is still buffered or in flight.
			fctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), p.flushDeadline())
			if err := cl.Flush(fctx); err != nil {
				p.expire()
				closeClient()
			}
			cancel()
			return errors.Join(readErr, p.deliveryErr(cf))
		},
	}
	cf = withClientFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&parseKey, "parse-key", false, "split each line into key and value at --key-separator")
	f.StringVar(&keySep, "key-separator", "\t", "separator between key and value; giving it implies --parse-key")
	f.StringArrayVar(&headers, "header", nil, "header key=value added to every record (repeatable)")
	f.Int32Var(&partition, "partition", -1, "partition to produce to (default: chosen by key hash, or sticky for null keys)")
	f.StringVar(&acks, "acks", "all", "acknowledgements to wait for: all, 1 or 0")
	f.StringVar(&compression, "compression", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	f.StringVar(&nullMarker, "null-marker", "", "a key or value equal to this string is produced as null (e.g. a tombstone)")
	registerPropertyFlags(f, "producer", &properties)
	return cmd
}

// producerLimits are the size and time bounds of one produce command.
type producerLimits struct {
	// maxRequestSize is max.request.size: the largest record batch the producer sends, so the
	// largest record it accepts (Kafka's default, 1 MiB).
	maxRequestSize int32
	// timeout is how long a record may wait for its acknowledgement once read (--timeout, or
	// delivery.timeout.ms).
	timeout time.Duration
}

// parseProducerLimits takes max.request.size and delivery.timeout.ms from props.
func parseProducerLimits(props clientProps, timeout time.Duration) (producerLimits, error) {
	l := producerLimits{maxRequestSize: 1 << 20, timeout: timeout}
	if v, ok := props.take("max.request.size"); ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1024 || n > 1<<30 {
			return l, fmt.Errorf("-X max.request.size=%s: want a number of bytes from 1024 to %d", v, 1<<30)
		}
		l.maxRequestSize = int32(n)
	}
	if v, ok := props.take("delivery.timeout.ms"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return l, fmt.Errorf("-X delivery.timeout.ms=%s: want a positive number of milliseconds", v)
		}
		l.timeout = time.Duration(n) * time.Millisecond
	}
	return l, nil
}

func (l producerLimits) opts() []kgo.Opt {
	return []kgo.Opt{
		kgo.ProducerBatchMaxBytes(l.maxRequestSize),
		kgo.BrokerMaxWriteBytes(max(l.maxRequestSize+1<<20, 100<<20)),
		// kgo refuses a delivery timeout under a second; lineProducer enforces shorter ones itself.
		kgo.RecordDeliveryTimeout(max(l.timeout, time.Second)),
	}
}

// producerOpts turns the produce flags into kgo options.
func producerOpts(acks, compression string, partition int32) ([]kgo.Opt, error) {
	// Kafka's console producer lets the broker auto-create the topic, if the broker allows it.
	opts := []kgo.Opt{kgo.AllowAutoTopicCreation()}
	switch acks {
	case "all", "-1":
		opts = append(opts, kgo.RequiredAcks(kgo.AllISRAcks()))
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	default:
		return nil, fmt.Errorf("--acks %q: want all, 1 or 0", acks)
	}
	codecs := map[string]kgo.CompressionCodec{
		"none":   kgo.NoCompression(),
		"gzip":   kgo.GzipCompression(),
		"snappy": kgo.SnappyCompression(),
		"lz4":    kgo.Lz4Compression(),
		"zstd":   kgo.ZstdCompression(),
	}
	codec, ok := codecs[compression]
	if !ok {
		return nil, fmt.Errorf("--compression %q: want none, gzip, snappy, lz4 or zstd", compression)
	}
	opts = append(opts, kgo.ProducerBatchCompression(codec))
	switch {
	case partition >= 0:
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	case partition != -1:
		return nil, fmt.Errorf("--partition %d: must not be negative", partition)
	}
	return opts, nil
}

// lineProducer produces the lines of a reader as records and keeps account of their delivery.
type lineProducer struct {
	cl        *kgo.Client
	topic     string
	partition int32 // -1: let the partitioner choose
	headers   []kgo.RecordHeader
	keySep    []byte
	parseKey  bool
	null      []byte
	hasNull   bool
	limits    producerLimits

	mu struct {
		sync.Mutex
		handed    int              // records read and handed to the client (or refused as too large)
		done      int              // of those, delivered or failed
		failed    int              // of those, failed
		expired   bool             // the flush deadline passed: records failing now were not acknowledged in time
		unacked   int              // records failed because of that
		pending   []pendingRecord  // handed records in reading order; the undone ones from the first on
		finished  map[int]struct{} // line numbers done but still in pending
		firstErr  error
		firstLine int
	}
}

// pendingRecord is a record handed to the client: its line number and when it was read.
type pendingRecord struct {
	line int
	at   time.Time
}

// line is one line of input, without its line ending, and its 1-based number.
type line struct {
	n    int
	text []byte
	err  error // a read error; text is empty
}

// run hands every line of in to the client until in ends, a line fails to parse, ctx is done, or a
// record handed over waited longer than the delivery timeout for its acknowledgement. It does not
// wait for delivery. Reading happens on its own goroutine so that a signal is noticed while
// standing in a read; that goroutine ends at the next line or end of input.
func (p *lineProducer) run(ctx context.Context, in io.Reader) error {
	lines := make(chan line)
	done := make(chan struct{})
	defer close(done)
	go readLines(in, lines, done)

	// Produce must not see the signal: records read before it are still delivered. Its context
	// ends only when a record waited too long, which also frees a Produce blocked on a full buffer
	// (kgo's MaxBufferedRecords) while no broker answers.
	produceCtx, stalled := context.WithCancel(context.WithoutCancel(ctx))
	go p.watch(done, stalled)
	for {
		var l line
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case <-produceCtx.Done():
			return nil // deliveryErr reports the records not acknowledged
		case l, ok = <-lines:
		}
		if !ok {
			return nil
		}
		if l.err != nil {
			return fmt.Errorf("produce: reading line %d: %w", l.n, l.err)
		}
		r, err := p.record(l)
		if err != nil {
			return err
		}
		n := l.n
		p.handed(n)
		if size := batchBytes(r); size > int64(p.limits.maxRequestSize) {
			// Refused here rather than by kgo, whose error (kerr's MESSAGE_TOO_LARGE) speaks of the
			// server even when the limit is the client's own.
			p.delivered(n, &recordTooLargeError{size: size, max: p.limits.maxRequestSize})
			continue
		}
		p.cl.Produce(produceCtx, r, func(_ *kgo.Record, err error) { p.delivered(n, err) })
	}
}

// watch calls stalled, after marking the delivery as expired, once a record waited longer than the
// delivery timeout for its acknowledgement. It returns then, or when done is closed.
func (p *lineProducer) watch(done <-chan struct{}, stalled context.CancelFunc) {
	tick := time.NewTicker(min(max(p.limits.timeout/4, 10*time.Millisecond), time.Second))
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			if at, ok := p.oldestPending(); ok && time.Since(at) > p.limits.timeout {
				p.expire()
				stalled()
				return
			}
		}
	}
}

// readLines sends each line of in on lines, then closes it. It stops early when done is closed. A
// read error is sent as a last line carrying the error; the partial line before it is dropped.
func readLines(in io.Reader, lines chan<- line, done <-chan struct{}) {
	defer close(lines)
	br := bufio.NewReaderSize(in, 64<<10)
	for n := 1; ; n++ {
		text, err := br.ReadBytes('\n')
		var l line
		switch {
		case err == nil || (err == io.EOF && len(text) > 0):
			text = bytes.TrimSuffix(text, []byte("\n"))
			l = line{n: n, text: bytes.TrimSuffix(text, []byte("\r"))}
		case err == io.EOF:
			return
		default:
			l = line{n: n, err: err}
		}
		select {
		case lines <- l:
		case <-done:
			return
		}
		if err != nil {
			return
		}
	}
}

// record builds the record for one input line.
func (p *lineProducer) record(l line) (*kgo.Record, error) {
	r := &kgo.Record{Topic: p.topic, Value: l.text, Headers: p.headers}
	if p.parseKey {
		k, v, ok := bytes.Cut(l.text, p.keySep)
		if !ok {
			return nil, fmt.Errorf("line %d: no key separator %q in %q", l.n, p.keySep, abbreviate(l.text, 80))
		}
		r.Key, r.Value = k, v
		if p.hasNull && bytes.Equal(r.Key, p.null) {
			r.Key = nil
		}
	}
	if p.hasNull && bytes.Equal(r.Value, p.null) {
		r.Value = nil
	}
	if p.partition >= 0 {
		r.Partition = p.partition
	}
	return r, nil
}

// handed notes that the record of line n was read and given to the client.
func (p *lineProducer) handed(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.handed++
	p.mu.pending = append(p.mu.pending, pendingRecord{line: n, at: time.Now()})
}

// delivered is the produce promise: it counts records and keeps the first failure.
func (p *lineProducer) delivered(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.done++
	if p.mu.finished == nil {
		p.mu.finished = map[int]struct{}{}
	}
	p.mu.finished[n] = struct{}{}
	for len(p.mu.pending) > 0 {
		first := p.mu.pending[0].line
		if _, ok := p.mu.finished[first]; !ok {
			break
		}
		delete(p.mu.finished, first)
		p.mu.pending = p.mu.pending[1:]
	}
	if err == nil {
		return
	}
	p.mu.failed++
	// kgo's own record timeout (while it waits for metadata it cannot get), and, once a record
	// waited too long, the end of the records' context and closing the client all mean no
	// acknowledgement in time.
	if errors.Is(err, kgo.ErrRecordTimeout) ||
		(p.mu.expired && (errors.Is(err, kgo.ErrClientClosed) || errors.Is(err, context.Canceled))) {
		p.mu.unacked++
		return
	}
	if p.mu.firstErr == nil {
		p.mu.firstErr, p.mu.firstLine = err, n
	}
}

// oldestPending returns when the oldest record not yet delivered or failed was read.
func (p *lineProducer) oldestPending() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.mu.pending) == 0 {
		return time.Time{}, false
	}
	return p.mu.pending[0].at, true
}

// flushDeadline is when the last record still waiting runs out of time: the delivery timeout
// after it was read. With none waiting it is now.
func (p *lineProducer) flushDeadline() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.mu.pending) == 0 {
		return time.Now()
	}
	return p.mu.pending[len(p.mu.pending)-1].at.Add(p.limits.timeout)
}

// expire marks the delivery as late: a record waited longer than the delivery timeout, or the
// flush deadline passed. Records failing from now on because their context ended or the client
// was closed were not acknowledged in time.
func (p *lineProducer) expire() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.expired = true
}

// deliveryErr reports failed records, once every promise has run (after Flush or Close).
func (p *lineProducer) deliveryErr(cf *clientFlags) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	if n := p.mu.unacked + (p.mu.handed - p.mu.done); n > 0 {
		why := "no answer from " + cf.bootstrap
		if derr := cf.dials.last(); derr != nil {
			why += ": " + derr.Error()
		}
		errs = append(errs, fmt.Errorf("produce: %d of %d records were not acknowledged within %s (%s); they may or may not have been written",
			n, p.mu.handed, p.limits.timeout, why))
	}
	if failed := p.mu.failed - p.mu.unacked; failed > 0 {
		errs = append(errs, fmt.Errorf("produce: %d of %d records failed; the first, line %d: %w",
			failed, p.mu.handed, p.mu.firstLine, p.mu.firstErr))
	}
	return errors.Join(errs...)
}

// recordTooLargeError is a record over the producer's max.request.size.
type recordTooLargeError struct {
	size int64
	max  int32
}

func (e *recordTooLargeError) Error() string {
	return fmt.Sprintf("the record is %d bytes when serialized, more than max.request.size (%d bytes), the producer's limit: "+
		"raise it with -X max.request.size=BYTES (the topic's max.message.bytes must allow the record too)", e.size, e.max)
}

func (e *recordTooLargeError) Is(target error) bool { return target == kerr.MessageTooLarge }

// batchBytes is the size of a record batch holding only r, as kgo counts it against
// ProducerBatchMaxBytes: kgo's batch overhead (the 61 bytes of Kafka's batch header, 4 for the
// array length and up to 5 for a flexible request's length prefix) and the record.
func batchBytes(r *kgo.Record) int64 {
	const overhead = 61 + 4 + 5
	body := 1 + 1 + 1 + // attributes, timestamp delta 0, offset delta 0
		varintLen(len(r.Key)) + len(r.Key) + varintLen(len(r.Value)) + len(r.Value) + varintLen(len(r.Headers))
	if r.Key == nil {
		body += varintLen(-1) - varintLen(0)
	}
	if r.Value == nil {
		body += varintLen(-1) - varintLen(0)
	}
	for _, h := range r.Headers {
		body += varintLen(len(h.Key)) + len(h.Key) + varintLen(len(h.Value)) + len(h.Value)
	}
	return int64(overhead + varintLen(body) + body)
}

// varintLen is the length of n as a zigzag varint, as Kafka's records encode lengths.
func varintLen(n int) int {
	u := uint64(n<<1) ^ uint64(n>>63)
	l := 1
	for u >= 0x80 {
		u >>= 7
		l++
	}
	return l
}

// abbreviate shortens b for an error message.
func abbreviate(b []byte, max int) string {
	if len(b) <= max {
		return string(b)
	}
	return string(b[:max]) + "..."
}
