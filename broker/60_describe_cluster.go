package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(60, 0, 1, handleDescribeCluster) }

func handleDescribeCluster(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	if req.EndpointType != 1 && req.Version >= 1 {
		// Seiche has no separate controller endpoints.
		m := "only broker endpoints can be described"
		resp.ErrorCode, resp.ErrorMessage = kerr.UnsupportedEndpointType.Code, &m
		return respond(resp)
	}
	resp.EndpointType = 1
	resp.ClusterID = b.clusterID
	resp.ControllerID = b.cfg.nodeID
	resp.ClusterAuthorizedOperations = authorizedOperationsUnset
	bk := kmsg.NewDescribeClusterResponseBroker()
	bk.NodeID, bk.Host, bk.Port = b.cfg.nodeID, b.advHost, b.advPort
	resp.Brokers = append(resp.Brokers, bk)
	return respond(resp)
}
