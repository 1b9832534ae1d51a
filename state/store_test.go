package state

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// engines runs fn against each implementation; the datadriven files hold for both.
var engines = []struct {
	name string
	open func(t *testing.T) *DB
}{
	{"memory", func(t *testing.T) *DB { return OpenMemory() }},
	{"pebble", func(t *testing.T) *DB {
		db, err := Open(filepath.Join(t.TempDir(), "state"))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}},
}

func TestDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			for i, e := range engines {
				t.Run(e.name, func(t *testing.T) {
					db := e.open(t)
					defer db.Close()
					env := &ddEnv{t: t, db: db, cl: newFakeChangelog(), app: "app", task: "0_0", stores: map[string]*ddStore{}}
					defer env.closeTask()
					runDataDriven(t, path, i == 0, env.run)
				})
			}
		})
	}
}

type ddStore struct {
	name string
	kind string
	args []ddArg
	s    any
}

type ddEnv struct {
	t          *testing.T
	db         *DB
	cl         *fakeChangelog
	app, task  string
	partition  int32
	logged     bool
	partitions int32
	tk         *Task
	stores     map[string]*ddStore
	order      []string
	cur        string
	out        strings.Builder
}

func (e *ddEnv) printf(format string, args ...any) {
	fmt.Fprintf(&e.out, format, args...)
	e.out.WriteByte('\n')
}

func (e *ddEnv) closeTask() {
	if e.tk != nil {
		e.tk.Close()
		e.tk = nil
	}
}

func (e *ddEnv) openTask() error {
	opts := []TaskOpt{OnRestore(func(p RestoreProgress) {
		state := ""
		if p.Done {
			state = " done"
		}
		e.printf("restore %s [%d,%d): records=%d position=%d remaining=%d%s", p.Store, p.From, p.End, p.Records, p.Position, p.Remaining(), state)
	})}
	if e.logged {
		opts = append(opts, WithChangelog(e.cl))
	}
	if e.partitions > 0 {
		opts = append(opts, ChangelogPartitions(e.partitions))
	}
	tk, err := e.db.OpenTask(e.app, e.task, e.partition, opts...)
	if err != nil {
		return err
	}
	e.tk = tk
	return nil
}

func (e *ddEnv) openStore(name, kind string, args []ddArg) error {
	var opts []StoreOpt
	num := func(key string, def int64) int64 {
		for _, a := range args {
			if a.key == key {
				n, err := strconv.ParseInt(a.val, 10, 64)
				if err != nil {
					e.t.Fatalf("bad %s=%s", key, a.val)
				}
				return n
			}
		}
		return def
	}
	for _, a := range args {
		switch a.key {
		case "cache":
			opts = append(opts, Caching(num("cache", 0)))
		case "listen":
			opts = append(opts, OnFlush(func(c Change) error { e.printf("%s", fmtChange(kind, c)); return nil }))
		case "old":
			opts = append(opts, SendOldValues())
		case "unlogged":
			opts = append(opts, WithoutLogging())
		case "dups":
			opts = append(opts, RetainDuplicates())
		case "segment":
			opts = append(opts, SegmentInterval(time.Duration(num("segment", 0))*time.Millisecond))
		}
	}
	ctx := context.Background()
	ms := func(key string, def int64) time.Duration { return time.Duration(num(key, def)) * time.Millisecond }
	var s any
	var err error
	switch kind {
	case "kv":
		s, err = e.tk.KeyValueStore(ctx, name, opts...)
	case "ts":
		s, err = e.tk.TimestampedKeyValueStore(ctx, name, opts...)
	case "window":
		s, err = e.tk.WindowStore(ctx, name, ms("size", 10), ms("retention", 100), opts...)
	case "session":
		s, err = e.tk.SessionStore(ctx, name, ms("retention", 100), opts...)
	default:
		e.t.Fatalf("unknown kind %q", kind)
	}
	if err != nil {
		return err
	}
	if _, ok := e.stores[name]; !ok {
		e.order = append(e.order, name)
	}
	e.stores[name] = &ddStore{name: name, kind: kind, args: args, s: s}
	e.cur = name
	return nil
}

func (e *ddEnv) run(t *testing.T, d *ddCase) string {
	e.out.Reset()
	if err := e.exec(d); err != nil {
		e.printf("error: %v", err)
	}
	return e.out.String()
}

