package cli

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() { register(newConsumeCommand) }

// consumeOptions are the flags of the consume command.
type consumeOptions struct {
	fromBeginning bool
	group         string
	partition     int32
	offset        string
	maxMessages   int
	timeoutMs     int64
	format        string
	recordFormat
}

func newConsumeCommand() *cobra.Command {
	var cf *clientFlags // set below; the flags exist before RunE runs
	var o consumeOptions
	cmd := &cobra.Command{
		Use:   "consume TOPIC...",
		Short: "Print records of topics to standard output (like kafka-console-consumer.sh)",
		Long: `Print the records of the given topics, one per line, until SIGINT or SIGTERM, --max-messages
records, or --timeout-ms without a record. Without --group or --partition every partition of the topics
is read, from the end unless --from-beginning. With --group the records are read as a member of that
consumer group: the group's committed offsets are where reading starts (--from-beginning applies only
to partitions without one), and the offsets of printed records are committed periodically and on exit.

Formats: value prints the value, optionally preceded by the fields the --print-* flags select, in
kafka-console-consumer.sh's order (timestamp, partition, offset, headers, key), each followed by the
--separator; kv is value with --print-key; json prints one object per record with topic, partition,
offset, timestamp (Unix milliseconds), key, value and headers (a list of {"key","value"}); there a key,
value or header value that is not UTF-8 is given in base64 and marked with "key_encoding" or
"value_encoding": "base64". Null keys and values print as --null-literal, or null in json.

"Processed a total of N messages" is written to standard error at the end, as Kafka's tool does.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(cmd, args); err != nil {
				return err
			}
			opts, err := o.clientOpts(args)
			if err != nil {
				return err
			}
			cl, err := cf.newClient("seiche-consume", opts...)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			n, err := o.consume(ctx, cl, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if o.group != "" {
				// Commit what was printed before leaving the group, also after a signal; Close's own
				// commit on revoke would do the same but swallows errors.
				cctx, cancel := cf.requestContext(context.WithoutCancel(ctx))
				if cerr := cl.CommitMarkedOffsets(cctx); cerr != nil && err == nil {
					err = fmt.Errorf("consume: commit offsets of group %s: %w", o.group, cf.describeErr(cerr))
				}
				cancel()
			}
			cl.Close()
			fmt.Fprintf(cmd.ErrOrStderr(), "Processed a total of %d messages\n", n)
			return err
		},
	}
	cf = withClientFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&o.fromBeginning, "from-beginning", false, "start at the earliest offset when there is no committed offset (default: the latest)")
	f.StringVar(&o.group, "group", "", "consumer group to consume as; committed offsets are resumed and updated")
	f.Int32Var(&o.partition, "partition", -1, "consume only this partition of the single TOPIC (not with --group)")
	f.StringVar(&o.offset, "offset", "", "with --partition: earliest, latest or an offset to start at (default: latest, or earliest with --from-beginning)")
	f.IntVar(&o.maxMessages, "max-messages", 0, "exit after printing this many records (0: no limit)")
	f.Int64Var(&o.timeoutMs, "timeout-ms", 0, "exit when no record arrives for this many milliseconds (0: wait forever)")
	f.StringVar(&o.format, "format", "value", "output format: value, kv or json")
	f.StringVar(&o.separator, "separator", "\t", "separator between printed fields (value and kv formats)")
	f.StringVar(&o.nullLiteral, "null-literal", "null", "what a null key or value prints as (value and kv formats)")
	f.BoolVar(&o.printKey, "print-key", false, "print the key before the value")
	f.BoolVar(&o.printHeaders, "print-headers", false, "print headers as k:v,k:v (NO_HEADERS when none) before the key")
	f.BoolVar(&o.printTimestamp, "print-timestamp", false, "print CreateTime:<ms> or LogAppendTime:<ms> first")
	f.BoolVar(&o.printPartition, "print-partition", false, "print Partition:<n>")
	f.BoolVar(&o.printOffset, "print-offset", false, "print Offset:<n>")
	return cmd
}

func (o *consumeOptions) validate(cmd *cobra.Command, topics []string) error {
	switch o.format {
	case "value":
	case "kv":
		o.printKey = true
	case "json":
		o.json = true
	default:
		return fmt.Errorf("--format %q: want value, kv or json", o.format)
	}
	offsetGiven := cmd.Flags().Changed("offset")
	switch {
	case o.partition < -1:
		return fmt.Errorf("--partition %d: must not be negative", o.partition)
	case o.partition >= 0 && o.group != "":
		return errors.New("--partition and --group cannot both be given")
	case o.partition >= 0 && len(topics) != 1:
		return errors.New("--partition needs exactly one topic")
	case offsetGiven && o.partition < 0:
		return errors.New("--offset needs --partition")
	case offsetGiven && o.fromBeginning:
		return errors.New("--offset and --from-beginning cannot both be given")
	case o.maxMessages < 0:
		return fmt.Errorf("--max-messages %d: must not be negative", o.maxMessages)
	case o.timeoutMs < 0:
		return fmt.Errorf("--timeout-ms %d: must not be negative", o.timeoutMs)
	}
	return nil
}

// clientOpts chooses between group, single-partition and whole-topic consuming.
func (o *consumeOptions) clientOpts(topics []string) ([]kgo.Opt, error) {
	start := kgo.NewOffset().AtEnd()
	if o.fromBeginning {
		start = kgo.NewOffset().AtStart()
	}
	switch {
	case o.partition >= 0:
		switch o.offset {
		case "":
		case "earliest":
			start = kgo.NewOffset().AtStart()
		case "latest":
			start = kgo.NewOffset().AtEnd()
		default:
			at, err := strconv.ParseInt(o.offset, 10, 64)
			if err != nil || at < 0 {
				return nil, fmt.Errorf("--offset %q: want earliest, latest or a non-negative offset", o.offset)
			}
			start = kgo.NewOffset().At(at)
		}
		return []kgo.Opt{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topics[0]: {o.partition: start}})}, nil
	case o.group != "":
		return []kgo.Opt{
			kgo.ConsumerGroup(o.group),
			kgo.ConsumeTopics(topics...),
			kgo.ConsumeResetOffset(start),
			// Only printed records are committed, so that --max-messages or a signal never skips
			// records that were fetched but not printed.
			kgo.AutoCommitMarks(),
		}, nil
	default:
		return []kgo.Opt{kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(start)}, nil
	}
}

// consume prints records until ctx is done, --max-messages were printed or --timeout-ms passed without
// a record, and returns how many it printed. In a group it marks each printed record for commit.
func (o *consumeOptions) consume(ctx context.Context, cl *kgo.Client, stdout, stderr io.Writer) (int, error) {
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	n := 0
	for o.maxMessages == 0 || n < o.maxMessages {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if o.timeoutMs > 0 {
			pollCtx, cancel = context.WithTimeout(ctx, time.Duration(o.timeoutMs)*time.Millisecond)
		}
		fetches := cl.PollRecords(pollCtx, o.maxMessages-n)
		timedOut := pollCtx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			return n, nil
		}
		var fatal error
		fetches.EachError(func(topic string, partition int32, err error) {
			var dataLoss *kgo.ErrDataLoss
			switch {
			case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded), errors.Is(err, kgo.ErrClientClosed):
			case errors.As(err, &dataLoss):
				fmt.Fprintf(stderr, "seiche: warning: %v\n", err)
			case fatal == nil:
				fatal = fmt.Errorf("consume %s partition %d: %w", topic, partition, err)
			}
		})
		if fatal != nil {
			return n, fatal
		}
		for r := range fetches.RecordsAll() {
			if err := o.write(w, r); err != nil {
				return n, err
			}
			n++
			if o.group != "" {
				cl.MarkCommitRecords(r)
			}
		}
		if err := w.Flush(); err != nil {
			return n, err
		}
		if timedOut && fetches.NumRecords() == 0 {
			return n, nil
		}
	}
	return n, nil
}

// recordFormat says how a record is printed.
type recordFormat struct {
	json           bool
	separator      string
	nullLiteral    string
	printKey       bool
	printHeaders   bool
	printTimestamp bool
	printPartition bool
	printOffset    bool
}

// write prints one record and its line ending.
func (f *recordFormat) write(w *bufio.Writer, r *kgo.Record) error {
	if f.json {
		return writeJSONRecord(w, r)
	}
	field := func(s string) {
		w.WriteString(s)
		w.WriteString(f.separator)
	}
	if f.printTimestamp {
		switch r.Attrs.TimestampType() {
		case 0:
			field("CreateTime:" + strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
		case 1:
			field("LogAppendTime:" + strconv.FormatInt(r.Timestamp.UnixMilli(), 10))
		default:
			field("NO_TIMESTAMP")
		}
	}
	if f.printPartition {
		field("Partition:" + strconv.Itoa(int(r.Partition)))
	}
	if f.printOffset {
		field("Offset:" + strconv.FormatInt(r.Offset, 10))
	}
	if f.printHeaders {
		if len(r.Headers) == 0 {
			w.WriteString("NO_HEADERS")
		}
		for i, h := range r.Headers {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(h.Key)
			w.WriteByte(':')
			w.WriteString(f.text(h.Value))
		}
		w.WriteString(f.separator)
	}
	if f.printKey {
		field(f.text(r.Key))
	}
	w.WriteString(f.text(r.Value))
	return w.WriteByte('\n')
}

// text renders bytes for the value and kv formats: as they are, as Kafka's console consumer does.
func (f *recordFormat) text(b []byte) string {
	if b == nil {
		return f.nullLiteral
	}
	return string(b)
}

// jsonRecord is one line of --format json. Field order is the output order.
type jsonRecord struct {
	Topic         string       `json:"topic"`
	Partition     int32        `json:"partition"`
	Offset        int64        `json:"offset"`
	Timestamp     int64        `json:"timestamp"`
	Key           *string      `json:"key"`
	KeyEncoding   string       `json:"key_encoding,omitempty"`
	Value         *string      `json:"value"`
	ValueEncoding string       `json:"value_encoding,omitempty"`
	Headers       []jsonHeader `json:"headers"`
}

type jsonHeader struct {
	Key           string  `json:"key"`
	Value         *string `json:"value"`
	ValueEncoding string  `json:"value_encoding,omitempty"`
}

func writeJSONRecord(w io.Writer, r *kgo.Record) error {
	j := jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
		Headers:   make([]jsonHeader, 0, len(r.Headers)),
	}
	j.Key, j.KeyEncoding = jsonBytes(r.Key)
	j.Value, j.ValueEncoding = jsonBytes(r.Value)
	for _, h := range r.Headers {
		jh := jsonHeader{Key: h.Key}
		jh.Value, jh.ValueEncoding = jsonBytes(h.Value)
		j.Headers = append(j.Headers, jh)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(j)
}

// jsonBytes renders bytes for JSON: nil as null, UTF-8 as a string, anything else as base64 with
// the encoding named.
func jsonBytes(b []byte) (*string, string) {
	switch {
	case b == nil:
		return nil, ""
	case utf8.Valid(b):
		s := string(b)
		return &s, ""
	default:
		s := base64.StdEncoding.EncodeToString(b)
		return &s, "base64"
	}
}
