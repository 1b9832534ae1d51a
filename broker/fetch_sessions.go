package broker

import (
	"sync"
	"time"
)

// Fetch sessions (KIP-227) let a consumer send only the partitions whose fetch state changed, and get back
// only the partitions with something new.

const (
	maxFetchSessions     = 1000
	fetchSessionIdleTime = 2 * time.Minute
)

type tp struct {
	topic     string
	partition int32
}

// sessionPart is one partition of a fetch session: the client's fetch position, and what the last
// response told the client, to decide whether an incremental response must include the partition.
type sessionPart struct {
	tp
	fetchOffset int64
	maxBytes    int32
	leaderEpoch int32

	sentHW, sentLSO, sentLogStart int64
	sent                          bool
}

type fetchSession struct {
	id    int32
	epoch int32 // the epoch the next request must carry
	parts []*sessionPart
	index map[tp]*sessionPart
	used  time.Time
	busy  bool // a fetch on this session is in flight
}

type fetchSessions struct {
	mu     sync.Mutex
	nextID int32
	m      map[int32]*fetchSession
}

func newFetchSessions() *fetchSessions {
	return &fetchSessions{nextID: 1, m: make(map[int32]*fetchSession)}
}

// create starts a new session, evicting the least recently used one when full.
func (fs *fetchSessions) create() *fetchSession {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.m) >= maxFetchSessions {
		var oldest *fetchSession
		for _, s := range fs.m {
			if !s.busy && (oldest == nil || s.used.Before(oldest.used)) {
				oldest = s
			}
		}
		if oldest == nil {
			return nil
		}
		delete(fs.m, oldest.id)
	}
	for {
		id := fs.nextID
		fs.nextID++
		if fs.nextID <= 0 {
			fs.nextID = 1
		}
		if _, taken := fs.m[id]; !taken {
			s := &fetchSession{id: id, epoch: 0, index: make(map[tp]*sessionPart), used: time.Now(), busy: true}
			fs.m[id] = s
			return s
		}
	}
}

// acquire returns the session for an incremental fetch, checking the epoch, and marks it busy.
// The returned code is 0, FETCH_SESSION_ID_NOT_FOUND or INVALID_FETCH_SESSION_EPOCH.
func (fs *fetchSessions) acquire(id, epoch int32) (*fetchSession, errorKind) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	s, ok := fs.m[id]
	if !ok {
		return nil, sessionNotFound
	}
	if s.busy || s.epoch != epoch {
		return nil, sessionBadEpoch
	}
	s.busy = true
	s.used = time.Now()
	return s, 0
}

// release marks a session idle again, advancing its epoch when the fetch was answered.
func (fs *fetchSessions) release(s *fetchSession) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	s.busy = false
	s.epoch++
	if s.epoch <= 0 {
		s.epoch = 1
	}
	s.used = time.Now()
}

func (fs *fetchSessions) remove(id int32) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	delete(fs.m, id)
}

// expire drops sessions idle for longer than fetchSessionIdleTime.
func (fs *fetchSessions) expire(now time.Time) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for id, s := range fs.m {
		if !s.busy && now.Sub(s.used) > fetchSessionIdleTime {
			delete(fs.m, id)
		}
	}
}

type errorKind int8

const (
	sessionNotFound errorKind = iota + 1
	sessionBadEpoch
)

// update applies a request's partitions and forgotten partitions to the session.
func (s *fetchSession) update(add []sessionPart, forget []tp) {
	for _, f := range forget {
		if _, ok := s.index[f]; ok {
			delete(s.index, f)
			for i, p := range s.parts {
				if p.tp == f {
					s.parts = append(s.parts[:i], s.parts[i+1:]...)
					break
				}
			}
		}
	}
	for _, a := range add {
		if p, ok := s.index[a.tp]; ok {
			p.fetchOffset, p.maxBytes, p.leaderEpoch = a.fetchOffset, a.maxBytes, a.leaderEpoch
			continue
		}
		p := a
		s.parts = append(s.parts, &p)
		s.index[a.tp] = &p
	}
}
