package rehearse

import (
	"context"
	"encoding/json"
	"math"
	mrand "math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"leitai/voting"
)

// Open loop (--rate): ballots arrive as a Poisson process of a given rate,
// spread over the connected phones, whether or not earlier ones were
// acknowledged: what a hall offers, not what the server lets through. The
// closed loop (each phone waits for its ack, thinks, casts again) measures
// the queue once the server is saturated; the open loop measures the
// latency at a given load, and a curve of rates finds the knee.

// arrivals are the instants of a Poisson process (exponential gaps of
// mean 1/rate), from a seeded source, as offsets from its start.
type arrivals struct {
	rng  *mrand.Rand
	mean float64 // seconds between arrivals, on average
	at   float64 // seconds since the start
}

func newArrivals(rate float64, seed uint64) *arrivals {
	return &arrivals{rng: mrand.New(mrand.NewPCG(seed, 0x0be7)), mean: 1 / rate}
}

// next returns the offset of the next arrival.
func (a *arrivals) next() time.Duration {
	a.at += a.rng.ExpFloat64() * a.mean
	return time.Duration(a.at * float64(time.Second))
}

// openLoopStats are the open loop's figures, over all its windows.
type openLoopStats struct {
	due, noFreePhone atomic.Int64
	lag              histogram // due → written

	mu      sync.Mutex
	seconds float64 // time ballots were due
	acked   int64   // acknowledged during the windows, drained
	cpu     float64 // server CPU seconds then (every instance)
	cpuOK   bool
}

// OpenLoop is the report of an open-loop run (--rate).
type OpenLoop struct {
	// Rate is the offered rate (ballots/s); Seconds how long ballots were
	// due, over every contestant's window.
	Rate    float64 `json:"rate"`
	Seconds float64 `json:"seconds"`
	// Due ballots arrived; NoFreePhone of them found no connected phone
	// without a ballot in flight (a phone waits for its ack, as the vote
	// page does) and were not sent: a sign of saturation.
	Due         int64 `json:"due"`
	NoFreePhone int64 `json:"noFreePhone"`
	// SentPerSecond and AckedPerSecond are the achieved rates.
	SentPerSecond  float64 `json:"sentPerSecond"`
	AckedPerSecond float64 `json:"ackedPerSecond"`
	// Lag is the load generator's own delay, from a ballot's due time to
	// its write: when it is large, the generator (sharing the cores) and
	// not only the server made the ack latency.
	Lag Latency `json:"lag"`
	// CPUPerBallotMs is the servers' CPU time (every instance, from
	// /metrics) during the windows per acknowledged ballot, ms; CPUPercent
	// the same CPU as a share of one core. 0 without --metrics-url.
	CPUPerBallotMs float64 `json:"cpuPerBallotMs"`
	CPUPercent     float64 `json:"cpuPercent"`
}

// openLoop casts ballots for contestant ci at cfg.Rate for cfg.Duration,
// then waits (a bounded while) for the answers to those in flight.
func (r *runner) openLoop(ctx context.Context, ci int) {
	st := &r.open
	cpu0, ok0 := r.serversCPU(ctx)
	acked0 := r.c.acked.Load()
	start := time.Now()
	arr := newArrivals(r.cfg.Rate, r.cfg.Seed+uint64(ci))
	pick := mrand.New(mrand.NewPCG(r.cfg.Seed, uint64(ci)+0x9e37))
	for ctx.Err() == nil {
		off := arr.next()
		if off >= r.cfg.Duration {
			break
		}
		due := start.Add(off)
		// Timers are coarse: sleep only for a gap worth it, and send what
		// is due meanwhile at once (at most a millisecond early).
		if wait := time.Until(due); wait > time.Millisecond && !sleepCtx(ctx, wait) {
			break
		}
		st.due.Add(1)
		if !r.castOnAnyPhone(ci, due, pick) {
			st.noFreePhone.Add(1)
		}
	}
	sleepCtx(ctx, time.Until(start.Add(r.cfg.Duration)))
	elapsed := time.Since(start)
	r.waitAnswered(ctx, 30*time.Second)
	acked := r.c.acked.Load() - acked0
	cpu1, ok1 := r.serversCPU(ctx)
	st.mu.Lock()
	st.seconds += elapsed.Seconds()
	st.acked += acked
	if ok0 && ok1 {
		st.cpu += cpu1 - cpu0
		st.cpuOK = true
	}
	st.mu.Unlock()
}

