package broker

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"syscall"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxInFlight bounds the requests a connection may have read but not yet answered; the read loop stops
// reading (TCP backpressure) until the writer catches up.
const maxInFlight = 64

// conn is one client connection. Its read loop (serve) decodes requests and runs handlers in arrival
// order; its write loop sends responses in the same order, waiting for asynchronous ones.
type conn struct {
	b        *Broker
	nc       net.Conn
	remote   string
	ctx      context.Context // cancelled when the connection or the broker closes
	cancel   context.CancelFunc
	pending  chan *pending
	clientID string
}

// request is what a handler gets: the decoded request and the connection it came on.
type request struct {
	ctx      context.Context
	c        *conn
	kreq     kmsg.Request
	clientID string
}

// pending is one response slot in the connection's write order.
type pending struct {
	corr int32
	resp kmsg.Response        // nil with done == nil and wait == nil: no response (acks=0 produce)
	done chan struct{}        // non-nil for an asynchronous response; closed once resp is set
	wait func() kmsg.Response // non-nil for a response the write loop waits for itself
}

// result is what a handler returns: a response now, a function producing it later (run on its own
// goroutine, its response still written in request order), a function the write loop runs when the
// response is next in order, or none of them for requests without a response.
type result struct {
	resp  kmsg.Response
	async func() kmsg.Response
	wait  func() kmsg.Response
}

func respond(r kmsg.Response) result             { return result{resp: r} }
func respondLater(f func() kmsg.Response) result { return result{async: f} }

// respondWhen is for a response that only waits for something already under way (a produce waiting
// for the fsync its append requested): f runs on the connection's write loop once every earlier
// response has gone out, so the wait costs no goroutine. f must not wait for anything a later request
// on the connection would start, and must return once the connection's context is done.
func respondWhen(f func() kmsg.Response) result { return result{wait: f} }

type handlerFunc func(r *request) result

type handler struct {
	min, max int16
	fn       handlerFunc
}

// handlers is indexed by API key. Each NN_name.go file registers its API in init.
var handlers = map[int16]handler{}

func register(key, min, max int16, fn handlerFunc) {
	if _, ok := handlers[key]; ok {
		panic(fmt.Sprintf("broker: API key %d registered twice", key))
	}
	handlers[key] = handler{min: min, max: max, fn: fn}
}

func newConn(b *Broker, nc net.Conn) *conn {
	c := &conn{b: b, nc: nc, remote: nc.RemoteAddr().String(), pending: make(chan *pending, maxInFlight)}
	c.ctx, c.cancel = context.WithCancel(b.ctx)
	return c
}

// serve runs the connection until the client disconnects, sends something malformed, or the broker closes.
func (c *conn) serve() {
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	err := c.readLoop()
	switch {
	case err == nil || err == io.EOF || c.ctx.Err() != nil:
	case errors.Is(err, syscall.ECONNRESET):
		// Clients close connections abruptly all the time; that is not the broker's concern.
		c.b.logger.Debug("connection reset by client", "remote", c.remote, "client_id", c.clientID)
	default:
		c.b.logger.Warn("closing connection", "remote", c.remote, "client_id", c.clientID, "err", err)
	}
	// The client is gone: cancel first, so that requests still waiting (long-polling fetches) end now
	// rather than when their wait runs out, then let the writer drain.
	c.cancel()
	close(c.pending)
	<-writerDone
	c.nc.Close()
	c.b.removeConn(c)
}

func (c *conn) readLoop() (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic handling request: %v\n%s", r, debug.Stack())
		}
	}()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	var size [4]byte
	for {
		if _, err := io.ReadFull(br, size[:]); err != nil {
			return err
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 8 || n > c.b.cfg.maxRequestBytes {
			return fmt.Errorf("request frame of %d bytes is outside [8, %d]", n, c.b.cfg.maxRequestBytes)
		}
		// A Produce body is pooled: the produce handler is done with the request, its record batches
		// copied into the log, when it returns. Other requests keep their bodies (handlers may retain
		// byte fields, such as group member metadata).
		produce := int16(binary.BigEndian.Uint16(peekKey(br))) == kmsg.Produce.Int16()
		var body []byte
		if produce {
			body = getBuffer(int(n))
		} else {
			body = make([]byte, n)
		}
		if _, err := io.ReadFull(br, body); err != nil {
			return err
		}
		p, err := c.handle(body)
		if produce {
			putBuffer(body)
		}
		if err != nil {
			return err
		}
		select {
		case c.pending <- p:
		case <-c.ctx.Done():
			return nil
		}
	}
}

// peekKey returns the next two bytes, a request's API key, without consuming them; 0xffff (no API) if
// they cannot be read.
func peekKey(br *bufio.Reader) []byte {
	if k, err := br.Peek(2); err == nil {
		return k
	}
	return []byte{0xff, 0xff}
}

