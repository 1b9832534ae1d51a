package engine

import (
	"fmt"
	"strings"

	"github.com/seichedb/seiche/runtime"
)

// guaranteeProperty is processing.guarantee (or ksql.streams.processing.guarantee), from a
// statement's properties or the server's: the guarantee a persistent query runs with. ksqlDB
// accepts the values Kafka Streams 3.x does: at_least_once (the default), exactly_once_v2, and the
// deprecated exactly_once and exactly_once_beta, which Kafka Streams 4.0 removed and which run here
// as exactly_once_v2, the same guarantee (deprecated reports them, for a warning).
func guaranteeProperty(stmt, server map[string]string) (g runtime.Guarantee, deprecated bool, err error) {
	v := property(stmt, server, "processing.guarantee")
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "":
		return runtime.AtLeastOnce, false, nil
	case "exactly_once", "exactly_once_beta":
		return runtime.ExactlyOnceV2, true, nil
	}
	if g, err = runtime.ParseGuarantee(v); err != nil {
		return 0, false, fmt.Errorf("Invalid value %s for configuration processing.guarantee: String must be one of: at_least_once, exactly_once_v2 (exactly_once and exactly_once_beta are deprecated)", v)
	}
	return g, false, nil
}

// isGuaranteeProperty reports whether a SET names processing.guarantee.
func isGuaranteeProperty(name string) bool {
	name = strings.TrimPrefix(name, "ksql.streams.")
	return name == "processing.guarantee"
}
