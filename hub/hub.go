// Package hub is the live side of leitai: WebSocket sessions, one room per
// event, stage broadcast, coalesced standings, and the HTTP API through
// which host commands and fallback ballots arrive.
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
	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"leitai/voting"
)

// Config configures a Hub. Zero values take the defaults below.
type Config struct {
	Service *voting.Service
	Broker  Broker
	// HostKey guards every host action. It must not be empty.
	HostKey string
	// Credentials issue and check voter credentials; required: voter
	// sockets and ballots without a valid one are refused.
	Credentials *Credentials
	// MaxVoterConnections caps one voter's open sockets on this instance
	// (default 4: a phone with a few tabs, not a script).
	MaxVoterConnections int
	Logger              *slog.Logger
	// Instance names this process among those serving the same events.
	Instance string
	// StandingsInterval is the shortest time between two standings
	// messages of one event (default 100 ms).
	StandingsInterval time.Duration
	// VoterStandingsInterval is the shortest time between two standings
	// frames to a phone (default 1 s); hosts and screens get every one.
	VoterStandingsInterval time.Duration
	// VoterStandingsBudget bounds the periodic standings frames to one
	// event's phones on this instance, per second (default 4,000): with
	// more phones than that, each gets them less often than every
	// VoterStandingsInterval (19,000 phones: every 4.75 s), so that the
	// turnout counter does not take the CPU that acks and stage changes
	// need. Changes of what the audience may see (ranking shown or
	// hidden, a place revealed) still reach every phone at once.
	VoterStandingsBudget int
	// SendQueue bounds each connection's queue of frames (default 64).
	SendQueue int
	// WriteTimeout bounds every write to a connection (default 5 s).
	WriteTimeout time.Duration
	// PingInterval is how often connections are pinged (default 20 s).
	PingInterval time.Duration
	// VoterReadLimit and HostReadLimit bound incoming frames (defaults
	// 4 KiB and 64 KiB); a bigger frame closes the connection (1009).
	VoterReadLimit int64
	HostReadLimit  int64
	// MessageRate and MessageBurst bound the messages one connection may
	// send (defaults 10 per second, burst 30: a phone sends a ballot every
	// few seconds). Messages beyond are refused; FloodClose refused
	// messages close the connection with 1008 (default 100).
	MessageRate  float64
	MessageBurst int
	FloodClose   int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Metrics, when set, are the metrics to count into (default: new).
	Metrics *Metrics
	// PublicURL, when set, is the only host name the server answers to
	// besides IP addresses and localhost, and an origin its pages may
	// have (Protect).
	PublicURL string
	// BodyTimeout bounds the time a request body may take to arrive
	// (default 15 s); MaxRequestsPerAddress the HTTP requests one client
	// address may have in flight (default 256); MaxScreensPerAddress the
	// screen sockets one address may hold on this instance (default 16).
	BodyTimeout           time.Duration
	MaxRequestsPerAddress int
	MaxScreensPerAddress  int
	// HostKeyFailures is how many wrong host keys one address may try
	// before it is refused with 429, gaining one more every
	// HostKeyFailureEvery (default HostKeyFailureBurst).
	HostKeyFailures int
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Instance == "" {
		c.Instance = uuid.NewString()
	}
	if c.StandingsInterval <= 0 {
		c.StandingsInterval = 100 * time.Millisecond
	}
	if c.MaxVoterConnections <= 0 {
		c.MaxVoterConnections = 4
	}
	if c.VoterStandingsInterval <= 0 {
		c.VoterStandingsInterval = time.Second
	}
	if c.VoterStandingsBudget <= 0 {
		c.VoterStandingsBudget = 4000
	}
	if c.SendQueue <= 0 {
		c.SendQueue = 64
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 5 * time.Second
	}
	if c.PingInterval <= 0 {
		c.PingInterval = 20 * time.Second
	}
	if c.VoterReadLimit <= 0 {
		c.VoterReadLimit = 4 << 10
	}
	if c.MessageRate <= 0 {
		c.MessageRate = 10
	}
	if c.MessageBurst <= 0 {
		c.MessageBurst = 30
	}
	if c.FloodClose <= 0 {
		c.FloodClose = 100
	}
	if c.HostReadLimit <= 0 {
		c.HostReadLimit = 64 << 10
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 15 * time.Second
	}
	if c.MaxRequestsPerAddress <= 0 {
		c.MaxRequestsPerAddress = 256
	}
	if c.MaxScreensPerAddress <= 0 {
		c.MaxScreensPerAddress = 16
	}
	if c.HostKeyFailures <= 0 {
		c.HostKeyFailures = HostKeyFailureBurst
	}
}

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

	hostKeys *hostKeys
	// Per-address and per-voter limits (limits.go).
	keyFailures *addressLimiter // wrong host keys
	httpBallots *addressLimiter // HTTP ballots, per voter
	issued      *issueWatch     // new credentials per address and minute
	inflight    *addressCounter // HTTP requests in flight
	screens     *addressCounter // screen sockets

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
	if len(cfg.HostKey) < MinHostKeyLength {
		return nil, fmt.Errorf("hub: HostKey must have at least %d characters", MinHostKeyLength)
	}
	if cfg.Credentials == nil {
		return nil, errors.New("hub: Credentials are required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg: cfg, service: cfg.Service, broker: cfg.Broker, log: cfg.Logger, now: cfg.Now,
		metrics: cfg.Metrics, rooms: make(map[string]*room), dirty: make(map[string]bool),
		ctx: ctx, cancel: cancel,
		hostKeys:    &hostKeys{store: cfg.Service.Store(), seed: keyDigest(cfg.HostKey)},
		keyFailures: newAddressLimiter(rate.Every(HostKeyFailureEvery), cfg.HostKeyFailures),
		httpBallots: newAddressLimiter(rate.Limit(cfg.MessageRate), cfg.MessageBurst),
		issued:      &issueWatch{threshold: IssueWatchThreshold},
		inflight:    newAddressCounter(cfg.MaxRequestsPerAddress),
		screens:     newAddressCounter(cfg.MaxScreensPerAddress),
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

// join adds c to the event's room (creating and loading the room if needed)
// and queues its snapshot.
func (h *Hub) join(ctx context.Context, event string, c *client, ballots *[]voting.CountedBallot) (*room, error) {
	for {
		r, err := h.room(ctx, event)
		if err != nil {
			return nil, err
		}
		r.mu.Lock()
		if r.gone {
			r.mu.Unlock()
			continue
		}
		if !r.loaded {
			if err := r.load(ctx); err != nil {
				empty := len(r.clients) == 0
				if empty {
					r.gone = true
				}
				r.mu.Unlock()
				if empty { // don't leave an empty room subscribed
					h.dropRoom(r)
				}
				return nil, err
			}
		}
		if c.role == RoleVoter && r.voterConns[c.voter] >= h.cfg.MaxVoterConnections {
			r.mu.Unlock()
			return nil, errTooManyConnections
		}
		r.clients[c] = struct{}{}
		if c.role == RoleVoter {
			r.voters++
			r.voterConns[c.voter]++
		}
		r.sendSnapshotLocked(c, ballots)
		r.mu.Unlock()
		h.metrics.connected(c.role, 1)
		if c.role == RoleVoter {
			h.markDirty(event) // turnout changed
		}
		return r, nil
	}
}

// room returns the event's room on this instance, subscribing to the
// broker when it is new. Subscribing happens before the room loads, so no
// envelope falls between the loaded state and the stream.
func (h *Hub) room(ctx context.Context, event string) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[event]; r != nil {
		return r, nil
	}
	r := &room{hub: h, event: event, clients: make(map[*client]struct{}), voterConns: make(map[string]int)}
	// Bounded: h.mu is held, and a broker that cannot confirm must not
	// stall every other room of the hub.
	sctx, cancel := context.WithTimeout(ctx, h.cfg.WriteTimeout)
	defer cancel()
	unsub, err := h.broker.Subscribe(sctx, event, r.deliver)
	if err != nil {
		return nil, voting.Wrap(voting.CodeUnavailable, err, "the live service is unavailable; try again")
	}
	r.unsub = unsub
	h.rooms[event] = r
	return r, nil
}

// leave removes c; an empty room unsubscribes and goes.
func (h *Hub) leave(r *room, c *client) {
	r.mu.Lock()
	delete(r.clients, c)
	if c.role == RoleVoter {
		r.voters--
		if r.voterConns[c.voter]--; r.voterConns[c.voter] <= 0 {
			delete(r.voterConns, c.voter)
		}
	}
	empty := len(r.clients) == 0
	if empty {
		r.gone = true
	}
	r.mu.Unlock()
	h.metrics.connected(c.role, -1)
	if c.role == RoleVoter {
		h.markDirty(r.event)
	}
	if empty {
		h.dropRoom(r)
	}
}

// dropRoom forgets a room that was marked gone and unsubscribes it.
func (h *Hub) dropRoom(r *room) {
	h.mu.Lock()
	if h.rooms[r.event] == r {
		delete(h.rooms, r.event)
	}
	h.mu.Unlock()
	r.unsub()
}

// kick has the client's writer close its connection (1013, after what is
// queued), so that the page reconnects to a snapshot. It does not wait:
// the room's lock may be held.
func (h *Hub) kick(c *client, reason string) {
	c.close(websocket.StatusTryAgainLater, reason)
}

// markDirty asks for a standings message for the event at the next tick.
func (h *Hub) markDirty(event string) {
	h.dirtyMu.Lock()
	h.dirty[event] = true
	h.dirtyMu.Unlock()
}

// standingsLoop publishes, at most once per interval per event, fresh
// standings for the events that took ballots or changed turnout. Across
// instances, TryLead lets one instance publish per interval; the others
// keep the event dirty and try again at their next tick.
func (h *Hub) standingsLoop() {
	defer h.loops.Done()
	t := time.NewTicker(h.cfg.StandingsInterval)
	defer t.Stop()
	presence := time.NewTicker(2 * time.Second)
	defer presence.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-presence.C:
			h.reportPresence()
			h.refreshHostKey()
		case <-t.C:
			h.closeExpiredVoting()
			h.flushVoters()
			h.dirtyMu.Lock()
			events := make([]string, 0, len(h.dirty))
			for e := range h.dirty {
				events = append(events, e)
			}
			clear(h.dirty)
			h.dirtyMu.Unlock()
			for _, e := range events {
				if err := h.publishStandings(e); err != nil {
					h.markDirty(e)
					if !errors.Is(err, errNotLeader) {
						h.log.Warn("publishing standings failed", "event", e, "err", err)
					}
				}
			}
		}
	}
}

