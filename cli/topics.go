package cli

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(newTopicsCommand) }

func newTopicsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Create, list, describe, alter and delete topics (like kafka-topics.sh)",
		RunE:  runSubcommand,
	}
	cf := withClientFlags(cmd)
	cmd.AddCommand(
		newTopicsCreateCommand(cf),
		newTopicsListCommand(cf),
		newTopicsDescribeCommand(cf),
		newTopicsAlterCommand(cf),
		newTopicsDeleteCommand(cf),
	)
	return cmd
}

func newTopicsCreateCommand(cf *clientFlags) *cobra.Command {
	var (
		partitions  int32
		replication int16
		configs     []string
		ifNotExists bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Long: `Create a topic. Without --partitions or --replication-factor, or with -1 for either, the
broker's defaults apply (its num.partitions; a replication factor of 1 on a Seiche broker). Prints
"Created topic NAME." on success, as kafka-topics.sh does.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			cfgs, err := parseConfigs("config", configs)
			if err != nil {
				return err
			}
			if partitions == 0 || partitions < -1 {
				return fmt.Errorf("--partitions %d: want a positive count, or -1 for the broker's default", partitions)
			}
			if replication == 0 || replication < -1 {
				return fmt.Errorf("--replication-factor %d: want a positive factor, or -1 for the broker's default", replication)
			}
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			resp, err := adm.CreateTopic(ctx, partitions, replication, cfgs, name)
			switch {
			case ifNotExists && errors.Is(err, kerr.TopicAlreadyExists):
				return nil
			case err != nil:
				return fmt.Errorf("create topic %s: %w", name, withMessage(cf.describeErr(err), resp.ErrMessage))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created topic %s.\n", name)
			return nil
		},
	}
	f := cmd.Flags()
	f.Int32Var(&partitions, "partitions", -1, "number of partitions; -1: the broker's default (its num.partitions)")
	f.Int16Var(&replication, "replication-factor", -1, "replication factor; -1: the broker's default")
	f.StringArrayVar(&configs, "config", nil, "topic config key=value (repeatable), e.g. cleanup.policy=compact")
	f.BoolVar(&ifNotExists, "if-not-exists", false, "succeed quietly if the topic already exists")
	return cmd
}

func newTopicsListCommand(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List topic names, one per line, sorted; internal topics are left out",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			topics, err := adm.ListTopics(ctx)
			if err != nil {
				return fmt.Errorf("list topics: %w", cf.describeErr(err))
			}
			w := cmd.OutOrStdout()
			for _, name := range topics.Names() {
				fmt.Fprintln(w, name)
			}
			return nil
		},
	}
}

func newTopicsDescribeCommand(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "describe [NAME...]",
		Short: "Describe topics: partitions, leader, replicas, ISR and configs set on the topic",
		Long: `Describe the named topics, or every non-internal topic without names, in kafka-topics.sh --describe
form: one line per topic with its ID, partition count, replication factor and the configs set on the
topic itself (not broker or built-in defaults), then one line per partition.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			topics, err := adm.ListTopics(ctx, args...)
			if err != nil {
				return fmt.Errorf("describe topics: %w", cf.describeErr(err))
			}
			names := args
			if len(names) == 0 {
				names = topics.Names()
			}
			for _, name := range names {
				if err := topics[name].Err; err != nil {
					if errors.Is(err, kerr.UnknownTopicOrPartition) {
						return fmt.Errorf("topic %s does not exist", name)
					}
					return fmt.Errorf("describe topic %s: %w", name, err)
				}
			}
			var configs kadm.ResourceConfigs
			if len(names) > 0 {
				if configs, err = adm.DescribeTopicConfigs(ctx, names...); err != nil {
					return fmt.Errorf("describe topic configs: %w", cf.describeErr(err))
				}
			}
			w := cmd.OutOrStdout()
			for _, name := range names {
				t := topics[name]
				rc, err := configs.On(name, nil)
				if err == nil {
					err = rc.Err
				}
				if err != nil {
					return fmt.Errorf("describe topic %s configs: %w", name, withMessage(err, rc.ErrMessage))
				}
				var set []string
				for _, c := range rc.Configs {
					if c.Source == kmsg.ConfigSourceDynamicTopicConfig {
						v := c.MaybeValue()
						if c.Sensitive {
							v = "<sensitive>"
						}
						set = append(set, c.Key+"="+v)
					}
				}
				slices.Sort(set)
				parts := t.Partitions.Sorted()
				rf := 0
				if len(parts) > 0 {
					rf = len(parts[0].Replicas)
				}
				fmt.Fprintf(w, "Topic: %s\tTopicId: %s\tPartitionCount: %d\tReplicationFactor: %d\tConfigs: %s\n",
					name, topicIDString(t.ID), len(parts), rf, strings.Join(set, ","))
				for _, p := range parts {
					leader := "none"
					if p.Leader >= 0 {
						leader = strconv.Itoa(int(p.Leader))
					}
					fmt.Fprintf(w, "\tTopic: %s\tPartition: %d\tLeader: %s\tReplicas: %s\tIsr: %s\n",
						name, p.Partition, leader, joinInt32s(p.Replicas), joinInt32s(p.ISR))
				}
			}
			return nil
		},
	}
}

