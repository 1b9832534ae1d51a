package broker

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFetchVectoredMatchesKmsg checks that a Fetch response written as a vectored write carries exactly
// the bytes kmsg encodes, in every version Seiche serves: topics with record sets above and below the
// splice size, empty and null record sets, errors, and aborted transactions.
func TestFetchVectoredMatchesKmsg(t *testing.T) {
	big := func(n int, fill byte) []byte { return bytes.Repeat([]byte{fill}, n) }
	for v := int16(4); v <= 12; v++ {
		resp := kmsg.NewPtrFetchResponse()
		resp.Version = v
		resp.ThrottleMillis, resp.ErrorCode, resp.SessionID = 3, 0, 77
		for ti, name := range []string{"orders", "", "t-with-a-longer-name"} {
			rt := kmsg.NewFetchResponseTopic()
			rt.Topic = name
			for pi, batches := range [][]byte{big(spliceMin, 1), {1, 2, 3}, {}, nil, big(3*spliceMin+5, 2), big(spliceMin-1, 3)} {
				rp := kmsg.NewFetchResponseTopicPartition()
				rp.Partition = int32(pi)
				rp.ErrorCode = int16(ti)
				rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = 1000+int64(pi), 999, 5
				rp.RecordBatches = batches
				if pi == 1 {
					rp.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: 9, FirstOffset: 10}}
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		t.Run(fmt.Sprintf("v%d", v), func(t *testing.T) {
			if !vectorable(resp) {
				t.Fatal("not vectorable")
			}
			want := resp.AppendTo([]byte("head"))
			enc, splices := appendFetchVectored([]byte("head"), resp, nil)
			if len(splices) != 2*len(resp.Topics) {
				t.Errorf("%d splices, want %d", len(splices), 2*len(resp.Topics))
			}
			var got []byte
			for _, piece := range vectorize(nil, enc, splices) {
				got = append(got, piece...)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("vectored encoding differs from kmsg's: %d bytes, want %d", len(got), len(want))
			}
			// The response reads back with kmsg.
			var back kmsg.FetchResponse
			back.Version = v
			if err := back.ReadFrom(got[len("head"):]); err != nil {
				t.Fatal(err)
			}
			if n := len(back.Topics[2].Partitions[4].RecordBatches); n != 3*spliceMin+5 {
				t.Fatalf("read back %d bytes of batches", n)
			}
		})
	}
}

// TestFetchNotVectorable lists what the vectored encoding leaves to kmsg.
func TestFetchNotVectorable(t *testing.T) {
	for name, edit := range map[string]func(*kmsg.FetchResponse){
		"v13":            func(r *kmsg.FetchResponse) { r.Version = 13 },
		"brokers":        func(r *kmsg.FetchResponse) { r.Brokers = append(r.Brokers, kmsg.NewFetchResponseBroker()) },
		"current leader": func(r *kmsg.FetchResponse) { r.Topics[0].Partitions[0].CurrentLeader.LeaderID = 1 },
		"diverging":      func(r *kmsg.FetchResponse) { r.Topics[0].Partitions[0].DivergingEpoch.Epoch = 1 },
		"snapshot":       func(r *kmsg.FetchResponse) { r.Topics[0].Partitions[0].SnapshotID.Epoch = 1 },
	} {
		r := kmsg.NewPtrFetchResponse()
		r.Version = 12
		rt := kmsg.NewFetchResponseTopic()
		rt.Partitions = append(rt.Partitions, kmsg.NewFetchResponseTopicPartition())
		r.Topics = append(r.Topics, rt)
		if !vectorable(r) {
			t.Fatal("plain response not vectorable")
		}
		edit(r)
		if vectorable(r) {
			t.Errorf("%s: vectorable", name)
		}
	}
}

func TestBufferPool(t *testing.T) {
	for _, c := range []struct{ n, cap int }{{1, 4096}, {4096, 4096}, {4097, 8192}, {1 << 20, 1 << 20}, {1<<20 + 1, 2 << 20}, {16 << 20, 16 << 20}, {16<<20 + 1, 16<<20 + 1}} {
		b := getBuffer(c.n)
		if len(b) != c.n || cap(b) != c.cap {
			t.Errorf("getBuffer(%d): len %d cap %d, want cap %d", c.n, len(b), cap(b), c.cap)
		}
		putBuffer(b)
		if b := getBuffer(c.n); len(b) != c.n {
			t.Errorf("getBuffer(%d) after put: len %d", c.n, len(b))
		}
	}
}
