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
	"math"
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

// Config describes one rehearsal. Zero values take the defaults of
// (*Config).setDefaults.
type Config struct {
	// URLs are the base URLs of the server instances (http://host:port).
	// Voters and screens are spread over them round-robin; the host
	// commands go to the first.
	URLs        []string
	HostKey     string
	MetricsURLs []string // each instance's /metrics (its --metrics-addr), in the order of URLs

	Voters  int // simulated phones
	Screens int // simulated big screens
	// Judges of the Voters vote in a second, keyed panel (weight 40 to the
	// audience's 60). 0: one panel.
	Judges      int
	Contestants int // stage rounds: one per contestant
	Groups      int // contestants are spread over this many groups (0: none)

	// Ramp is the rate at which connections are opened, per second;
	// 0 opens them as fast as possible.
	Ramp float64
	// ThinkMin and ThinkMax bound a voter's random think time before each
	// ballot.
	ThinkMin, ThinkMax time.Duration
	// ChangeProb is the chance that a voter, after a ballot is
	// acknowledged, changes it (a new ballot with a new id) after another
	// think time, at most MaxChanges times per contestant.
	ChangeProb float64
	MaxChanges int
	// Present is the pause between putting a contestant on stage and
	// opening voting; Window how long voting stays open (0: twice ThinkMax
	// plus a second, or ThinkMax plus a second without changes).
	Present time.Duration
	Window  time.Duration
	// Countdown starts a countdown of Window when voting opens, as a host
	// who uses the timer would.
	Countdown bool
	// Settle is the pause after every connection is open and before the
	// first contestant, when the server's idle memory is read.
	Settle time.Duration
	// Rate, when above 0, runs the open loop: for Duration in each
	// contestant's window (Window is Duration), ballots arrive at Rate a
	// second (Poisson) on random connected phones, whether or not earlier
	// ones were acknowledged; think times and changes do not apply.
	Rate     float64
	Duration time.Duration

	// SourceIPs are local addresses to dial from, round-robin (e.g.
	// 127.0.0.1 … 127.0.0.8 on loopback, past ~28,000 connections from one
	// address). Empty: the system's choice.
	SourceIPs []net.IP
	// Seed makes think times and scores repeatable (0: random).
	Seed uint64
	// EventID is the id of the event the rehearsal creates (default
	// rehearsal-<random>); KeepEvent leaves it on the server afterwards.
	EventID   string
	KeepEvent bool
	// SkipVoterCheck leaves out the per-voter comparison of live ballots
	// (one GET per voter) at the end.
	SkipVoterCheck bool
	// GiveUp is how long a client keeps trying to connect before it counts
	// as failed (default 1 min).
	GiveUp time.Duration
	// Timeout bounds the whole run (0: computed from the other settings).
	Timeout time.Duration

	// Progress, when set, receives a progress line every ProgressInterval;
	// ProgressTTY rewrites one line in place (\r) instead.
	Progress         io.Writer
	ProgressInterval time.Duration
	ProgressTTY      bool
}

func (c *Config) setDefaults() {
	if c.Voters == 0 {
		c.Voters = 200
	}
	if c.Contestants == 0 {
		c.Contestants = 8
	}
	if c.ThinkMax == 0 {
		c.ThinkMin, c.ThinkMax = time.Second, 5*time.Second
	}
	if c.Present == 0 {
		c.Present = time.Second
	}
	if c.Rate > 0 && c.Window == 0 {
		c.Window = c.Duration
	}
	if c.Window == 0 {
		c.Window = c.ThinkMax + time.Second
		if c.ChangeProb > 0 && c.MaxChanges > 0 {
			c.Window += c.ThinkMax
		}
	}
	if c.Settle == 0 {
		c.Settle = 2 * time.Second
	}
	if c.GiveUp == 0 {
		c.GiveUp = time.Minute
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = time.Second
	}
	if c.Seed == 0 {
		c.Seed = mrand.Uint64()
	}
	if c.EventID == "" {
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		c.EventID = "rehearsal-" + hex.EncodeToString(b)
	}
	if c.Timeout == 0 {
		ramp := time.Duration(0)
		if c.Ramp > 0 {
			ramp = time.Duration(float64(c.Voters+c.Screens) / c.Ramp * float64(time.Second))
		}
		c.Timeout = ramp + c.GiveUp + c.Settle + time.Duration(c.Contestants)*(c.Present+c.Window+20*time.Second) + 3*time.Minute
	}
}

