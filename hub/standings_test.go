package hub_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"leitai/hub"
	"leitai/voting"
	"leitai/voting/embedded"
)

// countingBroker counts the standings envelopes published.
type countingBroker struct {
	hub.Broker
	standings atomic.Int64
}

func (b *countingBroker) Publish(ctx context.Context, event string, env hub.Envelope) (int64, error) {
	if env.Kind == hub.KindStandings {
		b.standings.Add(1)
	}
	return b.Broker.Publish(ctx, event, env)
}

// TestStandingsCoalesced: a burst of ballots produces at most one standings
// message per interval (counted against the time the burst took, so a
// slow machine only allows more), the last one has every ballot, and every
// client of one audience gets the same bytes.
func TestStandingsCoalesced(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	br := &countingBroker{Broker: hub.NewMemoryBroker()}
	const interval = 250 * time.Millisecond
	e := startEnv(t, st, br, envOptions{cfg: hub.Config{StandingsInterval: interval}})
	votingOn(e, "co")
	screens := []*wsClient{e.dial("co", "role=screen"), e.dial("co", "role=screen")}
	hosts := []*wsClient{e.dialHost("co"), e.dialHost("co")}
	for _, c := range append(screens, hosts...) {
		c.waitSnapshot()
	}
	e.waitConnections(4)

	start := time.Now()
	before := br.standings.Load()
	const ballots = 60
	var wg sync.WaitGroup
	for i := range ballots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, data := e.api("POST", "/api/events/co/ballots", "", map[string]any{
				"id": newID(), "credential": cred("burst-" + newID()[:8]), "contestant": "c1", "score": scoreFor(i, 0)})
			if status != 200 {
				t.Errorf("ballot: %d %s", status, data)
			}
		}()
	}
	wg.Wait()
	for _, c := range append(screens, hosts...) {
		c.waitFor("every ballot", func(f []msg) bool { return viewOf(f).turnout.Voted == ballots })
	}
	elapsed := time.Since(start)
	published := br.standings.Load() - before
	if limit := int64(elapsed/interval) + 2; published > limit {
		t.Errorf("%d standings messages for %d ballots in %v; at most %d expected at one per %v", published, ballots, elapsed, limit, interval)
	}
	if published >= ballots {
		t.Errorf("standings were not coalesced: %d messages for %d ballots", published, ballots)
	}
	for _, group := range [][]*wsClient{screens, hosts} {
		a, _ := last(group[0].all(), "standings")
		b, _ := last(group[1].all(), "standings")
		if !bytes.Equal(a.raw, b.raw) {
			t.Errorf("two clients of one audience got different bytes:\n%s\n%s", a.raw, b.raw)
		}
	}
}

// TestCriteriaAndScopeAll: an event scored on criteria with voting open for
// every contestant at once: the receipt carries the weighted average.
func TestCriteriaAndScopeAll(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("crit", 3)
	ev.VotingScope = voting.ScopeAll
	ev.Rules.Criteria = []voting.Criterion{{ID: "measures", Name: "举措", Weight: 60}, {ID: "results", Name: "成绩", Weight: 40}}
	e.createEvent(ev)
	e.command("crit", voting.Command{Action: voting.ActionOpen}) // no one on stage: scope all
	v := e.dial("crit", voterQuery("v1"))
	v.waitSnapshot()
	for _, c := range []string{"c1", "c3"} {
		id := newID()
		v.send(map[string]any{"type": "ballot", "id": id, "contestant": c, "scores": map[string]float64{"measures": 90, "results": 80}})
		wantAccepted(t, v.waitAck(id), c, 86, false)
	}
	for _, bad := range []map[string]any{
		{"contestant": "c2", "scores": map[string]float64{"measures": 90}},
		{"contestant": "c2", "scores": map[string]float64{"measures": 90, "results": 80, "style": 70}},
		{"contestant": "c2", "score": 90},
		{"contestant": "c2", "scores": map[string]float64{"measures": 90, "results": 101}},
	} {
		id := newID()
		bad["type"], bad["id"] = "ballot", id
		v.send(bad)
		wantRefused(t, v.waitAck(id), voting.CodeInvalid)
	}
}

