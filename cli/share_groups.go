package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

func init() { register(newShareGroupsCommand) }

func newShareGroupsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "share-groups",
		Short: "List, describe, reset and delete share groups (like kafka-share-groups.sh)",
		Long: `Share groups (KIP-932) are Kafka's queues: their members share a topic's partitions record by
record, and the broker keeps, per partition, a start offset and the state of the records in flight.
These commands show and change that state as kafka-share-groups.sh does.`,
		RunE: runSubcommand,
	}
	cf := withClientFlags(cmd)
	cmd.AddCommand(
		newShareGroupsListCommand(cf),
		newShareGroupsDescribeCommand(cf),
		newShareGroupsResetOffsetsCommand(cf),
		newShareGroupsDeleteOffsetsCommand(cf),
		newShareGroupsDeleteCommand(cf),
	)
	return cmd
}

func newShareGroupsListCommand(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List share groups with their state, sorted by group",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			groups, err := adm.ListGroupsByType(ctx, []string{"share"})
			if err != nil {
				return fmt.Errorf("list share groups: %w", cf.describeErr(err))
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "GROUP\tSTATE")
			for _, g := range groups.Sorted() {
				fmt.Fprintf(tw, "%s\t%s\n", g.Group, orDash(g.State))
			}
			return tw.Flush()
		},
	}
}

