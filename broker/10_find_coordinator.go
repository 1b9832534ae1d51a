package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(10, 0, 6, handleFindCoordinator) }

// handleFindCoordinator names this broker as the coordinator of every group (key type 0) and every
// transactional ID (key type 1).
func handleFindCoordinator(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	answer := func(key string) (code int16, msg *string) {
		switch {
		case req.CoordinatorType == 1 && key == "":
			m := "empty transactional id"
			return kerr.InvalidRequest.Code, &m
		case req.CoordinatorType == 1:
		case req.CoordinatorType != 0:
			m := "unknown coordinator type"
			return kerr.InvalidRequest.Code, &m
		case key == "":
			m := "empty group id"
			return kerr.InvalidGroupID.Code, &m
		}
		return 0, nil
	}
	if req.Version <= 3 {
		resp.ErrorCode, resp.ErrorMessage = answer(req.CoordinatorKey)
		if resp.ErrorCode == 0 {
			resp.NodeID, resp.Host, resp.Port = b.cfg.nodeID, b.advHost, b.advPort
		} else {
			resp.NodeID, resp.Port = -1, -1
		}
		return respond(resp)
	}
	for _, key := range req.CoordinatorKeys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		c.ErrorCode, c.ErrorMessage = answer(key)
		if c.ErrorCode == 0 {
			c.NodeID, c.Host, c.Port = b.cfg.nodeID, b.advHost, b.advPort
		} else {
			c.NodeID, c.Port = -1, -1
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	return respond(resp)
}
