package hubtest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/voting"
)

// Msg is any server frame, decoded loosely.
type Msg struct {
	Type       string                  `json:"type"`
	Seq        int64                   `json:"seq"`
	Role       hub.Role                `json:"role"`
	Now        int64                   `json:"now"`
	ID         string                  `json:"id"`
	OK         bool                    `json:"ok"`
	Event      *voting.Event           `json:"event"`
	Stage      *voting.Stage           `json:"stage"`
	Standings  *voting.Standings       `json:"standings"`
	Ranking    []voting.RankingRow     `json:"ranking"`
	Turnout    *hub.Turnout            `json:"turnout"`
	Ballots    *[]voting.CountedBallot `json:"ballots"`
	Voter      string                  `json:"voter"`
	Panel      string                  `json:"panel"`
	Receipt    *voting.Receipt         `json:"receipt"`
	Error      *access.ErrorBody       `json:"error"`
	Contestant string                  `json:"contestant"`

	Raw []byte `json:"-"` // the frame as received
}

// Client is a test WebSocket client. Its reader goroutine records every
// frame; waits look at the record.
type Client struct {
	T    testing.TB
	Name string
	Conn *websocket.Conn

	mu       sync.Mutex
	frames   []Msg
	readErr  error // why reading ended
	notify   chan struct{}
	done     chan struct{}
	started  bool
	cancel   context.CancelFunc
	readCtx  context.Context
	closeAll func()
}

// CloseAll drops the connection without a close frame and waits for the
// reader.
func (c *Client) CloseAll() { c.closeAll() }

// DialOptions tune DialWith.
type DialOptions struct {
	Query   string // role=…&credential=…
	NoRead  bool   // do not start reading (a client that stops reading)
	DialCtx func(ctx context.Context, network, addr string) (net.Conn, error)
	OnPing  func() // called for every ping the client answers
	Origin  string // the Origin header, as a browser page would send it
	// HostKey is sent as the control page sends it: in the leitai-key.
	// subprotocol.
	HostKey   string
	Protocols []string    // subprotocols to offer (a page's credential)
	Header    http.Header // more handshake headers
}

// DialHost opens a host socket with the host key.
func (e *Env) DialHost(event string) *Client {
	e.T.Helper()
	return e.DialWith(event, DialOptions{Query: "role=host", HostKey: HostKey})
}

// Dial opens a socket to /e/{event}/ws?query and starts reading.
func (e *Env) Dial(event, query string) *Client {
	e.T.Helper()
	return e.DialWith(event, DialOptions{Query: query})
}

// DialWith opens a socket with options; the test fails if it cannot.
func (e *Env) DialWith(event string, o DialOptions) *Client {
	e.T.Helper()
	c, resp, err := e.TryDial(event, o)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		e.T.Fatalf("dial %s?%s: %v (HTTP %d)", event, o.Query, err, status)
	}
	return c
}

// TryDial opens a socket with options and returns the handshake's error.
func (e *Env) TryDial(event string, o DialOptions) (*Client, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(e.Srv.URL, "http") + "/e/" + event + "/ws?" + o.Query
	tr := &http.Transport{}
	if o.DialCtx != nil {
		tr.DialContext = o.DialCtx
	}
	hc := &http.Client{Transport: tr}
	dctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	dopts := &websocket.DialOptions{HTTPClient: hc, HTTPHeader: http.Header{}}
	for k, v := range o.Header {
		dopts.HTTPHeader[k] = v
	}
	if o.Origin != "" {
		dopts.HTTPHeader.Set("Origin", o.Origin)
	}
	dopts.Subprotocols = o.Protocols
	if o.HostKey != "" {
		dopts.Subprotocols = []string{"leitai", "leitai-key." + base64.RawURLEncoding.EncodeToString([]byte(o.HostKey))}
	}
	if o.OnPing != nil {
		dopts.OnPingReceived = func(context.Context, []byte) bool { o.OnPing(); return true }
	}
	conn, resp, err := websocket.Dial(dctx, u, dopts)
	if err != nil {
		tr.CloseIdleConnections()
		return nil, resp, err
	}
	conn.SetReadLimit(1 << 22)
	ctx, stop := context.WithCancel(context.Background())
	c := &Client{T: e.T, Name: o.Query, Conn: conn, notify: make(chan struct{}, 1), done: make(chan struct{}),
		cancel: stop, readCtx: ctx}
	c.closeAll = sync.OnceFunc(func() {
		_ = conn.CloseNow()
		stop()
		c.mu.Lock()
		started := c.started
		c.mu.Unlock()
		if started {
			<-c.done
		}
		tr.CloseIdleConnections()
	})
	e.T.Cleanup(c.closeAll)
	if !o.NoRead {
		c.StartReading()
	}
	return c, resp, nil
}

