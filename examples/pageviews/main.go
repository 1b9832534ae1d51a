// Command pageviews counts page views per region and minute: a stream of page views keyed by user
// is joined with a table of user profiles (stream-table join) to find each view's region, re-keyed
// by region, and counted in one-minute tumbling windows. Kafka Streams' PageViewRegionExample,
// written with the Seiche DSL.
//
//	go run ./examples/pageviews --demo
//
// --demo starts a broker in the process, writes a few profiles and page views and prints the
// counts (add --bootstrap 127.0.0.1:9092 to use a running server instead). Against a server:
//
//	go run ./examples/pageviews --bootstrap 127.0.0.1:9092
//
// The page-views and user-profiles topics must exist with the same number of partitions (the join
// is co-partitioned); the output topic's records are keyed by region and window (Kafka Streams'
// TimeWindowedSerde: the region then the window start) with the count as an 8-byte integer.
//
// Counts reach the output topic when the application commits: updates to a window wait in the
// count store's record cache until then and coalesce, as in Kafka Streams, whose commit.interval.ms
// is 30 s. --commit-interval sets it (the demo uses half a second).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/examples/internal/demo"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// PageView is one view of a page by a user; records are keyed by user id.
type PageView struct {
	Page string `json:"page"`
}

// Profile is a user's profile; records are keyed by user id.
type Profile struct {
	Region string `json:"region"`
}

// Window is the length of the counting windows; Grace how long late views are still counted.
const (
	Window = time.Minute
	Grace  = 10 * time.Second
)

// Topology counts views per region and Window, writing every update of a window's count to out.
func Topology(views, profiles, out string) *dsl.Builder {
	b := dsl.NewBuilder()
	pv := dsl.Source(b, views, serde.String(), serde.JSON[PageView]())
	users := dsl.TableSource(b, profiles, serde.String(), serde.JSON[*Profile](), dsl.Materialized("user-profiles"))
	regions := dsl.StreamTableJoin(pv, users, func(_ string, _ PageView, p *Profile) (string, error) {
		return p.Region, nil
	}).WithValueSerde(serde.String())
	byRegion := regions.
		GroupBy(func(_, region string) (string, error) { return region, nil }, dsl.Named("views-by-region")).
		WindowedBy(dsl.TumblingWindows(Window, Grace))
	dsl.WindowedCount(byRegion, dsl.Materialized("views-per-region")).ToStream().To(out)
	return b
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap servers")
	views := flag.String("views", "page-views", "input topic of page views keyed by user")
	profiles := flag.String("profiles", "user-profiles", "input topic of user profiles keyed by user")
	out := flag.String("out", "views-per-region", "output topic of counts per region and minute")
	commit := flag.Duration("commit-interval", 30*time.Second, "commit.interval.ms: how often counts are committed and written out")
	demoRun := flag.Bool("demo", false, "count sample page views and print the counts (on a broker of its own unless --bootstrap is given)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if *demoRun {
		err = runDemo(ctx, os.Stdout, demo.Given("bootstrap"), *views, *profiles, *out)
	} else {
		err = run(ctx, *bootstrap, *views, *profiles, *out, *commit)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "pageviews:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bootstrap, views, profiles, out string, commit time.Duration) error {
	topo, err := Topology(views, profiles, out).Build()
	if err != nil {
		return err
	}
	app, err := runtime.New(topo, runtime.ApplicationID("pageviews"), runtime.Bootstrap(bootstrap), runtime.CommitInterval(commit))
	if err != nil {
		return err
	}
	defer app.Close()
	return app.Run(ctx)
}

// runDemo counts sample page views against bootstrap ("": a broker of its own) and prints each
// count written as "region [window) count". The profiles go first, and the views only once the
// profiles table holds them: the runtime does not order records of different topics by time, and
// a view whose user has no profile yet is dropped by the inner join.
func runDemo(ctx context.Context, w io.Writer, bootstrap, views, profiles, out string) error {
	topo, err := Topology(views, profiles, out).Build()
	if err != nil {
		return err
	}
	var input, later []*kgo.Record
	for user, region := range map[string]string{"ann": "eu", "bob": "us", "cy": "us"} {
		v, err := serde.JSON[*Profile]().Serialize(&Profile{Region: region})
		if err != nil {
			return err
		}
		input = append(input, &kgo.Record{Topic: profiles, Key: []byte(user), Value: v})
	}
	minute := time.Now().Truncate(Window)
	for i, view := range []struct{ user, page string }{
		{"ann", "/"}, {"bob", "/pricing"}, {"ann", "/docs"}, {"cy", "/"}, {"dan", "/"}, // dan has no profile
	} {
		v, err := serde.JSON[PageView]().Serialize(PageView{Page: view.page})
		if err != nil {
			return err
		}
		later = append(later, &kgo.Record{Topic: views, Key: []byte(view.user), Value: v,
			Timestamp: minute.Add(time.Duration(i) * time.Second)})
	}
	windowed := dsl.TimeWindowedSerde(serde.String(), Window)
	return demo.Run(ctx, w, bootstrap, demo.Demo{
		ApplicationID: "pageviews-demo",
		Topology:      topo,
		Topics:        []string{views, profiles, out},
		Partitions:    2,
		Input:         input,
		Later:         later,
		Ready:         func(app *runtime.App) bool { return storeSize(app, "user-profiles") == len(input) },
		Output:        []string{out},
		Format: func(r *kgo.Record) string {
			k, err := windowed.Deserialize(r.Key)
			n, err2 := serde.Int64().Deserialize(r.Value)
			if err != nil || err2 != nil {
				return fmt.Sprintf("%x %x", r.Key, r.Value)
			}
			return fmt.Sprintf("%-3s [%s, %s) %d", k.Key, time.UnixMilli(k.Window.Start).Format(time.TimeOnly),
				time.UnixMilli(k.Window.End).Format(time.TimeOnly), n)
		},
	})
}

// storeSize is the number of entries of the key-value store name over the app's active tasks.
func storeSize(app *runtime.App, name string) int {
	stores, err := app.LocalStores(name)
	if err != nil {
		return -1
	}
	n := 0
	for _, st := range stores {
		st.Scan(nil, nil, func(_, _ []byte, _ int64) bool { n++; return true })
	}
	return n
}
