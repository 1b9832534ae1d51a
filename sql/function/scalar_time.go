package function

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seichedb/seiche/sql/types"
)

// javaLayout translates the common subset of Java DateTimeFormatter / SimpleDateFormat patterns to a Go
// layout: y M d H h m s S a E z Z X and quoted literals.
func javaLayout(p string) (string, error) {
	var b strings.Builder
	rs := []rune(p)
	for i := 0; i < len(rs); {
		c := rs[i]
		if c == '\'' {
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j == i+1 {
				b.WriteRune('\'')
			} else {
				b.WriteString(string(rs[i+1 : j]))
			}
			i = j + 1
			continue
		}
		n := 1
		for i+n < len(rs) && rs[i+n] == c {
			n++
		}
		switch c {
		case 'y', 'u':
			if n == 2 {
				b.WriteString("06")
			} else {
				b.WriteString("2006")
			}
		case 'M':
			switch n {
			case 1:
				b.WriteString("1")
			case 2:
				b.WriteString("01")
			case 3:
				b.WriteString("Jan")
			default:
				b.WriteString("January")
			}
		case 'd':
			if n == 1 {
				b.WriteString("2")
			} else {
				b.WriteString("02")
			}
		case 'D':
			b.WriteString("002")
		case 'H':
			b.WriteString("15")
		case 'h':
			if n == 1 {
				b.WriteString("3")
			} else {
				b.WriteString("03")
			}
		case 'm':
			if n == 1 {
				b.WriteString("4")
			} else {
				b.WriteString("04")
			}
		case 's':
			if n == 1 {
				b.WriteString("5")
			} else {
				b.WriteString("05")
			}
		case 'S':
			b.WriteString(strings.Repeat("0", n))
		case 'a':
			b.WriteString("PM")
		case 'E':
			if n >= 4 {
				b.WriteString("Monday")
			} else {
				b.WriteString("Mon")
			}
		case 'z':
			b.WriteString("MST")
		case 'Z':
			b.WriteString("-0700")
		case 'X':
			switch n {
			case 1:
				b.WriteString("Z07\x00") // +HH, or +HHmm: see compilePattern
			case 2:
				b.WriteString("Z0700")
			default:
				b.WriteString("Z07:00")
			}
		case 'x':
			b.WriteString("-07:00")
		default:
			if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
				return "", fmt.Errorf("Unknown pattern letter: %c", c)
			}
			b.WriteString(strings.Repeat(string(c), n))
		}
		i += n
	}
	return b.String(), nil
}

// timePattern is a Java date-time pattern translated once: the Go layouts to try, in order.
type timePattern struct {
	layouts  []string
	zoneName bool // the pattern reads a zone name ('z')
}

// patterns and zones cache translated patterns and loaded time zones: both are keyed by the (nearly always
// literal) pattern or zone argument, so a query pays for the translation once, not per record.
var (
	patterns boundedCache[*timePattern]
	zones    boundedCache[*time.Location]
)

// boundedCache is a concurrency-safe memo that stops adding entries past a bound, so that patterns taken
// from record values cannot grow it without limit.
type boundedCache[V any] struct {
	m sync.Map
	n atomic.Int64
}

func (c *boundedCache[V]) get(key string, build func(string) (V, error)) (V, error) {
	if v, ok := c.m.Load(key); ok {
		return v.(V), nil
	}
	v, err := build(key)
	if err == nil && c.n.Load() < 4096 {
		c.n.Add(1)
		c.m.Store(key, v)
	}
	return v, err
}

func compilePattern(p string) (*timePattern, error) {
	layout, err := javaLayout(p)
	if err != nil {
		return nil, err
	}
	tp := &timePattern{zoneName: strings.Contains(p, "z")}
	if strings.Contains(layout, "Z07\x00") {
		tp.layouts = []string{strings.ReplaceAll(layout, "Z07\x00", "Z07"), strings.ReplaceAll(layout, "Z07\x00", "Z0700")}
	} else {
		tp.layouts = []string{layout}
	}
	return tp, nil
}

// zoneIDs maps the zone names Java resolves when parsing a 'z' field to their region, whose rules (with
// daylight saving time) then apply: "PST" in May is UTC-7, as in Java.
var zoneIDs = map[string]string{
	"PST": "America/Los_Angeles", "PDT": "America/Los_Angeles", "MST": "America/Denver", "MDT": "America/Denver",
	"CST": "America/Chicago", "CDT": "America/Chicago", "EST": "America/New_York", "EDT": "America/New_York",
	"AKST": "America/Anchorage", "AKDT": "America/Anchorage", "HST": "Pacific/Honolulu",
	"BST": "Europe/London", "CET": "Europe/Paris", "CEST": "Europe/Paris", "EET": "Europe/Bucharest",
	"EEST": "Europe/Bucharest", "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "AEST": "Australia/Sydney",
	"AEDT": "Australia/Sydney",
}