func (e *ddEnv) exec(d *ddCase) error {
	ctx := context.Background()
	switch d.cmd {
	case "task":
		e.closeTask()
		e.logged = d.has("logged")
		e.partitions = 0
		if v, ok := d.arg("partitions"); ok {
			n, _ := strconv.Atoi(v)
			e.partitions = int32(n)
		}
		if v, ok := d.arg("id"); ok {
			e.task = v
		}
		e.stores, e.order = map[string]*ddStore{}, nil
		return e.openTask()
	case "open":
		kind, _ := d.arg("kind")
		name, _ := d.arg("name")
		if err := e.openStore(name, kind, d.args); err != nil {
			return err
		}
		e.printf("ok")
		return nil
	case "use":
		e.cur, _ = d.arg("name")
		return nil
	case "reopen":
		// Close without committing, as a crash would, and open the task and its stores again.
		e.closeTask()
		if d.has("wipe") {
			if err := e.db.DropTask(e.app, e.task); err != nil {
				return err
			}
		}
		if err := e.openTask(); err != nil {
			return err
		}
		for _, name := range e.order {
			st := e.stores[name]
			if err := e.openStore(name, st.kind, st.args); err != nil {
				return err
			}
		}
		e.printf("ok")
		return nil
	case "close-task":
		e.printf("%v", e.tk.Close())
		return nil
	case "close-store":
		e.printf("%v", e.stores[e.cur].s.(Store).Close())
		return nil
	case "commit":
		if err := e.tk.Commit(ctx); err != nil {
			return err
		}
		e.printf("ok")
		return nil
	case "flush":
		if err := e.tk.Flush(ctx); err != nil {
			return err
		}
		e.printf("ok")
		return nil
	case "abort":
		if err := e.tk.Abort(); err != nil {
			return err
		}
		e.printf("ok")
		return nil
	case "changelog":
		name := e.cur
		if v, ok := d.arg("name"); ok {
			name = v
		}
		e.printChangelog(ChangelogTopic(e.app, name))
		return nil
	case "topics":
		var names []string
		for n := range e.cl.created {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			e.printf("%s %s", n, e.cl.created[n])
		}
		return nil
	case "compact-changelog":
		e.cl.compact()
		e.printf("ok")
		return nil
	case "truncate-changelog":
		v, _ := d.arg("before")
		n, _ := strconv.ParseInt(v, 10, 64)
		e.cl.truncate(n)
		e.printf("ok")
		return nil
	case "recreate-changelog":
		e.cl.recreate()
		e.printf("ok")
		return nil
	case "fail-produce":
		e.cl.failing = errInjected
		if d.has("off") {
			e.cl.failing = nil
		}
		e.printf("ok")
		return nil
	}
	st := e.stores[e.cur]
	if st == nil {
		e.t.Fatalf("%s: no store open", d.pos)
	}
	switch s := st.s.(type) {
	case KeyValueStore:
		return e.execKV(d, s)
	case TimestampedKeyValueStore:
		return e.execTS(d, s)
	case WindowStore:
		return e.execWindow(d, s)
	case SessionStore:
		return e.execSession(d, s)
	}
	return fmt.Errorf("unknown store type %T", st.s)
}

func (e *ddEnv) printChangelog(topic string) {
	fp := e.cl.part(topic, e.partition)
	kind := ""
	for _, st := range e.stores {
		if ChangelogTopic(e.app, st.name) == topic {
			kind = st.kind
		}
	}
	for _, r := range fp.recs {
		e.printf("%d: %s = %s ts=%d", r.Offset, fmtChangelogKey(kind, r.Key), fmtBytes(r.Value), r.Timestamp)
	}
	if len(fp.recs) == 0 {
		e.printf("(empty)")
	}
}

func fmtChangelogKey(kind string, k []byte) string {
	switch kind {
	case "window":
		if len(k) >= 12 {
			n := len(k) - 12
			return fmt.Sprintf("%s@%d#%d", fmtBytes(k[:n]), int64(be64(k[n:])), be32(k[n+8:]))
		}
	case "session":
		if len(k) >= 16 {
			n := len(k) - 16
			return fmt.Sprintf("%s@[%d,%d]", fmtBytes(k[:n]), int64(be64(k[n+8:])), int64(be64(k[n:])))
		}
	}
	return fmtBytes(k)
}