// castOnAnyPhone casts a ballot due at due from a connected phone without
// a ballot in flight: a random one, else the next free ones after it.
func (r *runner) castOnAnyPhone(ci int, due time.Time, pick *mrand.Rand) bool {
	n := len(r.voters)
	first := pick.IntN(n)
	for i := range min(n, 64) {
		if r.voters[(first+i)%n].castDue(ci, due, r) {
			return true
		}
	}
	return false
}

// castDue casts a ballot for ci due at due if the voter is connected,
// voting is open for ci and no ballot of its is in flight. The write
// happens on its own goroutine: the schedule does not wait for it.
func (v *voter) castDue(ci int, due time.Time, r *runner) bool {
	if !v.mu.TryLock() { // busy with a frame: another phone
		return false
	}
	c := r.event.Contestants[ci].ID
	if v.stopped || v.conn == nil || v.pending != nil || v.stage.Phase != voting.PhaseVoting || v.stage.Current != c {
		v.mu.Unlock()
		return false
	}
	p := v.newBallotLocked(ci)
	p.due = due
	conn := v.conn
	v.mu.Unlock()
	r.c.pending.Add(1)
	go func() {
		r.open.lag.Observe(time.Since(due))
		v.write(conn, p.frame, true)
	}()
	return true
}

// newBallotLocked makes the voter's next ballot for ci (a fresh id, a
// random score on the event's scale) its pending one.
func (v *voter) newBallotLocked(ci int) *pendingBallot {
	rules := &v.r.event.Rules
	steps := int(math.Round((rules.Max - rules.Min) / rules.Step))
	score := rules.Min + float64(v.rng.IntN(steps+1))*rules.Step
	p := &pendingBallot{id: uuid.NewString(), ci: ci, score: score, units: int64(math.Round(score * voting.ScoreUnits))}
	p.frame, _ = json.Marshal(ballotFrame{Type: "ballot", ID: p.id, Contestant: v.r.event.Contestants[ci].ID, Score: score})
	p.sentAt = time.Now()
	v.pending = p
	v.attempts[ci]++
	return p
}

// ballotFrame is a voter's ballot message.
type ballotFrame struct {
	Type       string  `json:"type"`
	ID         string  `json:"id"`
	Contestant string  `json:"contestant"`
	Score      float64 `json:"score"`
}

// waitAnswered waits until no ballot is in flight, at most limit.
func (r *runner) waitAnswered(ctx context.Context, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for r.c.pending.Load() > 0 && time.Now().Before(deadline) && sleepCtx(ctx, 10*time.Millisecond) {
	}
}

// serversCPU is the CPU seconds every instance has used so far (false
// when some instance's /metrics cannot be read).
func (r *runner) serversCPU(ctx context.Context) (float64, bool) {
	var sum float64
	for _, a := range r.apis {
		m, err := a.metrics(ctx)
		if err != nil {
			return 0, false
		}
		sum += m.CPUSeconds
	}
	return sum, true
}

// openLoopReport summarises the open loop (nil in a closed-loop run).
func (r *runner) openLoopReport() *OpenLoop {
	if r.cfg.Rate <= 0 {
		return nil
	}
	st := &r.open
	st.mu.Lock()
	defer st.mu.Unlock()
	ol := &OpenLoop{Rate: r.cfg.Rate, Seconds: st.seconds, Due: st.due.Load(), NoFreePhone: st.noFreePhone.Load(), Lag: st.lag.Summary()}
	if st.seconds > 0 {
		ol.SentPerSecond = float64(ol.Due-ol.NoFreePhone) / st.seconds
		ol.AckedPerSecond = float64(st.acked) / st.seconds
		if st.cpuOK {
			ol.CPUPercent = 100 * st.cpu / st.seconds
		}
	}
	if st.cpuOK && st.acked > 0 {
		ol.CPUPerBallotMs = 1000 * st.cpu / float64(st.acked)
	}
	return ol
}
