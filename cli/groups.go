package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func init() { register(newGroupsCommand) }

func newGroupsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "List, describe, reset and delete consumer groups (like kafka-consumer-groups.sh)",
		RunE:  runSubcommand,
	}
	cf := withClientFlags(cmd)
	cmd.AddCommand(
		newGroupsListCommand(cf),
		newGroupsDescribeCommand(cf),
		newGroupsResetOffsetsCommand(cf),
		newGroupsDeleteCommand(cf),
	)
	return cmd
}

// newTable returns a writer for aligned columns; Flush it when done.
func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0) }

func newGroupsListCommand(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List groups with their state and protocol type, sorted by group",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			groups, err := adm.ListGroups(ctx)
			if err != nil {
				return fmt.Errorf("list groups: %w", cf.describeErr(err))
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "GROUP\tSTATE\tPROTOCOL-TYPE")
			for _, g := range groups.Sorted() {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", g.Group, orDash(g.State), orDash(g.ProtocolType))
			}
			return tw.Flush()
		},
	}
}

func newGroupsDescribeCommand(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show each partition's committed offset, log end offset, lag and consuming member",
		Long: `Describe consumer groups, classic and KIP-848 ones, as kafka-consumer-groups.sh --describe does:
one row per partition the group is assigned or has committed offsets for, with the committed (current) offset, the log end
offset, the lag between them and the member consuming it; "-" where there is none. Members without
partitions get a row of their own. A group without members says so on standard error.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			lags, err := adm.Lag(ctx, args...)
			if err != nil {
				return fmt.Errorf("describe groups: %w", cf.describeErr(err))
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "GROUP\tTOPIC\tPARTITION\tCURRENT-OFFSET\tLOG-END-OFFSET\tLAG\tCONSUMER-ID\tHOST\tCLIENT-ID")
			var errs []error
			for _, g := range args {
				l, ok := lags[g]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("describe group %s: no answer for it", g))
					continue
				case errors.Is(l.Error(), kerr.GroupIDNotFound), l.Error() == nil && l.State == "Dead":
					// DescribeGroups describes classic groups only; a KIP-848 group answers
					// ConsumerGroupDescribe.
					cl, found, err := consumerGroupLag(ctx, adm, g)
					if err != nil {
						errs = append(errs, fmt.Errorf("describe group %s: %w", g, err))
						continue
					}
					if !found {
						err := fmt.Errorf("consumer group %s does not exist", g)
						if isShareGroup(ctx, adm, g) {
							err = errShareGroup(g)
						}
						errs = append(errs, err)
						continue
					}
					l = cl
				case l.Error() != nil:
					errs = append(errs, fmt.Errorf("describe group %s: %w", g, l.Error()))
					continue
				}
				writeGroupLag(tw, l)
				if len(l.Members) == 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "Consumer group '%s' has no active members.\n", g)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
}

// describeConsumerGroup describes a KIP-848 consumer group; found is false if there is none of that
// name (a classic group, or no group).
func describeConsumerGroup(ctx context.Context, adm *kadm.Client, group string) (d kadm.DescribedConsumerGroup, found bool, err error) {
	described, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		return d, false, err
	}
	d, ok := described[group]
	switch {
	case !ok, errors.Is(d.Err, kerr.GroupIDNotFound):
		return d, false, nil
	case d.Err != nil:
		return d, false, d.Err
	}
	return d, true, nil
}

// errShareGroup is the error for a share group named where a consumer group is wanted.
func errShareGroup(group string) error {
	return fmt.Errorf("group %s is a share group, not a consumer group (see seiche share-groups)", group)
}

// isShareGroup reports whether group is a share group (if listing the groups fails, it says no).
func isShareGroup(ctx context.Context, adm *kadm.Client, group string) bool {
	share, err := adm.ListGroupsByType(ctx, []string{"share"})
	_, ok := share[group]
	return err == nil && ok
}

// consumerGroupLag is what kadm's Lag computes for a classic group, for a KIP-848 consumer group: each
// assigned or committed partition with its committed and end offsets and the member consuming it.
func consumerGroupLag(ctx context.Context, adm *kadm.Client, group string) (l kadm.DescribedGroupLag, found bool, err error) {
	d, found, err := describeConsumerGroup(ctx, adm, group)
	if !found || err != nil {
		return l, found, err
	}
	l = kadm.DescribedGroupLag{Group: group, Coordinator: d.Coordinator, State: d.State, ProtocolType: "consumer", Protocol: d.AssignorName}
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if err != nil {
		return l, true, fmt.Errorf("fetch offsets: %w", err)
	}
	topics := d.AssignedPartitions()
	committed.Each(func(r kadm.OffsetResponse) { topics.Add(r.Topic, r.Partition) })
	ends, err := adm.ListEndOffsets(ctx, topics.Topics()...)
	if err != nil {
		return l, true, fmt.Errorf("list end offsets: %w", err)
	}
	for _, m := range d.Members {
		l.Members = append(l.Members, kadm.DescribedGroupMember{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost})
	}
	l.Lag = make(kadm.GroupLag)
	add := func(member *kadm.DescribedGroupMember, t string, p int32) {
		ml := kadm.GroupMemberLag{Member: member, Topic: t, Partition: p, Commit: kadm.Offset{Topic: t, Partition: p, At: -1}, Lag: -1}
		if c, ok := committed.Lookup(t, p); ok {
			ml.Commit, ml.Err = c.Offset, c.Err
		}
		if e, ok := ends.Lookup(t, p); ok {
			ml.End = e
			if ml.Err == nil {
				ml.Err = e.Err
			}
		}
		if ml.Err == nil && ml.Commit.At >= 0 {
			ml.Lag = max(ml.End.Offset-ml.Commit.At, 0)
		}
		if l.Lag[t] == nil {
			l.Lag[t] = make(map[int32]kadm.GroupMemberLag)
		}
		l.Lag[t][p] = ml
	}
	for i, m := range d.Members {
		m.Assignment.Each(func(t string, p int32) { add(&l.Members[i], t, p) })
	}
	topics.Each(func(t string, p int32) {
		if _, ok := l.Lag[t][p]; !ok {
			add(nil, t, p)
		}
	})
	return l, true, nil
}

// writeGroupLag writes one group's rows of groups describe.
func writeGroupLag(tw io.Writer, l kadm.DescribedGroupLag) {
	withPartitions := map[string]bool{}
	for _, pl := range l.Lag.Sorted() {
		current, lag := "-", "-"
		if pl.Commit.At >= 0 && pl.Err == nil {
			current, lag = strconv.FormatInt(pl.Commit.At, 10), strconv.FormatInt(pl.Lag, 10)
		}
		end := "-"
		if pl.End.Err == nil && pl.End.Offset >= 0 {
			end = strconv.FormatInt(pl.End.Offset, 10)
		}
		member, host, client := "-", "-", "-"
		if m := pl.Member; m != nil {
			member, host, client = m.MemberID, orDash(m.ClientHost), orDash(m.ClientID)
			withPartitions[m.MemberID] = true
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n",
			l.Group, pl.Topic, pl.Partition, current, end, lag, member, host, client)
	}
	for _, m := range l.Members {
		if !withPartitions[m.MemberID] {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t%s\t%s\t%s\n", l.Group, m.MemberID, orDash(m.ClientHost), orDash(m.ClientID))
		}
	}
}

// resetOptions are the flags of groups reset-offsets.
type resetOptions struct {
	topics     []string
	partitions []int32
	allTopics  bool
	toEarliest bool
	toLatest   bool
	toOffset   int64
	toDatetime string
	shiftBy    int64
	execute    bool
	dryRun     bool
}

func newGroupsResetOffsetsCommand(cf *clientFlags) *cobra.Command {
	var o resetOptions
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP",
		Short: "Plan or (with --execute) set a group's committed offsets",
		Long: `Reset the committed offsets of GROUP for the partitions named by --topic (all of the topic's
partitions, or those given as --partition or TOPIC:0,1,2) or --all-topics (every topic the group has
committed offsets for) to the earliest or latest offset, a given offset, the first offset at or after a
time, or shifted from the committed offset. Offsets are kept between each partition's earliest and
latest offset.

As kafka-consumer-groups.sh does, this prints the plan and changes nothing unless --execute is given,
and refuses while the group has members (its state is not Empty): stop its consumers first.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			group := args[0]
			scenario, err := o.scenario(cmd)
			if err != nil {
				return err
			}
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			plan, err := o.plan(ctx, adm, group, scenario)
			if err != nil {
				return cf.describeErr(err)
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "GROUP\tTOPIC\tPARTITION\tNEW-OFFSET")
			for _, p := range plan.Sorted() {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", group, p.Topic, p.Partition, p.At)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if !o.execute {
				if !o.dryRun {
					fmt.Fprintln(cmd.ErrOrStderr(), "Dry run: no offsets were changed; give --execute to apply this plan.")
				}
				return nil
			}
			resps, err := adm.CommitOffsets(ctx, group, plan)
			if err != nil {
				return fmt.Errorf("reset offsets of group %s: %w", group, cf.describeErr(err))
			}
			var errs []error
			resps.Each(func(r kadm.OffsetResponse) {
				if r.Err != nil {
					errs = append(errs, fmt.Errorf("reset offset of group %s, %s partition %d: %w", group, r.Topic, r.Partition, r.Err))
				}
			})
			return errors.Join(errs...)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.topics, "topic", nil, "topic to reset, optionally with partitions as TOPIC:0,1,2 (repeatable)")
	f.Int32SliceVar(&o.partitions, "partition", nil, "partitions of the single --topic to reset, repeatable or comma-separated (none given: all)")
	f.BoolVar(&o.allTopics, "all-topics", false, "reset every topic the group has committed offsets for")
	f.BoolVar(&o.toEarliest, "to-earliest", false, "reset to the earliest offset")
	f.BoolVar(&o.toLatest, "to-latest", false, "reset to the latest offset (the log end)")
	f.Int64Var(&o.toOffset, "to-offset", 0, "reset to this offset")
	f.StringVar(&o.toDatetime, "to-datetime", "", "reset to the first offset with a timestamp at or after this RFC 3339 time, e.g. 2024-05-01T12:00:00Z")
	f.Int64Var(&o.shiftBy, "shift-by", 0, "move the committed offset by this many records (negative: back)")
	f.BoolVar(&o.execute, "execute", false, "commit the new offsets; without it this only prints the plan")
	f.BoolVar(&o.dryRun, "dry-run", false, "only print the plan (the default; given explicitly it silences the reminder)")
	return cmd
}

