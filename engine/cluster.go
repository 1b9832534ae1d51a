package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/runtime"
)

// A cluster is the servers of one service id (DESIGN.md, "Cluster"). They share the command topic, so
// every server knows every statement; each persistent query's tasks spread over them through the
// query's consumer group, whose assignment carries every server's advertised URL and the partitions it
// holds (runtime.ApplicationServer, App.StoreMetadata); and they announce themselves with heartbeats
// on a compacted topic, _seiche-<service id>-heartbeat, keyed by URL: a record every
// heartbeatInterval while a server runs, a tombstone when it stops cleanly. A server whose last
// heartbeat is older than heartbeatWindow is listed as not alive.
//
// A pull query on a table reaches any server. The server reads the partitions it holds itself and
// asks the server holding each other partition for its rows of the store (POST /internal/pull), then
// evaluates the query over the rows it gathered, as if it held them all. A partition held nowhere
// (during a rebalance, while its new owner restores the store) is waited for up to pullRouteTimeout.

const (
	heartbeatInterval = 250 * time.Millisecond
	heartbeatWindow   = 2 * time.Second
	// pullRouteTimeout bounds how long a pull query waits for partitions that no server holds.
	pullRouteTimeout = 30 * time.Second
)

// AdvertisedURL sets the URL at which the other servers of the service reach this server's REST API
// (ksqlDB's ksql.advertised.listener), e.g. http://10.0.0.5:8088. It is announced in heartbeats and
// in every persistent query's group assignment, so that pull queries can be forwarded to the server
// that holds a key. Without it the server does not announce itself and answers pull queries from
// its own state only: a single server.
func AdvertisedURL(u string) Opt { return opt(func(c *config) { c.advertised = u }) }

// heartbeat is the value of a heartbeat record.
type heartbeat struct {
	URL     string `json:"url"`
	Started int64  `json:"started"` // when the server started, Unix ms
}

// memberState is what a server knows of another from its heartbeats.
type memberState struct {
	started  int64
	lastSeen time.Time // the last heartbeat's timestamp
}

// heartbeats announces this server and tracks the others until ctx ends; it writes a tombstone for
// this server on its way out.
func (e *Engine) heartbeats(ctx context.Context) {
	if e.cfg.advertised != "" {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.sendHeartbeats(ctx)
		}()
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		if err := e.readHeartbeats(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("reading the heartbeat topic", "topic", e.heartbeatTopic, "err", err)
		}
	}()
}

func (e *Engine) sendHeartbeats(ctx context.Context) {
	val, _ := json.Marshal(heartbeat{URL: e.cfg.advertised, Started: e.start.UnixMilli()})
	key := []byte(e.cfg.advertised)
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		e.kafka.cl.Produce(ctx, &kgo.Record{Topic: e.heartbeatTopic, Key: key, Value: val}, func(_ *kgo.Record, err error) {
			if err != nil && ctx.Err() == nil {
				e.log.Warn("sending a heartbeat", "err", err)
			}
		})
		select {
		case <-ctx.Done():
			// Leaving cleanly: the others list this server as gone at once, not after the window.
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if err := e.kafka.cl.ProduceSync(sctx, &kgo.Record{Topic: e.heartbeatTopic, Key: key}).FirstErr(); err != nil {
				e.log.Warn("announcing this server's departure", "err", err)
			}
			return
		case <-t.C:
		}
	}
}

func (e *Engine) readHeartbeats(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.kafka.bootstrap...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{e.heartbeatTopic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(heartbeatInterval))
	if err != nil {
		return err
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			e.log.Warn("reading the heartbeat topic", "topic", t, "partition", p, "err", err)
		})
		e.members.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			u := string(r.Key)
			if r.Value == nil {
				delete(e.members.m, u)
				return
			}
			var hb heartbeat
			if err := json.Unmarshal(r.Value, &hb); err != nil {
				e.log.Warn("skipping a heartbeat that cannot be decoded", "offset", r.Offset, "err", err)
				return
			}
			m := e.members.m[u]
			if m == nil {
				m = &memberState{}
				e.members.m[u] = m
			}
			m.started = hb.Started
			if r.Timestamp.After(m.lastSeen) {
				m.lastSeen = r.Timestamp
			}
		})
		e.members.Unlock()
	}
}

