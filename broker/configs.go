package broker

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/records"
	"github.com/seichedb/seiche/broker/internal/storage"
)

// topicConfigDef is one topic-level config that Seiche understands, with Kafka's default and type.
type topicConfigDef struct {
	name  string
	def   string
	typ   kmsg.ConfigType
	check func(string) error
}

const maxLong = "9223372036854775807"

// topicConfigDefs lists the topic configs Seiche accepts, with Kafka's defaults. Configs that only
// matter for replication (min.insync.replicas, unclean.leader.election.enable) are accepted and shown so
// that tools which set them keep working; on one node they have no effect.
var topicConfigDefs = []topicConfigDef{
	{"cleanup.policy", "delete", kmsg.ConfigTypeList, checkCleanupPolicy},
	{"compression.type", "producer", kmsg.ConfigTypeString, checkCompressionType},
	{"delete.retention.ms", "86400000", kmsg.ConfigTypeLong, checkLong(0)},
	{"file.delete.delay.ms", "60000", kmsg.ConfigTypeLong, checkLong(0)},
	{"flush.messages", maxLong, kmsg.ConfigTypeLong, checkLong(1)},
	{"flush.ms", maxLong, kmsg.ConfigTypeLong, checkLong(0)},
	{"index.interval.bytes", "4096", kmsg.ConfigTypeInt, checkInt(0)},
	{"max.compaction.lag.ms", maxLong, kmsg.ConfigTypeLong, checkLong(1)},
	{"max.message.bytes", "1048588", kmsg.ConfigTypeInt, checkInt(0)},
	{"message.timestamp.type", "CreateTime", kmsg.ConfigTypeString, checkOneOf("CreateTime", "LogAppendTime")},
	{"min.cleanable.dirty.ratio", "0.5", kmsg.ConfigTypeDouble, checkRatio},
	{"min.compaction.lag.ms", "0", kmsg.ConfigTypeLong, checkLong(0)},
	{"min.insync.replicas", "1", kmsg.ConfigTypeInt, checkInt(1)},
	{"retention.bytes", "-1", kmsg.ConfigTypeLong, checkLong(-1)},
	{"retention.ms", "604800000", kmsg.ConfigTypeLong, checkLong(-1)},
	{"segment.bytes", "1073741824", kmsg.ConfigTypeInt, checkInt(14)},
	{"segment.index.bytes", "10485760", kmsg.ConfigTypeInt, checkInt(4)},
	{"segment.ms", "604800000", kmsg.ConfigTypeLong, checkLong(1)},
	{"unclean.leader.election.enable", "false", kmsg.ConfigTypeBoolean, checkOneOf("true", "false")},
}

var topicConfigByName = func() map[string]*topicConfigDef {
	m := make(map[string]*topicConfigDef, len(topicConfigDefs))
	for i := range topicConfigDefs {
		m[topicConfigDefs[i].name] = &topicConfigDefs[i]
	}
	return m
}()

// TopicConfigs returns the names of the topic configs the broker accepts, in topics and as
// TopicDefaults, sorted.
func TopicConfigs() []string {
	names := make([]string, len(topicConfigDefs))
	for i, d := range topicConfigDefs {
		names[i] = d.name
	}
	sort.Strings(names)
	return names
}

// errInvalidConfig reports a config name or value the broker rejects, answered as INVALID_CONFIG.
type errInvalidConfig struct{ msg string }

func (e *errInvalidConfig) Error() string { return e.msg }

func validateTopicConfig(name, value string) error {
	d, ok := topicConfigByName[name]
	if !ok {
		return &errInvalidConfig{fmt.Sprintf("unknown topic config %q", name)}
	}
	if err := d.check(value); err != nil {
		return &errInvalidConfig{fmt.Sprintf("invalid value %q for config %s: %v", value, name, err)}
	}
	return nil
}

func checkLong(min int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("not a long")
		}
		if n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		return nil
	}
}

func checkInt(min int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
		if err != nil {
			return fmt.Errorf("not an int")
		}
		if n < min {
			return fmt.Errorf("must be at least %d", min)
		}
		return nil
	}
}

func checkRatio(v string) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || f > 1 {
		return fmt.Errorf("must be a number between 0 and 1")
	}
	return nil
}