// Validate reports the first problem with the configuration.
func (c *Config) Validate() error {
	if len(c.URLs) == 0 {
		return errors.New("give the server's URL")
	}
	for _, u := range c.URLs {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || (p.Path != "" && p.Path != "/") {
			return fmt.Errorf("server URL %q: want http(s)://host:port", u)
		}
	}
	if c.HostKey == "" {
		return errors.New("give the server's host key (--host-key or LEITAI_HOST_KEY)")
	}
	switch {
	case c.Voters < 1 || c.Voters > 1_000_000:
		return errors.New("voters: 1 to 1,000,000")
	case c.Screens < 0 || c.Screens > 1000:
		return errors.New("screens: 0 to 1000")
	case c.Judges < 0 || c.Judges > c.Voters:
		return errors.New("judges: 0 to the number of voters")
	case c.Contestants < 1 || c.Contestants > voting.MaxContestants:
		return fmt.Errorf("contestants: 1 to %d", voting.MaxContestants)
	case c.Groups < 0 || c.Groups > c.Contestants:
		return errors.New("groups: 0 to the number of contestants")
	case c.Ramp < 0:
		return errors.New("ramp: connections per second, 0 or more")
	case c.ThinkMin < 0 || c.ThinkMax < c.ThinkMin:
		return errors.New("think time: min ≤ max, both 0 or more")
	case c.ChangeProb < 0 || c.ChangeProb > 1:
		return errors.New("change probability: 0 to 1")
	case c.MaxChanges < 0 || c.MaxChanges > 10_000_000:
		return errors.New("max changes: 0 to 10,000,000")
	case c.Present < 0 || c.Window <= 0 || c.Window > 24*time.Hour:
		return errors.New("voting window: above 0, at most 24h; presenting pause 0 or more")
	case c.Rate < 0 || c.Rate > 1_000_000:
		return errors.New("rate: 0 (closed loop) to 1,000,000 ballots a second")
	case c.Rate > 0 && (c.Duration <= 0 || c.Window != c.Duration):
		return errors.New("rate: give --duration (the time ballots are sent, which is the voting window) and no --window")
	case !voting.ValidID(c.EventID):
		return fmt.Errorf("event id %q: lower-case letters, digits, '-' and '_'", c.EventID)
	}
	return nil
}

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

	r := &runner{
		cfg:       cfg,
		refusedBy: make(map[voting.Code]int64),
		problems:  make(map[string]int),
	}
	apiClient := &http.Client{Transport: &http.Transport{
		Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second,
	}}
	defer apiClient.CloseIdleConnections()
	r.apis = newAPIs(&cfg, apiClient)
	r.host = r.apis[0]

	// The event.
	ev, err := r.host.createEvent(ctx, rehearsalEvent(&cfg))
	if err != nil {
		return nil, fmt.Errorf("create the rehearsal event on %s: %w", cfg.URLs[0], err)
	}
	r.event = ev
	r.index = make(map[string]int, len(ev.Contestants))
	for i, c := range ev.Contestants {
		r.index[c.ID] = i
	}
	r.firstCount = make([]int, len(ev.Contestants))
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
	samplerDone := make(chan struct{})
	sctx, stopSampler := context.WithCancel(ctx)
	go func() { defer close(samplerDone); sampler.loop(sctx) }()

	var progressDone chan struct{}
	pctx, stopProgress := context.WithCancel(ctx)
	if cfg.Progress != nil {
		progressDone = make(chan struct{})
		go func() { defer close(progressDone); r.progress(pctx) }()
	}

	// Clients.
	peerCtx, stopPeers := context.WithCancel(ctx)
	var peers sync.WaitGroup
	clients := dialClients(cfg.SourceIPs)
	defer func() {
		for _, hc := range clients {
			hc.CloseIdleConnections()
		}
	}()
	voters, screens := r.makeClients(clients)
	r.voters = voters
	limiter := newRamp(cfg.Ramp)
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

	// The end runs even when the run was interrupted or timed out, so
	// that what was acknowledged is still checked; it is bounded on its own.
	settle := max(30*time.Second, r.cfg.GiveUp)
	if ctx.Err() != nil {
		r.problemf("the rehearsal was interrupted or ran out of time (%v) before the last contestant", context.Cause(ctx))
		settle = 3 * time.Second // the clients no longer reconnect
	}
	ctx, cancelEnd := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancelEnd()

	// Let every voter come back, every ballot in flight be answered, and
	// the screens catch up.
	r.setLabel("finishing")
	r.waitSettled(ctx, settle)
	final, serr := r.host.standings(ctx, ev.ID)
	if serr == nil {
		r.waitScreens(ctx, screens, &final, 15*time.Second)
	}
	sampler.sample(ctx, &sampler.after)

	// Stop the clients: no more reconnecting, then close every connection
	// politely, many at a time; cancelling peerCtx closes what is left.
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
	stopPeers()
	waitGroup(&peers, 30*time.Second)
	stopSampler()
	<-samplerDone

	rep.DurationSeconds = time.Since(r.start).Seconds()
	rep.VotingSeconds = votingTime.Seconds()
	r.setLabel("verifying")
	r.resolvePending(ctx, voters)
	r.verify(ctx, rep, voters, screens)
	stopProgress()
	if progressDone != nil {
		<-progressDone
	}
	r.fill(rep, voters, screens, sampler)
	return rep, nil
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

