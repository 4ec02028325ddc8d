package rehearse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"leitai/voting"
)

// Report is what a rehearsal found. Latencies are in milliseconds.
type Report struct {
	URLs        []string  `json:"urls"`
	Event       string    `json:"event"`
	Voters      int       `json:"voters"`
	Screens     int       `json:"screens"`
	Judges      int       `json:"judges"`
	Contestants int       `json:"contestants"`
	Seed        uint64    `json:"seed"`
	Started     time.Time `json:"started"`
	// DurationSeconds is the whole run; RampSeconds until every client
	// had connected (or given up); VotingSeconds the host's rounds.
	DurationSeconds float64 `json:"durationSeconds"`
	RampSeconds     float64 `json:"rampSeconds"`
	VotingSeconds   float64 `json:"votingSeconds"`

	Connections Connections `json:"connections"`
	Ballots     Ballots     `json:"ballots"`
	// OpenLoop: the figures of an open-loop run (--rate), else absent.
	OpenLoop *OpenLoop `json:"openLoop,omitempty"`
	// AckLatency: ballot written → its ack read, per ballot (a resend
	// counts from the resend).
	AckLatency Latency `json:"ackLatency"`
	// ScreenFanout: a voter's first ballot for a contestant acknowledged →
	// a screen received standings in which that contestant's ballot count
	// includes it (per ballot and screen). ScreenNotShown never got there.
	ScreenFanout   Latency `json:"screenFanout"`
	ScreenNotShown int64   `json:"screenNotShown"`
	// StageFanout: a host command sent → each voter received the stage
	// message it caused. StageMissed counts voters that got the new stage
	// in a snapshot instead (they were reconnecting) or not at all.
	StageFanout Latency   `json:"stageFanout"`
	StageMissed int64     `json:"stageMissed"`
	Commands    []Command `json:"commands"`

	Servers []ServerReport `json:"servers"`

	Verification Verification `json:"verification"`
	// Lost is the number of acknowledged ballots the server does not
	// count; Miscounted the standings rows that differ from the reference
	// tally plus the ballots counted without an acknowledgement.
	Lost       int `json:"lost"`
	Miscounted int `json:"miscounted"`
	// Problems are everything else that should not happen, with counts.
	Problems []Problem `json:"problems,omitempty"`
	// OK: nothing lost or miscounted, every client connected, every
	// ballot answered, every screen in sync, no problems.
	OK bool `json:"ok"`
}

// Connections are the clients' figures.
type Connections struct {
	// Opened clients connected at least once; Failed never did, or gave
	// up reconnecting.
	Opened int `json:"opened"`
	Failed int `json:"failed"`
	// ConnectErrors counts failed attempts (each retried with backoff).
	ConnectErrors int64  `json:"connectErrors"`
	LastError     string `json:"lastError,omitempty"`
	// Drops are voter connections that ended without the tool closing
	// them; Reconnects connections opened again (voters and screens).
	Drops int64 `json:"drops"`
	// DropCauses counts the drops by cause: "close 1008" (the server's
	// close code), "EOF without close", "connection reset", "timeout".
	DropCauses map[string]int64 `json:"dropCauses,omitempty"`
	Reconnects int64            `json:"reconnects"`
	// Reconnect: connection lost → snapshot on the new connection.
	Reconnect Latency `json:"reconnect"`
	// Outages: times some voters were disconnected after the ramp;
	// LongestOutage: the longest wait until every voter was back.
	Outages         int     `json:"outages"`
	LongestOutageMs float64 `json:"longestOutageMs"`
}

