package function

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/seichedb/seiche/sql/types"
)

func decodeJSON(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if dec.More() {
		return nil, false
	}
	return v, true
}

func encodeJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimRight(b.String(), "\n")
}

// jsonPath evaluates ksqlDB's EXTRACTJSONFIELD path subset: $.a.b, $['a'], $.a[0].
func jsonPath(doc any, path string) (any, bool) {
	path = strings.TrimSpace(path)
	if !strings.HasPrefix(path, "$") {
		return nil, false
	}
	cur := doc
	rest := path[1:]
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "."):
			rest = rest[1:]
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			key := rest[:end]
			rest = rest[end:]
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false
			}
			if cur, ok = m[key]; !ok {
				return nil, false
			}
		case strings.HasPrefix(rest, "["):
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, false
			}
			sel := strings.Trim(rest[1:end], " ")
			rest = rest[end+1:]
			if strings.HasPrefix(sel, "'") || strings.HasPrefix(sel, "\"") {
				m, ok := cur.(map[string]any)
				if !ok {
					return nil, false
				}
				if cur, ok = m[strings.Trim(sel, "'\"")]; !ok {
					return nil, false
				}
				continue
			}
			i, err := strconv.Atoi(sel)
			a, ok := cur.([]any)
			if err != nil || !ok || i < 0 || i >= len(a) {
				return nil, false
			}
			cur = a[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// toJSONValue renders a SQL value as a JSON-encodable value (TO_JSON_STRING).
func toJSONValue(t *types.Type, v Value) any {
	switch x := v.(type) {
	case nil:
		return nil
	case []Value:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = toJSONValue(t.Elem, e)
		}
		return out
	case *types.Map:
		out := map[string]any{}
		for i := range x.Keys {
			out[types.Format(x.Keys[i])] = toJSONValue(t.Elem, x.Vals[i])
		}
		return out
	case *types.Struct:
		out := orderedObject{}
		for i, f := range t.Fields {
			out = append(out, kv{f.Name, toJSONValue(f.Type, x.Vals[i])})
		}
		return out
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) { // not JSON numbers: Jackson quotes them
			return types.JavaDouble(x)
		}
		return json.Number(types.JavaDouble(x))
	case types.TimestampValue, types.DateValue, types.TimeValue:
		return types.Format(v)
	}
	if t.Kind == types.KindDecimal {
		return json.Number(types.Format(v))
	}
	return v
}

type kv struct {
	k string
	v any
}

