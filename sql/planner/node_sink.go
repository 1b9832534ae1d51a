package planner

import (
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/sql/analyzer"
)

// SinkNode writes the output rows to the sink's topic with its key and value formats. Windowed keys
// are written as ksqlDB writes them: the key's bytes, then the 8-byte big-endian window start (time
// windows) or session end and start (session windows).
type SinkNode struct {
	Sink  *analyzer.Source
	Query *analyzer.Query
}

// Describe implements Node.
func (n *SinkNode) Describe() string { return "Sink(" + n.Sink.Topic + ")" }

func (n *SinkNode) lower(e *Env, in flow) (flow, error) {
	keys, err := KeySerde(n.Sink)
	if err != nil {
		return flow{}, err
	}
	vals, err := ValueSerde(n.Sink)
	if err != nil {
		return flow{}, err
	}
	if in.stream != nil {
		if ts := newSinkTimestamp[Row](n.Sink); ts != nil {
			in.stream = dsl.Process(in.stream, ts)
		}
		in.stream.To(n.Sink.Topic, dsl.WithKeySerde(keys), dsl.WithValueSerde(vals))
		return in, nil
	}
	var wkeys serde.Serde[dsl.Windowed[Row]]
	if in.windowKind == "SESSION" {
		wkeys = dsl.SessionWindowedSerde(keys)
	} else {
		// The size only matters to deserialization, which the sink never does.
		wkeys = dsl.TimeWindowedSerde(keys, time.Millisecond)
	}
	if ts := newSinkTimestamp[dsl.Windowed[Row]](n.Sink); ts != nil {
		in.wstream = dsl.Process(in.wstream, ts)
	}
	in.wstream.To(n.Sink.Topic, dsl.WithKeySerde(wkeys), dsl.WithValueSerde(vals))
	return in, nil
}
