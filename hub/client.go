package hub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// A client is one WebSocket connection. Frames reach it through a bounded
// queue, so a slow phone never delays the others. An idle connection costs
// one goroutine (its reader) and no writer: a writer goroutine is started
// when a frame is queued or a ping is due, writes everything queued as one
// batch (one socket write), and ends when the queue is empty.
type client struct {
	conn  *websocket.Conn
	sock  *sockWriter // nil for clients without a socket (tests): send only queues
	role  Role
	voter string // voter id; voters only
	panel string // the panel this voter votes in
	key   string // the panel key the voter presented; for hosts, the host key digest

	writeTimeout time.Duration
	metrics      *Metrics
	// room, when set (under mu), is the room the client is in: a writer started
	// while the room fans a message out waits until it is done, so that
	// frames queued in the same delivery (a stage and the standings it
	// changes) go out in one write.
	room     *room
	pingSlot uint32       // which tick of the hub's ping loop pings this client
	pongAt   atomic.Int64 // when the last pong arrived (Unix ns; set by the reader)
	// busy: the reader is handling a message (a ballot waits for the
	// store), so it reads no pong meanwhile; readyAt is when it last
	// went back to reading (Unix ns).
	busy    atomic.Bool
	readyAt atomic.Int64

	mu      sync.Mutex
	queue   [][]byte
	spare   [][]byte
	board   int   // index in queue of a standings frame not yet written, or -1
	slow    bool  // the queue overflowed: the writer closes the connection
	pingDue bool  // the hub asked for a ping
	pingAt  int64 // when the last ping was asked for (Unix ns), 0: none yet
	dead    bool  // a ping went unanswered: the writer closes the connection
	writing bool  // a writer goroutine runs (or failed: then ended is set)
	ended   bool  // the connection ended or its writer failed: no new writer
	werr    error
	writers sync.WaitGroup
}

var errPingTimeout = errors.New("ping not answered in time")

// internRole returns the constant for a known role, so that a client does
// not keep the request line its role was parsed from.
func internRole(r Role) Role {
	for _, k := range []Role{RoleVoter, RoleScreen, RoleHost} {
		if r == k {
			return k
		}
	}
	return r
}

func newClient(conn *websocket.Conn, role Role) *client {
	return &client{conn: conn, role: role, board: -1}
}

// send queues a frame. A standings frame replaces one still queued (latest
// wins); any other frame is appended. A client whose queue overflows is
// marked slow and closed by its writer; it reconnects to a snapshot. It
// reports whether the client was marked slow by this call.
func (c *client) send(frame []byte, standings bool, limit int) (dropped, slowNow bool) {
	c.mu.Lock()
	if c.slow || c.ended {
		c.mu.Unlock()
		return false, false
	}
	switch {
	case standings && c.board >= 0:
		// Latest wins. It goes to the end, after frames queued since the
		// older one, so that the client sees numbers in order (a standings
		// frame repeats the number of the stage message before it).
		c.queue = append(c.queue[:c.board], c.queue[c.board+1:]...)
		c.board = len(c.queue)
		c.queue = append(c.queue, frame)
		dropped = true
	case len(c.queue) >= limit:
		c.slow = true
		slowNow = true
	default:
		if standings {
			c.board = len(c.queue)
		}
		c.queue = append(c.queue, frame)
	}
	c.startWriterLocked()
	c.mu.Unlock()
	return dropped, slowNow
}

// tick is the hub's ping loop looking at the client: a ping unanswered
// for timeout while the reader was free to read the pong has the writer
// close the connection; due asks for a ping (unless one is still waiting
// for its pong). Pings do not wait for their pong: OnPongReceived records
// it, and a later tick checks. A reader held up by a slow store is not a
// dead phone: the clock restarts when it reads again.
func (c *client) tick(now int64, due bool, timeout time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sock == nil || c.ended {
		return
	}
	waiting := c.pingAt != 0 && c.pongAt.Load() < c.pingAt
	since := max(c.pingAt, c.readyAt.Load())
	switch {
	case waiting && !c.busy.Load() && now-since >= int64(timeout):
		c.dead = true
		c.startWriterLocked()
	case due && !waiting:
		c.pingDue, c.pingAt = true, now
		c.startWriterLocked()
	}
}

