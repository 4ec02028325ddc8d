package hub

import (
	"context"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// A client is one WebSocket connection. Frames reach it through a bounded
// queue drained by its own writer, so a slow phone never delays the others.
type client struct {
	conn  *websocket.Conn
	role  Role
	voter string // voter id; voters only
	panel string // the panel this voter votes in
	key   string // the panel key the voter presented

	mu     sync.Mutex
	queue  [][]byte
	spare  [][]byte
	board  int  // index in queue of a standings frame not yet written, or -1
	slow   bool // the queue overflowed: the writer closes the connection
	notify chan struct{}
}

func newClient(conn *websocket.Conn, role Role) *client {
	return &client{conn: conn, role: role, board: -1, notify: make(chan struct{}, 1)}
}

// send queues a frame. A standings frame replaces one still queued (latest
// wins); any other frame is appended. A client whose queue overflows is
// marked slow and closed by its writer; it reconnects to a snapshot. It
// reports whether the client was marked slow by this call.
func (c *client) send(frame []byte, standings bool, limit int) (dropped, slowNow bool) {
	c.mu.Lock()
	if c.slow {
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
	c.mu.Unlock()
	select {
	case c.notify <- struct{}{}:
	default:
	}
	return dropped, slowNow
}

// take returns the queued frames and empties the queue, or slow.
func (c *client) take() ([][]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.slow {
		return nil, true
	}
	frames := c.queue
	c.queue, c.spare = c.spare[:0], frames
	c.board = -1
	return frames, false
}

// writeLoop writes queued frames until ctx ends or a write fails; it pings
// every pingEvery so that dead connections are found.
func (c *client) writeLoop(ctx context.Context, writeTimeout, pingEvery time.Duration) error {
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := c.conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		case <-c.notify:
			frames, slow := c.take()
			if slow {
				return errSlowClient
			}
			for i, f := range frames {
				wctx, cancel := context.WithTimeout(ctx, writeTimeout)
				err := c.conn.Write(wctx, websocket.MessageText, f)
				cancel()
				frames[i] = nil
				if err != nil {
					return err
				}
			}
		}
	}
}
