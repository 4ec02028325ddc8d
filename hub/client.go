package hub

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// A client is one WebSocket connection. Frames reach it through a bounded
// queue, so a slow phone never delays the others. An idle connection costs
// one goroutine (its reader) and no writer: a writer goroutine is started
// when a frame is queued, a ping is due or a close is asked for; it writes
// everything queued as one batch through the connection's wire (wire.go),
// and ends when the queue is empty. Closing the connection is the
// writer's job too, after what was queued before the close: nothing is
// queued after it.
type client struct {
	conn  *websocket.Conn
	wire  *wire // nil for clients without a socket (tests): send only queues
	role  Role
	voter string // voter id; voters only
	panel string // the panel this voter votes in
	key   string // the panel key the voter presented; for hosts, the host key digest

	metrics *Metrics
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

	mu          sync.Mutex
	queue       [][]byte
	spare       [][]byte
	standingsAt int   // index in queue of a standings frame not yet written, or -1
	slow        bool  // the queue overflowed: the writer closes the connection
	pingDue     bool  // the hub asked for a ping
	pingAt      int64 // when the last ping was asked for (Unix ns), 0: none yet
	dead        bool  // a ping went unanswered: the writer closes the connection
	// closeCode, when set, is the close the writer sends after the queue
	// (closeReason with it); nothing is queued after it.
	closeCode   websocket.StatusCode
	closeReason string
	writing     bool // a writer goroutine runs (or failed: then ended is set)
	ended       bool // the connection ended, or its writer failed or closed it: no new writer
	werr        error
	writers     sync.WaitGroup
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
	return &client{conn: conn, role: role, standingsAt: -1}
}

// send queues a frame. A standings frame replaces one still queued (latest
// wins); any other frame is appended. A client whose queue overflows is
// marked slow and closed by its writer; it reconnects to a snapshot. It
// reports whether the client was marked slow by this call.
func (c *client) send(frame []byte, standings bool, limit int) (dropped, slowNow bool) {
	c.mu.Lock()
	if c.slow || c.ended || c.closeCode != 0 {
		c.mu.Unlock()
		return false, false
	}
	switch {
	case standings && c.standingsAt >= 0:
		// Latest wins. It goes to the end, after frames queued since the
		// older one, so that the client sees numbers in order (a standings
		// frame repeats the number of the stage message before it).
		c.queue = append(c.queue[:c.standingsAt], c.queue[c.standingsAt+1:]...)
		c.standingsAt = len(c.queue)
		c.queue = append(c.queue, frame)
		dropped = true
	case len(c.queue) >= limit:
		c.slow = true
		slowNow = true
	default:
		if standings {
			c.standingsAt = len(c.queue)
		}
		c.queue = append(c.queue, frame)
	}
	c.startWriterLocked()
	c.mu.Unlock()
	return dropped, slowNow
}

// maxCloseReason is the longest close reason a close frame carries (a
// control frame's 125 bytes less the code): with a longer one,
// coder/websocket sends no close frame at all.
const maxCloseReason = 123

// close asks the writer to close the connection with code and reason once
// what is queued has been written; the client sends nothing after it. The
// first close asked for wins. It does not wait.
func (c *client) close(code websocket.StatusCode, reason string) {
	if len(reason) > maxCloseReason {
		reason = reason[:maxCloseReason]
		for !utf8.ValidString(reason) { // cut inside a character
			reason = reason[:len(reason)-1]
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeCode != 0 || c.ended {
		return
	}
	c.closeCode, c.closeReason = code, reason
	c.startWriterLocked()
}

// closing reports whether a close was asked for.
func (c *client) closing() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode != 0
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
	if c.wire == nil || c.ended || c.closeCode != 0 {
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
	if c.wire == nil || c.writing || c.ended {
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
	c.standingsAt = -1
	return frames, false
}

// write is the writer goroutine: it pings when asked and writes what is
// queued until the queue is empty, then closes the connection if that was
// asked for, and ends. A failed write or ping, or a queue that overflowed,
// closes the connection (1008 for a slow client), which ends the reader
// too.
func (c *client) write() {
	defer c.writers.Done()
	c.mu.Lock()
	r := c.room
	c.mu.Unlock()
	if r != nil {
		r.awaitFanout()
	}
	for {
		c.mu.Lock()
		frames, slow := c.takeLocked()
		ping, dead, closeCode := c.pingDue, c.dead, c.closeCode
		c.pingDue = false
		if !slow && !dead && len(frames) == 0 && !ping && closeCode == 0 {
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
		case len(frames) > 0 || ping:
			err = c.writeBatch(ping, frames)
		default:
			c.closeConn()
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
	}
}

// writeBatch writes a ping (when asked) and frames as one batch, in one
// socket write.
func (c *client) writeBatch(ping bool, frames [][]byte) error {
	if c.metrics != nil {
		n := len(frames)
		if ping {
			n++
		}
		c.metrics.framesOut.Add(float64(n))
		c.metrics.socketWrites.Inc()
	}
	return c.wire.writeBatch(ping, frames)
}

// closeConn is the writer's last act when a close was asked for: the
// library writes the close frame through the wire, after every batch, and
// waits for the client's answer (at most 5 s).
func (c *client) closeConn() {
	c.mu.Lock()
	c.ended = true
	code, reason := c.closeCode, c.closeReason
	c.queue, c.spare, c.standingsAt = nil, nil, -1
	c.mu.Unlock()
	_ = c.conn.Close(code, reason)
}

// fail records why the writer stopped and closes the connection. A wire
// that is closed already (the library answered the client's close, or
// refused its bytes) is no failure: the reader is ending.
func (c *client) fail(err error) {
	closed := errors.Is(err, errWireClosed)
	c.mu.Lock()
	if !closed {
		c.werr = err
	}
	c.ended = true
	c.queue, c.spare, c.standingsAt = nil, nil, -1
	c.mu.Unlock()
	if closed {
		return
	}
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
// writer starts, and end waits for a running one (which may be closing
// the connection). It returns the writer's error, if any.
func (c *client) end() error {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
	c.writers.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queue, c.spare, c.standingsAt = nil, nil, -1
	return c.werr
}

// awaitFanout returns once the room's fan-out in progress, if any, is
// done (the room fans out under r.mu): a writer started by it then finds
// every frame of that delivery queued.
func (r *room) awaitFanout() {
	r.mu.Lock()
	//lint:ignore SA2001 an empty critical section: wait for the fan-out in progress
	r.mu.Unlock()
}