// waitConnected waits until every client has connected or given up.
func (r *runner) waitConnected(ctx context.Context, voters []*voter, screens []*screen) {
	deadline := time.Now().Add(r.cfg.GiveUp + 15*time.Second)
	for ctx.Err() == nil && time.Now().Before(deadline) {
		done := true
		for _, s := range screens {
			s.mu.Lock()
			ok := s.everConnected || s.failed
			s.mu.Unlock()
			if !ok {
				done = false
				break
			}
		}
		if done {
			for _, v := range voters {
				v.mu.Lock()
				ok := v.everConnected || v.failed
				v.mu.Unlock()
				if !ok {
					done = false
					break
				}
			}
		}
		if done {
			return
		}
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// drive runs the stage: for each contestant next → (present) → open →
// (window) → close, as a host would.
func (r *runner) drive(ctx context.Context) error {
	st, err := r.host.stage(ctx, r.event.ID)
	if err != nil {
		return err
	}
	version := st.Version
	for ci, c := range r.event.Contestants {
		r.setLabel("%s presenting", c.ID)
		if version, err = r.command(ctx, version, voting.Command{Action: voting.ActionNext}, func(s voting.Stage) bool {
			return s.Phase == voting.PhasePresenting && s.Current == c.ID
		}); err != nil {
			return err
		}
		if !sleepCtx(ctx, r.cfg.Present) {
			return ctx.Err()
		}
		r.setLabel("%s voting", c.ID)
		if version, err = r.command(ctx, version, voting.Command{Action: voting.ActionOpen}, func(s voting.Stage) bool {
			return s.Phase == voting.PhaseVoting && s.Current == c.ID
		}); err != nil {
			return err
		}
		if r.cfg.Countdown {
			secs := int(math.Ceil(r.cfg.Window.Seconds()))
			if version, err = r.command(ctx, version, voting.Command{Action: voting.ActionCountdown, Seconds: secs}, func(s voting.Stage) bool {
				return s.Phase == voting.PhaseVoting && s.Current == c.ID && s.EndsAt != 0
			}); err != nil {
				return err
			}
		}
		if r.cfg.Rate > 0 {
			r.openLoop(ctx, ci)
		} else if !sleepCtx(ctx, r.cfg.Window) {
			return ctx.Err()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r.setLabel("%s closed", c.ID)
		if version, err = r.command(ctx, version, voting.Command{Action: voting.ActionClose}, func(s voting.Stage) bool {
			return s.Phase == voting.PhaseClosed && s.Current == c.ID
		}); err != nil {
			return err
		}
	}
	return nil
}

// command sends one host command for the stage at version. When the answer
// is lost (the server restarts, say) it reads the stage: if it already is
// where the command leads (want), the command counts as done; otherwise it
// is sent again for the stage's new version, so it never applies twice.
func (r *runner) command(ctx context.Context, version int64, cmd voting.Command, want func(voting.Stage) bool) (int64, error) {
	deadline := time.Now().Add(r.cfg.GiveUp)
	retried := false
	for attempt := 0; ; attempt++ {
		cmd.IfVersion = version
		sent := time.Now()
		st, err := r.host.command(ctx, r.event.ID, cmd)
		if err == nil {
			r.record(cmd, st, sent, retried)
			return st.Version, nil
		}
		if !retriable(err) && code(err) != voting.CodeConflict {
			return version, fmt.Errorf("%s: %w", cmd.Action, err)
		}
		retried = true
		for {
			if ctx.Err() != nil {
				return version, ctx.Err()
			}
			if time.Now().After(deadline) {
				return version, fmt.Errorf("%s: gave up after %d attempts: %w", cmd.Action, attempt+1, err)
			}
			cur, serr := r.host.stage(ctx, r.event.ID)
			if serr == nil {
				if want(cur) {
					r.record(cmd, cur, sent, true)
					return cur.Version, nil
				}
				version = cur.Version
				break
			}
			sleepCtx(ctx, 500*time.Millisecond)
		}
		sleepCtx(ctx, min(time.Duration(attempt+1)*200*time.Millisecond, 2*time.Second))
	}
}

func (r *runner) record(cmd voting.Command, st voting.Stage, sent time.Time, retried bool) {
	r.cmdMu.Lock()
	r.cmds = append(r.cmds, Command{Action: cmd.Action, Contestant: st.Current, Version: st.Version, Sent: sent, Returned: time.Now(), Retried: retried})
	r.cmdMu.Unlock()
}

// waitSettled waits until every voter that has not given up is connected
// and no ballot is in flight.
func (r *runner) waitSettled(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		r.connMu.Lock()
		up := r.votersUp >= r.cfg.Voters-r.votersGone
		r.connMu.Unlock()
		if up && r.c.pending.Load() == 0 || !sleepCtx(ctx, 50*time.Millisecond) {
			return
		}
	}
}

// waitScreens waits until every connected screen shows the final standings.
func (r *runner) waitScreens(ctx context.Context, screens []*screen, final *voting.Standings, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		all := true
		for _, s := range screens {
			s.mu.Lock()
			ok := s.failed || (s.latest != nil && len(compareStandings(s.latest, final)) == 0)
			s.mu.Unlock()
			if !ok {
				all = false
				break
			}
		}
		if all || !sleepCtx(ctx, 50*time.Millisecond) {
			return
		}
	}
}

// resolvePending settles ballots still unanswered after the clients
// stopped (the server was down at the end, say): each is sent once more
// over HTTP with its original id, which answers with the first receipt if
// it was stored, or a refusal if it was not.
func (r *runner) resolvePending(ctx context.Context, voters []*voter) {
	for _, v := range voters {
		v.mu.Lock()
		p := v.pending
		v.mu.Unlock()
		if p == nil {
			continue
		}
		req := ballotRequest{ID: p.id, Credential: v.credential, Contestant: r.event.Contestants[p.ci].ID, Panel: v.panel, PanelKey: v.key, Score: p.score}
		var rec voting.Receipt
		var err error
		for attempt := 0; attempt < 5; attempt++ {
			if rec, err = v.api.castBallot(ctx, r.event.ID, req); err == nil || !retriable(err) {
				break
			}
			sleepCtx(ctx, time.Second)
		}
		v.mu.Lock()
		v.pending = nil
		v.mu.Unlock()
		switch {
		case err == nil:
			r.c.resolvedHTTP.Add(1)
			v.mu.Lock()
			v.live[p.ci] = liveBallot{id: p.id, units: int64(math.Round(rec.Score * voting.ScoreUnits))}
			v.mu.Unlock()
			r.acked(p.ci, rec.Replaced, time.Now(), -1)
		case code(err) != "":
			r.refused(code(err), nil)
			if code(err) != voting.CodeClosed {
				r.problemf("a ballot resent at the end was refused: %v", err)
			}
		default:
			r.c.pending.Add(-1)
			r.c.unresolved.Add(1)
			r.problemf("a ballot's fate is unknown (no answer, even over HTTP): %v", err)
		}
	}
}

func waitGroup(wg *sync.WaitGroup, limit time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

func sortedCodes(m map[voting.Code]int64) []voting.Code {
	out := make([]voting.Code, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}
