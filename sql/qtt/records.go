package qtt

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/planner"
	"github.com/seichedb/seiche/sql/types"
)

// The encoding of test records into Kafka records and back, shared by every runner of ksqlDB's test
// files (QTT here, REST in engine/resttest). Serialization itself is package sql/format's.

// Encoding is how a test's records on one topic are written and read.
type Encoding struct {
	KeyFormat, ValueFormat   string
	KeyColumns, ValueColumns []types.Column
	// Source is the source over the topic, nil when there is none. The keys of a windowed source carry
	// their window.
	Source *ir.Source
}

// EncodingOf returns how records on topic are encoded: with the formats and columns of the source
// of meta over it (SourceOver), else with the formats the test declares for it, else with ksqlDB's
// defaults (KAFKA keys, JSON values).
func EncodingOf(meta *analyzer.Metastore, topic string, declared []Topic) Encoding {
	if src := SourceOver(meta, topic); src != nil {
		return Encoding{KeyFormat: src.KeyFormat, ValueFormat: src.ValueFormat, KeyColumns: src.Schema.Key(),
			ValueColumns: planner.ValueColumns(src), Source: src}
	}
	enc := Encoding{KeyFormat: "KAFKA", ValueFormat: "JSON"}
	for _, t := range declared {
		if t.Name != topic {
			continue
		}
		if t.KeyFormat != "" {
			enc.KeyFormat = t.KeyFormat
		}
		if t.ValueFormat != "" {
			enc.ValueFormat = t.ValueFormat
		}
	}
	return enc
}

func (enc Encoding) windowed() bool { return enc.Source != nil && enc.Source.Window != "" }

// EncodeRecord turns a test input into the record ksqlDB's runner produces with the serializers of
// enc: the key and value in their formats, a windowed key with its window appended (Kafka Streams'
// TimeWindowedSerializer / SessionWindowedSerializer), the timestamp (0 when missing) and the
// headers.
func EncodeRecord(in Record, enc Encoding) (runtime.RawRecord, error) {
	rec := runtime.RawRecord{Topic: in.Topic}
	if in.Timestamp != "" {
		ts, err := in.Timestamp.Int64()
		if err != nil {
			return rec, fmt.Errorf("timestamp: %w", err)
		}
		rec.Timestamp = ts
	}
	if !isNull(in.Headers) {
		var hs []struct {
			Key   string  `json:"KEY"`
			Value *[]byte `json:"VALUE"`
		}
		if err := json.Unmarshal(in.Headers, &hs); err != nil {
			return rec, fmt.Errorf("headers: %w", err)
		}
		for _, h := range hs {
			hdr := runtime.Header{Key: h.Key}
			if h.Value != nil {
				hdr.Value = *h.Value
			}
			rec.Headers = append(rec.Headers, hdr)
		}
	}
	var err error
	if rec.Key, err = EncodeJSON(in.Key, enc.KeyFormat, enc.KeyColumns, true); err != nil {
		return rec, fmt.Errorf("key: %w", err)
	}
	if enc.windowed() && rec.Key != nil && !isNull(in.Window) {
		var w Window
		if err := json.Unmarshal(in.Window, &w); err != nil {
			return rec, fmt.Errorf("window: %w", err)
		}
		if enc.Source.Window == "SESSION" {
			rec.Key = binary.BigEndian.AppendUint64(rec.Key, uint64(w.End))
		}
		rec.Key = binary.BigEndian.AppendUint64(rec.Key, uint64(w.Start))
	}
	if rec.Value, err = EncodeJSON(in.Value, enc.ValueFormat, enc.ValueColumns, false); err != nil {
		return rec, fmt.Errorf("value: %w", err)
	}
	return rec, nil
}

// Window is a windowed key's window, as test files write it ({"start": ..., "end": ...}).
type Window struct {
	Start, End int64
}

