package broker

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// FuzzRequest feeds arbitrary request frames (header and body) to the request decoder and handlers of a
// real broker. Whatever the bytes, handling must not panic: it either answers or reports an error that
// closes the connection. Run it with: go test ./broker -run '^$' -fuzz FuzzRequest
func FuzzRequest(f *testing.F) {
	for _, req := range []kmsg.Request{
		kmsg.NewPtrApiVersionsRequest(),
		kmsg.NewPtrMetadataRequest(),
		&kmsg.ProduceRequest{Version: 9, Acks: -1, TimeoutMillis: 100, Topics: []kmsg.ProduceRequestTopic{{Topic: "t", Partitions: []kmsg.ProduceRequestTopicPartition{{Records: []byte{0, 0, 0, 0}}}}}},
		&kmsg.FetchRequest{Version: 11, MaxWaitMillis: 10, Topics: []kmsg.FetchRequestTopic{{Topic: "t", Partitions: []kmsg.FetchRequestTopicPartition{{PartitionMaxBytes: 100}}}}},
		&kmsg.CreateTopicsRequest{Version: 5, Topics: []kmsg.CreateTopicsRequestTopic{{Topic: "t", NumPartitions: 1, ReplicationFactor: 1}}},
		&kmsg.JoinGroupRequest{Version: 5, Group: "g", SessionTimeoutMillis: 6000, RebalanceTimeoutMillis: 50, ProtocolType: "consumer", Protocols: []kmsg.JoinGroupRequestProtocol{{Name: "range"}}},
		&kmsg.OffsetCommitRequest{Version: 2, Group: "g", Generation: -1, Topics: []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Offset: 1}}}}},
		&kmsg.ListOffsetsRequest{Version: 4, Topics: []kmsg.ListOffsetsRequestTopic{{Topic: "t", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Timestamp: -1}}}}},
		&kmsg.DescribeConfigsRequest{Version: 1, Resources: []kmsg.DescribeConfigsRequestResource{{ResourceType: kmsg.ConfigResourceTypeTopic, ResourceName: "t"}}},
	} {
		f.Add(frameBody(req))
	}
	b, err := New(ListenAddr("127.0.0.1:0"), DataDir(f.TempDir()), Logger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		GroupInitialRebalanceDelay(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { b.Close() })
	f.Fuzz(func(t *testing.T, body []byte) {
		client, server := net.Pipe()
		defer client.Close()
		defer server.Close()
		c := newConn(b, server)
		c.ctx, c.cancel = context.WithTimeout(b.ctx, 200*time.Millisecond)
		defer c.cancel()
		p, err := c.handle(body)
		if err != nil {
			return
		}
		if p.done != nil {
			<-p.done
		}
		if p.resp != nil {
			p.resp.AppendTo(nil)
		}
	})
}

// frameBody encodes a request's header (key, version, correlation ID, client ID) and body as a
// connection reads them after the size prefix.
func frameBody(req kmsg.Request) []byte {
	out := binary.BigEndian.AppendUint16(nil, uint16(req.Key()))
	out = binary.BigEndian.AppendUint16(out, uint16(req.GetVersion()))
	out = binary.BigEndian.AppendUint32(out, 7)
	out = binary.BigEndian.AppendUint16(out, 4)
	out = append(out, "fuzz"...)
	if req.IsFlexible() {
		out = append(out, 0)
	}
	return req.AppendTo(out)
}
