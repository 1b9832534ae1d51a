package format

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"

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
	var b bytes.Buffer
	for i, v := range vals {
		if i > 0 {
			b.WriteRune(s.delim)
		}
		var f string
		switch x := v.(type) {
		case nil:
			continue // NULL is an empty, unquoted field
		case []byte:
			f = base64.StdEncoding.EncodeToString(x)
		case types.TimestampValue:
			f = strconv.FormatInt(int64(x), 10)
		case types.DateValue:
			f = strconv.FormatInt(int64(x), 10)
		case types.TimeValue:
			f = strconv.FormatInt(int64(x), 10)
		default:
			f = types.Format(v)
		}
		if s.needsQuotes(f, i == 0) {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(f, `"`, `""`))
			b.WriteByte('"')
		} else {
			b.WriteString(f)
		}
	}
	return b.Bytes(), nil
}

// needsQuotes is the minimal quoting of the CSV printer ksqlDB uses: a field is quoted when it holds the
// delimiter, a quote or a line break, starts with a character up to '#' or ends with one up to ' ', and
// the first field of a line also when it is empty or does not start with a letter or digit.
func (s *delimitedSerde) needsQuotes(f string, first bool) bool {
	if f == "" {
		return first
	}
	c := f[0]
	alnum := c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
	if (first && !alnum) || c <= '#' {
		return true
	}
	if strings.ContainsAny(f, "\"\r\n") || strings.ContainsRune(f, s.delim) {
		return true
	}
	return f[len(f)-1] <= ' '
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
