package broker

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/storage"
)

func init() { register(21, 0, 2, handleDeleteRecords) }

// handleDeleteRecords advances log start offsets; an offset of -1 means the high watermark.
func handleDeleteRecords(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition, sp.LowWatermark = rp.Partition, -1
			p := b.topics.partition(rt.Topic, rp.Partition)
			if p == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			off := rp.Offset
			if off == -1 {
				off = p.log.EndOffset()
			}
			if off < 0 || off > p.log.EndOffset() {
				sp.ErrorCode = kerr.OffsetOutOfRange.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			low, err := p.log.DeleteRecordsBefore(off)
			switch {
			case errors.Is(err, storage.ErrOffsetOutOfRange):
				sp.ErrorCode = kerr.OffsetOutOfRange.Code
			case err != nil:
				b.logger.Error("delete records failed", "topic", rt.Topic, "partition", rp.Partition, "err", err)
				sp.ErrorCode = kerr.KafkaStorageError.Code
			default:
				sp.LowWatermark = low
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return respond(resp)
}