func be64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

func be32(b []byte) uint32 { return uint32(be64(append(make([]byte, 4), b[:4]...))) }

func fmtChange(kind string, c Change) string {
	var b strings.Builder
	b.WriteString("flush ")
	b.WriteString(fmtBytes(c.Key))
	switch kind {
	case "window":
		fmt.Fprintf(&b, "@[%d,%d)", c.Window.Start, c.Window.End)
	case "session":
		fmt.Fprintf(&b, "@[%d,%d]", c.Window.Start, c.Window.End)
	}
	b.WriteString(" = " + fmtBytes(c.Value))
	if kind == "ts" && c.Value != nil {
		fmt.Fprintf(&b, "@%d", c.Timestamp)
	}
	if c.OldValue != nil {
		b.WriteString(" (old " + fmtBytes(c.OldValue))
		if kind == "ts" {
			fmt.Fprintf(&b, "@%d", c.OldTimestamp)
		}
		b.WriteString(")")
	}
	return b.String()
}

// fmtBytes prints printable bytes as they are, nil as <nil>, empty as "", and anything else in hex.
func fmtBytes(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	if len(b) == 0 {
		return `""`
	}
	for _, c := range b {
		if c <= ' ' || c > '~' || c == '=' || c == '@' {
			return "0x" + hex.EncodeToString(b)
		}
	}
	return string(b)
}

func parseBytes(t testing.TB, s string) []byte {
	switch {
	case s == "<nil>":
		return nil
	case s == `""`:
		return []byte{}
	case strings.HasPrefix(s, "0x"):
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			t.Fatalf("bad hex %q", s)
		}
		return b
	}
	return []byte(s)
}

// bound parses an optional range bound: absent or "<nil>" is unbounded.
func (e *ddEnv) bound(d *ddCase, key string) []byte {
	v, ok := d.arg(key)
	if !ok {
		return nil
	}
	return parseBytes(e.t, v)
}

func (e *ddEnv) num(d *ddCase, key string, def int64) int64 {
	v, ok := d.arg(key)
	if !ok {
		return def
	}
	switch v {
	case "min":
		return math.MinInt64
	case "max":
		return math.MaxInt64
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		e.t.Fatalf("%s: bad number %s=%s", d.pos, key, v)
	}
	return n
}

func (e *ddEnv) drain(it KeyValueIterator, err error, format func() string) error {
	if err != nil {
		return err
	}
	defer it.Close()
	n := 0
	for it.Next() {
		e.printf("%s", format())
		n++
	}
	if err := it.Err(); err != nil {
		return err
	}
	if n == 0 {
		e.printf("(empty)")
	}
	return nil
}

func (e *ddEnv) execKV(d *ddCase, s KeyValueStore) error {
	switch d.cmd {
	case "put":
		for _, a := range d.args {
			if err := s.Put(parseBytes(e.t, a.key), parseBytes(e.t, a.val)); err != nil {
				return err
			}
		}
	case "put-if-absent":
		for _, a := range d.args {
			prev, ok, err := s.PutIfAbsent(parseBytes(e.t, a.key), parseBytes(e.t, a.val))
			if err != nil {
				return err
			}
			if ok {
				e.printf("%s: present %s", a.key, fmtBytes(prev))
			} else {
				e.printf("%s: absent", a.key)
			}
		}
	case "delete":
		for _, a := range d.args {
			if err := s.Delete(parseBytes(e.t, a.key)); err != nil {
				return err
			}
		}
	case "get":
		for _, a := range d.args {
			v, ok, err := s.Get(parseBytes(e.t, a.key))
			if err != nil {
				return err
			}
			if !ok {
				e.printf("%s: not found", a.key)
			} else {
				e.printf("%s: %s", a.key, fmtBytes(v))
			}
		}
	case "range", "reverse-range", "prefix", "all":
		var it KeyValueIterator
		var err error
		switch d.cmd {
		case "range":
			it, err = s.Range(e.bound(d, "from"), e.bound(d, "to"))
		case "reverse-range":
			it, err = s.ReverseRange(e.bound(d, "from"), e.bound(d, "to"))
		case "prefix":
			it, err = s.PrefixScan(e.bound(d, "p"))
		default:
			it, err = s.All()
		}
		return e.drain(it, err, func() string { return fmtBytes(it.Key()) + ": " + fmtBytes(it.Value()) })
	case "count":
		n, err := s.ApproximateNumEntries()
		if err != nil {
			return err
		}
		e.printf("%d", n)
	default:
		e.t.Fatalf("%s: unknown key-value command %q", d.pos, d.cmd)
	}
	if e.out.Len() == 0 {
		e.printf("ok")
	}
	return nil
}

