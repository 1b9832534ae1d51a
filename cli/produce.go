package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/spf13/cobra"
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
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce one record per line of standard input (like kafka-console-producer.sh)",
		Long: `Produce one record per line of standard input to TOPIC; the line is the record's value. With
--parse-key or --key-separator, each line is KEY<separator>VALUE, split at the first separator, and a
line without the separator is an error naming its line number.

Nothing is printed on success. All records read are flushed before the command exits, also on SIGINT
or SIGTERM; the command fails if any record could not be produced. A line that fails to parse stops
the reading: the lines before it are still produced.`,
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
			opts, err := producerOpts(acks, compression, partition)
			if err != nil {
				return err
			}
			opts = append(opts, kgo.RecordDeliveryTimeout(cf.timeout))
			cl, err := cf.newClient("seiche-produce", opts...)
			if err != nil {
				return err
			}
			defer cl.Close()

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
			}
			readErr := p.run(ctx, cmd.InOrStdin())
			// Records already handed to the client are delivered even after a signal: Flush waits for
			// each to succeed or to fail after the delivery timeout.
			if err := cl.Flush(context.WithoutCancel(ctx)); err != nil {
				return fmt.Errorf("produce: flush: %w", err)
			}
			return errors.Join(readErr, p.deliveryErr())
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
	return cmd
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

// lineProducer produces the lines of a reader as records and remembers delivery failures.
type lineProducer struct {
	cl        *kgo.Client
	topic     string
	partition int32 // -1: let the partitioner choose
	headers   []kgo.RecordHeader
	keySep    []byte
	parseKey  bool
	null      []byte
	hasNull   bool

	mu struct {
		sync.Mutex
		failed    int
		produced  int
		firstErr  error
		firstLine int
	}
}

// line is one line of input, without its line ending, and its 1-based number.
type line struct {
	n    int
	text []byte
	err  error // a read error; text is empty
}

// run hands every line of in to the client until in ends, a line fails to parse, or ctx is done. It
// does not wait for delivery. Reading happens on its own goroutine so that a signal is noticed while
// standing in a read; that goroutine ends at the next line or end of input.
func (p *lineProducer) run(ctx context.Context, in io.Reader) error {
	lines := make(chan line)
	done := make(chan struct{})
	defer close(done)
	go readLines(in, lines, done)

	// Produce must not see the signal: records read before it are still delivered.
	produceCtx := context.WithoutCancel(ctx)
	for {
		var l line
		var ok bool
		select {
		case <-ctx.Done():
			return nil
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
		p.cl.Produce(produceCtx, r, func(_ *kgo.Record, err error) { p.delivered(n, err) })
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

// delivered is the produce promise: it counts records and keeps the first failure.
func (p *lineProducer) delivered(n int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mu.produced++
	if err == nil {
		return
	}
	p.mu.failed++
	if p.mu.firstErr == nil {
		p.mu.firstErr, p.mu.firstLine = err, n
	}
}

// deliveryErr reports failed records, once every promise has run (after Flush).
func (p *lineProducer) deliveryErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.failed == 0 {
		return nil
	}
	return fmt.Errorf("produce: %d of %d records failed; the first, line %d: %w",
		p.mu.failed, p.mu.produced, p.mu.firstLine, p.mu.firstErr)
}

// abbreviate shortens b for an error message.
func abbreviate(b []byte, max int) string {
	if len(b) <= max {
		return string(b)
	}
	return string(b[:max]) + "..."
}
