// Package hub is the live side of leitai: WebSocket sessions, one room per
// event, stage broadcast, coalesced standings, and the broker between
// instances. The HTTP API (hub/api) publishes through it; the doors
// (credentials, host key, per-address limits) are hub/access.
//
// Files: hub.go the hub and its sockets (ServeWS, reading, pings,
// handling messages); client.go one connection's queue and writer;
// config.go the settings; rooms.go joining and leaving rooms; room.go one
// event's room and its fan-out; loops.go the standings, presence and
// countdown loops and what the API calls (Publish, MarkDirty, Cast);
// admit.go who may open a socket; message.go the frames; broker.go the
// broker between instances; metrics.go the counters.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"leitai/hub/access"
	"leitai/voting"
)

// Hub serves the live side of every event on this instance.
type Hub struct {
	cfg     Config
	service *voting.Service
	broker  Broker
	log     *slog.Logger
	now     func() time.Time
	metrics *Metrics

	mu      sync.Mutex
	rooms   map[string]*room
	closing bool // Close has begun: no new connections

	dirtyMu sync.Mutex
	dirty   map[string]bool

	access *access.Guard // host key, credentials, per-address caps

	ctx    context.Context // ends when the hub closes
	cancel context.CancelFunc
	conns  sync.WaitGroup // open WebSocket connections
	loops  sync.WaitGroup // background loops

	pingNext atomic.Uint32 // spreads clients over the ping loop's slots
}

var errSlowClient = errors.New("client too slow")

// errTooManyConnections refuses a voter's socket beyond the cap.
var errTooManyConnections = voting.Errorf(voting.CodeConflict, "this phone has too many pages open; close one")

// New starts a hub. Close stops it.
func New(cfg Config) (*Hub, error) {
	cfg.setDefaults()
	if cfg.Service == nil || cfg.Broker == nil {
		return nil, errors.New("hub: Service and Broker are required")
	}
	if cfg.Access == nil {
		return nil, errors.New("hub: Access is required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg: cfg, service: cfg.Service, broker: cfg.Broker, log: cfg.Logger, now: cfg.Now,
		metrics: cfg.Metrics, rooms: make(map[string]*room), dirty: make(map[string]bool),
		ctx: ctx, cancel: cancel, access: cfg.Access,
	}
	h.loops.Add(2)
	go h.standingsLoop()
	go h.pingLoop()
	return h, nil
}

// Metrics returns the hub's counters.
func (h *Hub) Metrics() *Metrics { return h.metrics }

// Close tells every client to reconnect (going away), waits for their
// connections to end, and stops the hub.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closing = true
	var clients []*client
	for _, r := range h.rooms {
		r.mu.Lock()
		for c := range r.clients {
			clients = append(clients, c)
		}
		r.mu.Unlock()
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.close(websocket.StatusGoingAway, "server restarting; reconnect")
	}
	// Each connection ends once its writer has sent the close (after
	// what was queued) and the page answered it, or 5 s later; ballots
	// in flight meanwhile are still stored and acknowledged.
	h.conns.Wait()
	h.cancel()
	h.loops.Wait()
}

// kick has the client's writer close its connection (1013, after what is
// queued), so that the page reconnects to a snapshot. It does not wait:
// the room's lock may be held.
func (h *Hub) kick(c *client, reason string) {
	c.close(websocket.StatusTryAgainLater, reason)
}

// Routes registers the WebSocket endpoint on mux (the HTTP API is
// hub/api's).
func (h *Hub) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /e/{event}/ws", h.ServeWS)
}

// ServeWS upgrades GET /e/{event}/ws (see admit for who may): it checks
// the origin, the event and the page's credentials, upgrades, joins the
// event's room and hands the connection to a goroutine of its own
// (serveConn). The handler then returns: net/http's request, response and
// the frames of its connection goroutine are not kept for the life of the
// socket.
func (h *Hub) ServeWS(w http.ResponseWriter, r *http.Request) {
	event := r.PathValue("event")
	adm, ballots, err := h.admitSocket(r, event)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	// Count the connection before Close can start waiting for them.
	h.mu.Lock()
	closing := h.closing
	if !closing {
		h.conns.Add(1)
	}
	h.mu.Unlock()
	if closing {
		adm.release()
		access.WriteError(w, voting.Errorf(voting.CodeUnavailable, "the server is restarting; try again"))
		return
	}
	c, rm, ok := h.upgrade(w, r, event, adm, ballots)
	if !ok {
		h.conns.Done()
		adm.release()
		return
	}
	go func() {
		h.serveConn(rm, c)
		adm.release()
	}()
}

