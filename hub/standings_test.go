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
	e := startEnv(t, st, br, envOptions{Hub: hub.Config{StandingsInterval: interval}})
	votingOn(e, "co")
	screens := []*wsClient{e.Dial("co", "role=screen"), e.Dial("co", "role=screen")}
	hosts := []*wsClient{e.DialHost("co"), e.DialHost("co")}
	for _, c := range append(screens, hosts...) {
		c.WaitSnapshot()
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
			status, data := e.Do("POST", "/api/events/co/ballots", "", map[string]any{
				"id": newID(), "credential": cred("burst-" + newID()[:8]), "contestant": "c1", "score": scoreFor(i, 0)})
			if status != 200 {
				t.Errorf("ballot: %d %s", status, data)
			}
		}()
	}
	wg.Wait()
	for _, c := range append(screens, hosts...) {
		c.WaitFor("every ballot", func(f []msg) bool { return viewOf(f).Turnout.Voted == ballots })
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
		a, _ := last(group[0].All(), "standings")
		b, _ := last(group[1].All(), "standings")
		if !bytes.Equal(a.Raw, b.Raw) {
			t.Errorf("two clients of one audience got different bytes:\n%s\n%s", a.Raw, b.Raw)
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
	e.CreateEvent(ev)
	e.Command("crit", voting.Command{Action: voting.ActionOpen}) // no one on stage: scope all
	v := e.Dial("crit", voterQuery("v1"))
	v.WaitSnapshot()
	for _, c := range []string{"c1", "c3"} {
		id := newID()
		v.Send(map[string]any{"type": "ballot", "id": id, "contestant": c, "scores": map[string]float64{"measures": 90, "results": 80}})
		wantAccepted(t, v.WaitAck(id), c, 86, false)
	}
	for _, bad := range []map[string]any{
		{"contestant": "c2", "scores": map[string]float64{"measures": 90}},
		{"contestant": "c2", "scores": map[string]float64{"measures": 90, "results": 80, "style": 70}},
		{"contestant": "c2", "score": 90},
		{"contestant": "c2", "scores": map[string]float64{"measures": 90, "results": 101}},
	} {
		id := newID()
		bad["type"], bad["id"] = "ballot", id
		v.Send(bad)
		wantRefused(t, v.WaitAck(id), voting.CodeInvalid)
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
	e.CreateEvent(ev)
	hidden := false
	e.Command("rev", voting.Command{Action: voting.ActionRanking, Visible: &hidden})
	e.Command("rev", voting.Command{Action: voting.ActionOpen})
	v := e.Dial("rev", voterQuery("v1"))
	sc := e.Dial("rev", "role=screen")
	if s := v.WaitSnapshot(); s.Ranking != nil {
		t.Errorf("hidden ranking in a voter snapshot: %s", s.Raw)
	}
	if s := sc.WaitSnapshot(); s.Standings != nil {
		t.Errorf("hidden standings in a screen snapshot: %s", s.Raw)
	}
	for i, c := range []string{"c1", "c2", "c3"} {
		wantAccepted(t, v.Ballot(newID(), c, float64(70+10*i)), c, float64(70+10*i), false)
	}
	e.Command("rev", voting.Command{Action: voting.ActionClose})
	st := e.Command("rev", voting.Command{Action: voting.ActionReveal})
	// (The stage message may come before the standings with the last
	// ballots: wait for the state, not for the first frame.)
	v.WaitFor("one revealed place: c1 at rank 3", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Stage.Version == st.Version && len(vw.Ranking) == 1 && vw.Ranking[0].Contestant == "c1" && vw.Ranking[0].Rank == 3
	})
	sc.WaitFor("only the last place on the screen", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Stage.Version == st.Version && vw.Standings != nil && len(vw.Standings.Rows) == 1 &&
			vw.Standings.Rows[0].Contestant == "c1" && vw.Standings.Rows[0].Rank == 3
	})
	st = e.Command("rev", voting.Command{Action: voting.ActionReveal})
	v.WaitFor("two revealed places", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Stage.Version == st.Version && len(vw.Ranking) == 2 && vw.Ranking[0].Contestant == "c2"
	})
	sc.WaitFor("two places on the screen, not the winner", func(f []msg) bool {
		vw := viewOf(f)
		if vw.Stage.Version != st.Version || vw.Standings == nil || len(vw.Standings.Rows) != 2 {
			return false
		}
		for _, r := range vw.Standings.Rows {
			if r.Contestant == "c3" {
				t.Errorf("the winner reached the screen before its reveal")
			}
		}
		return true
	})
	st = e.Command("rev", voting.Command{Action: voting.ActionEnd})
	v.WaitFor("the whole ranking at the end", func(f []msg) bool {
		vw := viewOf(f)
		return vw.Stage.Phase == voting.PhaseEnded && len(vw.Ranking) == 3 && vw.Ranking[0].Contestant == "c3"
	})
	wantRefused(t, v.Ballot(newID(), "c1", 90), voting.CodeClosed)
}

// TestCountdownClosesVoting: when a countdown runs out while voting is
// open, the server closes voting and every client sees the closed stage.
func TestCountdownClosesVoting(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("cd", 2))
	e.Command("cd", voting.Command{Action: voting.ActionNext})
	e.Command("cd", voting.Command{Action: voting.ActionOpen})
	v := e.Dial("cd", voterQuery("v1"))
	sc := e.Dial("cd", "role=screen")
	v.WaitSnapshot()
	sc.WaitSnapshot()
	started := e.Command("cd", voting.Command{Action: voting.ActionCountdown, Seconds: 1})
	for _, c := range []*wsClient{v, sc} {
		c.WaitFor("voting closed by the countdown", func(f []msg) bool {
			vw := viewOf(f)
			return vw.Stage.Phase == voting.PhaseClosed && vw.Stage.Version == started.Version+1
		})
	}
	wantRefused(t, v.Ballot(newID(), "c1", 80), voting.CodeClosed)
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
	e := startEnv(t, st, hub.NewMemoryBroker(), envOptions{Hub: hub.Config{StandingsInterval: interval, VoterStandingsInterval: voterInterval}})
	votingOn(e, "pace")
	sc := e.Dial("pace", "role=screen")
	v := e.Dial("pace", voterQuery("watcher"))
	sc.WaitSnapshot()
	v.WaitSnapshot()

	start := time.Now()
	const ballots = 30
	for i := range ballots {
		status, data := e.Do("POST", "/api/events/pace/ballots", "", map[string]any{
			"id": newID(), "credential": cred("paced-" + newID()[:8]), "contestant": "c1", "score": scoreFor(i, 0)})
		if status != 200 {
			t.Fatalf("ballot: %d %s", status, data)
		}
		time.Sleep(interval / 2)
	}
	for _, c := range []*wsClient{sc, v} {
		c.WaitFor("every ballot", func(f []msg) bool { return viewOf(f).Turnout.Voted == ballots })
	}
	elapsed := time.Since(start)
	voterFrames, screenFrames := count(v.All(), "standings"), count(sc.All(), "standings")
	if limit := int(elapsed/voterInterval) + 2; voterFrames > limit {
		t.Errorf("the phone got %d standings frames in %v; at most %d expected at one per %v", voterFrames, elapsed, limit, voterInterval)
	}
	if screenFrames <= voterFrames {
		t.Errorf("the screen got %d standings frames, the phone %d: the screen should get every one", screenFrames, voterFrames)
	}
}
