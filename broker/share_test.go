package broker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
)

// shareClient issues raw share-group requests the way a share consumer does.
type shareClient struct {
	t      *testing.T
	cl     *kgo.Client
	group  string
	member string
	epoch  int32 // share session epoch
}

func (s *shareClient) heartbeat(epoch int32, topics ...string) *kmsg.ShareGroupHeartbeatResponse {
	s.t.Helper()
	r := kmsg.NewPtrShareGroupHeartbeatRequest()
	r.GroupID, r.MemberID, r.MemberEpoch, r.SubscribedTopicNames = s.group, s.member, epoch, topics
	resp, err := r.RequestWith(testContext(s.t), s.cl)
	if err != nil {
		s.t.Fatal(err)
	}
	return resp
}

func (s *shareClient) fetch(topicID [16]byte, acks ...kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch) *kmsg.ShareFetchResponse {
	s.t.Helper()
	r := kmsg.NewPtrShareFetchRequest()
	r.GroupID, r.MemberID, r.ShareSessionEpoch = &s.group, &s.member, s.epoch
	r.MaxWaitMillis, r.MaxBytes, r.MaxRecords = 100, 1<<20, 100
	rt := kmsg.NewShareFetchRequestTopic()
	rt.TopicID = topicID
	rp := kmsg.NewShareFetchRequestTopicPartition()
	rp.AcknowledgementBatches = acks
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	resp, err := r.RequestWith(testContext(s.t), s.cl)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.ErrorCode == 0 {
		s.epoch++
	}
	return resp
}

func (s *shareClient) acknowledge(topicID [16]byte, first, last int64, typ int8) *kmsg.ShareAcknowledgeResponse {
	s.t.Helper()
	r := kmsg.NewPtrShareAcknowledgeRequest()
	r.GroupID, r.MemberID, r.ShareSessionEpoch = &s.group, &s.member, s.epoch
	rt := kmsg.NewShareAcknowledgeRequestTopic()
	rt.TopicID = topicID
	rp := kmsg.NewShareAcknowledgeRequestTopicPartition()
	rp.AcknowledgementBatches = []kmsg.ShareAcknowledgeRequestTopicPartitionAcknowledgementBatch{{FirstOffset: first, LastOffset: last, AcknowledgeTypes: []int8{typ}}}
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	resp, err := r.RequestWith(testContext(s.t), s.cl)
	if err != nil {
		s.t.Fatal(err)
	}
	if resp.ErrorCode == 0 {
		s.epoch++
	}
	return resp
}

// alterGroupConfig sets one config of a group (IncrementalAlterConfigs) and returns the group's
// error code.
func alterGroupConfig(t *testing.T, cl *kgo.Client, group, name, value string) int16 {
	t.Helper()
	ia := kmsg.NewPtrIncrementalAlterConfigsRequest()
	ia.Resources = []kmsg.IncrementalAlterConfigsRequestResource{{
		ResourceType: kmsg.ConfigResourceTypeGroupConfig, ResourceName: group,
		Configs: []kmsg.IncrementalAlterConfigsRequestResourceConfig{{Name: name, Value: kmsg.StringPtr(value)}},
	}}
	resp, err := ia.RequestWith(testContext(t), cl)
	if err != nil {
		t.Fatalf("alter config %s of group %s: %v", name, group, err)
	}
	return resp.Resources[0].ErrorCode
}

func acquiredOf(t *testing.T, resp *kmsg.ShareFetchResponse) []kmsg.ShareFetchResponseTopicPartitionAcquiredRecord {
	t.Helper()
	if resp.ErrorCode != 0 {
		t.Fatalf("share fetch: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	var out []kmsg.ShareFetchResponseTopicPartitionAcquiredRecord
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.ErrorCode != 0 || rp.AcknowledgeErrorCode != 0 {
				t.Fatalf("partition errors: fetch %v, acknowledge %v", kerr.ErrorForCode(rp.ErrorCode), kerr.ErrorForCode(rp.AcknowledgeErrorCode))
			}
			out = append(out, rp.AcquiredRecords...)
		}
	}
	return out
}