// admitSocket decides whether the request may open a socket, and loads a
// voter's ballots for the snapshot. An admission it returns holds a place
// of its address's cap until released.
func (h *Hub) admitSocket(r *http.Request, event string) (admission, *[]voting.CountedBallot, error) {
	ctx := r.Context()
	if !h.access.OriginAllowed(r) {
		return admission{}, nil, access.ErrCrossOrigin
	}
	ev, err := h.service.Event(ctx, event)
	if err != nil {
		return admission{}, nil, err
	}
	adm, err := h.admit(r, &ev)
	if err != nil {
		return admission{}, nil, err
	}
	if adm.role != RoleVoter {
		return adm, nil, nil
	}
	bs, err := h.service.VoterBallots(ctx, event, adm.voter)
	if err != nil {
		adm.release()
		return admission{}, nil, err
	}
	return adm, &bs, nil
}

// upgrade accepts the WebSocket and joins the client to the event's room.
// It reports false when the client is not served (the upgrade failed and
// Accept answered, or the join failed and the socket was closed with why).
func (h *Hub) upgrade(w http.ResponseWriter, r *http.Request, event string, adm admission, ballots *[]voting.CountedBallot) (*client, *room, bool) {
	c := newClient(nil, internRole(adm.role))
	uw := &upgradeWriter{ResponseWriter: w, timeout: h.cfg.WriteTimeout}
	conn, err := websocket.Accept(uw, r, &websocket.AcceptOptions{
		// OriginAllowed has checked the Origin (with its scheme).
		InsecureSkipVerify: true, OnPongReceived: c.pong, Subprotocols: []string{access.ProtoLeitai},
	})
	if err != nil {
		return nil, nil, false // Accept wrote the HTTP error
	}
	limit := h.cfg.VoterReadLimit
	if c.role == RoleHost {
		limit = h.cfg.HostReadLimit
	}
	conn.SetReadLimit(limit)
	c.conn, c.wire, c.metrics = conn, uw.wire, h.metrics
	// Copies: the originals may share memory with the request line or
	// the cookie, which the connection would otherwise keep alive.
	c.voter, c.panel, c.key = strings.Clone(adm.voter), strings.Clone(adm.panel), strings.Clone(adm.key)
	c.pingSlot = h.pingNext.Add(1) % pingSlots

	rm, err := h.join(h.ctx, event, c, ballots)
	if err != nil {
		status := websocket.StatusTryAgainLater
		if errors.Is(err, errTooManyConnections) {
			status = websocket.StatusPolicyViolation
		}
		c.close(status, voting.ErrorMessage(err))
		_ = c.end()
		_ = conn.CloseNow()
		return nil, nil, false
	}
	c.mu.Lock()
	c.room = rm
	c.mu.Unlock()
	// Reads run without a context (a context with a Done channel costs a
	// registration per read): Hub.Close closes the connections of the
	// clients it finds in the rooms. One that joined while Close was
	// looking is closed here: Close collects the clients in the same
	// critical section of h.mu in which it sets closing.
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if closing {
		c.close(websocket.StatusGoingAway, "server restarting; reconnect")
	}
	return c, rm, true
}

// serveConn reads the client's messages until the connection ends, then
// takes the client out of its room and waits for its writer. A close that
// was asked for (a kick, a flood, Hub.Close) is left to the writer, which
// sends it after what was queued; otherwise the connection is closed at
// once, so that a writer stuck on a dead socket fails now.
func (h *Hub) serveConn(rm *room, c *client) {
	defer h.conns.Done()
	err := h.readLoop(h.ctx, rm, c)
	h.leave(rm, c)
	if !c.closing() {
		_ = c.conn.CloseNow()
	}
	werr := c.end()
	_ = c.conn.CloseNow()
	h.logClose(rm.event, c.role, err, werr)
}

// pingSlots: the ping loop ticks pingSlots times per PingInterval and
// pings one slot of the clients at each tick, so that pings (and the
// writer goroutines they start) are spread over the interval.
const pingSlots = 20

// pingLoop is the one ticker behind every connection's pings: each client
// is pinged once per PingInterval, and a ping not answered within
// WriteTimeout (seen at the first tick after) closes the connection.
func (h *Hub) pingLoop() {
	defer h.loops.Done()
	t := time.NewTicker(max(h.cfg.PingInterval/pingSlots, time.Millisecond))
	defer t.Stop()
	var slot uint32
	for {
		select {
		case <-h.ctx.Done():
			return
		case now := <-t.C:
			slot = (slot + 1) % pingSlots
			ns := now.UnixNano()
			for _, r := range h.roomList() {
				r.mu.Lock()
				for c := range r.clients {
					c.tick(ns, c.pingSlot == slot, h.cfg.WriteTimeout)
				}
				r.mu.Unlock()
			}
		}
	}
}