// Ballots are the ballots' figures.
type Ballots struct {
	Sent         int64 `json:"sent"` // frames written, resends included
	Resent       int64 `json:"resent"`
	Acknowledged int64 `json:"acknowledged"`
	Replacements int64 `json:"replacements"` // acknowledged changes of a voter's ballot
	// Refused by code (closed: voting closed before it arrived).
	Refused          map[voting.Code]int64 `json:"refused"`
	Retried          int64                 `json:"retried"` // "unavailable" answers, resent
	ResolvedOverHTTP int64                 `json:"resolvedOverHttp"`
	Unresolved       int64                 `json:"unresolved"`
	// PerSecond is acknowledged ballots per second of voting time; Peak
	// the most in one second.
	PerSecond     float64 `json:"perSecond"`
	PeakPerSecond float64 `json:"peakPerSecond"`
}

// Problem is one kind of thing that went wrong, with how often.
type Problem struct {
	What  string `json:"what"`
	Count int    `json:"count"`
}

// ServerSample is what one read of /metrics says.
type ServerSample struct {
	At            time.Time `json:"-"`
	OK            bool      `json:"-"`
	RSSBytes      float64   `json:"rssBytes"`
	CPUSeconds    float64   `json:"cpuSeconds"`
	Goroutines    float64   `json:"goroutines"`
	HeapBytes     float64   `json:"heapBytes"`
	Voters        float64   `json:"voters"`
	Screens       float64   `json:"screens"`
	Hosts         float64   `json:"hosts"`
	BallotsStored float64   `json:"ballotsStored"`
}

// ServerReport is one instance's resource use, from /metrics.
type ServerReport struct {
	URL   string `json:"url"`
	Error string `json:"error,omitempty"`
	// Resident memory (MiB): before the clients connected, once they all
	// had (idle), the most seen, and at the end.
	RSSBeforeMiB float64 `json:"rssBeforeMiB"`
	RSSIdleMiB   float64 `json:"rssIdleMiB"`
	RSSPeakMiB   float64 `json:"rssPeakMiB"`
	RSSAfterMiB  float64 `json:"rssAfterMiB"`
	// IdleConnections on this instance when idle memory was read, and the
	// memory they added, per connection (KiB).
	IdleConnections  int     `json:"idleConnections"`
	KiBPerConnection float64 `json:"kibPerConnection"`
	// CPU seconds used during the run, and as a share of one core (%).
	CPUSeconds    float64 `json:"cpuSeconds"`
	CPUPercent    float64 `json:"cpuPercent"`
	GoroutinesMax int     `json:"goroutinesMax"`
}

// sampler reads every instance's /metrics once a second.
type sampler struct {
	r *runner

	mu                   sync.Mutex
	before, idle, after  []ServerSample
	peakRSS, peakGorouts []float64
	errs                 []string
	peakRate             float64
}

func newSampler(r *runner) *sampler {
	n := len(r.apis)
	return &sampler{
		r: r, before: make([]ServerSample, n), idle: make([]ServerSample, n), after: make([]ServerSample, n),
		peakRSS: make([]float64, n), peakGorouts: make([]float64, n), errs: make([]string, n),
	}
}

// sample reads every instance into dst (one of s.before, s.idle, s.after).
func (s *sampler) sample(ctx context.Context, dst *[]ServerSample) {
	out := make([]ServerSample, len(s.r.apis))
	for i, a := range s.r.apis {
		m, err := a.metrics(ctx)
		s.mu.Lock()
		if err != nil {
			s.errs[i] = err.Error()
		} else {
			m.OK = true
			s.peakRSS[i] = max(s.peakRSS[i], m.RSSBytes)
			s.peakGorouts[i] = max(s.peakGorouts[i], m.Goroutines)
		}
		s.mu.Unlock()
		out[i] = m
	}
	s.mu.Lock()
	*dst = out
	s.mu.Unlock()
}

func (s *sampler) loop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last, lastAt := s.r.c.acked.Load(), time.Now()
	var scratch []ServerSample
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			n := s.r.c.acked.Load()
			rate := float64(n-last) / now.Sub(lastAt).Seconds()
			last, lastAt = n, now
			s.mu.Lock()
			s.peakRate = max(s.peakRate, rate)
			s.mu.Unlock()
			s.sample(ctx, &scratch)
		}
	}
}

