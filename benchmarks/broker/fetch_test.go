package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// BenchmarkFetch measures what it costs a broker to serve Fetch requests for data it already holds, with
// a client that costs almost nothing: a raw connection sending a pre-encoded sessionless Fetch (v12, the
// version franz-go sends Seiche) for every partition of a topic, and reading the response into a reused
// buffer without decoding it. Both brokers get the same topic, filled by the benchmark's producer, and the
// same requests, so the figures compare the brokers' fetch paths alone:
//
//   - allocs/op and B/op count every allocation in the process during a fetch; the client allocates
//     nothing, so they are the broker's;
//   - cpu-ns/op is the process's user and system CPU time per fetch (getrusage), which unlike ns/op does
//     not grow when other processes take the CPUs;
//   - resp-KiB/op is the response size (whole batches up to 1 MiB per partition, so it depends a little
//     on how the producer batched), and MB/s is response bytes per wall-clock second.
//
// Each fetch asks for up to 1 MiB per partition (franz-go's default), at offsets that cycle through the
// topic so that no two consecutive fetches read the same bytes.
//
//	cd benchmarks && go test ./broker -run '^$' -bench Fetch -benchmem -count 5
func BenchmarkFetch(b *testing.B) {
	for _, parts := range []int{1, 8} {
		for _, name := range []string{targetSeiche, targetKfake} {
			b.Run(fmt.Sprintf("%s/partitions=%d", name, parts), func(b *testing.B) {
				benchFetch(b, name, parts)
			})
		}
	}
}

const (
	fetchBenchRecords      = 40_000 // per partition: about 4.5 MB of batches, several fetches' worth
	fetchBenchPartitionMax = 1 << 20
)

func benchFetch(b *testing.B, name string, partitions int) {
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
	topic := "fetch-bench"
	if err := createTopic(ctx, t.addr, topic, partitions); err != nil {
		b.Fatal(err)
	}
	// The benchmark's producer, with each partition getting the same number of records.
	cfg := config{valueBytes: 100, linger: time.Millisecond}
	cl, err := kgo.NewClient(append(producerOpts(cfg, t.addr, topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
	if err != nil {
		b.Fatal(err)
	}
	p := &producer{cl: cl, src: newRecordSource(cfg.valueBytes)}
	for i := range fetchBenchRecords * partitions {
		r := p.src.next(uint64(i), 0)
		r.Partition = int32(i % partitions)
		cl.Produce(ctx, r, p.promise)
	}
	err = p.flush(ctx)
	cl.Close()
	if err != nil {
		b.Fatal(err)
	}

	nc, err := net.Dial("tcp", t.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	// Offsets cycle through [0, fetchBenchRecords/2) in steps of about a fetch's worth of records (a record
	// takes about 110 bytes in a batch), so that every fetch returns about 1 MiB per partition.
	const step = fetchBenchPartitionMax / 120
	var frames [][]byte
	for off := int64(0); off < fetchBenchRecords/2; off += step {
		frames = append(frames, fetchFrame(topic, partitions, off))
	}
	var resp []byte
	fetch := func(frame []byte) int {
		if _, err := nc.Write(frame); err != nil {
			b.Fatal(err)
		}
		var size [4]byte
		if _, err := io.ReadFull(nc, size[:]); err != nil {
			b.Fatal(err)
		}
		n := int(binary.BigEndian.Uint32(size[:]))
		if cap(resp) < n {
			resp = make([]byte, n)
		}
		if _, err := io.ReadFull(nc, resp[:n]); err != nil {
			b.Fatal(err)
		}
		return 4 + n
	}
	// Check once that the response is what we asked for: every partition with data and no error.
	fetch(frames[0])
	var check kmsg.FetchResponse
	check.Version = 12
	if err := check.ReadFrom(resp[4+1:]); err != nil { // correlation ID, empty header tags
		b.Fatal(err)
	}
	if check.ErrorCode != 0 || len(check.Topics) != 1 || len(check.Topics[0].Partitions) != partitions {
		b.Fatalf("unexpected fetch response: error %d, %d topics", check.ErrorCode, len(check.Topics))
	}
	for _, rp := range check.Topics[0].Partitions {
		if rp.ErrorCode != 0 || len(rp.RecordBatches) == 0 {
			b.Fatalf("partition %d: error %d, %d bytes", rp.Partition, rp.ErrorCode, len(rp.RecordBatches))
		}
	}

	total := 0
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		total += fetch(frames[i%len(frames)])
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(total)/float64(b.N)/1024, "resp-KiB/op")
	b.SetBytes(int64(total / b.N))
}

// fetchFrame encodes a size-prefixed sessionless Fetch v12 for partitions [0, partitions) of topic from
// offset, as franz-go would send it (read uncommitted, 50 MiB in all, 1 MiB per partition).
func fetchFrame(topic string, partitions int, offset int64) []byte {
	req := kmsg.NewPtrFetchRequest()
	req.Version = 12
	req.ReplicaID = -1
	req.MaxWaitMillis = 5000
	req.MinBytes = 1
	req.MaxBytes = 50 << 20
	req.SessionID, req.SessionEpoch = 0, -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	for p := range partitions {
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = int32(p)
		rp.FetchOffset = offset
		rp.PartitionMaxBytes = fetchBenchPartitionMax
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	out := []byte{0, 0, 0, 0}
	out = binary.BigEndian.AppendUint16(out, uint16(req.Key()))
	out = binary.BigEndian.AppendUint16(out, uint16(req.Version))
	out = binary.BigEndian.AppendUint32(out, 1) // correlation ID
	out = binary.BigEndian.AppendUint16(out, 5)
	out = append(out, "bench"...)
	out = append(out, 0) // request header v2: empty tagged fields
	out = req.AppendTo(out)
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out
}
