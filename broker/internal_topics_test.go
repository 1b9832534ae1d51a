package broker

import "testing"

// An internal topic's ID is the same on every start of one cluster and differs between clusters.
func TestInternalTopicID(t *testing.T) {
	a := internalTopicID("cluster-a", consumerOffsetsTopic)
	if a == ([16]byte{}) {
		t.Fatal("zero topic ID")
	}
	if again := internalTopicID("cluster-a", consumerOffsetsTopic); again != a {
		t.Fatalf("topic ID changed: %x then %x", a, again)
	}
	if other := internalTopicID("cluster-b", consumerOffsetsTopic); other == a {
		t.Fatalf("two clusters share topic ID %x", a)
	}
}
