package broker

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(33, 0, 2, handleAlterConfigs) }

// handleAlterConfigs replaces a topic's whole config set (the non-incremental API). Broker configs are
// static in Seiche.
func handleAlterConfigs(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.AlterConfigsRequest)
	resp := req.ResponseKind().(*kmsg.AlterConfigsResponse)
	for _, rr := range req.Resources {
		sr := kmsg.NewAlterConfigsResponseResource()
		sr.ResourceType, sr.ResourceName = rr.ResourceType, rr.ResourceName
		if rr.ResourceType != kmsg.ConfigResourceTypeTopic {
			m := "only topic configs can be altered; broker configs are set at start"
			sr.ErrorCode, sr.ErrorMessage = kerr.InvalidRequest.Code, &m
			resp.Resources = append(resp.Resources, sr)
			continue
		}
		configs := make(map[string]string, len(rr.Configs))
		for _, c := range rr.Configs {
			if c.Value == nil {
				m := fmt.Sprintf("null value for config %s", c.Name)
				sr.ErrorCode, sr.ErrorMessage = kerr.InvalidConfig.Code, &m
				break
			}
			configs[c.Name] = *c.Value
		}
		if sr.ErrorCode == 0 {
			sr.ErrorCode, sr.ErrorMessage = errCode(b.topics.setConfigs(rr.ResourceName, configs, req.ValidateOnly))
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return respond(resp)
}