// hostKey is how ksqlDB names a server in /clusterStatus: host:port.
func hostKey(u string) string {
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		return p.Host
	}
	return u
}

// ClusterStatus is the answer of GET /clusterStatus, in ksqlDB's shape: every server of the service
// this one has heard of, by host:port.
type ClusterStatus struct {
	ClusterStatus map[string]HostStatus `json:"clusterStatus"`
}

// HostStatus is one server in ClusterStatus.
type HostStatus struct {
	HostAlive          bool  `json:"hostAlive"`
	LastStatusUpdateMs int64 `json:"lastStatusUpdateMs"`
	// ActiveStandbyPerQuery holds, by query id, the partitions the server runs of each query.
	ActiveStandbyPerQuery map[string]QueryPartitions `json:"activeStandbyPerQuery"`
	HostStoreLags         HostStoreLags              `json:"hostStoreLags"`
}

// QueryPartitions is what a server runs of one persistent query: its active tasks' input partitions
// and its standby copies'.
type QueryPartitions struct {
	ActiveStores      []string         `json:"activeStores"`
	ActivePartitions  []TopicPartition `json:"activePartitions"`
	StandByStores     []string         `json:"standByStores"`
	StandByPartitions []TopicPartition `json:"standByPartitions"`
}

// TopicPartition is a partition in QueryPartitions.
type TopicPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

// HostStoreLags is ksqlDB's per-host store lag report; Seiche reports no lags in it yet.
type HostStoreLags struct {
	StateStoreLags map[string]any `json:"stateStoreLags"`
	UpdateTimeMs   int64          `json:"updateTimeMs"`
}

// clusterStatus is GET /clusterStatus: every server of the service this one has heard of, whether it
// is alive, and the partitions of each persistent query it runs. self is this server's URL when it
// advertises none.
func (e *Engine) clusterStatus(self string) ClusterStatus {
	now := time.Now()
	out := ClusterStatus{ClusterStatus: map[string]HostStatus{}}
	host := func(u string) HostStatus {
		h, ok := out.ClusterStatus[hostKey(u)]
		if !ok {
			h = HostStatus{ActiveStandbyPerQuery: map[string]QueryPartitions{}, HostStoreLags: HostStoreLags{StateStoreLags: map[string]any{}}}
		}
		return h
	}
	e.members.Lock()
	for u, m := range e.members.m {
		h := host(u)
		h.HostAlive, h.LastStatusUpdateMs = now.Sub(m.lastSeen) < heartbeatWindow, m.lastSeen.UnixMilli()
		h.HostStoreLags.UpdateTimeMs = h.LastStatusUpdateMs
		out.ClusterStatus[hostKey(u)] = h
	}
	e.members.Unlock()
	if e.cfg.advertised != "" {
		self = e.cfg.advertised
	}
	h := host(self)
	h.HostAlive, h.LastStatusUpdateMs, h.HostStoreLags.UpdateTimeMs = true, now.UnixMilli(), now.UnixMilli()
	out.ClusterStatus[hostKey(self)] = h

	for _, q := range e.queryList() {
		app := q.app()
		if app == nil {
			continue
		}
		assigned := app.HostPartitions()
		if len(assigned) == 0 && e.cfg.advertised == "" {
			// A server that advertises no URL is alone, and its assignments name no host: its own
			// tasks are what it runs.
			assigned = map[string][]runtime.TopicPartition{self: nil}
			for _, t := range app.Tasks() {
				assigned[self] = append(assigned[self], runtime.TopicPartition{Partition: t.Partition})
			}
		}
		add := func(u string, tps []runtime.TopicPartition, standby bool) {
			if _, ok := out.ClusterStatus[hostKey(u)]; !ok {
				return // a host of the assignment whose heartbeats this server has not read yet
			}
			qp := out.ClusterStatus[hostKey(u)].ActiveStandbyPerQuery[q.id]
			stores, parts := &qp.ActiveStores, &qp.ActivePartitions
			if standby {
				stores, parts = &qp.StandByStores, &qp.StandByPartitions
			}
			for _, tp := range tps {
				*parts = append(*parts, TopicPartition{Topic: tp.Topic, Partition: tp.Partition})
			}
			if len(*parts) > 0 {
				*stores = []string{materializedStore}
			}
			out.ClusterStatus[hostKey(u)].ActiveStandbyPerQuery[q.id] = qp
		}
		for u, tps := range assigned {
			add(u, tps, false)
		}
		for u, tps := range app.StandbyHostPartitions() {
			add(u, tps, true)
		}
	}
	// ksqlDB's clients expect lists, never null.
	for _, h := range out.ClusterStatus {
		for id, qp := range h.ActiveStandbyPerQuery {
			qp.ActiveStores, qp.StandByStores = nonNil(qp.ActiveStores), nonNil(qp.StandByStores)
			qp.ActivePartitions, qp.StandByPartitions = nonNil(qp.ActivePartitions), nonNil(qp.StandByPartitions)
			h.ActiveStandbyPerQuery[id] = qp
		}
	}
	return out
}

