package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"unicode/utf16"
)

// jsonObject is a decoded JSON object that remembers its field order, which decides the order of a MAP
// read from it.
type jsonObject struct {
	keys []string
	vals map[string]any
}

// MarshalJSON writes the fields in document order (a STRING column reading an object gets its text back).
func (o *jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// decodeJSON decodes one JSON value with json.Number numbers, objects as *jsonObject and arrays as []any.
// A repeated field keeps its first position and its last value.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := &jsonObject{vals: map[string]any{}}
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			k, _ := kt.(string)
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			if _, dup := o.vals[k]; !dup {
				o.keys = append(o.keys, k)
			}
			o.vals[k] = v
		}
		_, err := dec.Token()
		return o, err
	case '[':
		out := []any{}
		for dec.More() {
			v, err := decodeValue(dec)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		_, err := dec.Token()
		return out, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// javaHashOrder returns the keys in the order a java.util.HashMap sized for them and filled in the given
// order iterates them. ksqlDB's JSON format reads a MAP into such a HashMap, so this is the entry order
// that order-sensitive functions (REDUCE, MAP_KEYS, ...) see there; the conformance corpus depends on it.
// Buckets are taken from String.hashCode; entries sharing a bucket keep document order.
func javaHashOrder(keys []string) []string {
	n := len(keys)
	capacity := 1
	for capacity < n {
		capacity <<= 1
	}
	for float64(n) > 0.75*float64(capacity) {
		capacity <<= 1
	}
	bucket := make([]int, n)
	for i, k := range keys {
		h := javaStringHash(k)
		bucket[i] = int((h ^ (h >> 16)) & uint32(capacity-1))
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return bucket[idx[a]] < bucket[idx[b]] })
	out := make([]string, n)
	for i, j := range idx {
		out[i] = keys[j]
	}
	return out
}

// javaStringHash is String.hashCode over the UTF-16 code units of s.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, r := range s {
		if r >= 0x10000 {
			r1, r2 := utf16.EncodeRune(r)
			h = 31*h + uint32(r1)
			h = 31*h + uint32(r2)
			continue
		}
		h = 31*h + uint32(r)
	}
	return h
}