func checkOneOf(allowed ...string) func(string) error {
	return func(v string) error {
		for _, a := range allowed {
			if v == a {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
	}
}

func checkCleanupPolicy(v string) error {
	parts := splitList(v)
	if len(parts) == 0 {
		return fmt.Errorf("must be delete, compact or both")
	}
	for _, p := range parts {
		if p != "delete" && p != "compact" {
			return fmt.Errorf("must be delete, compact or both")
		}
	}
	return nil
}

func checkCompressionType(v string) error {
	switch v {
	case "producer", "uncompressed":
		return nil
	}
	if _, err := records.ParseCodec(v); err != nil {
		return fmt.Errorf("must be producer, uncompressed, gzip, snappy, lz4 or zstd")
	}
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// topicConfig is a topic's effective configuration: Kafka defaults, overridden by the broker's topic
// defaults, overridden by the topic's own configs.
type topicConfig struct {
	values map[string]string // effective value of every known config
	source map[string]kmsg.ConfigSource
}

func effectiveConfig(brokerDefaults, own map[string]string) topicConfig {
	tc := topicConfig{values: make(map[string]string, len(topicConfigDefs)), source: make(map[string]kmsg.ConfigSource, len(topicConfigDefs))}
	for _, d := range topicConfigDefs {
		tc.values[d.name], tc.source[d.name] = d.def, kmsg.ConfigSourceDefaultConfig
		if v, ok := brokerDefaults[d.name]; ok {
			tc.values[d.name], tc.source[d.name] = v, kmsg.ConfigSourceStaticBrokerConfig
		}
		if v, ok := own[d.name]; ok {
			tc.values[d.name], tc.source[d.name] = v, kmsg.ConfigSourceDynamicTopicConfig
		}
	}
	return tc
}

func (tc topicConfig) int64(name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(tc.values[name]), 10, 64)
	return n
}

func (tc topicConfig) compact() bool { return tc.hasPolicy("compact") }

func (tc topicConfig) deletes() bool { return tc.hasPolicy("delete") }

// hasPolicy reports whether cleanup.policy lists policy. It does not allocate: the produce path asks
// on every request.
func (tc topicConfig) hasPolicy(policy string) bool {
	for p := range strings.SplitSeq(tc.values["cleanup.policy"], ",") {
		if strings.TrimSpace(p) == policy {
			return true
		}
	}
	return false
}

func (tc topicConfig) logAppendTime() bool {
	return tc.values["message.timestamp.type"] == "LogAppendTime"
}

// compression returns the codec batches must be stored with, or ok=false to keep the producer's.
func (tc topicConfig) compression() (c records.Codec, ok bool) {
	switch v := tc.values["compression.type"]; v {
	case "producer":
		return 0, false
	case "uncompressed":
		return records.Codec(0), true
	default:
		c, err := records.ParseCodec(v)
		return c, err == nil
	}
}

// storage converts the topic config to the partition log's config.
func (tc topicConfig) storage() storage.Config {
	flushMessages := tc.int64("flush.messages")
	if flushMessages == math.MaxInt64 {
		flushMessages = 0
	}
	flushMs := tc.int64("flush.ms")
	if flushMs == math.MaxInt64 {
		flushMs = 0
	}
	ratio, _ := strconv.ParseFloat(tc.values["min.cleanable.dirty.ratio"], 64)
	return storage.Config{
		SegmentBytes:           tc.int64("segment.bytes"),
		SegmentMs:              tc.int64("segment.ms"),
		RetentionMs:            tc.int64("retention.ms"),
		RetentionBytes:         tc.int64("retention.bytes"),
		Delete:                 tc.deletes(),
		Compact:                tc.compact(),
		MinCleanableDirtyRatio: ratio,
		DeleteRetentionMs:      tc.int64("delete.retention.ms"),
		MinCompactionLagMs:     tc.int64("min.compaction.lag.ms"),
		FlushMessages:          flushMessages,
		FlushMs:                flushMs,
		IndexIntervalBytes:     int(tc.int64("index.interval.bytes")),
	}
}

// describe renders configs for DescribeConfigs; names nil means all.
func (tc topicConfig) describe(names []string, version int16, synonyms bool) []kmsg.DescribeConfigsResponseResourceConfig {
	if names == nil {
		for _, d := range topicConfigDefs {
			names = append(names, d.name)
		}
	}
	sort.Strings(names)
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, n := range names {
		d, ok := topicConfigByName[n]
		if !ok {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name = n
		v := tc.values[n]
		c.Value = &v
		c.Source = tc.source[n]
		c.IsDefault = c.Source == kmsg.ConfigSourceDefaultConfig
		c.ConfigType = d.typ
		if synonyms {
			s := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			s.Name, s.Value, s.Source = n, c.Value, c.Source
			c.ConfigSynonyms = append(c.ConfigSynonyms, s)
		}
		out = append(out, c)
	}
	return out
}