// StartReading starts the reader goroutine.
func (c *Client) StartReading() {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return
	}
	c.started = true
	c.mu.Unlock()
	go func() {
		defer close(c.done)
		for {
			_, data, err := c.Conn.Read(c.readCtx)
			c.mu.Lock()
			if err != nil {
				c.readErr = err
			} else {
				var m Msg
				if jerr := json.Unmarshal(data, &m); jerr != nil {
					c.readErr = fmt.Errorf("undecodable frame %q: %w", data, jerr)
					err = jerr
				} else {
					m.Raw = data
					c.frames = append(c.frames, m)
				}
			}
			c.mu.Unlock()
			select {
			case c.notify <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
}

// Close closes the socket normally and waits for the reader.
func (c *Client) Close() {
	_ = c.Conn.Close(websocket.StatusNormalClosure, "bye")
	c.closeAll()
}

// Send writes one text frame: a string or bytes as they are, anything
// else as JSON.
func (c *Client) Send(v any) {
	c.T.Helper()
	var data []byte
	switch b := v.(type) {
	case string:
		data = []byte(b)
	case []byte:
		data = b
	default:
		var err error
		if data, err = json.Marshal(v); err != nil {
			c.T.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), Wait)
	defer cancel()
	if err := c.Conn.Write(ctx, websocket.MessageText, data); err != nil {
		c.T.Fatalf("%s: write: %v", c.Name, err)
	}
}

// All returns a copy of the frames so far.
func (c *Client) All() []Msg {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Msg(nil), c.frames...)
}

// Err is why reading ended (nil while it goes on).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErr
}

// WaitFor waits until pred holds for the frames so far (or fails the test
// after the deadline) and returns them.
func (c *Client) WaitFor(what string, pred func([]Msg) bool) []Msg {
	c.T.Helper()
	deadline := time.NewTimer(Wait)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		frames, rerr := c.frames, c.readErr
		ok := pred(frames)
		c.mu.Unlock()
		if ok {
			return c.All()
		}
		if rerr != nil {
			c.T.Fatalf("%s: waiting for %s: the connection ended: %v (after %d frames: %s)", c.Name, what, rerr, len(frames), Describe(frames))
		}
		select {
		case <-c.notify:
		case <-deadline.C:
			c.T.Fatalf("%s: waiting for %s: gave up after %d frames: %s", c.Name, what, len(frames), Describe(frames))
		}
	}
}

// WaitClosed waits until the connection ended and returns why.
func (c *Client) WaitClosed() error {
	c.T.Helper()
	select {
	case <-c.done:
	case <-time.After(Wait):
		c.T.Fatalf("%s: still open", c.Name)
	}
	return c.Err()
}

// Describe shows the last frames, for a failure message.
func Describe(frames []Msg) string {
	var sb strings.Builder
	from := max(0, len(frames)-12)
	if from > 0 {
		fmt.Fprintf(&sb, "…%d earlier… ", from)
	}
	for _, m := range frames[from:] {
		sb.WriteString(voting.Excerpt(string(m.Raw), 160))
		sb.WriteString(" | ")
	}
	return sb.String()
}

// Count is how many frames of a type there are.
func Count(frames []Msg, typ string) int {
	n := 0
	for _, m := range frames {
		if m.Type == typ {
			n++
		}
	}
	return n
}

// Last returns the last frame of a type.
func Last(frames []Msg, typ string) (Msg, bool) {
	for i := len(frames) - 1; i >= 0; i-- {
		if frames[i].Type == typ {
			return frames[i], true
		}
	}
	return Msg{}, false
}

// View is what a client knows after applying the frames in order, as a
// page would: snapshots replace everything, stage and standings frames
// update their part.
type View struct {
	Seq       int64
	Stage     voting.Stage
	Standings *voting.Standings
	Ranking   []voting.RankingRow
	Turnout   hub.Turnout
}

// ViewOf applies frames in order.
func ViewOf(frames []Msg) View {
	var v View
	for _, m := range frames {
		switch m.Type {
		case "snapshot":
			v = View{Seq: m.Seq, Stage: *m.Stage, Standings: m.Standings, Ranking: m.Ranking, Turnout: *m.Turnout}
		case "stage":
			if m.Seq > v.Seq {
				v.Seq, v.Stage = m.Seq, *m.Stage
			}
		case "standings":
			if m.Seq >= v.Seq {
				v.Seq, v.Standings, v.Ranking, v.Turnout = m.Seq, m.Standings, m.Ranking, *m.Turnout
			}
		}
	}
	return v
}

// WaitStage waits until the client's view has the stage at version v (or
// later) and returns that stage.
func (c *Client) WaitStage(what string, pred func(voting.Stage) bool) voting.Stage {
	c.T.Helper()
	frames := c.WaitFor(what, func(f []Msg) bool { return len(f) > 0 && pred(ViewOf(f).Stage) })
	return ViewOf(frames).Stage
}

// WaitSnapshot waits for the first frame, which must be a snapshot.
func (c *Client) WaitSnapshot() Msg {
	c.T.Helper()
	frames := c.WaitFor("the snapshot", func(f []Msg) bool { return len(f) > 0 })
	if frames[0].Type != "snapshot" {
		c.T.Fatalf("%s: first frame is %s, want snapshot", c.Name, frames[0].Raw)
	}
	return frames[0]
}

// Ballot sends a ballot and waits for its ack.
func (c *Client) Ballot(id, contestant string, score float64) Msg {
	c.T.Helper()
	c.Send(map[string]any{"type": "ballot", "id": id, "contestant": contestant, "score": score})
	return c.WaitAck(id)
}

// WaitAck waits for the ack with the given id.
func (c *Client) WaitAck(id string) Msg {
	c.T.Helper()
	frames := c.WaitFor("ack "+id, func(f []Msg) bool {
		for _, m := range f {
			if m.Type == "ack" && m.ID == id {
				return true
			}
		}
		return false
	})
	for _, m := range frames {
		if m.Type == "ack" && m.ID == id {
			return m
		}
	}
	panic("unreachable")
}

// Creds sign the test voters' credentials (a fixed secret, a generous
// issuing rate).
var Creds = access.NewCredentials(bytes.Repeat([]byte{42}, 32), false, 1000)