// pong records a pong (coder/websocket's OnPongReceived, on the reader).
func (c *client) pong(context.Context, []byte) { c.pongAt.Store(time.Now().UnixNano()) }

// startWriterLocked starts a writer unless one runs. c.mu is held.
func (c *client) startWriterLocked() {
	if c.sock == nil || c.writing || c.ended {
		return
	}
	c.writing = true
	c.writers.Add(1)
	if c.metrics != nil {
		c.metrics.writers.Inc()
	}
	go c.write()
}

// take returns the queued frames and empties the queue, or slow.
func (c *client) take() ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.takeLocked()
}

func (c *client) takeLocked() ([][]byte, bool) {
	if c.slow {
		return nil, true
	}
	frames := c.queue
	c.queue, c.spare = c.spare[:0], frames
	c.board = -1
	return frames, false
}

// write is the writer goroutine: it pings when asked and writes what is
// queued until the queue is empty, then ends. A failed write or ping, or a
// queue that overflowed, closes the connection (1008 for a slow client),
// which ends the reader too.
func (c *client) write() {
	defer c.writers.Done()
	c.mu.Lock()
	r := c.room
	c.mu.Unlock()
	if r != nil {
		r.mu.Lock()
		//lint:ignore SA2001 an empty critical section: wait for the fan-out in progress
		r.mu.Unlock()
	}
	for {
		c.mu.Lock()
		frames, slow := c.takeLocked()
		ping, dead := c.pingDue, c.dead
		c.pingDue = false
		if !slow && !dead && len(frames) == 0 && !ping {
			c.writing = false
			c.queue, c.spare = nil, nil // an idle client keeps no backing arrays
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		var err error
		switch {
		case slow:
			err = errSlowClient
		case dead:
			err = errPingTimeout
		default:
			err = c.writeBatch(ping, frames)
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// writeBatch writes a ping (when asked) and frames as one batch: they are
// framed into the connection's sockWriter, which holds them in a pooled
// buffer and sends them with one socket write under a deadline.
func (c *client) writeBatch(ping bool, frames [][]byte) error {
	c.sock.hold()
	n := len(frames)
	if ping {
		c.sock.appendPing()
		n++
	}
	for i, f := range frames {
		c.sock.appendText(f)
		frames[i] = nil
	}
	if c.metrics != nil && n > 0 {
		c.metrics.framesOut.Add(float64(n))
		c.metrics.socketWrites.Inc()
	}
	return c.sock.release()
}

// fail records why the writer stopped and closes the connection.
func (c *client) fail(err error) {
	c.mu.Lock()
	c.werr, c.ended = err, true
	c.queue, c.spare, c.board = nil, nil, -1
	c.mu.Unlock()
	if c.metrics != nil {
		c.metrics.dropped(err)
	}
	if errors.Is(err, errSlowClient) {
		_ = c.conn.Close(websocket.StatusPolicyViolation, "too slow; reconnect for a snapshot")
		return
	}
	_ = c.conn.CloseNow()
}

// end is called by the reader once the client has left its room: no new
// writer starts, and end waits for a running one. It returns the writer's
// error, if any.
func (c *client) end() error {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
	c.writers.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue, c.spare, c.board = nil, nil, -1
	return c.werr
}

// Buffer sizes of a hijacked connection. net/http's own are 4 KiB each and
// stay with the connection for its life; an idle phone needs neither.
// Frames from phones are small (a ballot is ≈ 100 bytes; bigger ones are
// read in more than one system call), and frames to them go out through
// sockWriter's pooled batch buffer: the bufio.Writer only carries control
// frames (pong, close: at most 2 + 125 bytes) straight through in one
// write each.
const (
	readBufferSize  = 256
	writeBufferSize = 128
)

// smallBuffers wraps the ResponseWriter of a WebSocket upgrade so that the
// hijacked connection gets small buffers and a sockWriter.
type smallBuffers struct {
	http.ResponseWriter
	timeout time.Duration
	sock    *sockWriter
}

func (s *smallBuffers) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Hijack hijacks the underlying connection and replaces net/http's
// buffers: bytes the client sent after its request are kept. They can be
// there: coder/websocket writes the 101 before it hijacks, so a client's
// first frame may arrive meanwhile (net/http's background read takes its
// first byte). They are kept in the net.Conn handed on, not only in the
// bufio.Reader: coder/websocket resets that reader onto the net.Conn
// (keeping only what it has buffered itself), which would drop them.
func (s *smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(s.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	s.sock = &sockWriter{conn: conn, timeout: s.timeout}
	var rd net.Conn = conn
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		rd = &prefixedConn{Conn: conn, prefix: bytes.Clone(b)}
	}
	return rd, bufio.NewReadWriter(bufio.NewReaderSize(rd, readBufferSize), bufio.NewWriterSize(s.sock, writeBufferSize)), nil
}

// prefixedConn is a connection whose first bytes were read already: Read
// returns them before reading on.
type prefixedConn struct {
	net.Conn
	prefix []byte
}

func (c *prefixedConn) Read(p []byte) (int, error) {
	if len(c.prefix) == 0 {
		return c.Conn.Read(p)
	}
	n := copy(p, c.prefix)
	if c.prefix = c.prefix[n:]; len(c.prefix) == 0 {
		c.prefix = nil
	}
	return n, nil
}

// sockWriter is what a connection's frames are written to. Data frames
// (text) and pings are framed here, by the client's writer goroutine, into
// a batch held in a buffer borrowed from a pool; release sends the batch in
// one socket write. coder/websocket writes only control frames (pongs and
// close frames, from whichever goroutine answers a ping or closes) through
// its bufio.Writer: those go straight to the socket, or into the batch
// while it is held. Every socket write has a deadline (WriteTimeout).
//
// Framing data frames here rather than with (*websocket.Conn).Write saves
// that path's locks and copies on every frame of every broadcast, and
// (*websocket.Conn).Ping would keep a goroutine waiting for each pong. It
// is safe to mix with coder/websocket's own writes because the batch only
// ever receives whole frames: coder/websocket writes a frame under its
// frame lock and flushes its bufio.Writer at the end of each frame, and a
// control frame (at most 2 + 125 bytes) passes the 128-byte buffer in one
// Write; data frames and pings are appended whole, under the same mutex.
// coder/websocket reads as usual (pongs reach client.pong through
// OnPongReceived).
type sockWriter struct {
	conn    net.Conn
	timeout time.Duration

	mu   sync.Mutex // held during socket writes, so that frames keep their order
	held bool
	buf  *[]byte
}

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledBatch: bigger batch buffers are dropped rather than pooled.
const maxPooledBatch = 64 << 10

func (s *sockWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		*s.buf = append(*s.buf, p...)
		return len(p), nil
	}
	return s.writeLocked(p)
}

// writeLocked writes to the socket with a deadline. Every write sets its
// own, so the deadline left behind by the last one needs no reset.
func (s *sockWriter) writeLocked(p []byte) (int, error) {
	_ = s.conn.SetWriteDeadline(time.Now().Add(s.timeout))
	return s.conn.Write(p)
}

// pingFrame is a WebSocket ping without payload, as a server sends it
// (unmasked, final).
var pingFrame = []byte{0x89, 0x00}

// appendPing adds a ping to the held batch.
func (s *sockWriter) appendPing() {
	s.mu.Lock()
	*s.buf = append(*s.buf, pingFrame...)
	s.mu.Unlock()
}

// appendText adds p to the held batch as one final, unmasked text frame
// (RFC 6455 §5.2: 0x81, then the length in 7 bits, or 126 and 16 bits,
// or 127 and 64 bits, big-endian).
func (s *sockWriter) appendText(p []byte) {
	s.mu.Lock()
	b := append(*s.buf, 0x81)
	switch n := len(p); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	*s.buf = append(b, p...)
	s.mu.Unlock()
}

// hold starts gathering frames.
func (s *sockWriter) hold() {
	s.mu.Lock()
	s.held = true
	s.buf = batchPool.Get().(*[]byte)
	s.mu.Unlock()
}

// release sends what was gathered and returns the buffer to the pool.
func (s *sockWriter) release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = false
	b := s.buf
	s.buf = nil
	var err error
	if len(*b) > 0 {
		_, err = s.writeLocked(*b)
	}
	if cap(*b) <= maxPooledBatch {
		*b = (*b)[:0]
		batchPool.Put(b)
	}
	return err
}
