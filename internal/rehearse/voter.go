package rehearse

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"leitai/voting"
)

// inFrame is every server → client frame, decoded as far as the tool needs.
type inFrame struct {
	Type      string            `json:"type"`
	Seq       int64             `json:"seq"`
	Stage     *voting.Stage     `json:"stage"`
	Standings *voting.Standings `json:"standings"`
	ID        string            `json:"id"`
	OK        bool              `json:"ok"`
	Receipt   *voting.Receipt   `json:"receipt"`
	Error     *struct {
		Code    voting.Code `json:"code"`
		Message string      `json:"message"`
	} `json:"error"`
}

// The server encodes "type" first; voters skip standings frames (the ranking
// a phone sees) without decoding them, which keeps thousands of simulated
// phones cheap. Anything else is decoded in full.
var standingsPrefix = []byte(`{"type":"standings"`)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readFrame reads one text frame into a pooled buffer; put it back with
// bufPool.Put when done.
func readFrame(conn *websocket.Conn) (*bytes.Buffer, error) {
	_, rd, err := conn.Reader(context.Background())
	if err != nil {
		return nil, err
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	if _, err := buf.ReadFrom(rd); err != nil {
		bufPool.Put(buf)
		return nil, err
	}
	return buf, nil
}

// pendingBallot is a ballot sent and not yet answered. It keeps its id
// until it is: a resend after a dropped connection must count once.
type pendingBallot struct {
	id      string
	ci      int // contestant index
	score   float64
	units   int64
	frame   []byte
	sentAt  time.Time
	due     time.Time // open loop: when it was due (its latency counts from then when that was earlier)
	retries int       // answers "unavailable" so far
}

// liveBallot is the voter's latest acknowledged ballot for a contestant.
type liveBallot struct {
	id    string
	units int64
}

// stageSeen is a stage message as a voter received it.
type stageSeen struct {
	version int64
	at      time.Time
}

// A voter is one simulated phone: one WebSocket, one reader goroutine, at
// most one timer and at most one ballot in flight at a time (so that the
// order of its acknowledgements is the order in which its ballots count).
type voter struct {
	r          *runner
	id         string // the voter id the server's credential names
	credential string
	base       string // the server's URL, for POST /api/voter
	panel      string
	key        string // panel key
	wsURL      string
	api        *api // for resolving a ballot over HTTP at the end
	hc         *http.Client

	mu       sync.Mutex
	link     // guarded by mu
	rng      *rand.Rand
	stage    voting.Stage
	timer    *time.Timer
	pending  *pendingBallot
	answered string // id of the last ballot answered
	attempts []int  // ballots made per contestant (index)
	live     []liveBallot
	seen     []stageSeen
}

// link is the connection state a simulated voter and screen share; its
// owner's mutex guards it.
type link struct {
	conn          *websocket.Conn
	seq           int64
	everConnected bool
	failed        bool
	stopped       bool
	droppedAt     time.Time
}

// attach records the connection that delivered a snapshot: fresh when it is
// a new connection, reconnected when an earlier one had been up, and how
// long the client was down.
func (l *link) attach(conn *websocket.Conn, now time.Time) (fresh, reconnected bool, down time.Duration) {
	fresh = l.conn != conn
	reconnected = fresh && l.everConnected
	if fresh {
		l.conn = conn
		if reconnected {
			down = now.Sub(l.droppedAt)
		}
		l.everConnected = true
	}
	return fresh, reconnected, down
}

// detach forgets conn if it is the current connection.
func (l *link) detach(conn *websocket.Conn) bool {
	was := l.conn == conn
	if was {
		l.conn = nil
		l.droppedAt = time.Now()
	}
	return was
}

// run asks the server for a voter credential, as the vote page does, then
// connects and keeps the voter connected until ctx ends.
func (v *voter) run(ctx context.Context) {
	if err := v.identify(ctx); err != nil {
		if ctx.Err() == nil && !v.r.stopping.Load() {
			v.r.c.connectErrors.Add(1)
			v.mu.Lock()
			v.failed = true
			v.mu.Unlock()
			v.r.voterFailed()
		}
		return
	}
	// The credential in a header, never in the URL.
	runPeer(ctx, v.r, v.wsURL, http.Header{"X-Leitai-Credential": {v.credential}}, v.hc, v.serve, func() {
		v.mu.Lock()
		v.failed = true
		v.mu.Unlock()
		v.r.voterFailed()
	})
}

// serve reads frames until the connection ends. It reports whether the
// connection got as far as its snapshot.
func (v *voter) serve(conn *websocket.Conn) bool {
	for {
		buf, err := readFrame(conn)
		if err != nil {
			return v.dropped(conn, err)
		}
		v.handle(conn, buf.Bytes())
		bufPool.Put(buf)
	}
}

func (v *voter) handle(conn *websocket.Conn, b []byte) {
	if bytes.HasPrefix(b, standingsPrefix) {
		v.r.c.standingsRecvd.Add(1)
		return
	}
	var f inFrame
	if err := json.Unmarshal(b, &f); err != nil {
		v.r.problemf("a voter could not decode a frame: %v", err)
		return
	}
	now := time.Now()
	switch f.Type {
	case "snapshot":
		v.onSnapshot(conn, &f, now)
	case "stage":
		v.onStage(conn, &f, now)
	case "ack":
		v.onAck(&f, now)
	case "standings":
		v.r.c.standingsRecvd.Add(1)
	case "event", "reset":
		v.onSeq(conn, f.Seq)
	case "deleted":
		v.r.problemf("the event was deleted while the rehearsal ran")
	case "error":
		v.r.c.errors.Add(1)
		if f.Error != nil {
			v.r.problemf("the server refused a voter's frame: %s: %s", f.Error.Code, f.Error.Message)
		}
	default:
		v.r.c.errors.Add(1)
	}
}

func (v *voter) onSnapshot(conn *websocket.Conn, f *inFrame, now time.Time) {
	if f.Stage == nil {
		v.r.problemf("a voter's snapshot has no stage")
		return
	}
	v.mu.Lock()
	if v.stopped {
		v.mu.Unlock()
		_ = conn.CloseNow()
		return
	}
	fresh, reconnected, down := v.attach(conn, now)
	v.seq = f.Seq
	v.stage = *f.Stage
	var resend []byte
	if fresh && v.pending != nil {
		resend = v.pending.frame
		v.pending.sentAt, v.pending.due = now, time.Time{}
	}
	v.maybeScheduleLocked()
	v.mu.Unlock()
	if fresh {
		v.r.peerUp(true, reconnected, down)
	}
	if resend != nil {
		v.r.c.resent.Add(1)
		v.write(conn, resend, true)
	}
}

// onSeq checks the sequence of an event message; a gap asks for a snapshot.
// It reports whether the message is new.
func (v *voter) onSeq(conn *websocket.Conn, seq int64) bool {
	v.mu.Lock()
	gap := seq > v.seq+1
	fresh := seq > v.seq
	if fresh {
		v.seq = seq
	}
	v.mu.Unlock()
	if gap {
		v.write(conn, []byte(`{"type":"resync"}`), false)
	}
	return fresh
}

func (v *voter) onStage(conn *websocket.Conn, f *inFrame, now time.Time) {
	if f.Stage == nil {
		v.r.problemf("a stage message without a stage")
		return
	}
	if !v.onSeq(conn, f.Seq) {
		return
	}
	v.mu.Lock()
	v.seen = append(v.seen, stageSeen{version: f.Stage.Version, at: now})
	if f.Stage.Version >= v.stage.Version {
		v.stage = *f.Stage
		if v.stage.Phase != voting.PhaseVoting && v.timer != nil && (v.pending == nil) {
			v.timer.Stop()
			v.timer = nil
		}
		v.maybeScheduleLocked()
	}
	v.mu.Unlock()
}

// maybeScheduleLocked starts the think time before the voter's first ballot
// for the contestant on stage, when voting is open for it.
func (v *voter) maybeScheduleLocked() {
	if v.stopped || v.conn == nil || v.pending != nil || v.timer != nil || v.stage.Phase != voting.PhaseVoting || v.r.cfg.Rate > 0 {
		return // (in the open loop the schedule casts, not the voter)
	}
	ci, ok := v.r.index[v.stage.Current]
	if !ok || v.attempts[ci] > 0 {
		return
	}
	v.scheduleLocked(ci, v.r.think(v.rng))
}

func (v *voter) scheduleLocked(ci int, d time.Duration) {
	v.timer = time.AfterFunc(d, func() { v.fire(ci) })
}

// fire casts a new ballot (a fresh id) for contestant ci if voting is still
// open for it.
func (v *voter) fire(ci int) {
	v.mu.Lock()
	v.timer = nil
	c := v.r.event.Contestants[ci].ID
	if v.stopped || v.conn == nil || v.pending != nil || v.stage.Phase != voting.PhaseVoting || v.stage.Current != c {
		v.mu.Unlock()
		return
	}
	p := v.newBallotLocked(ci)
	conn := v.conn
	v.mu.Unlock()
	v.r.c.pending.Add(1)
	v.write(conn, p.frame, true)
}

// resendAfter sends the pending ballot p again (same id) after d, for an
// "unavailable" answer.
func (v *voter) resendAfterLocked(p *pendingBallot, d time.Duration) {
	v.timer = time.AfterFunc(d, func() {
		v.mu.Lock()
		v.timer = nil
		if v.stopped || v.pending != p || v.conn == nil {
			v.mu.Unlock()
			return
		}
		p.sentAt, p.due = time.Now(), time.Time{}
		conn := v.conn
		v.mu.Unlock()
		v.r.c.resent.Add(1)
		v.write(conn, p.frame, true)
	})
}

// write sends a frame; a failure ends the connection, which the reader
// notices (a ballot in flight is resent after reconnecting).
func (v *voter) write(conn *websocket.Conn, frame []byte, ballot bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Write(ctx, websocket.MessageText, frame); err != nil {
		_ = conn.CloseNow()
		return
	}
	if ballot {
		v.r.c.sent.Add(1)
	}
}

func (v *voter) onAck(f *inFrame, now time.Time) {
	v.mu.Lock()
	p := v.pending
	if f.ID != "" && f.ID == v.answered {
		// A second answer to a ballot sent twice (a resend raced with its
		// first answer): the protocol gives the same receipt; nothing to do.
		v.mu.Unlock()
		return
	}
	if p == nil || p.id != f.ID {
		v.mu.Unlock()
		v.r.c.errors.Add(1)
		v.r.problemf("an ack for a ballot the voter is not waiting for (%.36s)", f.ID)
		return
	}
	if !f.OK {
		code := voting.CodeInternal
		if f.Error != nil {
			code = f.Error.Code
		}
		if code == voting.CodeUnavailable && p.retries < 10 && !v.stopped {
			p.retries++
			v.r.c.retried.Add(1)
			if v.timer != nil {
				v.timer.Stop()
			}
			v.resendAfterLocked(p, time.Duration(p.retries)*300*time.Millisecond)
			v.mu.Unlock()
			return
		}
		v.pending = nil
		v.answered = p.id
		v.mu.Unlock()
		v.r.refused(code, f.Error)
		return
	}
	v.pending = nil
	v.answered = p.id
	units := p.units
	replaced := false
	if rc := f.Receipt; rc == nil || rc.BallotID != p.id || int64(math.Round(rc.Score*voting.ScoreUnits)) != p.units {
		v.r.problemf("a receipt does not match its ballot %s", p.id)
		v.r.c.errors.Add(1)
		if rc != nil {
			units = int64(math.Round(rc.Score * voting.ScoreUnits))
		}
	} else {
		replaced = rc.Replaced
	}
	v.live[p.ci] = liveBallot{id: p.id, units: units}
	c := v.r.event.Contestants[p.ci].ID
	if !v.stopped && v.timer == nil && v.r.cfg.Rate <= 0 && v.stage.Phase == voting.PhaseVoting && v.stage.Current == c &&
		v.attempts[p.ci] <= v.r.cfg.MaxChanges && v.rng.Float64() < v.r.cfg.ChangeProb {
		v.scheduleLocked(p.ci, v.r.think(v.rng))
	}
	from := p.sentAt
	if !p.due.IsZero() && p.due.Before(from) {
		from = p.due // sent late: the generator's delay counts, as in a hall
	}
	v.mu.Unlock()
	v.r.acked(p.ci, replaced, now, now.Sub(from))
}

// dropped notes that conn ended and reports whether it had been connected
// (had its snapshot).
func (v *voter) dropped(conn *websocket.Conn, cause error) bool {
	v.mu.Lock()
	was := v.detach(conn)
	if was {
		if v.timer != nil {
			v.timer.Stop()
			v.timer = nil
		}
	}
	stopped := v.stopped
	v.mu.Unlock()
	if was {
		v.r.peerDown(true, stopped, cause)
	}
	return was
}

// stop ends the voter's connection for good.
func (v *voter) stop() {
	v.mu.Lock()
	v.stopped = true
	if v.timer != nil {
		v.timer.Stop()
		v.timer = nil
	}
	conn := v.conn
	v.mu.Unlock()
	if conn != nil {
		_ = conn.Close(websocket.StatusNormalClosure, "rehearsal over")
	}
}

// runPeer keeps one simulated client connected until ctx ends: it dials,
// serves the connection, and after a drop reconnects with the pages'
// backoff (0.5 s doubling to 10 s, with jitter). A client that cannot
// connect for a minute gives up and calls failed.
func runPeer(ctx context.Context, r *runner, wsURL string, hdr http.Header, hc *http.Client, serve func(*websocket.Conn) bool, failed func()) {
	backoff := 500 * time.Millisecond
	since := time.Now() // start of the current run of failed attempts
	for ctx.Err() == nil && !r.stopping.Load() {
		dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		conn, resp, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: hdr})
		cancel()
		if err != nil {
			if ctx.Err() != nil || r.stopping.Load() {
				return
			}
			r.c.connectErrors.Add(1)
			r.noteDialError(err, resp)
			if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden) ||
				time.Since(since) > r.cfg.GiveUp {
				failed()
				return
			}
			if !sleepCtx(ctx, jitter(backoff)) {
				return
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		conn.SetReadLimit(8 << 20)
		// Reads wait without a deadline (the server pings); the end of the
		// run closes the connection, which ends the read.
		stop := context.AfterFunc(ctx, func() { _ = conn.CloseNow() })
		connected := serve(conn)
		stop()
		_ = conn.CloseNow()
		if ctx.Err() != nil || r.stopping.Load() {
			return
		}
		if connected {
			backoff = 500 * time.Millisecond
			since = time.Now()
		} else {
			// The handshake worked but no snapshot came (the server
			// closed at once, say 1013 try again later): a failed attempt.
			r.c.connectErrors.Add(1)
			if time.Since(since) > r.cfg.GiveUp {
				failed()
				return
			}
		}
		if !sleepCtx(ctx, jitter(backoff)) {
			return
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// identify gets a credential from POST /api/voter, as a phone that scanned
// the big screen's QR code does (with the current hall code; judges with
// their panel key), retrying (the server limits new credentials per
// address) until GiveUp.
func (v *voter) identify(ctx context.Context) error {
	backoff := 200 * time.Millisecond
	since := time.Now()
	for {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		req := voterRequest{Event: v.r.event.ID, Panel: v.panel, PanelKey: v.key}
		var err error
		if v.key == "" {
			req.HallCode, err = v.r.hall.get(rctx, v.r.host, v.r.event.ID)
		}
		var cred, id string
		if err == nil {
			cred, id, err = issueCredential(rctx, v.hc, v.base, req)
		}
		cancel()
		if err == nil {
			v.credential, v.id = cred, id
			return nil
		}
		if code(err) == voting.CodeHallCode {
			v.r.hall.expire() // it changed meanwhile
		}
		if ctx.Err() != nil || v.r.stopping.Load() || time.Since(since) > v.r.cfg.GiveUp {
			return err
		}
		if !sleepCtx(ctx, jitter(backoff)) {
			return ctx.Err()
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// voterRequest is the body of POST /api/voter.
type voterRequest struct {
	Event    string `json:"event"`
	HallCode string `json:"hallCode,omitempty"`
	Panel    string `json:"panel,omitempty"`
	PanelKey string `json:"panelKey,omitempty"`
}

func issueCredential(ctx context.Context, hc *http.Client, base string, body voterRequest) (credential, voter string, err error) {
	a := &api{base: strings.TrimRight(base, "/"), hc: hc}
	var out struct{ Voter, Credential string }
	if err := a.do(ctx, http.MethodPost, "/api/voter", body, &out); err != nil {
		return "", "", err
	}
	return out.Credential, out.Voter, nil
}

// hallCode caches the event's hall code for the simulated phones: read
// with the host key, kept until it is no longer shown.
type hallCode struct {
	mu    sync.Mutex
	code  string
	until time.Time
}

func (h *hallCode) get(ctx context.Context, host *api, event string) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.code != "" && time.Now().Before(h.until) {
		return h.code, nil
	}
	code, left, err := host.hallCode(ctx, event)
	if err != nil {
		return "", err
	}
	h.code, h.until = code, time.Now().Add(left)
	return code, nil
}

func (h *hallCode) expire() {
	h.mu.Lock()
	h.until = time.Time{}
	h.mu.Unlock()
}
