package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkProduce measures what it costs a broker to take Produce requests, with a client that costs
// almost nothing: a raw connection sending pre-encoded idempotent Produce requests (v11, the version
// franz-go sends Seiche, acks=all) and reading each response into a reused buffer. Every request carries
// produceBenchRecords records of 100-byte values without keys, as the benchmark's producer sends them,
// split evenly into one batch per partition; one request is in flight at a time, so with Seiche every
// request waits for its own fsync.
//
// Between requests, with the timer stopped, the client writes the next sequence numbers into the batches
// and recomputes their CRCs, and checks the previous response. So:
//
//   - allocs/op and B/op are the broker's;
//
//   - cpu-ns/op is the process's user and system CPU time (getrusage) while a request was out, which
//     unlike ns/op does not grow when other processes take the CPUs; cpu-ns/record divides it by the
//     records in a request.
//
//     cd benchmarks && go test ./broker -run '^$' -bench Produce -benchmem -benchtime 300x -count 5
func BenchmarkProduce(b *testing.B) {
	for _, parts := range []int{1, 8} {
		for _, name := range []string{targetSeiche, targetKfake} {
			b.Run(fmt.Sprintf("%s/partitions=%d", name, parts), func(b *testing.B) {
				benchProduce(b, name, parts)
			})
		}
	}
}

// produceBenchRecords is about what franz-go puts in one Produce request in the benchmark's produce
// phase with one partition (about 780 KiB).
const produceBenchRecords = 7000

func benchProduce(b *testing.B, name string, partitions int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t, err := start(ctx, name, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := t.close(); err != nil {
			b.Error(err)
		}
	}()
	topic := "produce-bench"
	if err := createTopic(ctx, t.addr, topic, partitions); err != nil {
		b.Fatal(err)
	}
	nc, err := net.Dial("tcp", t.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	rc := &rawConn{nc: nc}

	initReq := kmsg.NewPtrInitProducerIDRequest()
	initReq.Version = 4
	initReq.TransactionTimeoutMillis = 60000
	initReq.ProducerID, initReq.ProducerEpoch = -1, -1
	initResp := kmsg.NewPtrInitProducerIDResponse()
	initResp.Version = initReq.Version
	if err := rc.roundTrip(initReq, initResp); err != nil {
		b.Fatal(err)
	}
	if initResp.ErrorCode != 0 {
		b.Fatalf("InitProducerID: error %d", initResp.ErrorCode)
	}

	perBatch := produceBenchRecords / partitions
	req := kmsg.NewPtrProduceRequest()
	req.Version = 11
	req.Acks = -1
	req.TimeoutMillis = 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition = int32(p)
		rp.Records = benchBatch(initResp.ProducerID, initResp.ProducerEpoch, perBatch, byte(p))
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	frame := rc.frame(req)
	// Where each partition's batch lies in the frame, to patch its sequence number and CRC in place.
	var batches [][]byte
	for _, rp := range rt.Partitions {
		i := bytes.Index(frame, rp.Records)
		if i < 0 {
			b.Fatal("batch not found in the encoded request")
		}
		batches = append(batches, frame[i:i+len(rp.Records)])
	}
	resp := kmsg.NewPtrProduceResponse()
	resp.Version = req.Version
	seq := int32(0)
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	next := func() {
		for _, batch := range batches {
			binary.BigEndian.PutUint32(batch[53:], uint32(seq))
			binary.BigEndian.PutUint32(batch[17:], crc32.Checksum(batch[21:], castagnoli))
		}
		seq += int32(perBatch)
	}
	check := func(body []byte) {
		resp.Default()
		if err := resp.ReadFrom(body); err != nil {
			b.Fatal(err)
		}
		for _, st := range resp.Topics {
			for _, sp := range st.Partitions {
				if sp.ErrorCode != 0 {
					b.Fatalf("partition %d: error %d", sp.Partition, sp.ErrorCode)
				}
			}
		}
	}
	next()
	body, err := rc.send(frame) // the first request opens the segment files
	if err != nil {
		b.Fatal(err)
	}
	check(body)

	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		next()
		b.StartTimer()
		cpu0 := cpuTime()
		body, err := rc.send(frame)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		check(body)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(cpu)/float64(b.N)/float64(perBatch*partitions), "cpu-ns/record")
	b.SetBytes(int64(len(frame)))
}

// benchBatch encodes an uncompressed idempotent RecordBatch v2 of n records with 100-byte values and no
// keys, sequence 0; fill goes into the values so that different batches differ.
func benchBatch(producerID int64, epoch int16, n int, fill byte) []byte {
	value := bytes.Repeat([]byte{fill}, 100)
	var recs []byte
	for i := range n {
		var body []byte
		body = append(body, 0)              // attributes
		body = binary.AppendVarint(body, 0) // timestamp delta
		body = binary.AppendVarint(body, int64(i))
		body = binary.AppendVarint(body, -1) // no key
		body = binary.AppendVarint(body, int64(len(value)))
		body = append(body, value...)
		body = binary.AppendVarint(body, 0) // no headers
		recs = binary.AppendVarint(recs, int64(len(body)))
		recs = append(recs, body...)
	}
	now := time.Now().UnixMilli()
	rb := kmsg.RecordBatch{
		Length:          int32(49 + len(recs)),
		Magic:           2,
		LastOffsetDelta: int32(n - 1),
		FirstTimestamp:  now,
		MaxTimestamp:    now,
		ProducerID:      producerID,
		ProducerEpoch:   epoch,
		NumRecords:      int32(n),
		Records:         recs,
	}
	out := rb.AppendTo(nil)
	return out // the caller sets the sequence number and the CRC
}

// rawConn speaks the Kafka protocol over a connection with one request in flight, without a client.
type rawConn struct {
	nc   net.Conn
	corr int32
	buf  []byte
}

// frame encodes req with its size prefix and request header.
func (c *rawConn) frame(req kmsg.Request) []byte {
	c.corr++
	out := []byte{0, 0, 0, 0}
	out = binary.BigEndian.AppendUint16(out, uint16(req.Key()))
	out = binary.BigEndian.AppendUint16(out, uint16(req.GetVersion()))
	out = binary.BigEndian.AppendUint32(out, uint32(c.corr))
	out = binary.BigEndian.AppendUint16(out, 5)
	out = append(out, "bench"...)
	if req.IsFlexible() {
		out = append(out, 0) // request header v2: empty tagged fields
	}
	out = req.AppendTo(out)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}

// send writes a frame and returns the body of its response (after the correlation ID and, for flexible
// responses, the empty header tags), valid until the next send.
func (c *rawConn) send(frame []byte) ([]byte, error) {
	if _, err := c.nc.Write(frame); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(c.nc, size[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(size[:]))
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	if _, err := io.ReadFull(c.nc, c.buf[:n]); err != nil {
		return nil, err
	}
	if n < 5 {
		return nil, fmt.Errorf("response of %d bytes", n)
	}
	return c.buf[5:n], nil // correlation ID and empty header tags: every request sent here is flexible
}

func (c *rawConn) roundTrip(req kmsg.Request, resp kmsg.Response) error {
	body, err := c.send(c.frame(req))
	if err != nil {
		return err
	}
	return resp.ReadFrom(body)
}