func location(name string) (*time.Location, error) {
	if name == "" {
		return time.UTC, nil
	}
	return zones.get(name, func(name string) (*time.Location, error) {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, nil
		}
		// Fixed offsets such as "+02:00", "+0200" or "+02".
		for _, l := range []string{"-07:00", "-0700", "-07"} {
			if t, err := time.Parse(l, name); err == nil {
				return t.Location(), nil
			}
		}
		return nil, fmt.Errorf("Unknown time-zone ID: %s", name)
	})
}

func formatTS(ms int64, pattern, zone string) (Value, error) {
	tp, err := patterns.get(pattern, compilePattern)
	if err != nil {
		return nil, err
	}
	loc, err := location(zone)
	if err != nil {
		return nil, err
	}
	return time.UnixMilli(ms).In(loc).Format(tp.layouts[0]), nil
}

// parseTime parses s with a translated pattern, in loc unless s has a zone. Like ksqlDB's parser it
// ignores case.
func parseTime(tp *timePattern, s string, loc *time.Location) (time.Time, bool) {
	for _, in := range []string{s, strings.ToUpper(s)} {
		for _, l := range tp.layouts {
			t, err := time.ParseInLocation(l, in, loc)
			if err != nil {
				continue
			}
			if tp.zoneName {
				// Go gives an abbreviation it does not know in loc a zero offset; Java reads it as the
				// zone it names.
				if abbr, off := t.Zone(); off == 0 && zoneIDs[abbr] != "" {
					if zl, err := location(zoneIDs[abbr]); err == nil {
						t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zl)
					}
				}
			}
			return t, true
		}
	}
	return time.Time{}, false
}

