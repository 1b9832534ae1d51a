package cli

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fieldFormat is how consume decodes a key or a value (--key-format, --value-format): the bytes of
// Kafka's serializers for the fixed-size types (big-endian, as Kafka's LongSerializer, IntegerSerializer,
// ShortSerializer, DoubleSerializer and FloatSerializer write them), or text. A count from Kafka
// Streams or ksqlDB is a long, for example.
type fieldFormat int

const (
	formatString fieldFormat = iota // the bytes as they are (JSON output: base64 when not UTF-8)
	formatLong                      // 8 bytes
	formatInt                       // 4 bytes
	formatShort                     // 2 bytes
	formatDouble                    // 8 bytes, IEEE 754
	formatFloat                     // 4 bytes, IEEE 754
	formatHex                       // any bytes, printed in lowercase hexadecimal
	formatBase64                    // any bytes, printed in standard base64
	formatJSON                      // a JSON document, printed compact (JSON output: embedded as JSON)
)

var fieldFormats = []struct {
	name string
	f    fieldFormat
}{
	{"string", formatString}, {"long", formatLong}, {"int", formatInt}, {"short", formatShort},
	{"double", formatDouble}, {"float", formatFloat}, {"hex", formatHex}, {"base64", formatBase64},
	{"json", formatJSON},
}

func parseFieldFormat(flag, s string) (fieldFormat, error) {
	var names []string
	for _, ff := range fieldFormats {
		if ff.name == s {
			return ff.f, nil
		}
		names = append(names, ff.name)
	}
	return 0, fmt.Errorf("--%s %q: want %s", flag, s, strings.Join(names, ", "))
}

func (f fieldFormat) String() string {
	for _, ff := range fieldFormats {
		if ff.f == f {
			return ff.name
		}
	}
	return strconv.Itoa(int(f))
}

// size is the byte length of a fixed-size format, 0 for the others.
func (f fieldFormat) size() int {
	switch f {
	case formatLong, formatDouble:
		return 8
	case formatInt, formatFloat:
		return 4
	case formatShort:
		return 2
	}
	return 0
}

// number decodes a fixed-size format as its text, which is also its JSON, except for a NaN or
// infinite float ("NaN", "+Inf", "-Inf": ok is false for JSON).
func (f fieldFormat) number(b []byte) (text string, jsonOK bool, err error) {
	if n := f.size(); len(b) != n {
		return "", false, fmt.Errorf("%d bytes, not the %d of a %s", len(b), n, f)
	}
	switch f {
	case formatLong:
		return strconv.FormatInt(int64(binary.BigEndian.Uint64(b)), 10), true, nil
	case formatInt:
		return strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(b))), 10), true, nil
	case formatShort:
		return strconv.FormatInt(int64(int16(binary.BigEndian.Uint16(b))), 10), true, nil
	}
	var v float64
	bits := 64
	if f == formatDouble {
		v = math.Float64frombits(binary.BigEndian.Uint64(b))
	} else {
		v, bits = float64(math.Float32frombits(binary.BigEndian.Uint32(b))), 32
	}
	return strconv.FormatFloat(v, 'g', -1, bits), !math.IsNaN(v) && !math.IsInf(v, 0), nil
}

// text decodes b (not nil) for the value and kv output formats.
func (f fieldFormat) text(b []byte) (string, error) {
	switch f {
	case formatString:
		return string(b), nil
	case formatHex:
		return hex.EncodeToString(b), nil
	case formatBase64:
		return base64.StdEncoding.EncodeToString(b), nil
	case formatJSON:
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return "", fmt.Errorf("not JSON: %w", err)
		}
		return buf.String(), nil
	}
	s, _, err := f.number(b)
	return s, err
}

// json decodes b for the json output format: the JSON for the field and, for bytes given as a
// string in an encoding, the encoding's name. nil is null.
func (f fieldFormat) json(b []byte) (json.RawMessage, string, error) {
	if b == nil {
		return json.RawMessage("null"), "", nil
	}
	quote := func(s string) json.RawMessage {
		q, _ := json.Marshal(s)
		return q
	}
	switch f {
	case formatString:
		if utf8.Valid(b) {
			return quote(string(b)), "", nil
		}
		return quote(base64.StdEncoding.EncodeToString(b)), "base64", nil
	case formatHex:
		return quote(hex.EncodeToString(b)), "hex", nil
	case formatBase64:
		return quote(base64.StdEncoding.EncodeToString(b)), "base64", nil
	case formatJSON:
		var buf bytes.Buffer
		if err := json.Compact(&buf, b); err != nil {
			return nil, "", fmt.Errorf("not JSON: %w", err)
		}
		return buf.Bytes(), "", nil
	}
	s, ok, err := f.number(b)
	if err != nil {
		return nil, "", err
	}
	if !ok {
		return quote(s), "", nil
	}
	return json.RawMessage(s), "", nil
}
