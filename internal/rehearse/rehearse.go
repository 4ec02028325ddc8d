// Package rehearse is `leitai rehearse`: simulated phones and screens
// against a running leitai server. It creates a fresh event, opens voter
// and screen connections (ramping at a given rate, optionally from several
// source addresses), drives the stage through the HTTP API as a host would,
// has every voter cast and sometimes change ballots after a random think
// time, and at the end checks that the server's standings equal the
// standings computed from the ballots that were acknowledged. The report
// says how many connections and ballots went through, how fast, what the
// server used, and whether anything was lost or miscounted.
package rehearse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"leitai/voting"
)

// runner is one rehearsal in progress.
type runner struct {
	cfg   Config
	host  *api   // the first instance, with the host key
	apis  []*api // every instance
	event voting.Event
	hall  hallCode       // the event's current hall code, as a screen reads it
	index map[string]int // contestant id → index
	c     counters
	start time.Time

	ackHist       histogram
	reconnectHist histogram

	ackMu      sync.Mutex
	firstCount []int // per contestant: first ballots acknowledged so far
	firstAcks  []firstAck

	refusedMu sync.Mutex
	refusedBy map[voting.Code]int64

	probMu   sync.Mutex
	problems map[string]int
	order    []string
	dialErr  string

	connMu      sync.Mutex
	votersUp    int
	votersGone  int // failed for good
	rampDone    bool
	outageStart time.Time
	outages     int
	longest     time.Duration
	drops       int64
	dropCauses  map[string]int64 // why voter connections dropped: close code or error kind

	cmdMu sync.Mutex
	cmds  []Command

	voters []*voter      // every simulated phone, for the open loop
	open   openLoopStats // the open loop's figures

	label    atomic.Pointer[string] // what the host is doing, for the progress line
	stopping atomic.Bool            // the run is over: clients no longer reconnect
}

// firstAck is a voter's first acknowledged ballot for a contestant, the
// k-th such ballot for it in order of acknowledgement.
type firstAck struct {
	ci int
	k  int
	at time.Time
}

func (r *runner) problemf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > 300 {
		msg = msg[:300]
	}
	r.probMu.Lock()
	defer r.probMu.Unlock()
	if _, ok := r.problems[msg]; !ok {
		if len(r.order) >= 50 {
			msg = "(more problems)"
			if _, ok := r.problems[msg]; !ok {
				r.order = append(r.order, msg)
			}
		} else {
			r.order = append(r.order, msg)
		}
	}
	r.problems[msg]++
}

func (r *runner) noteDialError(err error, resp *http.Response) {
	msg := err.Error()
	if resp != nil {
		msg = fmt.Sprintf("%s (HTTP %d)", msg, resp.StatusCode)
	}
	r.probMu.Lock()
	r.dialErr = msg
	r.probMu.Unlock()
}

func (r *runner) setLabel(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	r.label.Store(&s)
}

// think draws a think time.
func (r *runner) think(rng *mrand.Rand) time.Duration {
	span := r.cfg.ThinkMax - r.cfg.ThinkMin
	if span <= 0 {
		return r.cfg.ThinkMin
	}
	return r.cfg.ThinkMin + time.Duration(rng.Int64N(int64(span)+1))
}

func (r *runner) acked(ci int, replaced bool, now time.Time, latency time.Duration) {
	r.c.pending.Add(-1)
	r.c.acked.Add(1)
	if latency >= 0 {
		r.ackHist.Observe(latency)
	}
	if replaced {
		r.c.replacements.Add(1)
		return
	}
	if latency < 0 {
		return // answered after the clients stopped: no screen can show it
	}
	r.ackMu.Lock()
	r.firstCount[ci]++
	r.firstAcks = append(r.firstAcks, firstAck{ci: ci, k: r.firstCount[ci], at: now})
	r.ackMu.Unlock()
}

func (r *runner) refused(code voting.Code, body *struct {
	Code    voting.Code `json:"code"`
	Message string      `json:"message"`
}) {
	r.c.pending.Add(-1)
	r.c.refused.Add(1)
	r.refusedMu.Lock()
	r.refusedBy[code]++
	r.refusedMu.Unlock()
	if code != voting.CodeClosed && body != nil {
		r.problemf("a ballot was refused: %s: %s", body.Code, body.Message)
	}
}

