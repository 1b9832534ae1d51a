// Command enrich is a stateless Seiche streams application: it reads page views keyed by user from
// "page-views", drops bots, enriches each view (site, section, device class, event time from the
// view itself) and re-keys it by site, writing "views-by-site" so that everything about one site is
// in one partition for whoever aggregates it next.
//
//	go run ./examples/enrich --demo
//
// --demo starts a broker in the process, produces a few sample page views and prints what the
// application writes. Against a running server (`go run . server`), with the output watched by
// `go run . consume views-by-site --from-beginning --format kv`:
//
//	go run ./examples/enrich --bootstrap 127.0.0.1:9092 --demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/examples/internal/demo"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// PageView is a raw page view, keyed by user id.
type PageView struct {
	User      string `json:"user"`
	URL       string `json:"url"`
	UserAgent string `json:"user_agent"`
	Time      int64  `json:"time"` // ms since the epoch, when the page was viewed
}

// EnrichedView is a page view with what the pipeline derived from it, keyed by site.
type EnrichedView struct {
	User    string `json:"user"`
	Site    string `json:"site"`
	Section string `json:"section"`
	Path    string `json:"path"`
	Device  string `json:"device"` // "mobile", "tablet" or "desktop"
	Time    int64  `json:"time"`
}

// Topics the application reads and writes.
const (
	ViewsTopic  = "page-views"
	OutputTopic = "views-by-site"
)

// Topology returns the application's topology.
func Topology() *dsl.Builder {
	b := dsl.NewBuilder()
	views := dsl.Source(b, ViewsTopic, serde.String(), serde.JSON[PageView](),
		dsl.EventTime(func(_ string, v PageView) (int64, error) { return v.Time, nil }))
	humans := views.FilterNot(func(_ string, v PageView) (bool, error) { return device(v.UserAgent) == "bot", nil })
	enriched := dsl.MapValues(humans, enrich).WithValueSerde(serde.JSON[EnrichedView]())
	enriched.
		SelectKey(func(_ string, v EnrichedView) (string, error) { return v.Site, nil }).
		To(OutputTopic)
	return b
}

// enrich derives the site, section and device of a view. A URL that does not parse is an error:
// the runtime logs the view to the processing log and goes on.
func enrich(user string, v PageView) (EnrichedView, error) {
	u, err := url.Parse(v.URL)
	if err != nil || u.Host == "" {
		return EnrichedView{}, fmt.Errorf("view by %s: bad url %q", user, v.URL)
	}
	section := "home"
	if parts := strings.Split(strings.Trim(u.Path, "/"), "/"); parts[0] != "" {
		section = parts[0]
	}
	return EnrichedView{
		User:    user,
		Site:    strings.TrimPrefix(u.Hostname(), "www."),
		Section: section,
		Path:    u.Path,
		Device:  device(v.UserAgent),
		Time:    v.Time,
	}, nil
}

func device(userAgent string) string {
	ua := strings.ToLower(userAgent)
	switch {
	case strings.Contains(ua, "bot") || strings.Contains(ua, "crawler") || strings.Contains(ua, "spider"):
		return "bot"
	case strings.Contains(ua, "ipad") || strings.Contains(ua, "tablet"):
		return "tablet"
	case strings.Contains(ua, "mobile") || strings.Contains(ua, "iphone") || strings.Contains(ua, "android"):
		return "mobile"
	}
	return "desktop"
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap address")
	appID := flag.String("application-id", "enrich", "application id (consumer group, internal topic prefix)")
	demoRun := flag.Bool("demo", false, "produce sample page views and print the output (on a broker of its own unless --bootstrap is given)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *demoRun {
		err = runDemo(ctx, os.Stdout, demo.Given("bootstrap"))
	} else {
		err = run(ctx, *bootstrap, *appID)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "enrich:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bootstrap, appID string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, 3, -1, nil, ViewsTopic, OutputTopic)
	if err != nil {
		return err
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
	}
	topo, err := Topology().Build()
	if err != nil {
		return err
	}
	fmt.Print(topo.Describe())
	app, err := runtime.New(topo, runtime.ApplicationID(appID), runtime.Bootstrap(bootstrap),
		runtime.CommitInterval(time.Second), runtime.Logger(slog.Default()))
	if err != nil {
		return err
	}
	defer app.Close()
	slog.Info("enrich: running; Ctrl-C to stop", "bootstrap", bootstrap)
	return app.Run(ctx)
}

// runDemo runs the application on sample page views against bootstrap ("": a broker of its own)
// and prints each enriched view as "site value".
func runDemo(ctx context.Context, w io.Writer, bootstrap string) error {
	topo, err := Topology().Build()
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	var input []*kgo.Record
	for _, v := range []PageView{
		{User: "ann", URL: "https://www.example.com/docs/intro", UserAgent: "Mozilla/5.0 (iPhone) Mobile", Time: now},
		{User: "bob", URL: "https://shop.example.org/cart", UserAgent: "Mozilla/5.0 (X11; Linux x86_64)", Time: now + 1},
		{User: "crawler-1", URL: "https://www.example.com/", UserAgent: "Googlebot/2.1", Time: now + 2},
	} {
		b, err := serde.JSON[PageView]().Serialize(v)
		if err != nil {
			return err
		}
		input = append(input, &kgo.Record{Topic: ViewsTopic, Key: []byte(v.User), Value: b})
	}
	return demo.Run(ctx, w, bootstrap, demo.Demo{
		ApplicationID: "enrich-demo",
		Topology:      topo,
		Topics:        []string{ViewsTopic, OutputTopic},
		Partitions:    3,
		Input:         input,
		Output:        []string{OutputTopic},
		Format:        func(r *kgo.Record) string { return fmt.Sprintf("%-16s %s", r.Key, r.Value) },
	})
}