func TestShareGroupOverTheWire(t *testing.T) {
	dir := t.TempDir()
	start := func() (*broker.Broker, func()) {
		b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir), broker.Logger(brokertest.Logger()))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- b.Run(context.Background()) }()
		return b, func() {
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			<-done
		}
	}
	b, stop := start()
	cl := newClient(t, b.Addr())
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "jobs", 1, nil)
	produceN(t, newClient(t, b.Addr(), kgo.DefaultProduceTopic("jobs")), "jobs", 10)
	td, err := adm.ListTopics(testContext(t), "jobs")
	if err != nil {
		t.Fatal(err)
	}
	id := td["jobs"].ID

	// The group reads from the start of the log (share.auto.offset.reset is a group config).
	if code := alterGroupConfig(t, cl, "workers", "share.auto.offset.reset", "earliest"); code != 0 {
		t.Fatalf("set group config: %v", kerr.ErrorForCode(code))
	}
	if code := alterGroupConfig(t, cl, "workers", "share.auto.offset.reset", "sometimes"); code != kerr.InvalidConfig.Code {
		t.Fatalf("bad share.auto.offset.reset accepted: %v", kerr.ErrorForCode(code))
	}

	s := &shareClient{t: t, cl: cl, group: "workers", member: "member-one-uuid-000000000000000000"}
	hb := s.heartbeat(0, "jobs")
	if hb.ErrorCode != 0 || hb.MemberEpoch < 1 || hb.Assignment == nil || len(hb.Assignment.TopicPartitions) != 1 {
		t.Fatalf("join: %v %+v", kerr.ErrorForCode(hb.ErrorCode), hb)
	}

	got := acquiredOf(t, s.fetch(id))
	if len(got) != 1 || got[0].FirstOffset != 0 || got[0].LastOffset != 9 || got[0].DeliveryCount != 1 {
		t.Fatalf("first fetch acquired %+v, want 0-9 once", got)
	}
	// Accept 0-4, release 5-9: they come back, delivered a second time.
	if resp := s.acknowledge(id, 0, 4, 1); resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("accept: %+v", resp)
	}
	got = acquiredOf(t, s.fetch(id, kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch{FirstOffset: 5, LastOffset: 9, AcknowledgeTypes: []int8{2}}))
	if len(got) != 1 || got[0].FirstOffset != 5 || got[0].LastOffset != 9 || got[0].DeliveryCount != 2 {
		t.Fatalf("after release acquired %+v, want 5-9 a second time", got)
	}
	// Records already accepted cannot be acknowledged again.
	if resp := s.acknowledge(id, 0, 0, 3); resp.Topics[0].Partitions[0].ErrorCode != kerr.InvalidRecordState.Code {
		t.Fatalf("ack of an accepted record: %+v", resp.Topics[0].Partitions[0])
	}
	// A wrong session epoch is refused.
	s.epoch += 5
	if resp := s.fetch(id); resp.ErrorCode != kerr.InvalidShareSessionEpoch.Code {
		t.Fatalf("bad session epoch: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	s.epoch -= 5
	if resp := s.acknowledge(id, 5, 6, 1); resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("accept 5-6: %+v", resp)
	}

	// The group shows as a share group, and describes its start offset and lag.
	lr := kmsg.NewPtrListGroupsRequest()
	lr.TypesFilter = []string{"share"}
	if resp, err := lr.RequestWith(testContext(t), cl); err != nil || len(resp.Groups) != 1 || resp.Groups[0].GroupType != "share" || resp.Groups[0].GroupState != "Stable" {
		t.Fatalf("list share groups: %v %+v", err, resp)
	}
	describe := func() kmsg.DescribeShareGroupOffsetsResponseGroupTopicPartition {
		t.Helper()
		r := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
		r.Version = 1
		r.Groups = []kmsg.DescribeShareGroupOffsetsRequestGroup{{GroupID: "workers"}}
		resp, err := r.RequestWith(testContext(t), cl)
		if err != nil || resp.Groups[0].ErrorCode != 0 || len(resp.Groups[0].Topics) != 1 {
			t.Fatalf("describe share group offsets: %v %+v", err, resp)
		}
		return resp.Groups[0].Topics[0].Partitions[0]
	}
	if p := describe(); p.StartOffset != 7 || p.Lag != 3 {
		t.Fatalf("start offset %d lag %d, want 7 and 3", p.StartOffset, p.Lag)
	}
	// Another group type cannot use the name, and the group cannot be deleted while it has a member.
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"workers"}
	if resp, _ := del.RequestWith(testContext(t), cl); resp.Groups[0].ErrorCode != kerr.NonEmptyGroup.Code {
		t.Fatalf("delete with a member: %v", kerr.ErrorForCode(resp.Groups[0].ErrorCode))
	}
	cg := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	cg.Group, cg.MemberID, cg.RebalanceTimeoutMillis, cg.SubscribedTopicNames = "workers", "x", 1000, []string{"jobs"}
	cg.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	if resp, _ := cg.RequestWith(testContext(t), cl); resp.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("consumer heartbeat on a share group: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	cl.Close()
	stop()

	// After a restart the acknowledgements are still there; what was acquired is available again.
	b, stop = start()
	defer stop()
	cl = newClient(t, b.Addr())
	if p := describe(); p.StartOffset != 7 {
		t.Fatalf("start offset after restart %d, want 7", p.StartOffset)
	}
	s = &shareClient{t: t, cl: cl, group: "workers", member: "member-two-uuid-000000000000000000"}
	s.heartbeat(0, "jobs")
	got = acquiredOf(t, s.fetch(id))
	if len(got) != 1 || got[0].FirstOffset != 7 || got[0].LastOffset != 9 {
		t.Fatalf("after restart acquired %+v, want 7-9", got)
	}
	if hb := s.heartbeat(-1); hb.ErrorCode != 0 || hb.MemberEpoch != -1 {
		t.Fatalf("leave: %+v", hb)
	}
	if resp, _ := del.RequestWith(testContext(t), cl); resp.Groups[0].ErrorCode != 0 {
		t.Fatalf("delete empty share group: %v", kerr.ErrorForCode(resp.Groups[0].ErrorCode))
	}
	r := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
	r.Groups = []kmsg.DescribeShareGroupOffsetsRequestGroup{{GroupID: "workers"}}
	if resp, _ := r.RequestWith(testContext(t), cl); resp.Groups[0].ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("describe deleted group: %+v", resp.Groups[0])
	}
}