// TestRevealAndEnd: with the ranking hidden, the reveal shows phones only
// and the screen only the revealed places (from the last up), so the winner
// cannot be read early from a screen socket; after the end everything is
// shown and nothing changes any more.
func TestRevealAndEnd(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("rev", 3)
	ev.VotingScope = voting.ScopeAll
	e.createEvent(ev)
	hidden := false
	e.command("rev", voting.Command{Action: voting.ActionRanking, Visible: &hidden})
	e.command("rev", voting.Command{Action: voting.ActionOpen})
	v := e.dial("rev", voterQuery("v1"))
	sc := e.dial("rev", "role=screen")
	if s := v.waitSnapshot(); s.Ranking != nil {
		t.Errorf("hidden ranking in a voter snapshot: %s", s.raw)
	}
	if s := sc.waitSnapshot(); s.Standings != nil {
		t.Errorf("hidden standings in a screen snapshot: %s", s.raw)
	}
	for i, c := range []string{"c1", "c2", "c3"} {
		wantAccepted(t, v.ballot(newID(), c, float64(70+10*i)), c, float64(70+10*i), false)
	}
	e.command("rev", voting.Command{Action: voting.ActionClose})
	st := e.command("rev", voting.Command{Action: voting.ActionReveal})
	// (The stage message may come before the standings with the last
	// ballots: wait for the state, not for the first frame.)
	v.waitFor("one revealed place: c1 at rank 3", func(f []msg) bool {
		vw := viewOf(f)
		return vw.stage.Version == st.Version && len(vw.ranking) == 1 && vw.ranking[0].Contestant == "c1" && vw.ranking[0].Rank == 3
	})
	sc.waitFor("only the last place on the screen", func(f []msg) bool {
		vw := viewOf(f)
		return vw.stage.Version == st.Version && vw.standings != nil && len(vw.standings.Rows) == 1 &&
			vw.standings.Rows[0].Contestant == "c1" && vw.standings.Rows[0].Rank == 3
	})
	st = e.command("rev", voting.Command{Action: voting.ActionReveal})
	v.waitFor("two revealed places", func(f []msg) bool {
		vw := viewOf(f)
		return vw.stage.Version == st.Version && len(vw.ranking) == 2 && vw.ranking[0].Contestant == "c2"
	})
	sc.waitFor("two places on the screen, not the winner", func(f []msg) bool {
		vw := viewOf(f)
		if vw.stage.Version != st.Version || vw.standings == nil || len(vw.standings.Rows) != 2 {
			return false
		}
		for _, r := range vw.standings.Rows {
			if r.Contestant == "c3" {
				t.Errorf("the winner reached the screen before its reveal")
			}
		}
		return true
	})
	st = e.command("rev", voting.Command{Action: voting.ActionEnd})
	v.waitFor("the whole ranking at the end", func(f []msg) bool {
		vw := viewOf(f)
		return vw.stage.Phase == voting.PhaseEnded && len(vw.ranking) == 3 && vw.ranking[0].Contestant == "c3"
	})
	wantRefused(t, v.ballot(newID(), "c1", 90), voting.CodeClosed)
}

// TestCountdownClosesVoting: when a countdown runs out while voting is
// open, the server closes voting and every client sees the closed stage.
func TestCountdownClosesVoting(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.createEvent(testEvent("cd", 2))
	e.command("cd", voting.Command{Action: voting.ActionNext})
	e.command("cd", voting.Command{Action: voting.ActionOpen})
	v := e.dial("cd", voterQuery("v1"))
	sc := e.dial("cd", "role=screen")
	v.waitSnapshot()
	sc.waitSnapshot()
	started := e.command("cd", voting.Command{Action: voting.ActionCountdown, Seconds: 1})
	for _, c := range []*wsClient{v, sc} {
		c.waitFor("voting closed by the countdown", func(f []msg) bool {
			vw := viewOf(f)
			return vw.stage.Phase == voting.PhaseClosed && vw.stage.Version == started.Version+1
		})
	}
	wantRefused(t, v.ballot(newID(), "c1", 80), voting.CodeClosed)
}

// TestVoterStandingsPaced: phones get standings at most once per
// VoterStandingsInterval while screens get every one, and the phones'
// last frame still has every ballot (held-back frames are flushed).
func TestVoterStandingsPaced(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const interval, voterInterval = 50 * time.Millisecond, 400 * time.Millisecond
	e := startEnv(t, st, hub.NewMemoryBroker(), envOptions{cfg: hub.Config{StandingsInterval: interval, VoterStandingsInterval: voterInterval}})
	votingOn(e, "pace")
	sc := e.dial("pace", "role=screen")
	v := e.dial("pace", voterQuery("watcher"))
	sc.waitSnapshot()
	v.waitSnapshot()

	start := time.Now()
	const ballots = 30
	for i := range ballots {
		status, data := e.api("POST", "/api/events/pace/ballots", "", map[string]any{
			"id": newID(), "credential": cred("paced-" + newID()[:8]), "contestant": "c1", "score": scoreFor(i, 0)})
		if status != 200 {
			t.Fatalf("ballot: %d %s", status, data)
		}
		time.Sleep(interval / 2)
	}
	for _, c := range []*wsClient{sc, v} {
		c.waitFor("every ballot", func(f []msg) bool { return viewOf(f).turnout.Voted == ballots })
	}
	elapsed := time.Since(start)
	voterFrames, screenFrames := count(v.all(), "standings"), count(sc.all(), "standings")
	if limit := int(elapsed/voterInterval) + 2; voterFrames > limit {
		t.Errorf("the phone got %d standings frames in %v; at most %d expected at one per %v", voterFrames, elapsed, limit, voterInterval)
	}
	if screenFrames <= voterFrames {
		t.Errorf("the screen got %d standings frames, the phone %d: the screen should get every one", screenFrames, voterFrames)
	}
}
