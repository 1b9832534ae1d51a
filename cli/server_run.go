package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/engine"
)

type serverParams struct {
	brokerOpts []broker.Opt
	bootstrap  string
	httpListen string
	serviceID  string
	// advertised is the URL other servers reach this one's REST API at (ksql.advertised.listener).
	advertised string
	dataDir    string
	props      map[string]string
}

// runServer runs the integrated broker (unless p.bootstrap names another cluster), the SQL engine and
// its REST API until ctx is done; then it stops them in reverse order: the API, the engine's queries
// (committing), the broker (flushing).
func runServer(ctx context.Context, logger *slog.Logger, p serverParams) error {
	start := time.Now()
	bctx, stopBroker := context.WithCancel(context.Background())
	defer stopBroker()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	bootstrap := strings.Split(p.bootstrap, ",")
	clusterID := ""
	var b *broker.Broker // nil when the server runs against another cluster
	if p.bootstrap == "" {
		// The engine's queries join consumer groups one by one: Kafka's initial rebalance delay would
		// hold each back 3s.
		opts := append([]broker.Opt{broker.GroupInitialRebalanceDelay(0)}, p.brokerOpts...)
		var err error
		if b, err = broker.New(opts...); err != nil {
			return err
		}
		bootstrap = []string{b.Addr()}
		clusterID = b.ClusterID()
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := b.Run(bctx)
			logger.Info("broker stopped", "uptime", time.Since(start).Round(time.Millisecond))
			if err != nil {
				errs <- fmt.Errorf("broker: %w", err)
			}
		}()
	}
	if p.httpListen == "" {
		<-ctx.Done()
		stopBroker()
		wg.Wait()
		return firstErr(errs)
	}
	ln, err := net.Listen("tcp", p.httpListen)
	if err != nil {
		stopBroker()
		wg.Wait()
		return fmt.Errorf("REST API: %w", err)
	}
	advertised, err := advertisedURL(p, ln.Addr())
	if err != nil {
		ln.Close()
		stopBroker()
		wg.Wait()
		return err
	}
	e, err := engine.New(engine.Bootstrap(bootstrap...), engine.ServiceID(p.serviceID), engine.DataDir(p.dataDir),
		engine.Logger(logger), engine.Properties(p.props), engine.AdvertisedURL(advertised))
	if err != nil {
		ln.Close()
		stopBroker()
		wg.Wait()
		return err
	}
	api := engine.NewAPI(e)
	api.ClusterID = clusterID
	if b != nil {
		api.Gatherers = append(api.Gatherers, b.Registry())
	}
	logger.Info("REST API listening", "addr", ln.Addr().String(), "advertised", advertised, "service_id", p.serviceID)
	ectx, stopEngine := context.WithCancel(context.Background())
	var ewg sync.WaitGroup
	ewg.Add(2)
	go func() {
		defer ewg.Done()
		if err := e.Run(ectx); err != nil {
			errs <- fmt.Errorf("engine: %w", err)
			stopEngine()
		}
	}()
	go func() {
		defer ewg.Done()
		if err := api.Serve(ectx, ln); err != nil {
			errs <- fmt.Errorf("REST API: %w", err)
		}
	}()
	select {
	case <-ctx.Done():
	case <-ectx.Done():
	}
	stopEngine()
	ewg.Wait()
	_ = e.Close()
	stopBroker()
	wg.Wait()
	return firstErr(errs)
}

func firstErr(errs chan error) error {
	var all []error
	for {
		select {
		case err := <-errs:
			all = append(all, err)
		default:
			return errors.Join(all...)
		}
	}
}

// advertisedURL is the URL the other servers of the service reach this one at: --http-advertised-listener,
// else ksql.advertised.listener, else the address the REST API listens on (this host's name when it
// listens on every interface).
func advertisedURL(p serverParams, addr net.Addr) (string, error) {
	u := p.advertised
	if u == "" {
		u = p.props["ksql.advertised.listener"]
	}
	if u != "" {
		if !strings.Contains(u, "://") {
			u = "http://" + u
		}
		pu, err := url.Parse(u)
		if err != nil || pu.Host == "" || pu.Port() == "" {
			return "", fmt.Errorf("advertised listener %q: want http://host:port", u)
		}
		return strings.TrimSuffix(u, "/"), nil
	}
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		if host, err = os.Hostname(); err != nil {
			return "", fmt.Errorf("the REST API listens on every interface and this host has no name (%w): set --http-advertised-listener", err)
		}
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
