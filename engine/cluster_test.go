package engine

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/internal/testutil"
)

// startMember starts a server of a cluster: it announces its REST API's URL.
func startMember(t *testing.T, addr string) *testServer {
	t.Helper()
	return startServer(t, addr, t.TempDir(), AdvertisedURL, func(string) Opt { return SessionTimeout(3 * time.Second) })
}

// getClusterStatus returns GET /clusterStatus.
func getClusterStatus(url string) (ClusterStatus, error) {
	var cs ClusterStatus
	resp, err := http.Get(url + "/clusterStatus")
	if err != nil {
		return cs, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&cs)
	return cs, err
}

// clusterHosts returns GET /clusterStatus: host → whether alive, and the partitions of query id it runs.
func clusterHosts(t *testing.T, url, id string) (alive map[string]bool, parts map[string]int) {
	t.Helper()
	cs, err := getClusterStatus(url)
	if err != nil {
		t.Fatal(err)
	}
	alive, parts = map[string]bool{}, map[string]int{}
	for h, st := range cs.ClusterStatus {
		alive[h] = st.HostAlive
		parts[h] = len(st.ActiveStandbyPerQuery[id].ActivePartitions)
	}
	return alive, parts
}

// TestCluster runs three servers of one service over one broker: a statement sent to one is known to
// all; a CTAS's tasks spread over the three; /clusterStatus on each lists all three and what they
// run; a pull query for any key, sent to any server, is answered from the server holding the key;
// two servers racing to create the same stream give one winner; and when a server stops, the others
// list it as gone and take its tasks over, and pull queries go on being answered.
func TestCluster(t *testing.T) {
	b := brokertest.Start(t, broker.GroupInitialRebalanceDelay(0))
	servers := []*testServer{startMember(t, b.Addr()), startMember(t, b.Addr()), startMember(t, b.Addr())}
	host := func(s *testServer) string { return strings.TrimPrefix(s.url, "http://") }

	ksql(t, servers[0].url, "CREATE STREAM CLICKS (USERID STRING KEY, PAGE STRING) WITH (KAFKA_TOPIC='clicks', PARTITIONS=6, VALUE_FORMAT='JSON');")
	ents := ksql(t, servers[1].url, "CREATE TABLE PER_USER AS SELECT USERID, COUNT(*) AS N FROM CLICKS GROUP BY USERID;")
	st, _ := ents[0]["commandStatus"].(map[string]any)
	id, _ := st["queryId"].(string)
	if id == "" {
		t.Fatalf("CTAS: %v", ents)
	}

	// Every server knows every member and that each runs a share of the query's six tasks.
	testutil.CheckFor(t, 30*time.Second, func() error {
		for _, s := range servers {
			alive, parts := clusterHosts(t, s.url, id)
			total := 0
			for _, o := range servers {
				if !alive[host(o)] {
					return fmt.Errorf("%s does not list %s as alive: %v", s.url, o.url, alive)
				}
				if parts[host(o)] == 0 {
					return fmt.Errorf("%s says %s runs none of %s's partitions: %v", s.url, o.url, id, parts)
				}
				total += parts[host(o)]
			}
			if total != 6 {
				return fmt.Errorf("%s lists %d partitions of %s, want 6: %v", s.url, total, id, parts)
			}
		}
		return nil
	})

	// 60 users, user i clicks i%5+1 times.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want := map[string]int{}
	var recs []*kgo.Record
	for i := range 60 {
		u := fmt.Sprintf("u%02d", i)
		for j := range i%5 + 1 {
			recs = append(recs, &kgo.Record{Topic: "clicks", Key: []byte(u), Value: fmt.Appendf(nil, `{"PAGE":"p%d"}`, j)})
			want[u]++
		}
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	checkPulls := func(servers []*testServer) {
		t.Helper()
		for i, s := range servers {
			for u, n := range want {
				if (len(u)+i)%3 != 0 && u != "u07" {
					continue // a third of the keys on each server, and u07 on all
				}
				pullAnswers(t, s.url, fmt.Sprintf("SELECT * FROM PER_USER WHERE USERID='%s';", u), "`USERID` STRING KEY, `N` BIGINT", fmt.Sprintf(`[%q,%d]`, u, n))
			}
			// A scan gathers every partition, from every server.
			testutil.CheckFor(t, 30*time.Second, func() error {
				r := query(t, s.url, "SELECT * FROM PER_USER;")
				if r.status != http.StatusOK || len(r.rows) != len(want) {
					return fmt.Errorf("scan on %s: HTTP %d, %d rows, want %d: %.300s", s.url, r.status, len(r.rows), len(want), r.raw)
				}
				return nil
			})
		}
	}
	checkPulls(servers)

	// Two servers create the same stream at once: the command topic's order picks one.
	var wg sync.WaitGroup
	codes, answers := make([]int, 2), make([]any, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], answers[i] = ksqlTry(t, servers[i].url, "CREATE STREAM RACE (A INT) WITH (KAFKA_TOPIC='race', PARTITIONS=1, VALUE_FORMAT='JSON');")
		}()
	}
	wg.Wait()
	if (codes[0] == http.StatusOK) == (codes[1] == http.StatusOK) {
		t.Fatalf("racing CREATE STREAM: statuses %v, want one 200 and one error: %v", codes, answers)
	}
	loser := answers[0]
	if codes[0] == http.StatusOK {
		loser = answers[1]
	}
	if m, _ := loser.(map[string]any); !strings.Contains(fmt.Sprint(m["message"]), "already exists") {
		t.Fatalf("the losing CREATE STREAM: %v", loser)
	}

	// One server stops cleanly: the others list it as gone at once, take its tasks, and answer.
	gone := servers[2]
	gone.stop(t)
	rest := servers[:2]
	testutil.CheckFor(t, 30*time.Second, func() error {
		for _, s := range rest {
			alive, parts := clusterHosts(t, s.url, id)
			if _, ok := alive[host(gone)]; ok {
				return fmt.Errorf("%s still lists the stopped %s: %v", s.url, gone.url, alive)
			}
			if parts[host(rest[0])]+parts[host(rest[1])] != 6 {
				return fmt.Errorf("%s: partitions %v, want 6 on the two left", s.url, parts)
			}
		}
		return nil
	})
	checkPulls(rest)
}

