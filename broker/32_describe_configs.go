package broker

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(32, 0, 4, handleDescribeConfigs) }

func handleDescribeConfigs(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.DescribeConfigsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			t := b.topics.get(rr.ResourceName)
			if t == nil {
				m := fmt.Sprintf("topic %q does not exist", rr.ResourceName)
				sr.ErrorCode, sr.ErrorMessage = kerr.UnknownTopicOrPartition.Code, &m
				break
			}
			sr.Configs = t.config.describe(rr.ConfigNames, req.Version, req.IncludeSynonyms)
		case kmsg.ConfigResourceTypeBroker:
			if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(b.cfg.nodeID)) {
				m := fmt.Sprintf("broker %q is not this broker (%d)", rr.ResourceName, b.cfg.nodeID)
				sr.ErrorCode, sr.ErrorMessage = kerr.InvalidRequest.Code, &m
				break
			}
			if rr.ResourceName == "" {
				break // only dynamic broker configs are listed for the cluster-wide resource; Seiche has none
			}
			sr.Configs = b.brokerConfigs(rr.ConfigNames)
		case kmsg.ConfigResourceTypeGroupConfig:
			sr.Configs = b.describeGroupConfigs(rr)
		case kmsg.ConfigResourceTypeBrokerLogger:
			// No loggers are dynamically configurable.
		default:
			m := fmt.Sprintf("unsupported resource type %d", rr.ResourceType)
			sr.ErrorCode, sr.ErrorMessage = kerr.InvalidRequest.Code, &m
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return respond(resp)
}

// brokerConfigs lists the broker's static configs, including the topic defaults it applies.
func (b *Broker) brokerConfigs(names []string) []kmsg.DescribeConfigsResponseResourceConfig {
	vals := map[string]string{
		"broker.id":                        strconv.Itoa(int(b.cfg.nodeID)),
		"node.id":                          strconv.Itoa(int(b.cfg.nodeID)),
		"log.dirs":                         b.cfg.dataDir,
		"num.partitions":                   strconv.Itoa(int(b.cfg.defaultPartitions)),
		"default.replication.factor":       "1",
		"offsets.topic.replication.factor": "1",
		"auto.create.topics.enable":        strconv.FormatBool(b.cfg.autoCreateTopics),
		"socket.request.max.bytes":         strconv.Itoa(int(b.cfg.maxRequestBytes)),
		"group.initial.rebalance.delay.ms": strconv.FormatInt(b.cfg.groupInitialDelay.Milliseconds(), 10),
		"advertised.listeners":             fmt.Sprintf("PLAINTEXT://%s:%d", b.advHost, b.advPort),
	}
	tc := effectiveConfig(b.cfg.topicDefaults, nil)
	for _, d := range topicConfigDefs {
		vals["log."+d.name] = tc.values[d.name]
	}
	if names == nil {
		for k := range vals {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	var out []kmsg.DescribeConfigsResponseResourceConfig
	for _, n := range names {
		v, ok := vals[n]
		if !ok {
			continue
		}
		c := kmsg.NewDescribeConfigsResponseResourceConfig()
		c.Name, c.Value, c.ReadOnly = n, &v, true
		c.Source = kmsg.ConfigSourceStaticBrokerConfig
		c.ConfigType = kmsg.ConfigTypeString
		out = append(out, c)
	}
	return out
}
