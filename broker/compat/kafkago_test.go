package compat

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
)

// TestKafkaGo runs the matrix with segmentio/kafka-go, which pins old request versions whatever the
// broker offers (seen: Fetch v10, ListOffsets v1, JoinGroup v2, SyncGroup, Heartbeat and LeaveGroup v0,
// OffsetCommit v2, OffsetFetch v1) and has no idempotent producer.
func TestKafkaGo(t *testing.T) {
	t.Parallel()
	runMatrix(t, kafkaGo{})
}

type kafkaGo struct{}

func (kafkaGo) idempotent() bool { return false }

func (kafkaGo) produce(ctx context.Context, t *testing.T, addr, topic string, values []string) error {
	w := &kafka.Writer{
		Addr:         kafka.TCP(addr),
		Topic:        topic,
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 10 * time.Millisecond,
	}
	msgs := make([]kafka.Message, len(values))
	for i, v := range values {
		msgs[i] = kafka.Message{Key: []byte(v), Value: []byte(v)}
	}
	err := w.WriteMessages(ctx, msgs...)
	return errors.Join(err, w.Close())
}

func (kafkaGo) readerConfig(addr, topic string) kafka.ReaderConfig {
	return kafka.ReaderConfig{
		Brokers:           []string{addr},
		Topic:             topic,
		MaxWait:           200 * time.Millisecond,
		StartOffset:       kafka.FirstOffset,
		HeartbeatInterval: 500 * time.Millisecond,
	}
}

func (c kafkaGo) consume(ctx context.Context, t *testing.T, addr, topic string, n int) ([]rec, error) {
	// A kafka-go Reader without a group reads one partition.
	var r recorder
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, partitions)
	for p := range partitions {
		cfg := c.readerConfig(addr, topic)
		cfg.Partition = p
		rd := kafka.NewReader(cfg)
		defer rd.Close()
		go func() {
			for {
				m, err := rd.ReadMessage(ctx)
				if err != nil {
					if ctx.Err() == nil {
						errc <- fmt.Errorf("partition %d: %w", p, err)
					}
					return
				}
				r.add(rec{int32(m.Partition), m.Offset, string(m.Value)})
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

func (c kafkaGo) consumeCommit(ctx context.Context, t *testing.T, addr, topic, group string, n int) ([]rec, error) {
	cfg := c.readerConfig(addr, topic)
	cfg.GroupID = group
	rd := kafka.NewReader(cfg)
	var got []rec
	var msgs []kafka.Message
	var err error
	for len(got) < n {
		var m kafka.Message
		if m, err = rd.FetchMessage(ctx); err != nil {
			err = fmt.Errorf("read %d of %d records: %w", len(got), n, err)
			break
		}
		got = append(got, rec{int32(m.Partition), m.Offset, string(m.Value)})
		msgs = append(msgs, m)
	}
	if err == nil {
		if err = rd.CommitMessages(ctx, msgs...); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	}
	return got, errors.Join(err, rd.Close())
}

func (c kafkaGo) join(ctx context.Context, t *testing.T, addr, topic, group string) (member, error) {
	cfg := c.readerConfig(addr, topic)
	cfg.GroupID = group
	cfg.CommitInterval = 200 * time.Millisecond
	rd := kafka.NewReader(cfg)
	m := &goMember{recorder: &recorder{}}
	ctx, m.cancel = context.WithCancel(ctx)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			msg, err := rd.ReadMessage(ctx)
			if err != nil {
				if ctx.Err() == nil {
					m.fail(err)
				}
				return
			}
			m.add(rec{int32(msg.Partition), msg.Offset, string(msg.Value)})
		}
	}()
	m.close = func() error {
		m.wg.Wait()
		return errors.Join(m.failed(), rd.Close())
	}
	return m, nil
}