// resetScenario computes a partition's new offset from its earliest, latest and committed offsets
// (committed is -1 when there is none) and the offset found for --to-datetime (-1 when none).
type resetScenario func(earliest, latest, committed, atTime int64) (int64, error)

// scenario checks the flags and returns the chosen reset.
func (o *resetOptions) scenario(cmd *cobra.Command) (resetScenario, error) {
	if o.execute && o.dryRun {
		return nil, errors.New("--execute and --dry-run cannot both be given")
	}
	if (len(o.topics) > 0) == o.allTopics {
		return nil, errors.New("give --topic or --all-topics")
	}
	if len(o.partitions) > 0 && (len(o.topics) != 1 || strings.Contains(o.topics[0], ":")) {
		return nil, errors.New("--partition needs exactly one --topic without partitions of its own")
	}
	var chosen []string
	for _, name := range []string{"to-earliest", "to-latest", "to-offset", "to-datetime", "shift-by"} {
		if cmd.Flags().Changed(name) {
			chosen = append(chosen, "--"+name)
		}
	}
	if len(chosen) != 1 {
		return nil, errors.New("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime or --shift-by")
	}
	clamp := func(o, earliest, latest int64) int64 { return max(earliest, min(o, latest)) }
	switch chosen[0] {
	case "--to-earliest":
		return func(earliest, _, _, _ int64) (int64, error) { return earliest, nil }, nil
	case "--to-latest":
		return func(_, latest, _, _ int64) (int64, error) { return latest, nil }, nil
	case "--to-offset":
		return func(earliest, latest, _, _ int64) (int64, error) { return clamp(o.toOffset, earliest, latest), nil }, nil
	case "--to-datetime":
		return func(earliest, latest, _, atTime int64) (int64, error) {
			if atTime < 0 {
				return latest, nil // no record at or after the time
			}
			return clamp(atTime, earliest, latest), nil
		}, nil
	default:
		return func(earliest, latest, committed, _ int64) (int64, error) {
			if committed < 0 {
				return 0, errors.New("there is no committed offset to shift")
			}
			return clamp(committed+o.shiftBy, earliest, latest), nil
		}, nil
	}
}

