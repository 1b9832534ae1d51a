package broker

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metrics are the broker's Prometheus collectors, named after Kafka's BrokerTopicMetrics. The hot paths
// never look a series up by label: each topic's counters are resolved once, when the topic is opened or
// created, and held by its partitions; request counters are resolved per API key in New.
type metrics struct {
	reg         *prometheus.Registry
	bytesIn     *prometheus.CounterVec
	messagesIn  *prometheus.CounterVec
	bytesOut    *prometheus.CounterVec
	requests    *prometheus.CounterVec
	connections prometheus.GaugeFunc

	// byKey is the request counter of every registered API key; read-only after New.
	byKey map[int16]prometheus.Counter
}

// topicMetrics are one topic's counters, shared by its partitions.
type topicMetrics struct {
	bytesIn, messagesIn, bytesOut prometheus.Counter
}

func newMetrics(reg *prometheus.Registry, b *Broker) *metrics {
	m := &metrics{
		reg: reg,
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seiche_broker_topic_bytes_in_total",
			Help: "Bytes of record batches appended by Produce, as sent by the client."}, []string{"topic"}),
		messagesIn: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seiche_broker_topic_messages_in_total",
			Help: "Records appended by Produce."}, []string{"topic"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seiche_broker_topic_bytes_out_total",
			Help: "Bytes of record batches returned by Fetch."}, []string{"topic"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "seiche_broker_requests_total",
			Help: "Requests handled, by Kafka API."}, []string{"api"}),
		connections: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "seiche_broker_connections",
			Help: "Open client connections."}, func() float64 {
			b.conns.Lock()
			defer b.conns.Unlock()
			return float64(len(b.conns.m))
		}),
		byKey: make(map[int16]prometheus.Counter, len(handlers)),
	}
	for key := range handlers {
		m.byKey[key] = m.requests.WithLabelValues(kmsg.NameForKey(key))
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.bytesIn, m.messagesIn, m.bytesOut, m.requests, m.connections}
}

// register adds the collectors to the registry; on failure it registers none.
func (m *metrics) register() error {
	for i, c := range m.collectors() {
		if err := m.reg.Register(c); err != nil {
			for _, done := range m.collectors()[:i] {
				m.reg.Unregister(done)
			}
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return fmt.Errorf("broker: metrics registry already holds another broker's metrics: %w", err)
			}
			return fmt.Errorf("broker: register metrics: %w", err)
		}
	}
	return nil
}

// unregister removes the collectors, so that a broker reopened with the same registry can register anew.
func (m *metrics) unregister() {
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}

// topic returns the counters of the named topic, creating its series.
func (m *metrics) topic(name string) *topicMetrics {
	return &topicMetrics{
		bytesIn:    m.bytesIn.WithLabelValues(name),
		messagesIn: m.messagesIn.WithLabelValues(name),
		bytesOut:   m.bytesOut.WithLabelValues(name),
	}
}

// forgetTopic deletes the topic's series. A request still holding the old topic may add to the deleted
// counters; that is not exported.
func (m *metrics) forgetTopic(name string) {
	m.bytesIn.DeleteLabelValues(name)
	m.messagesIn.DeleteLabelValues(name)
	m.bytesOut.DeleteLabelValues(name)
}

// Registry returns the registry holding the broker's metrics (set by MetricsRegistry, or the broker's own).
// Serve it with promhttp, or add it to another handler's gatherers.
func (b *Broker) Registry() *prometheus.Registry { return b.metrics.reg }