func (r *runner) peerUp(isVoter, reconnected bool, down time.Duration) {
	r.c.connected.Add(1)
	r.c.opened.Add(1)
	if reconnected {
		r.c.reconnects.Add(1)
		r.reconnectHist.Observe(down)
	}
	if !isVoter {
		return
	}
	r.connMu.Lock()
	r.votersUp++
	r.checkOutageLocked()
	r.connMu.Unlock()
}

func (r *runner) peerDown(isVoter, stopped bool, cause error) {
	r.c.connected.Add(-1)
	if !isVoter {
		return
	}
	r.connMu.Lock()
	r.votersUp--
	if !stopped {
		r.drops++
		if r.dropCauses == nil {
			r.dropCauses = make(map[string]int64)
		}
		r.dropCauses[dropCause(cause)]++
		if r.rampDone && r.outageStart.IsZero() {
			r.outageStart = time.Now()
		}
	}
	r.connMu.Unlock()
}

// dropCause names why a connection ended: the server's close code, or the
// kind of network error, so that a run's drops can be told apart (slow
// client 1008, restart 1001, read limit 1009, a reset, a timeout).
func dropCause(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return fmt.Sprintf("close %d", int(code))
	}
	var ne net.Error
	switch {
	case err == nil:
		return "unknown"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "EOF without close"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "other error"
}

func (r *runner) voterFailed() {
	r.connMu.Lock()
	r.votersGone++
	r.checkOutageLocked()
	r.connMu.Unlock()
}

// checkOutageLocked ends an outage when every voter that has not given up
// is connected again.
func (r *runner) checkOutageLocked() {
	if !r.outageStart.IsZero() && r.votersUp >= r.cfg.Voters-r.votersGone {
		d := time.Since(r.outageStart)
		r.outages++
		r.longest = max(r.longest, d)
		r.outageStart = time.Time{}
	}
}

// Command is a host command as the rehearsal sent it.
type Command struct {
	Action     voting.Action `json:"action"`
	Contestant string        `json:"contestant,omitempty"`
	Version    int64         `json:"version"`
	Sent       time.Time     `json:"sent"`
	Returned   time.Time     `json:"returned"`
	Retried    bool          `json:"retried,omitempty"`
}

// Run performs a rehearsal. It returns an error only when the rehearsal
// could not start (bad configuration, server unreachable, wrong key); what
// went wrong during it is in the report (Problems, OK).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	r, closeAPI := newRunner(cfg)
	defer closeAPI()
	ev, err := r.createEvent(ctx)
	if err != nil {
		return nil, err
	}
	if !cfg.KeepEvent {
		defer func() {
			dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer dcancel()
			_ = r.host.deleteEvent(dctx, ev.ID)
		}()
	}

	rep := &Report{
		URLs: cfg.URLs, Event: ev.ID, Voters: cfg.Voters, Screens: cfg.Screens, Judges: cfg.Judges,
		Contestants: len(ev.Contestants), Seed: cfg.Seed, Started: time.Now(),
	}
	r.start = time.Now()
	r.setLabel("connecting")

	sampler := newSampler(r)
	sampler.sample(ctx, &sampler.before)
	stopSampler := background(ctx, sampler.loop)
	stopProgress := func() {}
	if cfg.Progress != nil {
		stopProgress = background(ctx, r.progress)
	}

	voters, screens, stopPeers := r.connect(ctx)
	r.waitConnected(ctx, voters, screens)
	r.connMu.Lock()
	r.rampDone = true
	r.connMu.Unlock()
	rep.RampSeconds = time.Since(r.start).Seconds()

	r.setLabel("settling")
	sleepCtx(ctx, cfg.Settle)
	sampler.sample(ctx, &sampler.idle)

	// The host drives the stage.
	votingStart := time.Now()
	if err := r.drive(ctx); err != nil {
		r.problemf("the host could not drive the stage: %v", err)
	}
	votingTime := time.Since(votingStart)

	ctx, cancelEnd, settle := r.endPhase(ctx)
	defer cancelEnd()

	// Let every voter come back, every ballot in flight be answered, and
	// the screens catch up.
	r.setLabel("finishing")
	r.waitSettled(ctx, settle)
	if final, err := r.host.standings(ctx, ev.ID); err == nil {
		r.waitScreens(ctx, screens, &final, 15*time.Second)
	}
	sampler.sample(ctx, &sampler.after)
	r.stopClients(voters, screens)
	stopPeers()
	stopSampler()

	rep.DurationSeconds = time.Since(r.start).Seconds()
	rep.VotingSeconds = votingTime.Seconds()
	r.setLabel("verifying")
	r.resolvePending(ctx, voters)
	r.verify(ctx, rep, voters, screens)
	stopProgress()
	r.fill(rep, voters, screens, sampler)
	return rep, nil
}