// roomList returns the rooms of this instance, so that callers can work on
// each without holding the hub's lock.
func (h *Hub) roomList() []*room {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}

// flushVoters sends each room's held-back voter standings that are due.
func (h *Hub) flushVoters() {
	now := h.now()
	for _, r := range h.roomList() {
		r.flushVoters(now)
	}
}

// closeExpiredVoting closes voting in the rooms whose countdown ran out, so
// that the host, the screen and the phones all see "closed" (ballots after
// the deadline are already refused by the store). Every instance may try;
// the command names the stage version, so exactly one succeeds.
func (h *Hub) closeExpiredVoting() {
	now := h.now().UnixMilli()
	for _, r := range h.roomList() {
		r.mu.Lock()
		st := r.stage
		due := r.loaded && st.Phase == voting.PhaseVoting && st.EndsAt > 0 && now >= st.EndsAt && r.closeTried != st.Version
		if due {
			r.closeTried = st.Version
		}
		r.mu.Unlock()
		if !due {
			continue
		}
		ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
		next, err := h.service.Command(ctx, r.event, voting.Command{Action: voting.ActionClose, IfVersion: st.Version})
		if err == nil {
			h.publish(ctx, r.event, Envelope{Kind: KindStage, Stage: &next})
		}
		cancel()
	}
}