// progress prints the live line until ctx ends.
func (r *runner) progress(ctx context.Context) {
	t := time.NewTicker(r.cfg.ProgressInterval)
	defer t.Stop()
	last, lastAt := r.c.acked.Load(), time.Now()
	for {
		select {
		case <-ctx.Done():
			if r.cfg.ProgressTTY {
				fmt.Fprintln(r.cfg.Progress)
			}
			return
		case now := <-t.C:
			n := r.c.acked.Load()
			rate := float64(n-last) / now.Sub(lastAt).Seconds()
			last, lastAt = n, now
			label := ""
			if p := r.label.Load(); p != nil {
				label = *p
			}
			line := fmt.Sprintf("%6.1fs %-14s conns %d/%d  sent %d  acks %d (%.0f/s)  refused %d  errors %d  connect errors %d  reconnects %d",
				now.Sub(r.start).Seconds(), label, r.c.connected.Load(), r.cfg.Voters+r.cfg.Screens,
				r.c.sent.Load(), n, rate, r.c.refused.Load(), r.c.errors.Load(), r.c.connectErrors.Load(), r.c.reconnects.Load())
			if r.cfg.ProgressTTY {
				fmt.Fprintf(r.cfg.Progress, "\r%-130s", line)
			} else {
				fmt.Fprintln(r.cfg.Progress, line)
			}
		}
	}
}

// fill computes the report's figures once the clients have stopped.
func (r *runner) fill(rep *Report, voters []*voter, screens []*screen, s *sampler) {
	r.fillConnections(&rep.Connections, voters, screens)
	r.fillBallots(rep, s)
	r.fillScreens(rep, screens)
	r.fillStages(rep, voters)
	r.fillServers(rep, s)
	r.fillVerdict(rep, screens)
}

// fillConnections counts the connections opened, failed and dropped.
func (r *runner) fillConnections(c *Connections, voters []*voter, screens []*screen) {
	for _, v := range voters {
		v.mu.Lock()
		if v.everConnected {
			c.Opened++
		}
		if v.failed || !v.everConnected {
			c.Failed++
		}
		v.mu.Unlock()
	}
	for _, sc := range screens {
		sc.mu.Lock()
		if sc.everConnected {
			c.Opened++
		}
		if sc.failed || !sc.everConnected {
			c.Failed++
		}
		sc.mu.Unlock()
	}
	c.ConnectErrors = r.c.connectErrors.Load()
	c.Reconnects = r.c.reconnects.Load()
	c.Reconnect = r.reconnectHist.Summary()
	r.connMu.Lock()
	c.Drops, c.Outages, c.LongestOutageMs = r.drops, r.outages, ms(r.longest)
	c.DropCauses = maps.Clone(r.dropCauses)
	if !r.outageStart.IsZero() {
		r.problemf("some voters were still disconnected at the end")
		c.LongestOutageMs = max(c.LongestOutageMs, ms(time.Since(r.outageStart)))
	}
	r.connMu.Unlock()
	r.probMu.Lock()
	c.LastError = r.dialErr
	r.probMu.Unlock()
}

// fillBallots counts the ballots and their acknowledgements.
func (r *runner) fillBallots(rep *Report, s *sampler) {
	b := &rep.Ballots
	b.Sent, b.Resent, b.Acknowledged = r.c.sent.Load(), r.c.resent.Load(), r.c.acked.Load()
	b.Replacements, b.Retried = r.c.replacements.Load(), r.c.retried.Load()
	b.ResolvedOverHTTP, b.Unresolved = r.c.resolvedHTTP.Load(), r.c.unresolved.Load()
	r.refusedMu.Lock()
	b.Refused = make(map[voting.Code]int64, len(r.refusedBy))
	for k, n := range r.refusedBy {
		b.Refused[k] = n
	}
	r.refusedMu.Unlock()
	if rep.VotingSeconds > 0 {
		b.PerSecond = float64(b.Acknowledged) / rep.VotingSeconds
	}
	s.mu.Lock()
	b.PeakPerSecond = s.peakRate
	s.mu.Unlock()
	rep.AckLatency = r.ackHist.Summary()
	rep.OpenLoop = r.openLoopReport()
}