// A kgo consumer using the KIP-848 protocol (server-side assignment) consumes everything, with two
// members sharing the partitions, and the group is a "consumer" group.
func TestConsumerGroupProtocolWithKgo(t *testing.T) {
	b := brokertest.Start(t, broker.ConsumerGroupHeartbeatInterval(100*time.Millisecond)) // reconciliation takes a few heartbeats
	cl := newClient(t, b.Addr())
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "events", 4, nil)
	produceN(t, newClient(t, b.Addr(), kgo.DefaultProduceTopic("events")), "events", 200)

	seen := make(chan int32, 400)
	consume := func() *kgo.Client {
		c := newClient(t, b.Addr(), kgo.ConsumerGroup("g848"), kgo.ConsumeTopics("events"),
			kgo.ServerSideBalancer(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		go func() {
			for {
				fs := c.PollFetches(context.Background())
				if fs.IsClientClosed() {
					return
				}
				fs.EachRecord(func(r *kgo.Record) { seen <- r.Partition })
			}
		}()
		return c
	}
	consume()
	consume()
	count := 0
	for count < 200 {
		select {
		case <-seen:
			count++
		case <-testContext(t).Done():
			t.Fatalf("consumed %d of 200", count)
		}
	}
	checkFor(t, 30*time.Second, func() error {
		groups, err := adm.DescribeConsumerGroups(testContext(t), "g848")
		if err != nil {
			return err
		}
		g := groups["g848"]
		if g.Err != nil || g.State != "Stable" || len(g.Members) != 2 {
			return fmt.Errorf("group %s with %d members (%v)", g.State, len(g.Members), g.Err)
		}
		return nil
	})
	lg, err := adm.ListGroupsByType(testContext(t), []string{"consumer"})
	if _, ok := lg["g848"]; err != nil || !ok {
		t.Fatalf("list consumer groups: %v %+v", err, lg)
	}
}

// A ShareFetch that carries a partition's last acknowledgements and forgets it leaves the partition out
// of the share session (Kafka adds, then forgets), so nothing more is acquired from it for the member;
// and records a member holds when its session closes go back with that delivery undone.
func TestShareSessionForgetAndClose(t *testing.T) {
	b := brokertest.Start(t)
	cl := newClient(t, b.Addr())
	adm := kadm.NewClient(cl)
	createTopic(t, adm, "tasks", 1, nil)
	produceN(t, newClient(t, b.Addr(), kgo.DefaultProduceTopic("tasks")), "tasks", 10)
	td, err := adm.ListTopics(testContext(t), "tasks")
	if err != nil {
		t.Fatal(err)
	}
	id := td["tasks"].ID
	if code := alterGroupConfig(t, cl, "crew", "share.auto.offset.reset", "earliest"); code != 0 {
		t.Fatalf("set group config: %v", kerr.ErrorForCode(code))
	}

	a := &shareClient{t: t, cl: cl, group: "crew", member: "member-a-uuid-00000000000000000000"}
	a.heartbeat(0, "tasks")
	if got := acquiredOf(t, a.fetch(id)); len(got) != 1 || got[0].FirstOffset != 0 || got[0].LastOffset != 9 {
		t.Fatalf("first fetch acquired %+v, want 0-9", got)
	}

	// Accept 0-4 and release 5-9 in the request that forgets the partition: 5-9 must not come back
	// to a, whose session no longer has the partition.
	r := kmsg.NewPtrShareFetchRequest()
	r.GroupID, r.MemberID, r.ShareSessionEpoch = &a.group, &a.member, a.epoch
	r.MaxWaitMillis, r.MaxBytes, r.MaxRecords = 100, 1<<20, 100
	rt := kmsg.NewShareFetchRequestTopic()
	rt.TopicID = id
	rp := kmsg.NewShareFetchRequestTopicPartition()
	rp.AcknowledgementBatches = []kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch{
		{FirstOffset: 0, LastOffset: 4, AcknowledgeTypes: []int8{1}}, // accept,
		{FirstOffset: 5, LastOffset: 9, AcknowledgeTypes: []int8{2}}, // release,
	}
	rt.Partitions = append(rt.Partitions, rp)
	r.Topics = append(r.Topics, rt)
	r.ForgottenTopicsData = []kmsg.ShareFetchRequestForgottenTopicsData{{TopicID: id, Partitions: []int32{0}}}
	resp, err := r.RequestWith(testContext(t), cl)
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("fetch that forgets: %v %v", err, resp)
	}
	a.epoch++
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			if rp.AcknowledgeErrorCode != 0 || len(rp.AcquiredRecords) > 0 {
				t.Fatalf("partition %d after forgetting it: acknowledge %v, acquired %+v", rp.Partition,
					kerr.ErrorForCode(rp.AcknowledgeErrorCode), rp.AcquiredRecords)
			}
		}
	}

	// Another member gets 5-9, a second delivery; when its session closes, they go back with that
	// delivery undone, and a third member gets them as a second delivery again.
	c := &shareClient{t: t, cl: cl, group: "crew", member: "member-c-uuid-00000000000000000000"}
	c.heartbeat(0, "tasks")
	if got := acquiredOf(t, c.fetch(id)); len(got) != 1 || got[0].FirstOffset != 5 || got[0].LastOffset != 9 || got[0].DeliveryCount != 2 {
		t.Fatalf("c acquired %+v, want 5-9 delivered a second time", got)
	}
	closeReq := kmsg.NewPtrShareAcknowledgeRequest()
	closeReq.GroupID, closeReq.MemberID, closeReq.ShareSessionEpoch = &c.group, &c.member, -1
	if resp, err := closeReq.RequestWith(testContext(t), cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("close c's session: %v %+v", err, resp)
	}
	d := &shareClient{t: t, cl: cl, group: "crew", member: "member-d-uuid-00000000000000000000"}
	d.heartbeat(0, "tasks")
	if got := acquiredOf(t, d.fetch(id)); len(got) != 1 || got[0].FirstOffset != 5 || got[0].LastOffset != 9 || got[0].DeliveryCount != 2 {
		t.Fatalf("d acquired %+v, want 5-9 with the closed session's delivery undone", got)
	}
}
