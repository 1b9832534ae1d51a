package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func init() { register(newConsumeCommand) }

// consumeOptions are the flags of the consume command.
type consumeOptions struct {
	fromBeginning bool
	group         string
	shareGroup    string
	partition     int32
	offset        string
	reset         string
	maxMessages   int
	timeoutMs     int64
	format        string
	keyFormat     string
	valueFormat   string
	properties    []string
	commit        bool // commit the printed records' offsets (with --group, unless enable.auto.commit=false)
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
With --group, --timeout-ms counts from the moment the group assigned this member its partitions; the
join itself may take up to --timeout.

With --share-group the records are read as a member of that share group (KIP-932, Kafka's queues; as
kafka-console-share-consumer.sh): the broker hands each record to one member at a time, and each
printed record is acknowledged as accepted (records taken but not printed are released to other
members). Where a share group starts reading is its own (share.auto.offset.reset, or the offsets
"seiche share-groups reset-offsets" sets), so --from-beginning, --partition and --offset do not apply;
--timeout-ms counts from the start, the join included.

The topics, and with --partition the partition, must exist: the command fails otherwise, and when
the cluster does not answer within --timeout. --offset past the end of the partition, or before its
start, is reset as --reset says (as Kafka's auto.offset.reset): latest waits at the end for new
records (the default, as kafka-console-consumer.sh), earliest reads from the start, none fails.

Formats: value prints the value, optionally preceded by the fields the --print-* flags select, in
kafka-console-consumer.sh's order (timestamp, partition, offset, headers, key), each followed by the
--separator; kv is value with --print-key; json prints one object per record with topic, partition,
offset, timestamp (Unix milliseconds), key, value and headers (a list of {"key","value"}); there a key,
value or header value that is not UTF-8 is given in base64 and marked with "key_encoding" or
"value_encoding": "base64". Null keys and values print as --null-literal, or null in json.

--key-format and --value-format decode keys and values: string (as they are), long, int, short,
double and float (the big-endian bytes of Kafka's serializers: a count from Kafka Streams or ksqlDB
is a long), hex or base64 (any bytes, encoded for printing) and json (printed compact; embedded as
JSON in --format json, where numbers are JSON numbers too). A key or value that does not decode stops
the command with an error naming its topic, partition and offset.

-X (or --consumer-property) passes a Kafka consumer property, e.g. -X max.partition.fetch.bytes=4194304,
-X isolation.level=read_committed, -X auto.offset.reset=earliest (the same as --reset),
-X enable.auto.commit=false (with --group: commit nothing). An unsupported property is an error
listing the supported ones.

"Processed a total of N messages" is written to standard error at the end, as Kafka's tool does.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			props, err := parseProperties("consumer", o.properties)
			if err != nil {
				return err
			}
			if err := o.validate(cmd, args, props); err != nil {
				return err
			}
			popts, err := props.opts("consumer", func(msg string) { fmt.Fprintln(cmd.ErrOrStderr(), "seiche: warning:", msg) })
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			start, err := o.check(ctx, cf, args, cmd.ErrOrStderr(), popts)
			if err != nil {
				return err
			}
			assigned := make(chan struct{})
			opts := append(o.clientOpts(args, start, assigned), popts...)
			cl, err := cf.newClient("seiche-consume", opts...)
			if err != nil {
				return err
			}
			n, err := o.consume(ctx, cf, cl, assigned, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if o.shareGroup != "" {
				// Send the acknowledgements of what was printed before leaving, also after a signal.
				cctx, cancel := cf.requestContext(context.WithoutCancel(ctx))
				if aerr := cl.FlushAcks(cctx); aerr != nil && err == nil {
					err = fmt.Errorf("consume: acknowledge records of share group %s: %w", o.shareGroup, cf.describeErr(aerr))
				}
				cancel()
			}
			if o.commit {
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
	f.StringVar(&o.shareGroup, "share-group", "", "share group to consume as (Kafka's queues): printed records are acknowledged")
	f.Int32Var(&o.partition, "partition", -1, "consume only this partition of the single TOPIC (not with --group)")
	f.StringVar(&o.offset, "offset", "", "with --partition: earliest, latest or an offset to start at (default: latest, or earliest with --from-beginning)")
	f.StringVar(&o.reset, "reset", "", "where to go when --offset is outside the log: latest, earliest or none (fail); the default is latest, or earliest with --from-beginning")
	f.IntVar(&o.maxMessages, "max-messages", 0, "exit after printing this many records (0: no limit)")
	f.Int64Var(&o.timeoutMs, "timeout-ms", 0, "exit when no record arrives for this many milliseconds (0: wait forever); with --group, counted from the assignment")
	f.StringVar(&o.format, "format", "value", "output format: value, kv or json")
	f.StringVar(&o.keyFormat, "key-format", "string", "how keys are decoded: string, long, int, short, double, float, hex, base64 or json")
	f.StringVar(&o.valueFormat, "value-format", "string", "how values are decoded: string, long, int, short, double, float, hex, base64 or json")
	f.StringVar(&o.separator, "separator", "\t", "separator between printed fields (value and kv formats)")
	f.StringVar(&o.nullLiteral, "null-literal", "null", "what a null key or value prints as (value and kv formats)")
	f.BoolVar(&o.printKey, "print-key", false, "print the key before the value")
	f.BoolVar(&o.printHeaders, "print-headers", false, "print headers as k:v,k:v (NO_HEADERS when none) before the key")
	f.BoolVar(&o.printTimestamp, "print-timestamp", false, "print CreateTime:<ms> or LogAppendTime:<ms> first")
	f.BoolVar(&o.printPartition, "print-partition", false, "print Partition:<n>")
	f.BoolVar(&o.printOffset, "print-offset", false, "print Offset:<n>")
	registerPropertyFlags(f, "consumer", &o.properties)
	return cmd
}

// validate checks the flags and takes the properties that meet them (auto.offset.reset, group.id,
// enable.auto.commit) out of props.
func (o *consumeOptions) validate(cmd *cobra.Command, topics []string, props clientProps) error {
	switch o.format {
	case "value":
	case "kv":
		o.printKey = true
	case "json":
		o.json = true
	default:
		return fmt.Errorf("--format %q: want value, kv or json", o.format)
	}
	var err error
	if o.keys, err = parseFieldFormat("key-format", o.keyFormat); err != nil {
		return err
	}
	if o.values, err = parseFieldFormat("value-format", o.valueFormat); err != nil {
		return err
	}
	if v, ok := props.take("group.id"); ok {
		if o.group != "" && o.group != v {
			return fmt.Errorf("--group %s and -X group.id=%s disagree", o.group, v)
		}
		o.group = v
	}
	if v, ok := props.take("auto.offset.reset"); ok {
		if o.reset != "" && o.reset != v {
			return fmt.Errorf("--reset %s and -X auto.offset.reset=%s disagree", o.reset, v)
		}
		o.reset = v
	}
	o.commit = o.group != ""
	if v, ok := props.take("enable.auto.commit"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("-X enable.auto.commit=%s: want true or false", v)
		}
		o.commit = o.commit && b
	}
	switch o.reset {
	case "":
		o.reset = "latest"
		if o.fromBeginning {
			o.reset = "earliest"
		}
	case "earliest", "latest", "none":
	default:
		return fmt.Errorf("--reset %q: want earliest, latest or none", o.reset)
	}
	offsetGiven := cmd.Flags().Changed("offset")
	if o.shareGroup != "" {
		switch {
		case o.group != "":
			return errors.New("--group and --share-group cannot both be given")
		case o.partition >= 0 || offsetGiven || o.fromBeginning || cmd.Flags().Changed("reset"):
			return errors.New("--partition, --offset, --from-beginning and --reset do not apply to a share group: it starts where its share.auto.offset.reset or \"seiche share-groups reset-offsets\" says")
		}
	}
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
	case o.fromBeginning && o.reset != "earliest":
		return fmt.Errorf("--from-beginning and a reset to %s cannot both be given", o.reset)
	case o.reset == "none" && (o.partition < 0 || !offsetGiven):
		return errors.New("--reset none needs --partition and --offset: it says what to do with an offset outside the log")
	case o.maxMessages < 0:
		return fmt.Errorf("--max-messages %d: must not be negative", o.maxMessages)
	case o.timeoutMs < 0:
		return fmt.Errorf("--timeout-ms %d: must not be negative", o.timeoutMs)
	}
	switch o.offset {
	case "", "earliest", "latest":
	default:
		if at, err := strconv.ParseInt(o.offset, 10, 64); err != nil || at < 0 {
			return fmt.Errorf("--offset %q: want earliest, latest or a non-negative offset", o.offset)
		}
	}
	return nil
}

// resetOffset is --reset as a kgo offset.
func (o *consumeOptions) resetOffset() kgo.Offset {
	switch o.reset {
	case "earliest":
		return kgo.NewOffset().AtStart()
	case "none":
		return kgo.NoResetOffset()
	}
	return kgo.NewOffset().AtEnd()
}

// check asks the cluster, within --timeout, whether the topics and the partition exist, so that
// a typo or an unreachable cluster fails instead of waiting forever. With --partition it returns
// the offset to start at: --offset resolved against the log, reset as --reset says when it is
// outside (with a notice on stderr).
func (o *consumeOptions) check(ctx context.Context, cf *clientFlags, topics []string, stderr io.Writer, opts []kgo.Opt) (kgo.Offset, error) {
	start := o.resetOffset()
	cl, err := cf.newClient("seiche-consume", opts...)
	if err != nil {
		return start, err
	}
	adm := kadm.NewClient(cl)
	defer adm.Close()
	ctx, cancel := cf.requestContext(ctx)
	defer cancel()
	md, err := adm.Metadata(ctx, topics...)
	if err != nil {
		return start, fmt.Errorf("consume: %w", cf.describeErr(err))
	}
	for _, topic := range topics {
		td, ok := md.Topics[topic]
		switch {
		case !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition):
			return start, fmt.Errorf("consume: topic %s does not exist", topic)
		case td.Err != nil:
			return start, fmt.Errorf("consume: topic %s: %w", topic, td.Err)
		case o.partition >= int32(len(td.Partitions)):
			return start, fmt.Errorf("consume: topic %s has %d partitions (0 to %d): partition %d does not exist",
				topic, len(td.Partitions), len(td.Partitions)-1, o.partition)
		}
	}
	if o.partition < 0 {
		return start, nil
	}
	switch o.offset {
	case "":
		return start, nil
	case "earliest":
		return kgo.NewOffset().AtStart(), nil
	case "latest":
		return kgo.NewOffset().AtEnd(), nil
	}
	at, _ := strconv.ParseInt(o.offset, 10, 64) // validated
	topic := topics[0]
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil {
		ends, err = adm.ListEndOffsets(ctx, topic)
	}
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return start, fmt.Errorf("consume: offsets of %s: %w", topic, cf.describeErr(err))
	}
	first, _ := starts.Lookup(topic, o.partition)
	end, _ := ends.Lookup(topic, o.partition)
	where := ""
	switch {
	case at < first.Offset:
		where = fmt.Sprintf("before the start of %s partition %d (%d)", topic, o.partition, first.Offset)
	case at > end.Offset:
		where = fmt.Sprintf("past the end of %s partition %d (%d)", topic, o.partition, end.Offset)
	default:
		return kgo.NewOffset().At(at), nil
	}
	switch o.reset {
	case "none":
		return start, fmt.Errorf("consume: offset %d is %s, and --reset is none", at, where)
	case "earliest":
		fmt.Fprintf(stderr, "seiche: offset %d is %s; reading from the start, offset %d, as --reset earliest says\n", at, where, first.Offset)
		return kgo.NewOffset().AtStart(), nil
	}
	fmt.Fprintf(stderr, "seiche: offset %d is %s; waiting at the end, offset %d, as --reset latest says\n", at, where, end.Offset)
	return kgo.NewOffset().AtEnd(), nil
}