func newShareGroupsDescribeCommand(cf *clientFlags) *cobra.Command {
	var members, state bool
	cmd := &cobra.Command{
		Use:   "describe GROUP...",
		Short: "Show each partition's start offset and lag, or (--members, --state) the group's members or state",
		Long: `Describe share groups as kafka-share-groups.sh --describe does. By default: one row per partition the
group has state for, with its start offset (the earliest offset of the records in flight: some after it
may already be delivered) and its lag (the records after the start offset not yet delivered and
acknowledged), "-" where the broker gives none. --members: one row per member, with its partitions.
--state: the group's coordinator, state, epochs and number of members.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if members && state {
				return errors.New("give at most one of --members and --state")
			}
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			described, err := adm.DescribeShareGroups(ctx, args...)
			if err != nil {
				return fmt.Errorf("describe share groups: %w", cf.describeErr(err))
			}
			var offsets kadm.DescribedShareGroupsOffsets
			if !members && !state {
				if offsets, err = adm.DescribeShareGroupOffsets(ctx, args...); err != nil {
					return fmt.Errorf("describe share group offsets: %w", cf.describeErr(err))
				}
			}
			tw := newTable(cmd.OutOrStdout())
			switch {
			case members:
				fmt.Fprintln(tw, "GROUP\tCONSUMER-ID\tHOST\tCLIENT-ID\t#PARTITIONS\tASSIGNMENT")
			case state:
				fmt.Fprintln(tw, "GROUP\tCOORDINATOR (ID)\tASSIGNMENT-STRATEGY\tSTATE\tGROUP-EPOCH\tASSIGNMENT-EPOCH\t#MEMBERS")
			default:
				fmt.Fprintln(tw, "GROUP\tTOPIC\tPARTITION\tLEADER-EPOCH\tSTART-OFFSET\tLAG")
			}
			var errs []error
			for _, g := range args {
				d, ok := described[g]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("describe share group %s: no answer for it", g))
					continue
				case errors.Is(d.Err, kerr.GroupIDNotFound), d.Err == nil && d.GroupState == "Dead":
					errs = append(errs, fmt.Errorf("share group %s does not exist", g))
					continue
				case d.Err != nil:
					errs = append(errs, fmt.Errorf("describe share group %s: %w", g, d.Err))
					continue
				}
				switch {
				case members:
					writeShareMembers(tw, d)
				case state:
					fmt.Fprintf(tw, "%s\t%s:%d (%d)\t%s\t%s\t%d\t%d\t%d\n", g, d.Coordinator.Host, d.Coordinator.Port,
						d.Coordinator.NodeID, orDash(d.Assignor), d.GroupState, d.GroupEpoch, d.AssignmentEpoch, len(d.Members))
				default:
					o := offsets[g]
					if o.Err != nil {
						errs = append(errs, fmt.Errorf("describe offsets of share group %s: %w", g, o.Err))
						continue
					}
					writeShareOffsets(tw, g, o.Offsets)
				}
				if len(d.Members) == 0 && !state {
					fmt.Fprintf(cmd.ErrOrStderr(), "Share group '%s' has no active members.\n", g)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVar(&members, "members", false, "describe the group's members and their partitions")
	cmd.Flags().BoolVar(&state, "state", false, "describe the group's state")
	return cmd
}

// writeShareOffsets writes a share group's partitions for share-groups describe.
func writeShareOffsets(tw io.Writer, group string, offsets kadm.ShareOffsets) {
	for _, o := range offsets.Sorted() {
		if o.Err != nil {
			fmt.Fprintf(tw, "%s\t%s\t%d\t-\t-\t-\n", group, o.Topic, o.Partition)
			continue
		}
		epoch, lag := "-", "-"
		if o.LeaderEpoch >= 0 {
			epoch = strconv.Itoa(int(o.LeaderEpoch))
		}
		if o.Lag >= 0 {
			lag = strconv.FormatInt(o.Lag, 10)
		}
		start := "-"
		if o.StartOffset >= 0 {
			start = strconv.FormatInt(o.StartOffset, 10)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", group, o.Topic, o.Partition, epoch, start, lag)
	}
}

// writeShareMembers writes a share group's members for share-groups describe --members; a member's
// assignment reads topic:0,1;other:2.
func writeShareMembers(tw io.Writer, d kadm.DescribedShareGroup) {
	for _, m := range d.Members {
		var parts []string
		n := 0
		for _, t := range m.Assignment.Sorted() {
			ps := slices.Clone(t.Partitions)
			slices.Sort(ps)
			n += len(ps)
			nums := make([]string, len(ps))
			for i, p := range ps {
				nums[i] = strconv.Itoa(int(p))
			}
			parts = append(parts, t.Topic+":"+strings.Join(nums, ","))
		}
		assignment := strings.Join(parts, ";")
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", d.GroupID, m.MemberID, orDash(m.ClientHost), orDash(m.ClientID), n, orDash(assignment))
	}
}

func newShareGroupsResetOffsetsCommand(cf *clientFlags) *cobra.Command {
	var o resetOptions
	cmd := &cobra.Command{
		Use:   "reset-offsets GROUP",
		Short: "Plan or (with --execute) set a share group's start offsets",
		Long: `Reset the start offsets of share group GROUP for the partitions named by --topic (all of the topic's
partitions, or those given as --partition or TOPIC:0,1,2) or --all-topics (every topic the group has
state for) to the earliest or latest offset, a given offset, the first offset at or after a time, or
shifted from the current start offset. The records in flight in those partitions are dropped: delivery
starts again at the new offset. A group that does not exist is created, which is how a share group
is made to start from the beginning of a topic before it first consumes.

As kafka-share-groups.sh does, this prints the plan and changes nothing unless --execute is given,
and refuses while the group has members: stop its consumers first.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			group := args[0]
			scenario, err := o.scenario(cmd)
			if err != nil {
				return err
			}
			if err := o.checkDatetime(); err != nil {
				return err
			}
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			current, err := shareStartOffsets(ctx, adm, group)
			if err != nil {
				return cf.describeErr(err)
			}
			plan, err := o.planFrom(ctx, adm, group, scenario, current)
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
			resps, err := adm.AlterShareGroupOffsets(ctx, group, plan)
			if err != nil {
				return fmt.Errorf("reset offsets of share group %s: %w", group, shareGroupErr(group, cf.describeErr(err)))
			}
			var errs []error
			resps.EachError(func(t string, p int32, err error) {
				errs = append(errs, fmt.Errorf("reset offset of share group %s, %s partition %d: %w", group, t, p, err))
			})
			return errors.Join(errs...)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.topics, "topic", nil, "topic to reset, optionally with partitions as TOPIC:0,1,2 (repeatable)")
	f.Int32SliceVar(&o.partitions, "partition", nil, "partitions of the single --topic to reset, repeatable or comma-separated (none given: all)")
	f.BoolVar(&o.allTopics, "all-topics", false, "reset every topic the group has state for")
	f.BoolVar(&o.toEarliest, "to-earliest", false, "reset to the earliest offset")
	f.BoolVar(&o.toLatest, "to-latest", false, "reset to the latest offset (the log end)")
	f.Int64Var(&o.toOffset, "to-offset", 0, "reset to this offset")
	f.StringVar(&o.toDatetime, "to-datetime", "", "reset to the first offset with a timestamp at or after this RFC 3339 time, e.g. 2024-05-01T12:00:00Z")
	f.Int64Var(&o.shiftBy, "shift-by", 0, "move the start offset by this many records (negative: back)")
	f.BoolVar(&o.execute, "execute", false, "set the new start offsets; without it this only prints the plan")
	f.BoolVar(&o.dryRun, "dry-run", false, "only print the plan (the default; given explicitly it silences the reminder)")
	return cmd
}