// fillScreens measures, for each first ballot, when each screen showed it.
func (r *runner) fillScreens(rep *Report, screens []*screen) {
	var screenHist histogram
	r.ackMu.Lock()
	acks := r.firstAcks
	r.ackMu.Unlock()
	for _, sc := range screens {
		sc.mu.Lock()
		if !sc.everConnected {
			sc.mu.Unlock()
			continue
		}
		for _, a := range acks {
			at, ok := sc.shown(a.ci, a.k)
			if !ok {
				rep.ScreenNotShown++
				continue
			}
			screenHist.Observe(at.Sub(a.at)) // ≤ 0 (shown before the ack was read) counts as 0
		}
		sc.mu.Unlock()
	}
	rep.ScreenFanout = screenHist.Summary()
}

// fillStages measures, for each stage command, when each voter received it.
func (r *runner) fillStages(rep *Report, voters []*voter) {
	r.cmdMu.Lock()
	rep.Commands = slices.Clone(r.cmds)
	r.cmdMu.Unlock()
	sent := make(map[int64]time.Time, len(rep.Commands))
	for _, cmd := range rep.Commands {
		sent[cmd.Version] = cmd.Sent
	}
	var stageHist histogram
	for _, v := range voters {
		v.mu.Lock()
		for _, seen := range v.seen {
			if t, ok := sent[seen.version]; ok {
				stageHist.Observe(seen.at.Sub(t))
			}
		}
		v.mu.Unlock()
	}
	rep.StageFanout = stageHist.Summary()
	rep.StageMissed = int64(len(rep.Commands))*int64(len(voters)) - stageHist.Count()
}

// fillServers reports each server's memory and CPU from the samples.
func (r *runner) fillServers(rep *Report, s *sampler) {
	s.mu.Lock()
	for i, a := range r.apis {
		sr := ServerReport{URL: a.base, Error: s.errs[i]}
		bf, id, af := s.before[i], s.idle[i], s.after[i]
		if bf.OK && af.OK {
			sr.Error = ""
			sr.RSSBeforeMiB, sr.RSSIdleMiB, sr.RSSAfterMiB = mib(bf.RSSBytes), mib(id.RSSBytes), mib(af.RSSBytes)
			sr.RSSPeakMiB = mib(s.peakRSS[i])
			sr.IdleConnections = int(id.Voters + id.Screens + id.Hosts - bf.Voters - bf.Screens - bf.Hosts)
			if id.OK && sr.IdleConnections > 0 {
				sr.KiBPerConnection = (id.RSSBytes - bf.RSSBytes) / 1024 / float64(sr.IdleConnections)
			}
			sr.CPUSeconds = af.CPUSeconds - bf.CPUSeconds
			if d := af.At.Sub(bf.At).Seconds(); d > 0 {
				sr.CPUPercent = 100 * sr.CPUSeconds / d
			}
			sr.GoroutinesMax = int(s.peakGorouts[i])
		}
		rep.Servers = append(rep.Servers, sr)
	}
	s.mu.Unlock()
}