// readMaterialized reads the rows of a table query's store that a pull query needs: the row of its
// key, or every row. In a cluster it gathers them from the servers that hold each partition.
func (e *Engine) readMaterialized(ctx context.Context, tq *persistentQuery, ev *rowEvaluator, props map[string]string) ([]pullRow, error) {
	app := tq.app()
	if app == nil {
		st, err := tq.State()
		return nil, fmt.Errorf("query %s is not running (%s): %v", tq.id, st, err)
	}
	md, err := app.StoreMetadata(materializedStore)
	if err != nil {
		return nil, err
	}
	kb, hasKey := ev.lookupKey()
	if e.cfg.advertised == "" || len(md.Active) == 0 || e.holdsAll(md) {
		// One server, or its first assignment is not in yet: what this server holds is the table.
		rows, _, err := readLocal(app, nil, kb, hasKey)
		return rows, err
	}
	all := make([]int32, md.Partitions)
	for p := range all {
		all[p] = int32(p)
	}
	sb := e.standbyReads(props)
	if !hasKey {
		return e.gather(ctx, tq, all, nil, false, sb)
	}
	// The key is in the partition Kafka's default partitioner gives it when the store's tasks are
	// partitioned by the table's key (the usual case); otherwise it is in one of the others.
	guess := keyPartition(kb, int(md.Partitions))
	rows, err := e.gather(ctx, tq, []int32{guess}, kb, true, sb)
	if err != nil || len(rows) > 0 {
		return rows, err
	}
	rest := append(all[:guess:guess], all[guess+1:]...)
	rows, err = e.gather(ctx, tq, rest, kb, true, sb)
	if len(rows) > 1 {
		rows = rows[:1]
	}
	return rows, err
}

// holdsAll reports whether this server runs every partition of the store md describes: a server
// alone in its cluster reads its own stores, with no routing.
func (e *Engine) holdsAll(md runtime.StoreMetadata) bool {
	for p := range md.Partitions {
		if md.Active[p] != e.cfg.advertised {
			return false
		}
	}
	return true
}

// standbyReads is whether a pull query may be answered from standby copies when a partition's active
// server does not answer, and the largest lag (in changelog records) it accepts of a copy: ksqlDB's
// ksql.query.pull.enable.standby.reads and ksql.query.pull.max.allowed.offset.lag.
type standbyReads struct {
	enabled bool
	maxLag  int64
}

func (e *Engine) standbyReads(props map[string]string) standbyReads {
	sb := standbyReads{maxLag: math.MaxInt64}
	sb.enabled = strings.EqualFold(property(props, e.cfg.props, "ksql.query.pull.enable.standby.reads"), "true")
	if n, ok := intProperty(props, e.cfg.props, "ksql.query.pull.max.allowed.offset.lag", 0); ok {
		sb.maxLag = n
	}
	return sb
}

// pullSource is a server a pull query reads partitions of a store from: its active tasks, or its
// standby copies.
type pullSource struct {
	host    string
	standby bool
}

// keyPartition is the partition Kafka's default partitioner gives key among n.
func keyPartition(key []byte, n int) int32 {
	return int32(kgo.StickyKeyPartitioner(nil).ForTopic("").Partition(&kgo.Record{Key: key}, n))
}