// TestClusterStandby runs two servers with num.standby.replicas=1 and two stream threads each: each keeps a warm copy of the
// partitions the other runs, /clusterStatus says so, and a copy answers reads of its partitions
// (what a pull query with ksql.query.pull.enable.standby.reads falls back on while a dead server's
// partitions move).
func TestClusterStandby(t *testing.T) {
	b := brokertest.Start(t, broker.GroupInitialRebalanceDelay(0))
	props := func(string) Opt {
		return Properties(map[string]string{"auto.offset.reset": "earliest", "ksql.streams.num.standby.replicas": "1", "ksql.streams.num.stream.threads": "2"})
	}
	member := func() *testServer {
		return startServer(t, b.Addr(), t.TempDir(), AdvertisedURL, props, func(string) Opt { return SessionTimeout(3 * time.Second) })
	}
	servers := []*testServer{member(), member()}
	ksql(t, servers[0].url, "CREATE STREAM CLICKS (USERID STRING KEY, PAGE STRING) WITH (KAFKA_TOPIC='clicks', PARTITIONS=4, VALUE_FORMAT='JSON');")
	ents := ksql(t, servers[0].url, "CREATE TABLE PER_USER AS SELECT USERID, COUNT(*) AS N FROM CLICKS GROUP BY USERID;")
	st, _ := ents[0]["commandStatus"].(map[string]any)
	id, _ := st["queryId"].(string)

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range 40 {
		recs = append(recs, &kgo.Record{Topic: "clicks", Key: fmt.Appendf(nil, "u%02d", i), Value: []byte(`{"PAGE":"p"}`)})
	}
	if err := cl.ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	// Each server reads, from its standby copies, the partitions the other runs: all 40 users.
	testutil.CheckFor(t, 30*time.Second, func() error {
		users := 0
		for _, s := range servers {
			cs, err := getClusterStatus(s.url)
			if err != nil {
				return err
			}
			var parts []int32
			for _, p := range cs.ClusterStatus[strings.TrimPrefix(s.url, "http://")].ActiveStandbyPerQuery[id].StandByPartitions {
				parts = append(parts, p.Partition)
			}
			if len(parts) != 2 {
				return fmt.Errorf("%s keeps standby copies of partitions %v, want 2", s.url, parts)
			}
			status, raw := post(t, s.url, "/internal/pull", internalPull{QueryID: id, Partitions: parts, Standby: true, MaxLag: 0})
			var ans internalPullAnswer
			if err := json.Unmarshal(raw, &ans); status != http.StatusOK || err != nil {
				return fmt.Errorf("%s /internal/pull: HTTP %d %v: %s", s.url, status, err, raw)
			}
			if len(ans.Held) != 2 {
				return fmt.Errorf("%s: its copies of %v are not caught up (held %v)", s.url, parts, ans.Held)
			}
			users += len(ans.Rows)
		}
		if users != 40 {
			return fmt.Errorf("the standby copies hold %d users, want 40", users)
		}
		return nil
	})
}
