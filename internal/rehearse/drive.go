package rehearse

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"leitai/voting"
)

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