type orderedObject []kv

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(encodeJSON(e.v))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func init() {
	def("EXTRACTJSONFIELD", Sig{Params: p(tS, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		doc, ok := decodeJSON(str(a[0]))
		if !ok {
			return nil, nil
		}
		v, ok := jsonPath(doc, str(a[1]))
		if !ok || v == nil {
			return nil, nil
		}
		if s, ok := v.(string); ok {
			return s, nil
		}
		return encodeJSON(v), nil
	}})
	def("IS_JSON_STRING", Sig{Params: p(tS), Ret: types.Boolean, NullSafe: true, Impl: func(a []Value) (Value, error) {
		if a[0] == nil {
			return false, nil
		}
		_, ok := decodeJSON(str(a[0]))
		return ok, nil
	}})
	def("JSON_ARRAY_LENGTH", Sig{Params: p(tS), Ret: tI, Impl: func(a []Value) (Value, error) {
		doc, ok := decodeJSON(str(a[0]))
		arr, isArr := doc.([]any)
		if !ok || !isArr {
			return nil, nil
		}
		return int32(len(arr)), nil
	}})
	def("JSON_KEYS", Sig{Params: p(tS), Ret: types.ArrayOf(tS), Impl: func(a []Value) (Value, error) {
		keys, ok := jsonObjectKeys(str(a[0]))
		if !ok {
			return nil, nil
		}
		out := make([]Value, len(keys))
		for i, k := range keys {
			out[i] = k
		}
		return out, nil
	}})
	def("JSON_RECORDS", Sig{Params: p(tS), Ret: types.MapOf(tS, tS), Impl: func(a []Value) (Value, error) {
		keys, ok := jsonObjectKeys(str(a[0]))
		if !ok {
			return nil, nil
		}
		doc, _ := decodeJSON(str(a[0]))
		m := doc.(map[string]any)
		ks, vs := make([]Value, len(keys)), make([]Value, len(keys))
		for i, k := range keys {
			// A string value is its text; any other value its JSON.
			if t, isText := m[k].(string); isText {
				ks[i], vs[i] = k, t
				continue
			}
			ks[i], vs[i] = k, encodeJSON(m[k])
		}
		return types.NewMap(ks, vs), nil
	}})
	def("JSON_ITEMS", Sig{Params: p(tS), Ret: types.ArrayOf(tS), Impl: func(a []Value) (Value, error) {
		doc, ok := decodeJSON(str(a[0]))
		arr, isArr := doc.([]any)
		if !ok || !isArr {
			return nil, nil
		}
		out := make([]Value, len(arr))
		for i, e := range arr {
			out[i] = encodeJSON(e)
		}
		return out, nil
	}})
	def("JSON_ARRAY_CONTAINS", Sig{Params: p(tS, T), Names: []string{"jsonArray", "val"}, Ret: types.Boolean, NullSafe: true, Impl: func(a []Value) (Value, error) {
		if a[0] == nil {
			return false, nil
		}
		doc, ok := decodeJSON(str(a[0]))
		arr, isArr := doc.([]any)
		if !ok || !isArr {
			return false, nil
		}
		for _, e := range arr {
			switch x := e.(type) {
			case nil:
				if a[1] == nil {
					return true, nil
				}
			case json.Number:
				if a[1] != nil {
					if _, isStr := a[1].(string); !isStr {
						if types.Format(a[1]) == x.String() {
							return true, nil
						}
						if f, err := x.Float64(); err == nil {
							if g, ok := types.ToFloat(a[1]); ok && f == g {
								if _, isInt := a[1].(int32); isInt && strings.ContainsAny(x.String(), ".eE") {
									continue
								}
								if _, isInt := a[1].(int64); isInt && strings.ContainsAny(x.String(), ".eE") {
									continue
								}
								return true, nil
							}
						}
					}
				}
			case string:
				if s, ok := a[1].(string); ok && s == x {
					return true, nil
				}
			case bool:
				if b, ok := a[1].(bool); ok && b == x {
					return true, nil
				}
			}
		}
		return false, nil
	}})
	// JSON_CONCAT(json...): objects merge (a later field replaces an earlier one in place); any other mix
	// is an array of the elements of the array arguments and the other arguments themselves, in order.
	def("JSON_CONCAT", Sig{Params: p(), Variadic: tS, Ret: tS, Impl: func(a []Value) (Value, error) {
		docs := make([]any, len(a))
		allObj := len(a) > 0
		for i, v := range a {
			doc, ok := decodeJSON(str(v))
			if !ok {
				return nil, nil
			}
			docs[i] = doc
			if _, isObj := doc.(map[string]any); !isObj {
				allObj = false
			}
		}
		if allObj {
			var merged orderedObject
			at := map[string]int{}
			for i, d := range docs {
				keys, _ := jsonObjectKeys(str(a[i]))
				for _, k := range keys {
					v := d.(map[string]any)[k]
					if j, seen := at[k]; seen {
						merged[j].v = v
						continue
					}
					at[k] = len(merged)
					merged = append(merged, kv{k, v})
				}
			}
			if merged == nil {
				return "{}", nil
			}
			return encodeJSON(merged), nil
		}
		arr := []any{}
		for _, d := range docs {
			if elems, isArr := d.([]any); isArr {
				arr = append(arr, elems...)
			} else {
				arr = append(arr, d)
			}
		}
		return encodeJSON(arr), nil
	}})
	def("TO_JSON_STRING", Sig{Params: p(T), Names: []string{"input"}, Ret: tS, NullSafe: true, Build: func(args []*types.Type) (Impl, error) {
		t := args[0]
		return func(a []Value) (Value, error) {
			if a[0] == nil {
				return "null", nil
			}
			if b, ok := a[0].([]byte); ok {
				return encodeJSON(b), nil
			}
			return encodeJSON(toJSONValue(t, a[0])), nil
		}, nil
	}})

	urlPart := func(name string, ret *types.Type, fn func(u *url.URL) Value) {
		def(name, Sig{Params: p(tS), Ret: ret, Impl: func(a []Value) (Value, error) {
			u, err := url.Parse(str(a[0]))
			if err != nil {
				return nil, nil
			}
			return fn(u), nil
		}})
	}
	nonEmpty := func(s string) Value {
		if s == "" {
			return nil
		}
		return s
	}
	urlPart("URL_EXTRACT_FRAGMENT", tS, func(u *url.URL) Value { return nonEmpty(u.Fragment) })
	urlPart("URL_EXTRACT_HOST", tS, func(u *url.URL) Value { return nonEmpty(u.Hostname()) })
	urlPart("URL_EXTRACT_PATH", tS, func(u *url.URL) Value { return u.EscapedPath() })
	urlPart("URL_EXTRACT_PROTOCOL", tS, func(u *url.URL) Value { return nonEmpty(u.Scheme) })
	urlPart("URL_EXTRACT_QUERY", tS, func(u *url.URL) Value { return nonEmpty(u.RawQuery) })
	urlPart("URL_EXTRACT_PORT", tI, func(u *url.URL) Value {
		p, err := strconv.Atoi(u.Port())
		if err != nil {
			return nil
		}
		return int32(p)
	})
	def("URL_EXTRACT_PARAMETER", Sig{Params: p(tS, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		u, err := url.Parse(str(a[0]))
		if err != nil {
			return nil, nil
		}
		vals, ok := u.Query()[str(a[1])]
		if !ok || len(vals) == 0 {
			return nil, nil
		}
		return vals[0], nil
	}})
	def("URL_ENCODE_PARAM", Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) { return url.QueryEscape(str(a[0])), nil }})
	def("URL_DECODE_PARAM", Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		s, err := url.QueryUnescape(str(a[0]))
		if err != nil {
			return nil, nil
		}
		return s, nil
	}})
}

// jsonObjectKeys returns the keys of a JSON object in document order.
func jsonObjectKeys(s string) ([]string, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, false
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, false
		}
	}
	_ = sort.Strings
	return keys, true
}