// gather reads partitions parts of tq's store (only key's row when hasKey) from the servers that
// hold them, this one included, waiting up to pullRouteTimeout for partitions held by none. A
// partition whose active server does not answer is read from a standby copy within sb's lag, when sb
// allows it.
func (e *Engine) gather(ctx context.Context, tq *persistentQuery, parts []int32, key []byte, hasKey bool, sb standbyReads) ([]pullRow, error) {
	ctx, cancel := context.WithTimeout(ctx, pullRouteTimeout)
	defer cancel()
	want := map[int32]bool{}
	for _, p := range parts {
		want[p] = true
	}
	var rows []pullRow
	for {
		app := tq.app()
		if app == nil {
			return nil, fmt.Errorf("query %s is not running", tq.id)
		}
		md, err := app.StoreMetadata(materializedStore)
		if err != nil {
			return nil, err
		}
		// Each partition from its active server first; what that does not answer, from its standby
		// copies in turn (when sb allows them).
		sources := func(p int32) []pullSource {
			var out []pullSource
			if h, ok := md.Active[p]; ok {
				out = append(out, pullSource{host: h})
			}
			if sb.enabled {
				for _, h := range md.Standby[p] {
					out = append(out, pullSource{host: h, standby: true})
				}
			}
			return out
		}
		for i := 0; len(want) > 0; i++ {
			bySource := map[pullSource][]int32{}
			for p := range want {
				if ss := sources(p); i < len(ss) {
					bySource[ss[i]] = append(bySource[ss[i]], p)
				}
			}
			if len(bySource) == 0 {
				break
			}
			for src, ps := range bySource {
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				var got []pullRow
				var held []int32
				if src.host == e.cfg.advertised {
					got, held, err = readHere(app, ps, key, hasKey, src.standby, sb.maxLag)
				} else {
					got, held, err = e.forwardPull(ctx, src.host, internalPull{QueryID: tq.id, Partitions: ps, Key: key, HasKey: hasKey, Standby: src.standby, MaxLag: sb.maxLag})
				}
				if err != nil {
					e.log.Debug("reading a table's partitions on a server", "query", tq.id, "server", src.host, "partitions", ps, "standby", src.standby, "err", err)
					continue // asked again once the assignment changes, or until the timeout
				}
				rows = append(rows, got...)
				for _, p := range held {
					delete(want, p)
				}
			}
		}
		if len(want) == 0 {
			sort.SliceStable(rows, func(i, j int) bool { return rows[i].partition < rows[j].partition })
			return rows, nil
		}
		select {
		case <-ctx.Done():
			missing := make([]int32, 0, len(want))
			for p := range want {
				missing = append(missing, p)
			}
			sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
			return nil, &StatementError{Code: codeServerError, Message: fmt.Sprintf(
				"Unable to execute pull query: partitions %v of the table's store (query %s) are not available on any server.", missing, tq.id)}
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// readHere reads partitions ps of app's store on this server: from its active tasks, or from its
// standby copies no further behind than maxLag.
func readHere(app *runtime.App, ps []int32, key []byte, hasKey, standby bool, maxLag int64) ([]pullRow, []int32, error) {
	set := map[int32]bool{}
	for _, p := range ps {
		set[p] = true
	}
	if !standby {
		return readLocal(app, set, key, hasKey)
	}
	copies, err := app.StandbyStores(materializedStore)
	if err != nil {
		return nil, nil, err
	}
	stores := map[int32]runtime.StoreReader{}
	for p, c := range copies {
		if !set[p] {
			continue
		}
		if lag, err := c.Lag(); err != nil || lag > maxLag {
			continue
		}
		stores[p] = c
	}
	return readStores(stores, nil, key, hasKey)
}

// readLocal reads the partitions in parts (nil: all) of app's materialized store held here: the row
// of key when hasKey, else every row. held lists the partitions of parts this server holds.
func readLocal(app *runtime.App, parts map[int32]bool, key []byte, hasKey bool) (rows []pullRow, held []int32, err error) {
	stores, err := app.LocalStores(materializedStore)
	if err != nil {
		return nil, nil, err
	}
	return readStores(stores, parts, key, hasKey)
}

// readStores reads the stores of the partitions in parts (nil: all).
func readStores[S runtime.StoreReader](stores map[int32]S, parts map[int32]bool, key []byte, hasKey bool) (rows []pullRow, held []int32, err error) {
	for p := range stores {
		if parts == nil || parts[p] {
			held = append(held, p)
		}
	}
	sort.Slice(held, func(i, j int) bool { return held[i] < held[j] })
	if hasKey && parts == nil && len(held) > 0 {
		// The key is most likely in the partition Kafka's default partitioner gives it: look there first.
		n := int(held[len(held)-1]) + 1
		guess := keyPartition(key, n)
		for i, p := range held {
			if p == guess {
				held[0], held[i] = held[i], held[0]
			}
		}
	}
	for _, p := range held {
		st := stores[p]
		if hasKey {
			v, ts, found, err := st.Get(key)
			if err != nil {
				return nil, nil, err
			}
			if found {
				return []pullRow{{key: key, value: v, ts: ts, partition: p}}, held, nil
			}
			continue
		}
		err := st.Scan(nil, nil, func(k, v []byte, ts int64) bool {
			rows = append(rows, pullRow{key: append([]byte(nil), k...), value: append([]byte(nil), v...), ts: ts, partition: p})
			return true
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return rows, held, nil
}

// internalPull is the body of POST /internal/pull: a server asking another for its rows of a store.
type internalPull struct {
	QueryID    string  `json:"queryId"`
	Partitions []int32 `json:"partitions"`
	Key        []byte  `json:"key,omitempty"` // base64 in JSON
	HasKey     bool    `json:"hasKey"`
	// Standby asks for the server's standby copies, no further behind than MaxLag records.
	Standby bool  `json:"standby,omitempty"`
	MaxLag  int64 `json:"maxLag,omitempty"`
}

type internalPullRow struct {
	Key       []byte `json:"key"`
	Value     []byte `json:"value"`
	Timestamp int64  `json:"ts"`
	Partition int32  `json:"partition"`
}

type internalPullAnswer struct {
	Rows []internalPullRow `json:"rows"`
	Held []int32           `json:"held"`
}

var pullClient = &http.Client{
	Timeout: 10 * time.Second,
	Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	},
}

// forwardPull asks the server at base for its rows of a store's partitions.
func (e *Engine) forwardPull(ctx context.Context, base string, ask internalPull) ([]pullRow, []int32, error) {
	body, _ := json.Marshal(ask)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/internal/pull", bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", contentJSON)
	resp, err := pullClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return nil, nil, fmt.Errorf("%s answered %s: %s", base, resp.Status, bytes.TrimSpace(b))
	}
	var ans internalPullAnswer
	if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", base, err)
	}
	rows := make([]pullRow, len(ans.Rows))
	for i, r := range ans.Rows {
		rows[i] = pullRow{key: r.Key, value: r.Value, ts: r.Timestamp, partition: r.Partition}
	}
	return rows, ans.Held, nil
}

// internalPull answers POST /internal/pull from this server's own state.
func (a *API) internalPull(w http.ResponseWriter, r *http.Request) {
	var req internalPull
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, "Invalid internal pull request: "+err.Error(), "")
		return
	}
	a.e.mu.Lock()
	q := a.e.mu.queries[req.QueryID]
	a.e.mu.Unlock()
	var app *runtime.App
	if q != nil {
		app = q.app()
	}
	if app == nil {
		// Not running here (yet): it holds nothing, and the asking server asks again.
		writeJSON(w, http.StatusOK, internalPullAnswer{Rows: []internalPullRow{}, Held: []int32{}})
		return
	}
	rows, held, err := readHere(app, req.Partitions, req.Key, req.HasKey, req.Standby, req.MaxLag)
	if err != nil && !errors.Is(err, runtime.ErrStoreMigrated) {
		writeError(w, http.StatusInternalServerError, codeServerError, err.Error(), "")
		return
	}
	ans := internalPullAnswer{Rows: make([]internalPullRow, len(rows)), Held: held}
	if errors.Is(err, runtime.ErrStoreMigrated) {
		ans = internalPullAnswer{Rows: []internalPullRow{}, Held: []int32{}}
	}
	for i, row := range rows {
		ans.Rows[i] = internalPullRow{Key: row.key, Value: row.value, Timestamp: row.ts, Partition: row.partition}
	}
	if ans.Held == nil {
		ans.Held = []int32{}
	}
	writeJSON(w, http.StatusOK, ans)
}

// members is the servers this one has heard of, by advertised URL.
type members struct {
	sync.Mutex
	m map[string]*memberState
}