func newTopicsAlterCommand(cf *clientFlags) *cobra.Command {
	var (
		partitions    int
		configs       []string
		deleteConfigs []string
	)
	cmd := &cobra.Command{
		Use:   "alter NAME",
		Short: "Add partitions to a topic or change its configs",
		Long: `Alter a topic: --partitions sets the new total partition count (it can only grow), --config sets
topic configs and --delete-config removes them so the default applies again. Configs are changed
incrementally: configs not named keep their values.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			cfgs, err := parseConfigs("config", configs)
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("partitions") && len(cfgs) == 0 && len(deleteConfigs) == 0 {
				return errors.New("nothing to alter: give --partitions, --config or --delete-config")
			}
			if cmd.Flags().Changed("partitions") && partitions < 1 {
				return fmt.Errorf("--partitions %d: must be at least 1", partitions)
			}
			var alter []kadm.AlterConfig
			for _, k := range slices.Sorted(maps.Keys(cfgs)) {
				alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: cfgs[k]})
			}
			for _, k := range deleteConfigs {
				if _, ok := cfgs[k]; ok {
					return fmt.Errorf("config %s is both set and deleted", k)
				}
				alter = append(alter, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: k})
			}

			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			if cmd.Flags().Changed("partitions") {
				resps, err := adm.UpdatePartitions(ctx, partitions, name)
				if err != nil {
					return fmt.Errorf("alter topic %s partitions: %w", name, cf.describeErr(err))
				}
				if r, ok := resps[name]; ok && r.Err != nil {
					return fmt.Errorf("alter topic %s partitions: %w", name, withMessage(r.Err, r.ErrMessage))
				}
			}
			if len(alter) > 0 {
				resps, err := adm.AlterTopicConfigs(ctx, alter, name)
				if err != nil {
					return fmt.Errorf("alter topic %s configs: %w", name, cf.describeErr(err))
				}
				for _, r := range resps {
					if r.Err != nil {
						return fmt.Errorf("alter topic %s configs: %w", name, withMessage(r.Err, r.ErrMessage))
					}
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&partitions, "partitions", 0, "new total number of partitions (only increases)")
	f.StringArrayVar(&configs, "config", nil, "topic config key=value to set (repeatable)")
	f.StringArrayVar(&deleteConfigs, "delete-config", nil, "topic config key to remove (repeatable)")
	return cmd
}

func newTopicsDeleteCommand(cf *clientFlags) *cobra.Command {
	var ifExists bool
	cmd := &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete topics and all their records",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, adm, done, err := cf.admin(cmd.Context())
			if err != nil {
				return err
			}
			defer done()
			resps, err := adm.DeleteTopics(ctx, args...)
			if err != nil {
				return fmt.Errorf("delete topics: %w", cf.describeErr(err))
			}
			var errs []error
			for _, name := range args {
				r, ok := resps[name]
				switch {
				case !ok:
					errs = append(errs, fmt.Errorf("delete topic %s: no answer for it", name))
				case r.Err == nil, ifExists && errors.Is(r.Err, kerr.UnknownTopicOrPartition):
				case errors.Is(r.Err, kerr.UnknownTopicOrPartition):
					errs = append(errs, fmt.Errorf("topic %s does not exist", name))
				default:
					errs = append(errs, fmt.Errorf("delete topic %s: %w", name, withMessage(r.Err, r.ErrMessage)))
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().BoolVar(&ifExists, "if-exists", false, "succeed quietly for topics that do not exist")
	return cmd
}

// withMessage adds a broker's error message to err when it says more than the error code does.
// A Kafka error code's own description (kerr's) is generic and can contradict the broker's
// message: INVALID_PARTITIONS reads "Number of partitions is below 1." also for a count that is too
// large. So an error that is only a code keeps the code's name and takes the broker's message
// instead of the description.
func withMessage(err error, msg string) error {
	if err == nil || msg == "" || strings.Contains(err.Error(), msg) {
		return err
	}
	if ke, ok := err.(*kerr.Error); ok {
		return &brokerError{code: ke, msg: msg}
	}
	return fmt.Errorf("%w: %s", err, msg)
}

// brokerError is a Kafka error code with the broker's message for it; errors.Is matches the code.
type brokerError struct {
	code *kerr.Error
	msg  string
}

func (e *brokerError) Error() string { return e.code.Message + ": " + e.msg }
func (e *brokerError) Unwrap() error { return e.code }

// topicIDString prints a topic ID as Kafka's tools do: URL-safe base64 without padding.
func topicIDString(id kadm.TopicID) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

func joinInt32s(ns []int32) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(int(n))
	}
	return strings.Join(s, ",")
}
