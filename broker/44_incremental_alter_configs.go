package broker

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(44, 0, 1, handleIncrementalAlterConfigs) }

// handleIncrementalAlterConfigs applies SET, DELETE, APPEND and SUBTRACT to a topic's configs, and SET
// and DELETE to a group's.
func handleIncrementalAlterConfigs(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.IncrementalAlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.IncrementalAlterConfigsResponse)
	for _, rr := range req.Resources {
		if rr.ResourceType == kmsg.ConfigResourceTypeGroupConfig {
			resp.Resources = append(resp.Resources, b.alterGroupConfigs(rr, req.ValidateOnly))
			continue
		}
		sr := kmsg.NewIncrementalAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		fail := func(code *kerr.Error, format string, args ...any) {
			m := fmt.Sprintf(format, args...)
			sr.ErrorCode, sr.ErrorMessage = code.Code, &m
		}
		t := b.topics.get(rr.ResourceName)
		switch {
		case rr.ResourceType != kmsg.ConfigResourceTypeTopic:
			fail(kerr.InvalidRequest, "only topic configs can be altered; broker configs are set at start")
		case t == nil:
			fail(kerr.UnknownTopicOrPartition, "topic %q does not exist", rr.ResourceName)
		}
		if sr.ErrorCode != 0 {
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		configs := maps.Clone(t.own)
		if configs == nil {
			configs = make(map[string]string)
		}
		for _, c := range rr.Configs {
			if _, known := topicConfigByName[c.Name]; !known {
				fail(kerr.InvalidConfig, "unknown topic config %q", c.Name)
				break
			}
			val := ""
			if c.Value != nil {
				val = *c.Value
			}
			switch c.Op {
			case kmsg.IncrementalAlterConfigOpSet:
				configs[c.Name] = val
			case kmsg.IncrementalAlterConfigOpDelete:
				delete(configs, c.Name)
			case kmsg.IncrementalAlterConfigOpAppend, kmsg.IncrementalAlterConfigOpSubtract:
				if topicConfigByName[c.Name].typ != kmsg.ConfigTypeList {
					fail(kerr.InvalidConfig, "config %s is not a list; APPEND and SUBTRACT apply only to lists", c.Name)
					break
				}
				cur := splitList(t.config.values[c.Name])
				for _, v := range splitList(val) {
					i := slices.Index(cur, v)
					if c.Op == kmsg.IncrementalAlterConfigOpAppend && i < 0 {
						cur = append(cur, v)
					} else if c.Op == kmsg.IncrementalAlterConfigOpSubtract && i >= 0 {
						cur = slices.Delete(cur, i, i+1)
					}
				}
				configs[c.Name] = strings.Join(cur, ",")
			default:
				fail(kerr.InvalidRequest, "unknown config operation %d", c.Op)
			}
			if sr.ErrorCode != 0 {
				break
			}
		}
		if sr.ErrorCode == 0 {
			sr.ErrorCode, sr.ErrorMessage = errCode(b.topics.setConfigs(rr.ResourceName, configs, req.ValidateOnly))
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return respond(resp)
}
