package format

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/seichedb/seiche/sql/types"
)

// kafkaSerde is ksqlDB's KAFKA format: a single primitive in Kafka's own serializers' encoding (INT as
// 4 bytes big-endian, BIGINT 8, DOUBLE 8-byte IEEE 754 big-endian, STRING UTF-8, BYTES raw). NULL is no
// bytes. Zero columns serialize to nothing.
type kafkaSerde struct {
	cols []types.Column
}

func (s *kafkaSerde) Serialize(vals []types.Value) ([]byte, error) {
	if len(s.cols) == 0 || vals[0] == nil {
		return nil, nil
	}
	switch v := vals[0].(type) {
	case int32:
		return binary.BigEndian.AppendUint32(nil, uint32(v)), nil
	case int64:
		return binary.BigEndian.AppendUint64(nil, uint64(v)), nil
	case float64:
		return binary.BigEndian.AppendUint64(nil, math.Float64bits(v)), nil
	case string:
		return []byte(v), nil
	case []byte:
		return append([]byte{}, v...), nil
	}
	return nil, fmt.Errorf("format: KAFKA cannot serialize %T", vals[0])
}

func (s *kafkaSerde) Deserialize(data []byte) ([]types.Value, error) {
	if len(s.cols) == 0 {
		return []types.Value{}, nil
	}
	if data == nil {
		return []types.Value{nil}, nil
	}
	t := s.cols[0].Type
	switch t.Kind {
	case types.KindInt:
		if len(data) != 4 {
			return nil, fmt.Errorf("Size of data received by IntegerDeserializer is not 4")
		}
		return []types.Value{int32(binary.BigEndian.Uint32(data))}, nil
	case types.KindBigint:
		if len(data) != 8 {
			return nil, fmt.Errorf("Size of data received by LongDeserializer is not 8")
		}
		return []types.Value{int64(binary.BigEndian.Uint64(data))}, nil
	case types.KindDouble:
		if len(data) != 8 {
			return nil, fmt.Errorf("Size of data received by Deserializer is not 8")
		}
		return []types.Value{math.Float64frombits(binary.BigEndian.Uint64(data))}, nil
	case types.KindString:
		return []types.Value{string(data)}, nil
	case types.KindBytes:
		return []types.Value{append([]byte{}, data...)}, nil
	}
	return nil, fmt.Errorf("format: KAFKA cannot deserialize %s", t)
}
