package broker

import (
	"regexp"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/txn"
)

func init() { register(66, 0, 2, handleListTransactions) }

// handleListTransactions lists transactional IDs, filtered by state names (unknown names are echoed
// back in UnknownStateFilters and match nothing), producer IDs, v1's minimum duration of the open
// transaction and v2's regular expression, which must match the whole ID (as Java's Matcher.matches).
func handleListTransactions(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	var states []txn.State
	for _, name := range req.StateFilters {
		if s, ok := txn.ParseState(name); ok {
			states = append(states, s)
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	var pattern *regexp.Regexp
	if req.Version >= 2 && req.TransactionalIDPattern != nil && *req.TransactionalIDPattern != "" {
		re, err := regexp.Compile("^(?:" + *req.TransactionalIDPattern + ")$")
		if err != nil {
			resp.ErrorCode = kerr.InvalidRegularExpression.Code
			return respond(resp)
		}
		pattern = re
	}
	// Asking only for unknown states matches nothing, as in Kafka.
	onlyUnknown := len(req.StateFilters) > 0 && len(states) == 0
	now := time.Now()
	list := b.txns.List(func(d txn.Description) bool {
		switch {
		case onlyUnknown:
			return false
		case len(states) > 0 && !slices.Contains(states, d.State):
			return false
		case len(req.ProducerIDFilters) > 0 && !slices.Contains(req.ProducerIDFilters, d.ProducerID):
			return false
		case req.Version >= 1 && req.DurationFilterMillis >= 0 &&
			(d.Started.IsZero() || now.Sub(d.Started) < time.Duration(req.DurationFilterMillis)*time.Millisecond):
			return false
		case pattern != nil && !pattern.MatchString(d.ID):
			return false
		}
		return true
	})
	for _, d := range list {
		ts := kmsg.NewListTransactionsResponseTransactionState()
		ts.TransactionalID, ts.ProducerID, ts.TransactionState = d.ID, d.ProducerID, d.State.String()
		resp.TransactionStates = append(resp.TransactionStates, ts)
	}
	return respond(resp)
}