// parseAt splits "key@rest".
func parseAt(t testing.TB, s string) ([]byte, string) {
	k, rest, ok := strings.Cut(s, "@")
	if !ok {
		t.Fatalf("want key@..., got %q", s)
	}
	return parseBytes(t, k), rest
}

func (e *ddEnv) execTS(d *ddCase, s TimestampedKeyValueStore) error {
	switch d.cmd {
	case "put":
		// put key=value@ts ...
		for _, a := range d.args {
			v, ts, _ := strings.Cut(a.val, "@")
			n, _ := strconv.ParseInt(ts, 10, 64)
			if err := s.Put(parseBytes(e.t, a.key), parseBytes(e.t, v), n); err != nil {
				return err
			}
		}
	case "put-if-absent":
		for _, a := range d.args {
			v, ts, _ := strings.Cut(a.val, "@")
			n, _ := strconv.ParseInt(ts, 10, 64)
			prev, pts, ok, err := s.PutIfAbsent(parseBytes(e.t, a.key), parseBytes(e.t, v), n)
			if err != nil {
				return err
			}
			if ok {
				e.printf("%s: present %s@%d", a.key, fmtBytes(prev), pts)
			} else {
				e.printf("%s: absent", a.key)
			}
		}
	case "delete":
		for _, a := range d.args {
			if err := s.Delete(parseBytes(e.t, a.key)); err != nil {
				return err
			}
		}
	case "get":
		for _, a := range d.args {
			v, ts, ok, err := s.Get(parseBytes(e.t, a.key))
			if err != nil {
				return err
			}
			if !ok {
				e.printf("%s: not found", a.key)
			} else {
				e.printf("%s: %s@%d", a.key, fmtBytes(v), ts)
			}
		}
	case "range", "reverse-range", "prefix", "all":
		var it TimestampedIterator
		var err error
		switch d.cmd {
		case "range":
			it, err = s.Range(e.bound(d, "from"), e.bound(d, "to"))
		case "reverse-range":
			it, err = s.ReverseRange(e.bound(d, "from"), e.bound(d, "to"))
		case "prefix":
			it, err = s.PrefixScan(e.bound(d, "p"))
		default:
			it, err = s.All()
		}
		if err != nil {
			return err
		}
		return e.drain(it, nil, func() string {
			return fmt.Sprintf("%s: %s@%d", fmtBytes(it.Key()), fmtBytes(it.Value()), it.Timestamp())
		})
	case "count":
		n, err := s.ApproximateNumEntries()
		if err != nil {
			return err
		}
		e.printf("%d", n)
	default:
		e.t.Fatalf("%s: unknown timestamped command %q", d.pos, d.cmd)
	}
	if e.out.Len() == 0 {
		e.printf("ok")
	}
	return nil
}

func (e *ddEnv) fmtWindows(it WindowIterator, err error) error {
	session := e.stores[e.cur].kind == "session"
	if err != nil {
		return err
	}
	return e.drain(it, nil, func() string {
		w := it.Window()
		if session {
			return fmt.Sprintf("%s@[%d,%d]: %s", fmtBytes(it.Key()), w.Start, w.End, fmtBytes(it.Value()))
		}
		return fmt.Sprintf("%s@[%d,%d): %s", fmtBytes(it.Key()), w.Start, w.End, fmtBytes(it.Value()))
	})
}

