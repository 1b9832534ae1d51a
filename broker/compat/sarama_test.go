package compat

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// TestSarama runs the matrix with IBM/sarama, which picks request versions from the Kafka version it
// is configured for rather than from ApiVersions: once with its default (2.8) and once as a 3.6 client.
func TestSarama(t *testing.T) {
	t.Parallel()
	for _, v := range []sarama.KafkaVersion{sarama.DefaultVersion, sarama.V3_6_0_0} {
		t.Run("kafka-"+v.String(), func(t *testing.T) { runMatrix(t, saramaClient{v}) })
	}
}

type saramaClient struct{ version sarama.KafkaVersion }

func (c saramaClient) config() *sarama.Config {
	cfg := sarama.NewConfig()
	cfg.Version = c.version
	cfg.ClientID = "seiche-compat"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Idempotent = true
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 5
	cfg.Net.MaxOpenRequests = 1 // required by the idempotent producer
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Group.Heartbeat.Interval = 500 * time.Millisecond
	cfg.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	return cfg
}

func (saramaClient) idempotent() bool { return true }

func (c saramaClient) produce(ctx context.Context, t *testing.T, addr, topic string, values []string) error {
	p, err := sarama.NewSyncProducer([]string{addr}, c.config())
	if err != nil {
		return err
	}
	msgs := make([]*sarama.ProducerMessage, len(values))
	for i, v := range values {
		msgs[i] = &sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder(v), Value: sarama.StringEncoder(v)}
	}
	err = p.SendMessages(msgs)
	return errors.Join(err, p.Close())
}

func (c saramaClient) consume(ctx context.Context, t *testing.T, addr, topic string, n int) ([]rec, error) {
	cons, err := sarama.NewConsumer([]string{addr}, c.config())
	if err != nil {
		return nil, err
	}
	defer cons.Close()
	ps, err := cons.Partitions(topic)
	if err != nil {
		return nil, fmt.Errorf("partitions: %w", err)
	}
	var r recorder
	errc := make(chan error, len(ps))
	for _, p := range ps {
		pc, err := cons.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			return nil, fmt.Errorf("consume partition %d: %w", p, err)
		}
		defer pc.Close()
		go func() {
			for {
				select {
				case m, ok := <-pc.Messages():
					if !ok {
						return
					}
					r.add(rec{m.Partition, m.Offset, string(m.Value)})
				case err, ok := <-pc.Errors():
					if ok {
						errc <- err
					}
					return
				}
			}
		}()
	}
	for r.len() < n {
		select {
		case err := <-errc:
			return r.seen(), err
		case <-ctx.Done():
			return r.seen(), fmt.Errorf("read %d of %d records: %w", r.len(), n, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return r.seen(), nil
}

func (c saramaClient) consumeCommit(ctx context.Context, t *testing.T, addr, topic, group string, n int) ([]rec, error) {
	cfg := c.config()
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	g, err := sarama.NewConsumerGroup([]string{addr}, group, cfg)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h := &saramaHandler{limit: n, full: cancel}
	// Consume returns at every rebalance; a consumer calls it again to rejoin.
	for err == nil && cctx.Err() == nil {
		err = g.Consume(cctx, []string{topic}, h)
	}
	if h.len() >= n && errors.Is(err, context.Canceled) {
		err = nil
	}
	if h.len() < n {
		err = errors.Join(err, fmt.Errorf("read %d of %d records: %v", h.len(), n, ctx.Err()))
	}
	err = errors.Join(err, g.Close())
	return h.seen(), err
}

func (c saramaClient) join(ctx context.Context, t *testing.T, addr, topic, group string) (member, error) {
	g, err := sarama.NewConsumerGroup([]string{addr}, group, c.config())
	if err != nil {
		return nil, err
	}
	h := &saramaHandler{}
	m := &goMember{recorder: &h.recorder}
	ctx, m.cancel = context.WithCancel(ctx)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		// Consume returns at every rebalance; a consumer calls it again to rejoin.
		for ctx.Err() == nil {
			if err := g.Consume(ctx, []string{topic}, h); err != nil && ctx.Err() == nil {
				m.fail(err)
				return
			}
		}
	}()
	m.close = func() error {
		m.wg.Wait()
		return errors.Join(m.failed(), g.Close())
	}
	return m, nil
}

// saramaHandler records every message of its claims and marks it consumed. With a limit, it takes only
// limit messages, then commits and calls full.
type saramaHandler struct {
	recorder
	limit int
	full  func()
	mu    sync.Mutex
	taken int
}

func (*saramaHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (*saramaHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *saramaHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		h.mu.Lock()
		if h.limit > 0 && h.taken >= h.limit {
			h.mu.Unlock()
			continue
		}
		h.taken++
		h.add(rec{m.Partition, m.Offset, string(m.Value)})
		sess.MarkMessage(m, "")
		reached := h.limit > 0 && h.taken == h.limit
		h.mu.Unlock()
		if reached {
			sess.Commit()
			h.full()
		}
	}
	return nil
}
