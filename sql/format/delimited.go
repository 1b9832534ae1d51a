package format

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"strconv"

	"github.com/cockroachdb/apd/v3"
	"github.com/seichedb/seiche/sql/types"
)

// delimitedSerde is ksqlDB's DELIMITED format: one CSV line of primitive values, NULL as an empty field,
// BYTES base64, DECIMAL as plain text, TIMESTAMP/TIME/DATE as their integer encodings.
type delimitedSerde struct {
	cols  []types.Column
	delim rune
}

func (s *delimitedSerde) Serialize(vals []types.Value) ([]byte, error) {
	if vals == nil {
		return nil, nil
	}
	rec := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case nil:
		case []byte:
			rec[i] = base64.StdEncoding.EncodeToString(x)
		case types.TimestampValue:
			rec[i] = strconv.FormatInt(int64(x), 10)
		case types.DateValue:
			rec[i] = strconv.FormatInt(int64(x), 10)
		case types.TimeValue:
			rec[i] = strconv.FormatInt(int64(x), 10)
		default:
			rec[i] = types.Format(v)
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Comma = s.delim
	if err := w.Write(rec); err != nil {
		return nil, err
	}
	w.Flush()
	return bytes.TrimRight(b.Bytes(), "\r\n"), nil
}

func (s *delimitedSerde) Deserialize(data []byte) ([]types.Value, error) {
	if data == nil {
		return nil, nil
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = s.delim
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil {
		if len(data) == 0 {
			rec = []string{""}
		} else {
			return nil, fmt.Errorf("format: invalid DELIMITED record: %v", err)
		}
	}
	if len(rec) != len(s.cols) {
		return nil, fmt.Errorf("Unexpected field count, csvFields:%d schemaFields:%d", len(rec), len(s.cols))
	}
	out := make([]types.Value, len(rec))
	for i, f := range rec {
		if f == "" {
			continue
		}
		v, err := parseText(f, s.cols[i].Type)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func parseText(f string, t *types.Type) (types.Value, error) {
	switch t.Kind {
	case types.KindBoolean:
		return types.ParseBoolean(f)
	case types.KindInt:
		i, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return nil, fmt.Errorf("format: invalid INTEGER %q", f)
		}
		return int32(i), nil
	case types.KindBigint:
		i, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("format: invalid BIGINT %q", f)
		}
		return i, nil
	case types.KindDouble:
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("format: invalid DOUBLE %q", f)
		}
		return x, nil
	case types.KindDecimal:
		d, _, err := apd.NewFromString(f)
		if err != nil {
			return nil, fmt.Errorf("format: invalid DECIMAL %q", f)
		}
		return types.RoundDecimal(d, t.Precision, t.Scale)
	case types.KindString:
		return f, nil
	case types.KindBytes:
		return base64.StdEncoding.DecodeString(f)
	case types.KindTimestamp:
		i, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return types.ParseTimestamp(f)
		}
		return types.TimestampValue(i), nil
	case types.KindDate:
		i, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return types.ParseDate(f)
		}
		return types.DateValue(i), nil
	case types.KindTime:
		i, err := strconv.ParseInt(f, 10, 32)
		if err != nil {
			return types.ParseTime(f)
		}
		return types.TimeValue(i), nil
	}
	return nil, fmt.Errorf("format: DELIMITED does not support %s", t)
}