// readLoop reads and answers the client's messages. A connection that
// sends faster than MessageRate gets its extra messages refused (ballots
// with an "unavailable" ack, other messages with at most one error frame a
// second) and,
// after FloodClose refusals, is closed with 1008; everyone else is served
// meanwhile, since each connection has its own reader. ctx bounds the
// handling of messages, not the reads.
func (h *Hub) readLoop(ctx context.Context, rm *room, c *client) error {
	// The limiter is made at the first message: an idle phone costs none.
	var f *flood
	for {
		_, data, err := c.conn.Read(context.Background())
		if err != nil {
			return err
		}
		if f == nil {
			f = &flood{limit: rate.NewLimiter(rate.Limit(h.cfg.MessageRate), h.cfg.MessageBurst)}
		}
		if now := time.Now(); !f.limit.AllowN(now, 1) {
			if h.refuse(c, f, now, data) {
				return errFlood
			}
			continue
		}
		c.busy.Store(true)
		h.handle(ctx, rm, c, data)
		c.readyAt.Store(time.Now().UnixNano())
		c.busy.Store(false)
	}
}

// flood is a connection's message budget.
type flood struct {
	limit       *rate.Limiter
	refused     int
	lastWarning time.Time
}

// refuse answers a message beyond the budget; it reports whether the
// connection was closed for flooding.
func (h *Hub) refuse(c *client, f *flood, now time.Time, data []byte) bool {
	f.refused++
	h.metrics.floodRefused.Inc()
	if f.refused >= h.cfg.FloodClose {
		h.metrics.floodClosed.Inc()
		c.close(websocket.StatusPolicyViolation, "too many messages")
		return true
	}
	// A refused ballot is acked as unavailable, so that a client waiting
	// for it resends it (same id) later; other messages get at most one
	// warning a second.
	if m, err := DecodeClientMessage(data); err == nil && m.Type == "ballot" {
		c.send(mustJSON(ackFrame{Type: "ack", ID: voting.Excerpt(m.ID, 64), Error: access.ErrorBodyOf(voting.Errorf(voting.CodeUnavailable,
			"too many messages from this connection; try again in a moment"))}), false, h.cfg.SendQueue)
	} else if now.Sub(f.lastWarning) >= time.Second {
		f.lastWarning = now
		c.send(mustJSON(errorFrame{Type: "error", Error: access.ErrorBodyOf(voting.Errorf(voting.CodeInvalid,
			"too many messages; slow down (this one was ignored)"))}), false, h.cfg.SendQueue)
	}
	return false
}

var errFlood = errors.New("client flooded the connection")

// handle answers one client message.
func (h *Hub) handle(ctx context.Context, rm *room, c *client, data []byte) {
	m, err := DecodeClientMessage(data)
	if err != nil {
		c.send(mustJSON(errorFrame{Type: "error", Error: access.ErrorBodyOf(err)}), false, h.cfg.SendQueue)
		return
	}
	switch m.Type {
	case "ballot":
		if c.role != RoleVoter {
			c.send(mustJSON(ackFrame{Type: "ack", ID: voting.Excerpt(m.ID, 64), Error: access.ErrorBodyOf(voting.Errorf(voting.CodeForbidden, "only voters cast ballots"))}), false, h.cfg.SendQueue)
			return
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rec, err := h.Cast(cctx, m.CastRequest(rm.event, c.voter, c.panel, c.key))
		cancel()
		ack := ackFrame{Type: "ack", ID: voting.Excerpt(m.ID, 64), OK: err == nil}
		if err != nil {
			ack.Error = access.ErrorBodyOf(err)
		} else {
			ack.Receipt = &rec
		}
		c.send(mustJSON(ack), false, h.cfg.SendQueue)
	case "resync":
		var ballots *[]voting.CountedBallot
		if c.role == RoleVoter {
			bs, err := h.service.VoterBallots(ctx, rm.event, c.voter)
			if err == nil {
				ballots = &bs
			}
		}
		rm.mu.Lock()
		if !rm.loaded {
			// Deleted, or a resync failed: try to load; if the event
			// cannot be loaded, the client reconnects and learns why.
			if err := rm.load(ctx); err != nil {
				rm.mu.Unlock()
				h.kick(c, "could not resynchronise")
				return
			}
		}
		rm.sendSnapshotLocked(c, ballots)
		rm.mu.Unlock()
	}
}

func (h *Hub) logClose(event string, role Role, readErr, writeErr error) {
	for _, err := range []error{readErr, writeErr} {
		if err == nil || errors.Is(err, context.Canceled) {
			continue
		}
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusGoingAway, websocket.StatusNoStatusRcvd:
			continue
		case websocket.StatusMessageTooBig:
			h.log.Info("closed a connection that sent an oversized frame", "event", event, "role", role)
			return
		}
		if errors.Is(err, errSlowClient) {
			h.log.Info("closed a slow connection", "event", event, "role", role)
			return
		}
		if errors.Is(err, errFlood) {
			h.log.Info("closed a connection that flooded the server with messages", "event", event, "role", role)
			return
		}
		h.log.Debug("connection ended", "event", event, "role", role, "err", err)
		return
	}
}

// String describes the hub for logs.
func (h *Hub) String() string { return fmt.Sprintf("hub %s", h.cfg.Instance) }
