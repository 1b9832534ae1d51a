package broker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// producerIDBlock is how many producer IDs are reserved with one durable write, as Kafka's controller
// hands out blocks of 1000.
const producerIDBlock = 1000

var producerIDKey = []byte("p/next-block")

// producerIDs hands out unique producer IDs that are never reused, across restarts too: the end of the
// current block is persisted before any ID from it is given out.
type producerIDs struct {
	db *pebble.DB
	mu struct {
		sync.Mutex
		next, end int64
	}
}

func newProducerIDs(db *pebble.DB) (*producerIDs, error) {
	p := &producerIDs{db: db}
	v, closer, err := db.Get(producerIDKey)
	switch {
	case err == nil:
		if len(v) != 8 {
			closer.Close()
			return nil, fmt.Errorf("broker: corrupt producer id block record")
		}
		p.mu.next = int64(binary.BigEndian.Uint64(v))
		closer.Close()
	case errors.Is(err, pebble.ErrNotFound):
	default:
		return nil, fmt.Errorf("broker: read producer id block: %w", err)
	}
	p.mu.end = p.mu.next
	return p, nil
}

// next returns a producer ID that has never been handed out.
func (p *producerIDs) next() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.next == p.mu.end {
		end := p.mu.end + producerIDBlock
		if err := p.db.Set(producerIDKey, binary.BigEndian.AppendUint64(nil, uint64(end)), pebble.Sync); err != nil {
			return 0, fmt.Errorf("broker: reserve producer ids: %w", err)
		}
		p.mu.end = end
	}
	id := p.mu.next
	p.mu.next++
	return id, nil
}
