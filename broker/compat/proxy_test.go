package compat

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// refClientID is the client ID of the reference client; the proxy leaves its requests out of the tally.
const refClientID = "seiche-compat-reference"

// proxy sits between the clients and the broker, which advertises the proxy's address, so that every
// connection of the client under test passes through it. It tallies the requests by API key and
// version, so a cell's log says which versions the client actually exercised.
type proxy struct {
	ln     net.Listener
	target string
	wg     sync.WaitGroup
	mu     struct {
		sync.Mutex
		conns  map[net.Conn]struct{}
		tally  map[[2]int16]int
		closed bool
	}
}

func listenProxy(t testing.TB) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &proxy{ln: ln}
	p.mu.conns = map[net.Conn]struct{}{}
	p.mu.tally = map[[2]int16]int{}
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// serve forwards connections to target until close.
func (p *proxy) serve(target string) {
	p.target = target
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := p.ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

// track registers c to be closed by close; it reports false if the proxy is already closed.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mu.closed {
		c.Close()
		return false
	}
	p.mu.conns[c] = struct{}{}
	return true
}

func (p *proxy) forward(client net.Conn) {
	if !p.track(client) {
		return
	}
	broker, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(broker) {
		client.Close()
		return
	}
	done := make(chan struct{})
	go func() {
		io.Copy(client, broker)
		client.Close()
		close(done)
	}()
	var size [4]byte
	for {
		if _, err := io.ReadFull(client, size[:]); err != nil {
			break
		}
		frame := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(client, frame); err != nil {
			break
		}
		p.count(frame)
		if _, err := broker.Write(append(size[:], frame...)); err != nil {
			break
		}
	}
	broker.Close()
	<-done
}

// count tallies a request frame: api key, version, correlation ID, then the client ID.
func (p *proxy) count(frame []byte) {
	if len(frame) < 10 {
		return
	}
	key := int16(binary.BigEndian.Uint16(frame[0:]))
	version := int16(binary.BigEndian.Uint16(frame[2:]))
	if n := int16(binary.BigEndian.Uint16(frame[8:])); n > 0 && 10+int(n) <= len(frame) && string(frame[10:10+int(n)]) == refClientID {
		return
	}
	p.mu.Lock()
	p.mu.tally[[2]int16{key, version}]++
	p.mu.Unlock()
}

// requests describes the tally, as "Produce v7×1, Fetch v11×4, …" in API key order.
func (p *proxy) requests() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	keys := make([][2]int16, 0, len(p.mu.tally))
	for k := range p.mu.tally {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	if len(keys) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s v%d×%d", kmsg.NameForKey(k[0]), k[1], p.mu.tally[k])
	}
	return b.String()
}

// close closes the listener and every connection, and waits for the forwarding goroutines.
func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	p.mu.closed = true
	for c := range p.mu.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