// plan checks that the consumer group is inactive and computes the new offset of every selected
// partition.
func (o *resetOptions) plan(ctx context.Context, adm *kadm.Client, group string, scenario resetScenario) (kadm.Offsets, error) {
	if err := o.checkDatetime(); err != nil {
		return nil, err
	}
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describe group %s: %w", group, err)
	}
	d, err := described.On(group, nil)
	if err == nil {
		err = d.Err
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		// Not a classic group: a KIP-848 consumer group, a share group, or none.
		cg, found, cerr := describeConsumerGroup(ctx, adm, group)
		switch {
		case cerr != nil:
			return nil, fmt.Errorf("describe group %s: %w", group, cerr)
		case found:
			d.State, err = cg.State, nil
		case isShareGroup(ctx, adm, group):
			return nil, errShareGroup(group)
		}
	}
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		// A group that does not exist yet may get offsets, as with Kafka's tool.
	case err != nil:
		return nil, fmt.Errorf("describe group %s: %w", group, withMessage(err, d.ErrMessage))
	case d.State != "Empty" && d.State != "Dead":
		return nil, fmt.Errorf("offsets of group %s can only be reset while it is inactive, but its state is %s", group, d.State)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = committed.Error()
	}
	if errors.Is(err, kerr.GroupIDNotFound) {
		committed, err = nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fetch offsets of group %s: %w", group, err)
	}
	return o.planFrom(ctx, adm, group, scenario, committed)
}