// clientOpts chooses between group, single-partition and whole-topic consuming; start is where
// a partition without a committed offset starts. assigned is closed when the group first assigns
// this member its partitions.
func (o *consumeOptions) clientOpts(topics []string, start kgo.Offset, assigned chan struct{}) []kgo.Opt {
	// Past the start, an offset out of range means the log was truncated under the reader.
	reset := kgo.ConsumeResetOffset(o.resetOffset())
	switch {
	case o.partition >= 0:
		return []kgo.Opt{reset, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topics[0]: {o.partition: start}})}
	case o.shareGroup != "":
		return []kgo.Opt{kgo.ShareGroup(o.shareGroup), kgo.ConsumeTopics(topics...)}
	case o.group != "":
		var once sync.Once
		opts := []kgo.Opt{
			kgo.ConsumerGroup(o.group),
			kgo.ConsumeTopics(topics...),
			kgo.ConsumeStartOffset(start),
			reset,
			kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
				once.Do(func() { close(assigned) })
			}),
		}
		if o.commit {
			// Only printed records are committed, so that --max-messages or a signal never skips
			// records that were fetched but not printed.
			return append(opts, kgo.AutoCommitMarks())
		}
		return append(opts, kgo.DisableAutoCommit())
	default:
		return []kgo.Opt{kgo.ConsumeTopics(topics...), kgo.ConsumeStartOffset(start), reset}
	}
}

