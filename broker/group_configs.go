package broker

import (
	"fmt"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/group"
)

// describeGroupConfigs lists a group's configs (resource type GROUP): the ones set on the group as
// dynamic group configs, the rest as defaults.
func (b *Broker) describeGroupConfigs(rr kmsg.DescribeConfigsRequestResource) []kmsg.DescribeConfigsResponseResourceConfig {
	set := b.groups.GroupConfigs(rr.ResourceName)
	names := rr.ConfigNames
	if names == nil {
		names = slices.Sorted(maps.Keys(group.GroupConfigKeys))
	}
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, n := range names {
		if _, ok := group.GroupConfigKeys[n]; !ok {
			continue
		}
		v := b.groups.GroupConfig(rr.ResourceName, n)
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value = n, &v
		c.Source = kmsg.ConfigSourceDefaultConfig
		if _, ok := set[n]; ok {
			c.Source = kmsg.ConfigSourceGroupConfig
		}
		c.ConfigType = kmsg.ConfigTypeInt
		if n == "share.auto.offset.reset" || n == "share.isolation.level" {
			c.ConfigType = kmsg.ConfigTypeString
		}
		out = append(out, c)
	}
	return out
}

// alterGroupConfigs applies SET and DELETE to a group's configs.
func (b *Broker) alterGroupConfigs(rr kmsg.IncrementalAlterConfigsRequestResource, validateOnly bool) kmsg.IncrementalAlterConfigsResponseResource {
	sr := kmsg.NewIncrementalAlterConfigsResponseResource()
	sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
	fail := func(code *kerr.Error, err error) kmsg.IncrementalAlterConfigsResponseResource {
		m := err.Error()
		sr.ErrorCode, sr.ErrorMessage = code.Code, &m
		return sr
	}
	configs := b.groups.GroupConfigs(rr.ResourceName)
	if configs == nil {
		configs = make(map[string]string)
	}
	for _, c := range rr.Configs {
		switch c.Op {
		case kmsg.IncrementalAlterConfigOpSet:
			if c.Value == nil {
				return fail(kerr.InvalidConfig, fmt.Errorf("config %s needs a value", c.Name))
			}
			configs[c.Name] = *c.Value
		case kmsg.IncrementalAlterConfigOpDelete:
			delete(configs, c.Name)
		default:
			return fail(kerr.InvalidConfig, fmt.Errorf("group config %s is not a list; only SET and DELETE apply", c.Name))
		}
	}
	if code, err := b.groups.SetGroupConfigs(rr.ResourceName, configs, validateOnly); err != nil {
		return fail(code, err)
	}
	return sr
}