// checkDatetime checks --to-datetime, if given.
func (o *resetOptions) checkDatetime() error {
	if o.toDatetime == "" {
		return nil
	}
	if _, err := time.Parse(time.RFC3339, o.toDatetime); err != nil {
		return fmt.Errorf("--to-datetime %q: want an RFC 3339 time such as 2024-05-01T12:00:00Z", o.toDatetime)
	}
	return nil
}

// planFrom computes the new offset of every selected partition from the group's current offsets
// (committed offsets of a consumer group, start offsets of a share group).
func (o *resetOptions) planFrom(ctx context.Context, adm *kadm.Client, group string, scenario resetScenario, committed kadm.OffsetResponses) (kadm.Offsets, error) {
	// selected maps each topic to its chosen partitions; nil means all of them.
	selected := map[string][]int32{}
	if o.allTopics {
		committed.Each(func(r kadm.OffsetResponse) {
			selected[r.Topic] = append(selected[r.Topic], r.Partition)
		})
		if len(selected) == 0 {
			return nil, fmt.Errorf("group %s has no offsets, so --all-topics selects nothing", group)
		}
	}
	for _, t := range o.topics {
		name, list, hasList := strings.Cut(t, ":")
		if !hasList {
			selected[name] = append(selected[name], o.partitions...)
			continue
		}
		for _, s := range strings.Split(list, ",") {
			p, err := strconv.ParseInt(strings.TrimSpace(s), 10, 32)
			if err != nil || p < 0 {
				return nil, fmt.Errorf("--topic %q: want TOPIC or TOPIC:0,1,2", t)
			}
			selected[name] = append(selected[name], int32(p))
		}
	}
	topics := slices.Sorted(maps.Keys(selected))

	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list earliest offsets: %w", err)
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, fmt.Errorf("list latest offsets: %w", err)
	}
	var atTime kadm.ListedOffsets
	if o.toDatetime != "" {
		t, _ := time.Parse(time.RFC3339, o.toDatetime) // checked by checkDatetime
		if atTime, err = adm.ListOffsetsAfterMilli(ctx, t.UnixMilli(), topics...); err != nil {
			return nil, fmt.Errorf("list offsets after %s: %w", o.toDatetime, err)
		}
	}

	plan := make(kadm.Offsets)
	for _, topic := range topics {
		parts := selected[topic]
		if len(parts) == 0 {
			for p := range starts[topic] {
				parts = append(parts, p)
			}
		}
		if _, missing := starts[topic][-1]; missing || len(starts[topic]) == 0 {
			return nil, fmt.Errorf("topic %s does not exist", topic)
		}
		for _, p := range parts {
			start, sok := starts.Lookup(topic, p)
			end, eok := ends.Lookup(topic, p)
			if !sok || !eok {
				return nil, fmt.Errorf("topic %s has no partition %d", topic, p)
			}
			if err := errors.Join(start.Err, end.Err); err != nil {
				return nil, fmt.Errorf("list offsets of %s partition %d: %w", topic, p, err)
			}
			cur := int64(-1)
			if c, ok := committed.Lookup(topic, p); ok {
				cur = c.At
			}
			at := int64(-1)
			if l, ok := atTime.Lookup(topic, p); ok && l.Err == nil {
				at = l.Offset
			}
			n, err := scenario(start.Offset, end.Offset, cur, at)
			if err != nil {
				return nil, fmt.Errorf("%s partition %d: %w", topic, p, err)
			}
			plan.Add(kadm.Offset{Topic: topic, Partition: p, At: n, LeaderEpoch: -1})
		}
	}
	return plan, nil
}

func newGroupsDeleteCommand(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete inactive groups and their committed offsets",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.DeleteGroups(ctx, args...)
			if err != nil {
				return fmt.Errorf("delete groups: %w", cf.describeErr(err))
			}
			var deleted []string
			var errs []error
			for _, g := range args {
				r, ok := resps[g]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("delete group %s: no answer for it", g))
				case r.Err == nil:
					deleted = append(deleted, "'"+g+"'")
				case errors.Is(r.Err, kerr.GroupIDNotFound):
					errs = append(errs, fmt.Errorf("consumer group %s does not exist", g))
				case errors.Is(r.Err, kerr.NonEmptyGroup):
					errs = append(errs, fmt.Errorf("consumer group %s has active members; stop them first", g))
				default:
					errs = append(errs, fmt.Errorf("delete group %s: %w", g, withMessage(r.Err, r.ErrMessage)))
				}
			}
			if len(deleted) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "Deletion of requested consumer groups (%s) was successful.\n", strings.Join(deleted, ", "))
			}
			return errors.Join(errs...)
		},
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