// consume prints records until ctx is done, --max-messages were printed or --timeout-ms passed without
// a record, and returns how many it printed. In a group it first waits, at most --timeout, for the
// assignment (--timeout-ms counts from there), and marks each printed record for commit.
func (o *consumeOptions) consume(ctx context.Context, cf *clientFlags, cl *kgo.Client, assigned <-chan struct{}, stdout, stderr io.Writer) (int, error) {
	if o.group != "" {
		select {
		case <-assigned:
		case <-ctx.Done():
			return 0, nil
		case <-time.After(cf.timeout):
			return 0, fmt.Errorf("consume: group %s assigned no partitions within %s (a rebalance with other members can take longer: raise --timeout): %w",
				o.group, cf.timeout, cf.noAnswer(context.DeadlineExceeded))
		}
	}
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
			if o.commit {
				cl.MarkCommitRecords(r)
			}
			if o.shareGroup != "" {
				cl.MarkAcks(kgo.AckAccept, r)
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
	keys, values   fieldFormat
	separator      string
	nullLiteral    string
	printKey       bool
	printHeaders   bool
	printTimestamp bool
	printPartition bool
	printOffset    bool
}

// write prints one record and its line ending. A key or value that does not decode is an error
// naming the record; nothing of it is printed.
func (f *recordFormat) write(w *bufio.Writer, r *kgo.Record) error {
	if f.json {
		return f.writeJSON(w, r)
	}
	var key string
	if f.printKey {
		var err error
		if key, err = f.text(f.keys, r.Key); err != nil {
			return recordErr(r, "key", err)
		}
	}
	value, err := f.text(f.values, r.Value)
	if err != nil {
		return recordErr(r, "value", err)
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
			hv, _ := f.text(formatString, h.Value)
			w.WriteString(hv)
		}
		w.WriteString(f.separator)
	}
	if f.printKey {
		field(key)
	}
	w.WriteString(value)
	return w.WriteByte('\n')
}

