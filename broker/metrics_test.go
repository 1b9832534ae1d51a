package broker_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
)

func TestMetricsBytesAndRecordsPerTopic(t *testing.T) {
	b := brokertest.Start(t)
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "metered", 2, nil)

	const n, size = 200, 100
	// Uncompressed, so that the bytes in and out are at least the values' bytes.
	prod := newClient(t, b.Addr(), kgo.DefaultProduceTopic("metered"), kgo.ProducerBatchCompression(kgo.NoCompression()))
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Value: bytes.Repeat([]byte{byte(i)}, size)})
	}
	if err := prod.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cons := newClient(t, b.Addr(), kgo.ConsumeTopics("metered"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if got := len(consumeN(t, cons, n)); got != n {
		t.Fatalf("consumed %d records, want %d", got, n)
	}

	reg := b.Registry()
	if got := counter(t, reg, "seiche_broker_topic_messages_in_total", "topic", "metered"); got != n {
		t.Errorf("messages in = %v, want %d", got, n)
	}
	if got := counter(t, reg, "seiche_broker_topic_bytes_in_total", "topic", "metered"); got < n*size {
		t.Errorf("bytes in = %v, want at least the %d bytes of values", got, n*size)
	}
	// The consumer has every record, so every fetch that carried them has been counted.
	if got := counter(t, reg, "seiche_broker_topic_bytes_out_total", "topic", "metered"); got < n*size {
		t.Errorf("bytes out = %v, want at least the %d bytes of values", got, n*size)
	}
	if got := counter(t, reg, "seiche_broker_requests_total", "api", "Produce"); got < 1 {
		t.Errorf("Produce requests = %v, want at least 1", got)
	}
	if got := counter(t, reg, "seiche_broker_requests_total", "api", "Fetch"); got < 1 {
		t.Errorf("Fetch requests = %v, want at least 1", got)
	}
	if got := counter(t, reg, "seiche_broker_connections", "", ""); got < 1 {
		t.Errorf("open connections = %v, want at least 1", got)
	}

	// Deleting the topic deletes its series.
	if _, err := adm.DeleteTopics(testContext(t), "metered"); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 10*time.Second, func() error {
		if c := seriesCount(t, reg, "seiche_broker_topic_messages_in_total"); c != 0 {
			return fmt.Errorf("%d messages_in series after the topic was deleted", c)
		}
		return nil
	})
}

func TestMetricsRegistryOption(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := brokertest.Start(t, broker.MetricsRegistry(reg))
	if b.Registry() != reg {
		t.Fatal("Registry() is not the registry given by MetricsRegistry")
	}
	// A second open broker cannot register the same metrics in the same registry.
	if _, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(t.TempDir()), broker.MetricsRegistry(reg)); err == nil {
		t.Fatal("second broker on the same registry: no error")
	}
	// The failed New left the first broker's metrics registered.
	if c := seriesCount(t, reg, "seiche_broker_connections"); c != 1 {
		t.Fatalf("connections series = %d, want 1", c)
	}
}

// counter returns the value of the named metric's series with label=value (any series if label is empty).
func counter(t *testing.T, g prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				match = match || lp.GetName() == label && lp.GetValue() == value
			}
			if !match {
				continue
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}

// seriesCount returns the number of series of the named metric.
func seriesCount(t *testing.T, g prometheus.Gatherer, name string) int {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return len(mf.GetMetric())
		}
	}
	return 0
}