// extraText returns the text left over after s parses with pattern, when that is why it does not parse.
func extraText(s, pattern string) (string, bool) {
	tp, err := patterns.get(pattern, compilePattern)
	if err != nil {
		return "", false
	}
	_, err = time.Parse(tp.layouts[0], s)
	var pe *time.ParseError
	if !errors.As(err, &pe) || !strings.HasPrefix(pe.Message, ": extra text: ") {
		return "", false
	}
	rest, uerr := strconv.Unquote(strings.TrimPrefix(pe.Message, ": extra text: "))
	return rest, uerr == nil && rest != "" && strings.HasSuffix(s, rest)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func parseTS(s, pattern, zone string) (int64, error) {
	tp, err := patterns.get(pattern, compilePattern)
	if err != nil {
		return 0, err
	}
	loc, err := location(zone)
	if err != nil {
		return 0, err
	}
	t, ok := parseTime(tp, s, loc)
	if !ok {
		return 0, fmt.Errorf("Failed to parse timestamp '%s' with formatter '%s'", s, pattern)
	}
	return t.UnixMilli(), nil
}

func unitMillis(unit string) int64 {
	switch strings.TrimSuffix(strings.ToUpper(unit), "S") {
	case "MILLISECOND":
		return 1
	case "SECOND":
		return 1000
	case "MINUTE":
		return 60_000
	case "HOUR":
		return 3_600_000
	case "DAY":
		return 86_400_000
	}
	return 1
}

func init() {
	tT := types.Timestamp
	tDate := types.Date
	tTime := types.Time
	def("UNIX_TIMESTAMP",
		Sig{Params: p(), Ret: tB, Impl: func([]Value) (Value, error) { return time.Now().UnixMilli(), nil }},
		Sig{Params: p(tT), Ret: tB, Impl: func(a []Value) (Value, error) { return int64(a[0].(types.TimestampValue)), nil }})
	def("UNIX_DATE",
		Sig{Params: p(), Ret: tI, Impl: func([]Value) (Value, error) { return int32(time.Now().Unix() / 86400), nil }},
		Sig{Params: p(tDate), Ret: tI, Impl: func(a []Value) (Value, error) { return int32(a[0].(types.DateValue)), nil }})
	def("FROM_UNIXTIME", Sig{Params: p(tB), Ret: tT, Impl: func(a []Value) (Value, error) { return types.TimestampValue(a[0].(int64)), nil }})
	def("FROM_DAYS", Sig{Params: p(tI), Ret: tDate, Impl: func(a []Value) (Value, error) { return types.DateValue(i32(a[0])), nil }})
	def("TIMESTAMPTOSTRING",
		Sig{Params: p(tB, tS), Ret: tS, Impl: func(a []Value) (Value, error) { return formatTS(a[0].(int64), str(a[1]), "") }},
		Sig{Params: p(tB, tS, tS), Ret: tS, Impl: func(a []Value) (Value, error) { return formatTS(a[0].(int64), str(a[1]), str(a[2])) }})
	def("FORMAT_TIMESTAMP",
		Sig{Params: p(tT, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
			return formatTS(int64(a[0].(types.TimestampValue)), str(a[1]), "")
		}},
		Sig{Params: p(tT, tS, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
			return formatTS(int64(a[0].(types.TimestampValue)), str(a[1]), str(a[2]))
		}})
	def("STRINGTOTIMESTAMP",
		Sig{Params: p(tS, tS), Ret: tB, Impl: func(a []Value) (Value, error) { return parseTS(str(a[0]), str(a[1]), "") }},
		Sig{Params: p(tS, tS, tS), Ret: tB, Impl: func(a []Value) (Value, error) { return parseTS(str(a[0]), str(a[1]), str(a[2])) }})
	def("PARSE_TIMESTAMP",
		Sig{Params: p(tS, tS), Ret: tT, Impl: func(a []Value) (Value, error) {
			ms, err := parseTS(str(a[0]), str(a[1]), "")
			return types.TimestampValue(ms), err
		}},
		Sig{Params: p(tS, tS, tS), Ret: tT, Impl: func(a []Value) (Value, error) {
			ms, err := parseTS(str(a[0]), str(a[1]), str(a[2]))
			return types.TimestampValue(ms), err
		}})
	def("DATETOSTRING", Sig{Params: p(tI, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		return formatTS(int64(i32(a[0]))*86_400_000, str(a[1]), "")
	}})
	def("FORMAT_DATE", Sig{Params: p(tDate, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		return formatTS(int64(a[0].(types.DateValue))*86_400_000, str(a[1]), "")
	}})
	def("STRINGTODATE", Sig{Params: p(tS, tS), Ret: tI, Impl: func(a []Value) (Value, error) {
		ms, err := parseTS(str(a[0]), str(a[1]), "")
		return int32(ms / 86_400_000), err
	}})
	def("PARSE_DATE", Sig{Params: p(tS, tS), Ret: tDate, Impl: func(a []Value) (Value, error) {
		ms, err := parseTS(str(a[0]), str(a[1]), "")
		if err != nil {
			// ksqlDB parses dates like SimpleDateFormat.parse, which ignores text after the date.
			if rest, ok := extraText(str(a[0]), str(a[1])); ok {
				ms, err = parseTS(strings.TrimSuffix(str(a[0]), rest), str(a[1]), "")
			}
		}
		if err != nil {
			return nil, err
		}
		return types.DateValue(floorDiv(ms, 86_400_000)), nil
	}})
	def("FORMAT_TIME", Sig{Params: p(tTime, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		return formatTS(int64(a[0].(types.TimeValue)), str(a[1]), "")
	}})
	def("PARSE_TIME", Sig{Params: p(tS, tS), Ret: tTime, Impl: func(a []Value) (Value, error) {
		tp, err := patterns.get(str(a[1]), compilePattern)
		if err != nil {
			return nil, err
		}
		t, ok := parseTime(tp, str(a[0]), time.UTC)
		if !ok {
			return nil, fmt.Errorf("Failed to parse time '%s' with formatter '%s'", str(a[0]), str(a[1]))
		}
		return types.TimeValue(t.Hour()*3_600_000 + t.Minute()*60_000 + t.Second()*1000 + t.Nanosecond()/1e6), nil
	}})
	def("CONVERT_TZ", Sig{Params: p(tT, tS, tS), Ret: tT, Impl: func(a []Value) (Value, error) {
		from, err := location(str(a[1]))
		if err != nil {
			return nil, err
		}
		to, err := location(str(a[2]))
		if err != nil {
			return nil, err
		}
		t := time.UnixMilli(int64(a[0].(types.TimestampValue))).UTC()
		local := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), from)
		c := local.In(to)
		out := time.Date(c.Year(), c.Month(), c.Day(), c.Hour(), c.Minute(), c.Second(), c.Nanosecond(), time.UTC)
		return types.TimestampValue(out.UnixMilli()), nil
	}})
	addSub := func(name string, sign int64, t *types.Type, apply func(v Value, ms int64) (Value, error)) {
		def(name,
			Sig{Params: p(types.Interval, tI, t), Ret: t, Impl: func(a []Value) (Value, error) {
				return apply(a[2], sign*int64(i32(a[1]))*unitMillis(str(a[0])))
			}},
			Sig{Params: p(types.Interval, tB, t), Ret: t, Impl: func(a []Value) (Value, error) {
				return apply(a[2], sign*a[1].(int64)*unitMillis(str(a[0])))
			}})
	}
	tsApply := func(v Value, ms int64) (Value, error) {
		return types.TimestampValue(int64(v.(types.TimestampValue)) + ms), nil
	}
	dateApply := func(v Value, ms int64) (Value, error) {
		if ms%86_400_000 != 0 {
			return nil, fmt.Errorf("Can only add/subtract whole days to a DATE")
		}
		return types.DateValue(int64(v.(types.DateValue)) + ms/86_400_000), nil
	}
	timeApply := func(v Value, ms int64) (Value, error) {
		r := (int64(v.(types.TimeValue)) + ms) % 86_400_000
		if r < 0 {
			r += 86_400_000
		}
		return types.TimeValue(r), nil
	}
	addSub("TIMESTAMPADD", 1, tT, tsApply)
	addSub("TIMESTAMPSUB", -1, tT, tsApply)
	addSub("DATEADD", 1, tDate, dateApply)
	addSub("DATESUB", -1, tDate, dateApply)
	addSub("TIMEADD", 1, tTime, timeApply)
	addSub("TIMESUB", -1, tTime, timeApply)
}