// endPhase returns the context of the rehearsal's end and how long to wait
// for the clients to settle. The end runs even when the run was interrupted
// or timed out, so that what was acknowledged is still checked; it is
// bounded on its own.
func (r *runner) endPhase(ctx context.Context) (context.Context, context.CancelFunc, time.Duration) {
	settle := max(30*time.Second, r.cfg.GiveUp)
	if ctx.Err() != nil {
		r.problemf("the rehearsal was interrupted or ran out of time (%v) before the last contestant", context.Cause(ctx))
		settle = 3 * time.Second // the clients no longer reconnect
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	return ctx, cancel, settle
}

// newRunner returns a runner with its API clients, and a function that
// closes their idle connections.
func newRunner(cfg Config) (*runner, func()) {
	r := &runner{
		cfg:       cfg,
		refusedBy: make(map[voting.Code]int64),
		problems:  make(map[string]int),
	}
	apiClient := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
	}}
	r.apis = newAPIs(&r.cfg, apiClient)
	r.host = r.apis[0]
	return r, apiClient.CloseIdleConnections
}

// createEvent creates the rehearsal's event and indexes its contestants.
func (r *runner) createEvent(ctx context.Context) (voting.Event, error) {
	ev, err := r.host.createEvent(ctx, rehearsalEvent(&r.cfg))
	if err != nil {
		return ev, fmt.Errorf("create the rehearsal event on %s: %w", r.cfg.URLs[0], err)
	}
	r.event = ev
	r.index = make(map[string]int, len(ev.Contestants))
	for i, c := range ev.Contestants {
		r.index[c.ID] = i
	}
	r.firstCount = make([]int, len(ev.Contestants))
	return ev, nil
}

// background runs loop until the returned stop is called; stop waits for it.
func background(ctx context.Context, loop func(context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); loop(ctx) }()
	return func() { cancel(); <-done }
}

// connect makes the clients and starts them; stop ends them and closes
// their idle connections.
func (r *runner) connect(ctx context.Context) (voters []*voter, screens []*screen, stop func()) {
	clients := dialClients(r.cfg.SourceIPs)
	voters, screens = r.makeClients(clients)
	r.voters = voters
	stopPeers := r.startPeers(ctx, voters, screens)
	return voters, screens, func() {
		stopPeers()
		for _, hc := range clients {
			hc.CloseIdleConnections()
		}
	}
}

// startPeers starts the screens and then the voters at the configured
// ramp; stop cancels what is still running and waits for it (bounded).
func (r *runner) startPeers(ctx context.Context, voters []*voter, screens []*screen) (stop func()) {
	peerCtx, cancel := context.WithCancel(ctx)
	var peers sync.WaitGroup
	limiter := newRamp(r.cfg.Ramp)
	for _, s := range screens {
		if !limiter.wait(ctx) {
			break
		}
		peers.Add(1)
		go func() { defer peers.Done(); s.run(peerCtx) }()
	}
	for _, v := range voters {
		if !limiter.wait(ctx) {
			break
		}
		peers.Add(1)
		go func() { defer peers.Done(); v.run(peerCtx) }()
	}
	return func() { cancel(); waitGroup(&peers, 30*time.Second) }
}

// stopClients stops the clients: no more reconnecting, then every
// connection closed politely, many at a time.
func (r *runner) stopClients(voters []*voter, screens []*screen) {
	r.stopping.Store(true)
	var closing sync.WaitGroup
	sem := make(chan struct{}, 512)
	for _, v := range voters {
		closing.Add(1)
		sem <- struct{}{}
		go func() { defer closing.Done(); v.stop(); <-sem }()
	}
	for _, s := range screens {
		s.stop()
	}
	waitGroup(&closing, 30*time.Second)
}