func (e *ddEnv) execWindow(d *ddCase, s WindowStore) error {
	back := d.has("backward")
	switch d.cmd {
	case "put", "put-new":
		// put key@start=value ...; put-new writes with PutNew.
		put := s.Put
		if d.cmd == "put-new" {
			put = s.PutNew
		}
		for _, a := range d.args {
			k, start := parseAt(e.t, a.key)
			n, _ := strconv.ParseInt(start, 10, 64)
			if err := put(k, n, parseBytes(e.t, a.val)); err != nil {
				return err
			}
		}
	case "get":
		for _, a := range d.args {
			k, start := parseAt(e.t, a.key)
			n, _ := strconv.ParseInt(start, 10, 64)
			v, ok, err := s.Get(k, n)
			if err != nil {
				return err
			}
			if !ok {
				e.printf("%s: not found", a.key)
			} else {
				e.printf("%s: %s", a.key, fmtBytes(v))
			}
		}
	case "fetch":
		k := e.bound(d, "key")
		from, to := e.num(d, "from", math.MinInt64), e.num(d, "to", math.MaxInt64)
		if back {
			return e.fmtWindows(s.FetchBackward(k, from, to))
		}
		return e.fmtWindows(s.Fetch(k, from, to))
	case "fetch-range":
		kf, kt := e.bound(d, "keyfrom"), e.bound(d, "keyto")
		from, to := e.num(d, "from", math.MinInt64), e.num(d, "to", math.MaxInt64)
		if back {
			return e.fmtWindows(s.FetchKeyRangeBackward(kf, kt, from, to))
		}
		return e.fmtWindows(s.FetchKeyRange(kf, kt, from, to))
	case "fetch-all":
		from, to := e.num(d, "from", math.MinInt64), e.num(d, "to", math.MaxInt64)
		if back {
			return e.fmtWindows(s.FetchAllBackward(from, to))
		}
		return e.fmtWindows(s.FetchAll(from, to))
	case "all":
		return e.fmtWindows(s.All())
	case "stream-time":
		e.printf("%d", s.StreamTime())
	default:
		e.t.Fatalf("%s: unknown window command %q", d.pos, d.cmd)
	}
	if e.out.Len() == 0 {
		e.printf("ok")
	}
	return nil
}

func parseSession(t testing.TB, s string) ([]byte, Window) {
	k, rest := parseAt(t, s)
	a, b, ok := strings.Cut(rest, "-")
	if !ok {
		t.Fatalf("want key@start-end, got %q", s)
	}
	start, _ := strconv.ParseInt(a, 10, 64)
	end, _ := strconv.ParseInt(b, 10, 64)
	return k, Window{Start: start, End: end}
}

func (e *ddEnv) execSession(d *ddCase, s SessionStore) error {
	back := d.has("backward")
	switch d.cmd {
	case "put":
		// put key@start-end=value ...
		for _, a := range d.args {
			k, w := parseSession(e.t, a.key)
			if err := s.Put(k, w, parseBytes(e.t, a.val)); err != nil {
				return err
			}
		}
	case "remove":
		for _, a := range d.args {
			k, w := parseSession(e.t, a.key)
			if err := s.Remove(k, w); err != nil {
				return err
			}
		}
	case "fetch-session":
		for _, a := range d.args {
			k, w := parseSession(e.t, a.key)
			v, ok, err := s.FetchSession(k, w)
			if err != nil {
				return err
			}
			if !ok {
				e.printf("%s: not found", a.key)
			} else {
				e.printf("%s: %s", a.key, fmtBytes(v))
			}
		}
	case "find":
		k := e.bound(d, "key")
		earliest, latest := e.num(d, "earliest-end", math.MinInt64), e.num(d, "latest-start", math.MaxInt64)
		if back {
			return e.fmtWindows(s.FindSessionsBackward(k, earliest, latest))
		}
		return e.fmtWindows(s.FindSessions(k, earliest, latest))
	case "find-range":
		kf, kt := e.bound(d, "keyfrom"), e.bound(d, "keyto")
		earliest, latest := e.num(d, "earliest-end", math.MinInt64), e.num(d, "latest-start", math.MaxInt64)
		if back {
			return e.fmtWindows(s.FindSessionsKeyRangeBackward(kf, kt, earliest, latest))
		}
		return e.fmtWindows(s.FindSessionsKeyRange(kf, kt, earliest, latest))
	case "fetch":
		return e.fmtWindows(s.Fetch(e.bound(d, "key")))
	case "all":
		return e.fmtWindows(s.All())
	case "stream-time":
		e.printf("%d", s.StreamTime())
	default:
		e.t.Fatalf("%s: unknown session command %q", d.pos, d.cmd)
	}
	if e.out.Len() == 0 {
		e.printf("ok")
	}
	return nil
}
