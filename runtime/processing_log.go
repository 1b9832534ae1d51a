package runtime

import (
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// processingLog is where record errors go: slog always, and a Kafka topic when one is configured
// (ksqlDB's processing log). Topic entries go through the failing task's collector, so they are
// delivered with the task's output and under the same guarantee.
type processingLog struct {
	topic string
}

// ProcessingLogEntry is the JSON value of a record on the processing log topic.
type ProcessingLogEntry struct {
	Type        string `json:"type"` // "DESERIALIZATION_ERROR" or "PROCESSING_ERROR"
	Application string `json:"application"`
	Task        string `json:"task"`
	Node        string `json:"node"`
	Topic       string `json:"topic,omitempty"`
	Partition   int32  `json:"partition"`
	Offset      int64  `json:"offset"`
	Message     string `json:"message"`
	Time        int64  `json:"time"` // wall clock, ms
}

func (pl processingLog) record(t *task, err error) {
	e := ProcessingLogEntry{Application: t.sh.appID, Task: t.id.String(), Time: t.wallClockTime(), Offset: -1, Partition: -1}
	var de *DeserializationError
	var pe *ProcessingError
	switch {
	case errors.As(err, &de):
		e.Type, e.Node, e.Message = "DESERIALIZATION_ERROR", de.Node, de.Err.Error()
		e.Topic, e.Partition, e.Offset = de.Record.Topic, de.Record.Partition, de.Record.Offset
	case errors.As(err, &pe):
		e.Type, e.Node, e.Message = "PROCESSING_ERROR", pe.Node, pe.Err.Error()
		if pe.HasRecord {
			e.Topic, e.Partition, e.Offset = pe.Record.Topic, pe.Record.Partition, pe.Record.Offset
		}
	}
	t.logger.Warn("runtime: record error", "type", e.Type, "node", e.Node, "topic", e.Topic,
		"partition", e.Partition, "offset", e.Offset, "err", e.Message)
	if pl.topic == "" {
		return
	}
	b, jerr := json.Marshal(e)
	if jerr != nil {
		t.logger.Error("runtime: encode processing log entry", "err", jerr)
		return
	}
	t.collector.send(&kgo.Record{Topic: pl.topic, Partition: -1, Value: b, Timestamp: time.UnixMilli(e.Time)})
}

// discardLogger is the default logger of the test driver.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
