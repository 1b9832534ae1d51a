package testutil

import (
	"context"

	"github.com/twmb/franz-go/pkg/kadm"
)

// CommittedOffsets returns the sum of the offsets group has committed over all its partitions: how
// many records it has consumed and committed, for topics that start at offset 0 and hold no
// transaction markers. It is 0 while the group has none or cannot be asked.
func CommittedOffsets(ctx context.Context, adm *kadm.Client, group string) int64 {
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return 0
	}
	var n int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil {
			n += o.At
		}
	})
	return n
}
