package group

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
)

// groupConfigPrefix keys a group's dynamic configs (KIP-848/KIP-932 group configs, resource type
// GROUP): g/k/<group> -> JSON object of name to value. A group's configs may be set before it exists.
const groupConfigPrefix = "g/k/"

// GroupConfigKeys are the group configs Seiche knows, with their defaults ("" for a broker-level
// default the coordinator reports as such).
var GroupConfigKeys = map[string]string{
	"consumer.session.timeout.ms":    "45000",
	"consumer.heartbeat.interval.ms": "5000",
	"share.session.timeout.ms":       "45000",
	"share.heartbeat.interval.ms":    "5000",
	"share.record.lock.duration.ms":  "30000",
	"share.delivery.count.limit":     "5",
	"share.auto.offset.reset":        "latest",
	"share.isolation.level":          "read_uncommitted",
}

// validGroupConfig checks one value against Kafka's rules for the config.
func validGroupConfig(name, value string) error {
	switch name {
	case "share.auto.offset.reset":
		if value != "latest" && value != "earliest" {
			return fmt.Errorf("share.auto.offset.reset must be latest or earliest, not %q", value)
		}
	case "share.isolation.level":
		if value != "read_uncommitted" && value != "read_committed" {
			return fmt.Errorf("share.isolation.level must be read_uncommitted or read_committed, not %q", value)
		}
	case "share.delivery.count.limit":
		if n, err := strconv.Atoi(value); err != nil || n < 2 || n > 10 {
			return fmt.Errorf("share.delivery.count.limit must be an integer from 2 to 10, not %q", value)
		}
	default:
		if _, ok := GroupConfigKeys[name]; !ok {
			return fmt.Errorf("unknown group config %q", name)
		}
		if n, err := strconv.ParseInt(value, 10, 32); err != nil || n <= 0 {
			return fmt.Errorf("%s must be a positive number of milliseconds, not %q", name, value)
		}
	}
	return nil
}

// GroupConfigs returns the configs set on group (not the defaults).
func (c *Coordinator) GroupConfigs(group string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.mu.configs[group])
}

// SetGroupConfigs replaces the configs set on group, durably, after validating every value. With
// validateOnly it only validates.
func (c *Coordinator) SetGroupConfigs(group string, configs map[string]string, validateOnly bool) (*kerr.Error, error) {
	if group == "" {
		return kerr.InvalidGroupID, fmt.Errorf("group id can't be empty")
	}
	for _, name := range slices.Sorted(maps.Keys(configs)) {
		if err := validGroupConfig(name, configs[name]); err != nil {
			return kerr.InvalidConfig, err
		}
	}
	if validateOnly {
		return nil, nil
	}
	key := []byte(groupConfigPrefix + group)
	var err error
	if len(configs) == 0 {
		err = c.db.Delete(key, pebble.Sync)
	} else {
		v, _ := json.Marshal(configs)
		err = c.db.Set(key, v, pebble.Sync)
	}
	if err != nil {
		return kerr.UnknownServerError, fmt.Errorf("group: store configs of %q: %w", group, err)
	}
	c.mu.Lock()
	if len(configs) == 0 {
		delete(c.mu.configs, group)
	} else {
		c.mu.configs[group] = maps.Clone(configs)
	}
	c.mu.Unlock()
	return nil, nil
}

// GroupConfig returns a group's config value, or its default.
func (c *Coordinator) GroupConfig(group, name string) string {
	c.mu.Lock()
	v, ok := c.mu.configs[group][name]
	c.mu.Unlock()
	if ok {
		return v
	}
	switch name {
	case "consumer.session.timeout.ms":
		return strconv.FormatInt(c.consumerSession.Milliseconds(), 10)
	case "consumer.heartbeat.interval.ms":
		return strconv.FormatInt(c.consumerHeartbeat.Milliseconds(), 10)
	}
	return GroupConfigKeys[name]
}

// groupDuration reads a millisecond group config.
func (c *Coordinator) groupDuration(group, name string, def time.Duration) time.Duration {
	c.mu.Lock()
	v, ok := c.mu.configs[group][name]
	c.mu.Unlock()
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return def
	}
	return time.Duration(n) * time.Millisecond
}

// deleteGroupConfigs forgets a deleted group's configs, in the deleting batch.
func (c *Coordinator) deleteGroupConfigs(b *pebble.Batch, group string) {
	b.Delete([]byte(groupConfigPrefix+group), nil)
	c.mu.Lock()
	delete(c.mu.configs, group)
	c.mu.Unlock()
}