// shareStartOffsets returns a share group's start offsets as the current offsets a reset plans
// from, after checking that the group has no members. A group that does not exist has none.
func shareStartOffsets(ctx context.Context, adm *kadm.Client, group string) (kadm.OffsetResponses, error) {
	described, err := adm.DescribeShareGroups(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describe share group %s: %w", group, err)
	}
	d := described[group]
	switch {
	case errors.Is(d.Err, kerr.GroupIDNotFound):
		if isConsumerGroup(ctx, adm, group) {
			return nil, fmt.Errorf("group %s is a consumer group, not a share group", group)
		}
		return nil, nil
	case d.Err != nil:
		return nil, fmt.Errorf("describe share group %s: %w", group, d.Err)
	case d.GroupState != "Empty" && d.GroupState != "Dead":
		return nil, fmt.Errorf("offsets of share group %s can only be reset while it has no members, but its state is %s", group, d.GroupState)
	}
	offsets, err := adm.DescribeShareGroupOffsets(ctx, group)
	if err != nil {
		return nil, fmt.Errorf("describe offsets of share group %s: %w", group, err)
	}
	if err := offsets[group].Err; err != nil {
		return nil, fmt.Errorf("describe offsets of share group %s: %w", group, err)
	}
	current := make(kadm.OffsetResponses)
	offsets[group].Offsets.Each(func(o kadm.ShareOffset) {
		if o.Err == nil && o.StartOffset >= 0 {
			current.Add(kadm.OffsetResponse{Offset: kadm.Offset{Topic: o.Topic, Partition: o.Partition, At: o.StartOffset, LeaderEpoch: -1}})
		}
	})
	return current, nil
}

// isConsumerGroup reports whether group exists and is not a share group (if listing fails, it says no).
func isConsumerGroup(ctx context.Context, adm *kadm.Client, group string) bool {
	all, err := adm.ListGroups(ctx)
	g, ok := all[group]
	return err == nil && ok && g.ProtocolType != "share"
}

// shareGroupErr names the usual refusals of share-group offset changes.
func shareGroupErr(group string, err error) error {
	switch {
	case errors.Is(err, kerr.NonEmptyGroup):
		return fmt.Errorf("share group %s has active members; stop them first", group)
	case errors.Is(err, kerr.GroupIDNotFound):
		return fmt.Errorf("group %s is not a share group", group)
	}
	return err
}

func newShareGroupsDeleteOffsetsCommand(cf *clientFlags) *cobra.Command {
	var topics []string
	cmd := &cobra.Command{
		Use:   "delete-offsets GROUP --topic TOPIC...",
		Short: "Delete a share group's state for topics",
		Long: `Delete the state share group GROUP keeps for each --topic: its start offsets and records in flight.
The group must have no members. If it consumes the topic again, it starts as a new group would
(share.auto.offset.reset).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			group := args[0]
			if len(topics) == 0 {
				return errors.New("give at least one --topic")
			}
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.DeleteShareGroupOffsets(ctx, group, topics...)
			if err != nil {
				return fmt.Errorf("delete offsets of share group %s: %w", group, shareGroupErr(group, cf.describeErr(err)))
			}
			var errs []error
			for _, t := range topics {
				if err, ok := resps.Lookup(t); ok && err != nil {
					errs = append(errs, fmt.Errorf("delete offsets of share group %s for topic %s: %w", group, t, err))
				}
			}
			if len(errs) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted the offsets of share group '%s' for %s.\n", group, strings.Join(topics, ", "))
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringArrayVar(&topics, "topic", nil, "topic whose state to delete (repeatable)")
	return cmd
}

func newShareGroupsDeleteCommand(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete share groups without members, and their state",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			var errs []error
			var share []string
			for _, g := range args {
				if isConsumerGroup(ctx, adm, g) {
					errs = append(errs, fmt.Errorf("group %s is a consumer group, not a share group", g))
					continue
				}
				share = append(share, g)
			}
			if len(share) == 0 {
				return errors.Join(errs...)
			}
			resps, err := adm.DeleteGroups(ctx, share...)
			if err != nil {
				return fmt.Errorf("delete share groups: %w", cf.describeErr(err))
			}
			var deleted []string
			for _, g := range share {
				r, ok := resps[g]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("delete share group %s: no answer for it", g))
				case r.Err == nil:
					deleted = append(deleted, "'"+g+"'")
				case errors.Is(r.Err, kerr.GroupIDNotFound):
					errs = append(errs, fmt.Errorf("share group %s does not exist", g))
				case errors.Is(r.Err, kerr.NonEmptyGroup):
					errs = append(errs, fmt.Errorf("share group %s has active members; stop them first", g))
				default:
					errs = append(errs, fmt.Errorf("delete share group %s: %w", g, withMessage(r.Err, r.ErrMessage)))
				}
			}
			if len(deleted) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "Deletion of requested share groups (%s) was successful.\n", strings.Join(deleted, ", "))
			}
			return errors.Join(errs...)
		},
	}
}