// rehearsalEvent is the event a rehearsal creates: 60–100 in steps of 0.5,
// the highest and lowest ballot of each panel dropped, two decimals, like
// the example event.
func rehearsalEvent(cfg *Config) voting.Event {
	ev := voting.Event{
		ID:    cfg.EventID,
		Title: "Rehearsal " + time.Now().Format("2006-01-02 15:04"),
		Rules: voting.Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2},
	}
	for i := range cfg.Contestants {
		c := voting.Contestant{ID: fmt.Sprintf("c%d", i+1), Name: fmt.Sprintf("参赛单位 %d", i+1)}
		if cfg.Groups > 0 {
			c.Group = fmt.Sprintf("第%d组", i%cfg.Groups+1)
		}
		ev.Contestants = append(ev.Contestants, c)
	}
	ev.Panels = []voting.Panel{{ID: "audience", Name: "大众评审", Weight: 60}}
	if cfg.Judges > 0 {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		ev.Panels = append(ev.Panels, voting.Panel{ID: "judges", Name: "专家评委", Weight: 40, Key: hex.EncodeToString(b)})
	}
	return ev
}

// dialClients returns one HTTP client per source address (or one for the
// system's choice). WebSocket handshakes go through them; coder/websocket
// takes the connection over after the upgrade.
func dialClients(ips []net.IP) []*http.Client {
	mk := func(local net.Addr) *http.Client {
		d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second, LocalAddr: local}
		return &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         d.DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 1,
		}}
	}
	if len(ips) == 0 {
		return []*http.Client{mk(nil)}
	}
	out := make([]*http.Client, len(ips))
	for i, ip := range ips {
		out[i] = mk(&net.TCPAddr{IP: ip})
	}
	return out
}

func wsBase(base string) string {
	base = strings.TrimRight(base, "/")
	if strings.HasPrefix(base, "https://") {
		return "wss://" + strings.TrimPrefix(base, "https://")
	}
	return "ws://" + strings.TrimPrefix(base, "http://")
}

func (r *runner) makeClients(clients []*http.Client) ([]*voter, []*screen) {
	ev := &r.event
	var judgesKey string
	if len(ev.Panels) > 1 {
		judgesKey = ev.Panels[1].Key
	}
	n := 0
	next := func() *http.Client { hc := clients[n%len(clients)]; n++; return hc }
	screens := make([]*screen, r.cfg.Screens)
	for i := range screens {
		base := wsBase(r.cfg.URLs[i%len(r.cfg.URLs)])
		screens[i] = &screen{
			r: r, hc: next(), marks: make([][]mark, len(ev.Contestants)),
			wsURL: base + "/e/" + url.PathEscape(ev.ID) + "/ws?role=screen",
		}
	}
	voters := make([]*voter, r.cfg.Voters)
	for i := range voters {
		v := &voter{
			r: r, hc: next(), api: r.apis[i%len(r.apis)], base: r.cfg.URLs[i%len(r.cfg.URLs)],
			rng:      mrand.New(mrand.NewPCG(r.cfg.Seed, uint64(i)+1)),
			attempts: make([]int, len(ev.Contestants)),
			live:     make([]liveBallot, len(ev.Contestants)),
		}
		q := url.Values{"role": {"voter"}}
		// Judges are spread over the run rather than bunched at its start.
		if r.cfg.Judges > 0 && i*r.cfg.Judges/r.cfg.Voters != (i+1)*r.cfg.Judges/r.cfg.Voters {
			v.panel, v.key = "judges", judgesKey
			q.Set("panel", v.panel)
			q.Set("panelKey", v.key)
		}
		v.wsURL = wsBase(r.cfg.URLs[i%len(r.cfg.URLs)]) + "/e/" + url.PathEscape(ev.ID) + "/ws?" + q.Encode()
		voters[i] = v
	}
	return voters, screens
}

// ramp paces connection attempts.
type ramp struct {
	every time.Duration
	next  time.Time
}

func newRamp(perSecond float64) *ramp {
	if perSecond <= 0 {
		return &ramp{}
	}
	return &ramp{every: time.Duration(float64(time.Second) / perSecond), next: time.Now()}
}

func (l *ramp) wait(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	if l.every == 0 {
		return true
	}
	if d := time.Until(l.next); d > 0 && !sleepCtx(ctx, d) {
		return false
	}
	l.next = l.next.Add(l.every)
	return true
}

func sortedCodes(m map[voting.Code]int64) []voting.Code {
	out := make([]voting.Code, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