var errNotLeader = errors.New("another instance publishes this period")

func (h *Hub) publishStandings(event string) error {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
	defer cancel()
	lead, err := h.broker.TryLead(ctx, event, h.cfg.StandingsInterval)
	if err != nil {
		return err
	}
	if !lead {
		return errNotLeader
	}
	sd, err := h.service.Standings(ctx, event)
	if errors.Is(err, voting.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	voters, err := h.broker.Presence(ctx, event, h.cfg.Instance, h.localVoters(event))
	if err != nil {
		return err
	}
	_, err = h.broker.Publish(ctx, event, Envelope{Kind: KindStandings, Standings: &sd, Voters: voters})
	return err
}

func (h *Hub) localVoters(event string) int {
	h.mu.Lock()
	r := h.rooms[event]
	h.mu.Unlock()
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.voters
}

// reportPresence tells the broker this instance's voter counts, so that the
// instance that publishes standings can sum every instance's voters.
func (h *Hub) reportPresence() {
	h.mu.Lock()
	events := make([]string, 0, len(h.rooms))
	for e := range h.rooms {
		events = append(events, e)
	}
	h.mu.Unlock()
	for _, e := range events {
		ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
		total, err := h.broker.Presence(ctx, e, h.cfg.Instance, h.localVoters(e))
		cancel()
		if err != nil {
			continue
		}
		h.mu.Lock()
		r := h.rooms[e]
		h.mu.Unlock()
		if r == nil {
			continue
		}
		r.mu.Lock()
		changed := r.allVoters != total
		r.mu.Unlock()
		if changed {
			h.markDirty(e)
		}
	}
}

// publish sends an envelope about an event to every instance; failures
// are logged, since the change itself is already stored and rooms resync.
func (h *Hub) publish(ctx context.Context, event string, env Envelope) {
	if _, err := h.broker.Publish(ctx, event, env); err != nil {
		h.log.Warn("broadcast failed; clients will resync", "event", event, "kind", env.Kind, "err", err)
	}
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
		writeError(w, err)
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
		writeError(w, voting.Errorf(voting.CodeUnavailable, "the server is restarting; try again"))
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
	if !h.originAllowed(r) {
		return admission{}, nil, errCrossOrigin
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
		// originAllowed has checked the Origin (with its scheme).
		InsecureSkipVerify: true, OnPongReceived: c.pong, Subprotocols: []string{protoLeitai},
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
		c.send(mustJSON(ackFrame{Type: "ack", ID: clip(m.ID, 64), Error: errorBody(voting.Errorf(voting.CodeUnavailable,
			"too many messages from this connection; try again in a moment"))}), false, h.cfg.SendQueue)
	} else if now.Sub(f.lastWarning) >= time.Second {
		f.lastWarning = now
		c.send(mustJSON(errorFrame{Type: "error", Error: errorBody(voting.Errorf(voting.CodeInvalid,
			"too many messages; slow down (this one was ignored)"))}), false, h.cfg.SendQueue)
	}
	return false
}

var errFlood = errors.New("client flooded the connection")

// handle answers one client message.
func (h *Hub) handle(ctx context.Context, rm *room, c *client, data []byte) {
	m, err := DecodeClientMessage(data)
	if err != nil {
		c.send(mustJSON(errorFrame{Type: "error", Error: errorBody(err)}), false, h.cfg.SendQueue)
		return
	}
	switch m.Type {
	case "ballot":
		if c.role != RoleVoter {
			c.send(mustJSON(ackFrame{Type: "ack", ID: clip(m.ID, 64), Error: errorBody(voting.Errorf(voting.CodeForbidden, "only voters cast ballots"))}), false, h.cfg.SendQueue)
			return
		}
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		rec, err := h.cast(cctx, m.CastRequest(rm.event, c.voter, c.panel, c.key))
		cancel()
		ack := ackFrame{Type: "ack", ID: clip(m.ID, 64), OK: err == nil}
		if err != nil {
			ack.Error = errorBody(err)
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

// cast records a ballot and schedules a standings message.
func (h *Hub) cast(ctx context.Context, req voting.CastRequest) (voting.Receipt, error) {
	start := h.now()
	rec, err := h.service.Cast(ctx, req)
	h.metrics.observeBallot(h.now().Sub(start), err)
	if err == nil {
		h.markDirty(req.Event)
	}
	return rec, err
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

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// String describes the hub for logs.
func (h *Hub) String() string { return fmt.Sprintf("hub %s", h.cfg.Instance) }