// Decoded is a written record decoded for comparison with an expected one: its key and value as
// JSON-like values (DecodeOutput), its timestamp, its window when its key has one, and what could not
// be decoded.
type Decoded struct {
	Key, Value any
	Timestamp  int64
	Window     *Window
	Err        error
}

// DecodeRecord decodes a written record with enc.
func DecodeRecord(r runtime.RawRecord, enc Encoding) Decoded {
	d := Decoded{Timestamp: r.Timestamp}
	kb := r.Key
	var errs []error
	if enc.windowed() && kb != nil {
		d.Window = &Window{}
		var err error
		if kb, d.Window.Start, d.Window.End, err = planner.SplitWindowedKey(enc.Source, kb, planner.WindowSize(enc.Source)); err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	if d.Key, err = DecodeOutput(kb, enc.KeyFormat, enc.KeyColumns, true); err != nil {
		errs = append(errs, fmt.Errorf("key: %w", err))
	}
	if d.Value, err = DecodeOutput(r.Value, enc.ValueFormat, enc.ValueColumns, false); err != nil {
		errs = append(errs, fmt.Errorf("value: %w", err))
	}
	d.Err = errors.Join(errs...)
	return d
}

func (d Decoded) String() string {
	s := fmt.Sprintf("key=%s value=%s ts=%d", render(d.Key), render(d.Value), d.Timestamp)
	if d.Window != nil {
		s += fmt.Sprintf(" window=[%d,%d]", d.Window.Start, d.Window.End)
	}
	if d.Err != nil {
		s += " (" + d.Err.Error() + ")"
	}
	return s
}

func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// EncodeJSON turns a test record's JSON key or value into the bytes format fm writes for it: the
// encoding every runner of ksqlDB's test files (QTT, REST) uses for inputs.
func EncodeJSON(raw json.RawMessage, fm string, cols []types.Column, isKey bool) ([]byte, error) {
	if isNull(raw) {
		return nil, nil
	}
	switch fm {
	case "NONE":
		return nil, nil
	case "DELIMITED":
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s), nil
		}
		return bytes.TrimSpace(raw), nil
	case "KAFKA":
		if len(cols) != 1 {
			// No single column to type the value by: a JSON string is its UTF-8 text, anything else its JSON text.
			var s string
			if json.Unmarshal(raw, &s) == nil {
				return []byte(s), nil
			}
			return bytes.TrimSpace(raw), nil
		}
		wrap := false
		js, err := format.New("JSON", cols, format.Options{IsKey: isKey, Wrap: &wrap})
		if err != nil {
			return nil, err
		}
		vals, err := js.Deserialize(raw)
		if err != nil {
			return bytes.TrimSpace(raw), nil // a deliberately bad record: its JSON text as is
		}
		ks, err := format.New("KAFKA", cols, format.Options{IsKey: isKey})
		if err != nil {
			return nil, err
		}
		b, err := ks.Serialize(vals)
		if err != nil {
			return bytes.TrimSpace(raw), nil
		}
		return b, nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DecodeOutput turns written bytes into a JSON-like value (json.Number numbers) to compare with a
// test file's expected record.
func DecodeOutput(b []byte, fm string, cols []types.Column, isKey bool) (any, error) {
	if b == nil {
		return nil, nil
	}
	switch fm {
	case "DELIMITED":
		return string(b), nil
	case "NONE":
		return nil, nil
	case "KAFKA":
		if len(cols) != 1 {
			return string(b), nil
		}
		s, err := format.New("KAFKA", cols, format.Options{IsKey: isKey})
		if err != nil {
			return nil, err
		}
		vals, err := s.Deserialize(b)
		if err != nil {
			return nil, err
		}
		switch v := vals[0].(type) {
		case int32:
			return json.Number(fmt.Sprint(v)), nil
		case int64:
			return json.Number(fmt.Sprint(v)), nil
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return types.JavaDouble(v), nil
			}
			return json.Number(types.JavaDouble(v)), nil
		case []byte:
			return base64.StdEncoding.EncodeToString(v), nil
		default:
			return v, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return string(b), nil
	}
	return v, nil
}