// text renders a key, value or header value for the value and kv formats: null as --null-literal,
// anything else decoded as ff says (string: as it is, as Kafka's console consumer does).
func (f *recordFormat) text(ff fieldFormat, b []byte) (string, error) {
	if b == nil {
		return f.nullLiteral, nil
	}
	return ff.text(b)
}

func recordErr(r *kgo.Record, what string, err error) error {
	return fmt.Errorf("consume %s partition %d offset %d: %s: %w", r.Topic, r.Partition, r.Offset, what, err)
}

// jsonRecord is one line of --format json. Field order is the output order.
type jsonRecord struct {
	Topic         string          `json:"topic"`
	Partition     int32           `json:"partition"`
	Offset        int64           `json:"offset"`
	Timestamp     int64           `json:"timestamp"`
	Key           json.RawMessage `json:"key"`
	KeyEncoding   string          `json:"key_encoding,omitempty"`
	Value         json.RawMessage `json:"value"`
	ValueEncoding string          `json:"value_encoding,omitempty"`
	Headers       []jsonHeader    `json:"headers"`
}

type jsonHeader struct {
	Key           string          `json:"key"`
	Value         json.RawMessage `json:"value"`
	ValueEncoding string          `json:"value_encoding,omitempty"`
}

func (f *recordFormat) writeJSON(w io.Writer, r *kgo.Record) error {
	j := jsonRecord{
		Topic:     r.Topic,
		Partition: r.Partition,
		Offset:    r.Offset,
		Timestamp: r.Timestamp.UnixMilli(),
		Headers:   make([]jsonHeader, 0, len(r.Headers)),
	}
	var err error
	if j.Key, j.KeyEncoding, err = f.keys.json(r.Key); err != nil {
		return recordErr(r, "key", err)
	}
	if j.Value, j.ValueEncoding, err = f.values.json(r.Value); err != nil {
		return recordErr(r, "value", err)
	}
	for _, h := range r.Headers {
		jh := jsonHeader{Key: h.Key}
		jh.Value, jh.ValueEncoding, _ = formatString.json(h.Value) // a string never fails
		j.Headers = append(j.Headers, jh)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(j)
}