// fillVerdict lists the problems and decides whether the rehearsal passed.
func (r *runner) fillVerdict(rep *Report, screens []*screen) {
	b, c := &rep.Ballots, &rep.Connections
	// A think time longer than voting stays open (a run of
	// stage changes only, as bench/run.sh's fanout) casts nothing on
	// purpose.
	if b.Acknowledged == 0 && r.cfg.ThinkMin < r.cfg.Window {
		r.problemf("no ballot was acknowledged")
	}
	connected := 0
	for _, sc := range screens {
		sc.mu.Lock()
		if sc.everConnected && !sc.failed {
			connected++
		}
		sc.mu.Unlock()
	}
	if rep.Verification.ScreensInSync < connected {
		r.problemf("%d of %d screens did not show the final standings", connected-rep.Verification.ScreensInSync, connected)
	}
	r.probMu.Lock()
	for _, msg := range r.order {
		rep.Problems = append(rep.Problems, Problem{What: msg, Count: r.problems[msg]})
	}
	r.probMu.Unlock()
	rep.OK = rep.Lost == 0 && rep.Miscounted == 0 && rep.Verification.StandingsEqual && c.Failed == 0 &&
		b.Unresolved == 0 && len(rep.Problems) == 0
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func mib(b float64) float64      { return b / (1 << 20) }

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes the report as a table for a person.
func (rep *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	judges := ""
	if rep.Judges > 0 {
		judges = fmt.Sprintf(" (%d judges)", rep.Judges)
	}
	fmt.Fprintf(tw, "leitai rehearsal of %s, event %s\n", strings.Join(rep.URLs, ", "), rep.Event)
	fmt.Fprintf(tw, "%d voters%s, %d screens, %d contestants; %.1fs (ramp %.1fs, voting %.1fs)\n\n",
		rep.Voters, judges, rep.Screens, rep.Contestants, rep.DurationSeconds, rep.RampSeconds, rep.VotingSeconds)

	t := textReport{tw}
	t.connections(rep.Connections)
	t.ballots(rep.Ballots, rep.OpenLoop)
	t.latency(rep)
	t.verification(rep)
	return tw.Flush()
}

// textReport writes the sections of a report as aligned text.
type textReport struct{ tw *tabwriter.Writer }

func (t textReport) row(k, format string, args ...any) {
	fmt.Fprintf(t.tw, "  %s\t%s\n", k, fmt.Sprintf(format, args...))
}

// latText is a latency summary in one line; full adds the p95.
func latText(l Latency, full bool) string {
	if l.Samples == 0 {
		return "no samples"
	}
	if full {
		return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (%d)", fmtMs(l.P50), fmtMs(l.P95), fmtMs(l.P99), fmtMs(l.Max), l.Samples)
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  (%d)", fmtMs(l.P50), fmtMs(l.P99), fmtMs(l.Max), l.Samples)
}

func (t textReport) connections(c Connections) {
	fmt.Fprintln(t.tw, "connections")
	t.row("opened / failed", "%d / %d", c.Opened, c.Failed)
	t.row("connect errors", "%d%s", c.ConnectErrors, ifStr(c.LastError != "", "  (last: "+c.LastError+")"))
	t.row("dropped / reconnected", "%d / %d", c.Drops, c.Reconnects)
	if len(c.DropCauses) > 0 {
		var causes []string
		for _, k := range slices.Sorted(maps.Keys(c.DropCauses)) {
			causes = append(causes, fmt.Sprintf("%s ×%d", k, c.DropCauses[k]))
		}
		t.row("drops by cause", "%s", strings.Join(causes, ", "))
	}
	if c.Reconnects > 0 {
		t.row("lost → resynchronised", "%s", latText(c.Reconnect, false))
		t.row("longest until all back", "%s  (%d outages)", fmtMs(c.LongestOutageMs), c.Outages)
	}

}

func (t textReport) ballots(b Ballots, ol *OpenLoop) {
	fmt.Fprintln(t.tw, "ballots")
	t.row("sent / acknowledged", "%d / %d  (%d changes, %d resent)", b.Sent, b.Acknowledged, b.Replacements, b.Resent)
	var refused []string
	var total int64
	for _, code := range sortedCodes(b.Refused) {
		refused = append(refused, fmt.Sprintf("%s %d", code, b.Refused[code]))
		total += b.Refused[code]
	}
	t.row("refused", "%d%s", total, ifStr(len(refused) > 0, "  ("+strings.Join(refused, ", ")+")"))
	if b.Retried+b.ResolvedOverHTTP+b.Unresolved > 0 {
		t.row("retried / resolved over HTTP / unresolved", "%d / %d / %d", b.Retried, b.ResolvedOverHTTP, b.Unresolved)
	}
	t.row("acknowledged per second", "%.0f average over voting, %.0f peak", b.PerSecond, b.PeakPerSecond)

	if ol != nil {
		fmt.Fprintln(t.tw, "open loop")
		t.row("offered", "%.0f ballots/s for %.1fs  (%d due, %d found no free phone)", ol.Rate, ol.Seconds, ol.Due, ol.NoFreePhone)
		t.row("achieved", "%.0f sent/s, %.0f acknowledged/s", ol.SentPerSecond, ol.AckedPerSecond)
		t.row("due → written (the generator's lag)", "%s", latText(ol.Lag, false))
		if ol.CPUPerBallotMs > 0 {
			t.row("server CPU", "%.3f ms per ballot  (%.0f%% of one core)", ol.CPUPerBallotMs, ol.CPUPercent)
		}
	}

}

func (t textReport) latency(rep *Report) {
	fmt.Fprintln(t.tw, "latency")
	t.row("ballot → ack", "%s", latText(rep.AckLatency, true))
	t.row("ack → on every screen", "%s%s", latText(rep.ScreenFanout, false), ifStr(rep.ScreenNotShown > 0, fmt.Sprintf("  %d never shown", rep.ScreenNotShown)))
	t.row("stage change → every voter", "%s%s", latText(rep.StageFanout, false), ifStr(rep.StageMissed > 0, fmt.Sprintf("  %d by snapshot or missed", rep.StageMissed)))

	for _, s := range rep.Servers {
		fmt.Fprintf(t.tw, "server %s\n", s.URL)
		if s.Error != "" {
			t.row("metrics", "unavailable: %s", s.Error)
			continue
		}
		t.row("memory (RSS)", "%.0f MiB before, %.0f MiB idle, %.0f MiB peak, %.0f MiB after", s.RSSBeforeMiB, s.RSSIdleMiB, s.RSSPeakMiB, s.RSSAfterMiB)
		t.row("per idle connection", "%.1f KiB  (%d connections)", s.KiBPerConnection, s.IdleConnections)
		t.row("CPU", "%.1f s  (%.0f%% of one core)", s.CPUSeconds, s.CPUPercent)
		t.row("goroutines (max)", "%d", s.GoroutinesMax)
	}

}

func (t textReport) verification(rep *Report) {
	c := rep.Connections
	v := rep.Verification
	fmt.Fprintln(t.tw, "verification")
	t.row("standings = tally of acknowledged ballots", "%s", yesNo(v.StandingsEqual))
	t.row("live ballots: server / expected", "%d / %d", v.ServerBallots, v.ExpectedBallots)
	if v.VotersChecked > 0 {
		t.row("voters read back", "%d", v.VotersChecked)
	}
	t.row("lost / counted without ack", "%d / %d", v.Lost, v.Unacknowledged)
	t.row("screens showing the final standings", "%d / %d", v.ScreensInSync, rep.Screens)
	for _, d := range v.Differences {
		t.row("difference", "%s", d)
	}
	for _, p := range rep.Problems {
		t.row("problem", "%s  (×%d)", p.What, p.Count)
	}
	verdict := "OK: nothing lost or miscounted"
	if !rep.OK {
		verdict = fmt.Sprintf("FAILED: %d lost, %d miscounted, %d failed connections, %d problems", rep.Lost, rep.Miscounted, c.Failed, len(rep.Problems))
	}
	fmt.Fprintf(t.tw, "\n%s\n", verdict)
}

func fmtMs(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1fs", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0fms", v)
	default:
		return fmt.Sprintf("%.1fms", v)
	}
}

func ifStr(ok bool, s string) string {
	if ok {
		return s
	}
	return ""
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "NO"
}
