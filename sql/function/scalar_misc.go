package function

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strings"

	"github.com/seichedb/seiche/sql/types"
)

func init() {
	// COALESCE is the one function ksqlDB declares in upper case, and its errors quote it so.
	builtins.AddScalar(&Scalar{Signatures{Name: "COALESCE", Sigs: []Sig{{Params: p(T), Variadic: T, Names: []string{"first", "others"},
		Ret: T, NullSafe: true, Impl: func(vals []Value) (Value, error) {
			for _, v := range vals {
				if v != nil {
					return v, nil
				}
			}
			return nil, nil
		}}}}})
	def("IFNULL", Sig{Params: p(T, T), Names: []string{"expression", "altValue"}, Ret: T, NullSafe: true, Impl: func(vals []Value) (Value, error) {
		if vals[0] != nil {
			return vals[0], nil
		}
		return vals[1], nil
	}})
	def("NULLIF", Sig{Params: p(T, T), Names: []string{"expr1", "expr2"}, Ret: T, NullSafe: true, Impl: func(vals []Value) (Value, error) {
		if vals[0] != nil && vals[1] != nil && types.Equal(vals[0], vals[1]) {
			return nil, nil
		}
		return vals[0], nil
	}})
	// AS_VALUE(col) copies a key column into the value; it is the identity.
	def("AS_VALUE", Sig{Params: p(T), Names: []string{"keyColumn"}, Ret: T, NullSafe: true, Impl: func(vals []Value) (Value, error) {
		return vals[0], nil
	}})
	def("UUID", Sig{Params: p(), Ret: tS, Impl: func([]Value) (Value, error) {
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40 // version 4
		b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
		return formatUUID(b[:]), nil
	}},
		Sig{Params: p(types.Bytes), Ret: tS, Impl: func(a []Value) (Value, error) {
			b := a[0].([]byte)
			if len(b) != 16 {
				return nil, nil
			}
			return formatUUID(b), nil
		}})
	def("MD5", Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		sum := md5.Sum([]byte(str(a[0])))
		return hex.EncodeToString(sum[:]), nil
	}})
	def("TO_BYTES", Sig{Params: p(tS, tS), Ret: types.Bytes, Impl: func(a []Value) (Value, error) {
		return decodeString(str(a[0]), str(a[1]))
	}})
	def("FROM_BYTES", Sig{Params: p(types.Bytes, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		return encodeBytes(a[0].([]byte), str(a[1]))
	}})
	def("ENCODE", Sig{Params: p(tS, tS, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		return encode(str(a[0]), strings.ToLower(str(a[1])), strings.ToLower(str(a[2])))
	}})
	bytesInt := func(name string, size int, ret *types.Type, mk func([]byte, binary.ByteOrder) Value) {
		build := func(b []byte, order binary.ByteOrder) (Value, error) {
			if len(b) != size {
				return nil, fmt.Errorf("Number of bytes must be equal to %d, but found %d", size, len(b))
			}
			return mk(b, order), nil
		}
		def(name,
			Sig{Params: p(types.Bytes), Ret: ret, Impl: func(a []Value) (Value, error) { return build(a[0].([]byte), binary.BigEndian) }},
			Sig{Params: p(types.Bytes, tS), Ret: ret, Impl: func(a []Value) (Value, error) {
				var order binary.ByteOrder = binary.BigEndian
				switch strings.ToUpper(str(a[1])) {
				case "LITTLE_ENDIAN":
					order = binary.LittleEndian
				case "BIG_ENDIAN":
				default:
					return nil, fmt.Errorf("Byte order must be BIG_ENDIAN or LITTLE_ENDIAN")
				}
				return build(a[0].([]byte), order)
			}})
	}
	bytesInt("INT_FROM_BYTES", 4, tI, func(b []byte, o binary.ByteOrder) Value { return int32(o.Uint32(b)) })
	bytesInt("BIGINT_FROM_BYTES", 8, tB, func(b []byte, o binary.ByteOrder) Value { return int64(o.Uint64(b)) })
	bytesInt("DOUBLE_FROM_BYTES", 8, tD, func(b []byte, o binary.ByteOrder) Value { return math.Float64frombits(o.Uint64(b)) })
}

func decodeString(s, enc string) ([]byte, error) {
	switch strings.ToLower(enc) {
	case "hex":
		if len(s)%2 == 1 {
			s = "0" + s
		}
		return hex.DecodeString(s)
	case "utf8":
		return []byte(s), nil
	case "ascii":
		return []byte(s), nil
	case "base64":
		return base64.StdEncoding.DecodeString(s)
	}
	return nil, fmt.Errorf("Supported input encodings are: hex, utf8, ascii and base64, but got %s", enc)
}

func encodeBytes(b []byte, enc string) (Value, error) {
	switch strings.ToLower(enc) {
	case "hex":
		return strings.ToUpper(hex.EncodeToString(b)), nil
	case "utf8", "ascii":
		return string(b), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return nil, fmt.Errorf("Supported output encodings are: hex, utf8, ascii and base64, but got %s", enc)
}

// encode is ENCODE(s, from, to) with ksqlDB's conversions: hex input may be written 0x... (an odd digit
// count gets a leading 0) or X'...'; hex output is lower-case; ASCII output shows each byte above 127 as
// U+FFFD and ASCII input each non-ASCII character as '?'.
func encode(s, from, to string) (Value, error) {
	if from == to {
		return nil, errEncodings
	}
	var b []byte
	switch from {
	case "hex":
		switch {
		case strings.HasPrefix(s, "0x"):
			s = s[2:]
			if len(s)%2 != 0 {
				s = "0" + s
			}
		case len(s) >= 3 && (s[0] == 'x' || s[0] == 'X') && s[1] == '\'' && s[len(s)-1] == '\'':
			s = s[2 : len(s)-1]
		}
		var err error
		if b, err = hex.DecodeString(s); err != nil {
			return nil, fmt.Errorf("Invalid hex string %q", s)
		}
	case "utf8":
		b = []byte(s)
	case "ascii":
		for _, r := range s {
			if r > 127 {
				r = '?'
			}
			b = append(b, byte(r))
		}
	case "base64":
		// Padding is optional, as for the lenient decoder ksqlDB uses.
		var err error
		if b, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			return nil, fmt.Errorf("Invalid base64 string")
		}
	default:
		return nil, errEncodings
	}
	switch to {
	case "hex":
		return hex.EncodeToString(b), nil
	case "utf8":
		return strings.ToValidUTF8(string(b), "\uFFFD"), nil
	case "ascii":
		var sb strings.Builder
		for _, c := range b {
			if c > 127 {
				sb.WriteRune('\uFFFD')
			} else {
				sb.WriteByte(c)
			}
		}
		return sb.String(), nil
	case "base64":
		return base64.StdEncoding.EncodeToString(b), nil
	}
	return nil, errEncodings
}

var errEncodings = fmt.Errorf("Supported input and output encodings are: hex, utf8, ascii and base64")

func formatUUID(b []byte) string {
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