// handle decodes one request frame and runs its handler. An error closes the connection.
func (c *conn) handle(body []byte) (*pending, error) {
	rd := kbin.Reader{Src: body}
	key := rd.Int16()
	version := rd.Int16()
	corr := rd.Int32()
	// The client ID (a nullable string): a client sends the same one on every request, so compare it
	// before copying it.
	if n := rd.Int16(); n >= 0 {
		if id := rd.Span(int(n)); rd.Complete() == nil && string(id) != c.clientID {
			c.clientID = string(id)
		}
	}
	if rd.Complete() != nil {
		return nil, fmt.Errorf("truncated request header")
	}
	h, ok := handlers[key]
	kreq := kmsg.RequestForKey(key)
	if !ok || kreq == nil {
		return nil, fmt.Errorf("unsupported API key %d", key)
	}
	if version < h.min || version > h.max {
		if key == kmsg.ApiVersions.Int16() {
			// KIP-511: answer a too-new ApiVersions with a v0 body carrying UNSUPPORTED_VERSION and our
			// ApiVersions range, so the client retries with a version we speak.
			return &pending{corr: corr, resp: unsupportedApiVersions()}, nil
		}
		return nil, fmt.Errorf("unsupported version %d of %s (we serve %d..%d)", version, kmsg.NameForKey(key), h.min, h.max)
	}
	kreq.SetVersion(version)
	if kreq.IsFlexible() {
		kmsg.SkipTags(&rd)
	}
	if err := kreq.ReadFrom(rd.Src); err != nil {
		return nil, fmt.Errorf("malformed %s v%d request: %w", kmsg.NameForKey(key), version, err)
	}
	c.b.metrics.byKey[key].Inc()
	res := h.fn(&request{ctx: c.ctx, c: c, kreq: kreq, clientID: c.clientID})
	p := &pending{corr: corr, resp: res.resp, wait: res.wait}
	if res.async != nil {
		p.done = make(chan struct{})
		c.b.goroutine(func() {
			defer close(p.done)
			defer func() {
				if r := recover(); r != nil {
					c.b.logger.Error("panic handling request", "api", kmsg.NameForKey(key), "panic", r, "stack", string(debug.Stack()))
					c.nc.Close()
				}
			}()
			p.resp = res.async()
		})
	}
	return p, nil
}

func (c *conn) writeLoop() {
	w := responseWriter{nc: c.nc, bw: bufio.NewWriterSize(c.nc, 64<<10)}
	broken := false
	for p := range c.pending {
		if p.done != nil {
			<-p.done
		}
		if p.wait != nil && !broken {
			p.resp, p.wait = p.wait(), nil
		}
		if p.resp != nil && !broken {
			// Flush when nothing else is ready to go out, so pipelined responses share a syscall.
			if err := w.write(p.corr, p.resp, len(c.pending) == 0); err != nil {
				broken = true
				c.nc.Close()
			}
		}
		if fr, ok := p.resp.(*fetchResponse); ok {
			fr.release()
		}
	}
}

// responseWriter frames and writes responses for a connection's write loop.
type responseWriter struct {
	nc      net.Conn
	bw      *bufio.Writer
	buf     []byte // the encoded response being written
	splices []splice
	vec     net.Buffers
}

// write sends one response, buffered unless flush is set. A Fetch response's record batches go out from
// the buffers they were read into, in one vectored write with the rest of the response.
func (w *responseWriter) write(corr int32, resp kmsg.Response, flush bool) error {
	w.buf = append(w.buf[:0], 0, 0, 0, 0)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(corr))
	if resp.IsFlexible() && resp.Key() != kmsg.ApiVersions.Int16() {
		w.buf = append(w.buf, 0) // response header v1: empty tagged fields
	}
	defer func() {
		if cap(w.buf) > 4<<20 {
			w.buf = nil // do not pin a large response's buffer for the connection's life
		}
	}()
	w.splices = w.splices[:0]
	if fr, ok := resp.(*fetchResponse); ok && vectorable(fr.FetchResponse) {
		w.buf, w.splices = appendFetchVectored(w.buf, fr.FetchResponse, w.splices)
	} else {
		w.buf = resp.AppendTo(w.buf)
	}
	if len(w.splices) == 0 {
		binary.BigEndian.PutUint32(w.buf, uint32(len(w.buf)-4))
		if _, err := w.bw.Write(w.buf); err != nil {
			return err
		}
		if flush {
			return w.bw.Flush()
		}
		return nil
	}
	size := len(w.buf) - 4
	for _, s := range w.splices {
		size += len(s.data)
	}
	binary.BigEndian.PutUint32(w.buf, uint32(size))
	if err := w.bw.Flush(); err != nil {
		return err
	}
	w.vec = vectorize(w.vec[:0], w.buf, w.splices)
	vec := w.vec
	_, err := vec.WriteTo(w.nc)
	// Do not keep the batches reachable once their buffers go back to the pool.
	clear(w.splices)
	clear(w.vec)
	return err
}

func unsupportedApiVersions() kmsg.Response {
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	resp.ErrorCode = kerr.UnsupportedVersion.Code
	k := kmsg.NewApiVersionsResponseApiKey()
	k.ApiKey = kmsg.ApiVersions.Int16()
	h := handlers[k.ApiKey]
	k.MinVersion, k.MaxVersion = h.min, h.max
	resp.ApiKeys = append(resp.ApiKeys, k)
	return resp
}
