// Command pageviews counts page views per region and minute: a stream of page views keyed by user
// is joined with a table of user profiles (stream-table join) to find each view's region, re-keyed
// by region, and counted in one-minute tumbling windows. Kafka Streams' PageViewRegionExample,
// written with the Seiche DSL.
//
//	go run ./examples/pageviews -bootstrap 127.0.0.1:9092
//
// The page-views and user-profiles topics must exist with the same number of partitions (the join
// is co-partitioned); the output topic's records are keyed by region and window (Kafka Streams'
// TimeWindowedSerde: the region then the window start) with the count as an 8-byte integer.
package main

import (
	"context"
	"flag"
	"log"
	"os/signal"
	"syscall"
	"time"

	"github.com/seichedb/seiche/dsl"
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
	}, dsl.WithValueSerde(serde.String()))
	byRegion := dsl.GroupBy(regions, func(_ string, region string) (string, error) { return region, nil },
		dsl.WithKeySerde(serde.String()), dsl.GroupedAs("views-by-region"))
	dsl.WindowedBy(byRegion, dsl.TumblingWindows(Window, Grace)).
		Count(dsl.Materialized("views-per-region")).
		ToStream().To(out)
	return b
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap servers")
	views := flag.String("views", "page-views", "input topic of page views keyed by user")
	profiles := flag.String("profiles", "user-profiles", "input topic of user profiles keyed by user")
	out := flag.String("out", "views-per-region", "output topic of counts per region and minute")
	flag.Parse()

	topo, err := Topology(*views, *profiles, *out).Build()
	if err != nil {
		log.Fatal(err)
	}
	app, err := runtime.New(topo, runtime.ApplicationID("pageviews"), runtime.Bootstrap(*bootstrap))
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
