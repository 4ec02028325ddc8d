package hub_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
	"time"

	"leitai/hub"
	"leitai/voting"
)

// TestFullEvent drives an event through the API with 50 voter sockets (45
// audience, 5 judges), a screen and a host socket: every ballot is
// acknowledged with the score that counts, after the store has it;
// replacements and retries count once; the screen and host converge to
// exactly voting.Tally of the acknowledged ballots; voters get the small
// message (turnout and ranking), the same bytes for all; stage changes
// reach all 52 clients; a ballot for the contestant that left the stage is
// refused as closed.
func TestFullEvent(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{StandingsInterval: 50 * time.Millisecond}})
	ev := e.CreateEvent(testEvent("full", 4))
	if ev.Revision != 1 || len(ev.Contestants) != 4 {
		t.Fatalf("created %+v", ev)
	}

	screen := e.Dial("full", "role=screen")
	host := e.DialHost("full")
	const nVoters, nJudges = 50, 5
	voters := make([]*wsClient, nVoters)
	voterIDs := make([]string, nVoters)
	for i := range voters {
		voterIDs[i] = fmt.Sprintf("voter-%02d-%s", i, newID()[:8])
		q := voterQuery(voterIDs[i])
		if i < nJudges {
			q += "&panel=judges&panelKey=judge-key"
		}
		voters[i] = e.Dial("full", q)
	}
	all := append([]*wsClient{screen, host}, voters...)

	// Snapshots: the right role and parts for each audience.
	if s := screen.WaitSnapshot(); s.Role != hub.RoleScreen || s.Stage.Phase != voting.PhaseLobby || s.Standings == nil || s.Ballots != nil || s.Event.ID != "full" {
		t.Errorf("screen snapshot %s", s.Raw)
	}
	if s := host.WaitSnapshot(); s.Role != hub.RoleHost || s.Standings == nil {
		t.Errorf("host snapshot %s", s.Raw)
	}
	for i, v := range voters {
		s := v.WaitSnapshot()
		wantPanel := "audience"
		if i < nJudges {
			wantPanel = "judges"
		}
		if s.Role != hub.RoleVoter || s.Voter != voterIDs[i] || s.Panel != wantPanel || s.Ballots == nil || len(*s.Ballots) != 0 || s.Standings != nil {
			t.Errorf("voter snapshot %s", s.Raw)
		}
		if s.Event.Panels[1].Key != voting.KeyRequired {
			t.Errorf("a voter's snapshot shows the panel key: %s", s.Raw)
		}
	}

	// Turnout: connected voters live on screen and host.
	for _, c := range []*wsClient{screen, host} {
		c.WaitFor("50 connected voters", func(f []msg) bool { return viewOf(f).Turnout.Voters == nVoters })
	}

	e.Command("full", voting.Command{Action: voting.ActionNext})
	st := e.Command("full", voting.Command{Action: voting.ActionOpen})
	if st.Phase != voting.PhaseVoting || st.Current != "c1" {
		t.Fatalf("stage after next, open: %+v", st)
	}
	for _, c := range all {
		c.WaitStage("voting on c1", func(s voting.Stage) bool { return s.Version >= st.Version })
	}

	// Every voter casts; every fifth replaces its ballot; every seventh
	// retries its first ballot id after that (it counts once and does not
	// undo the replacement).
	var mu sync.Mutex
	var cast []voting.CountedBallot // in cast order per voter
	var wg sync.WaitGroup
	for i, v := range voters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			panel := "audience"
			if i < nJudges {
				panel = "judges"
			}
			counted := func(id string, score float64) voting.CountedBallot {
				return voting.CountedBallot{Ballot: voting.Ballot{ID: id, Event: "full", Voter: voterIDs[i], Contestant: "c1", Panel: panel, Score: score},
					Units: int64(score * voting.ScoreUnits)}
			}
			mine := []voting.CountedBallot{}
			first, s1 := newID(), scoreFor(i, 0)
			ack1 := v.Ballot(first, "c1", s1)
			wantAccepted(t, ack1, "c1", s1, false)
			mine = append(mine, counted(first, s1))
			if i%5 == 0 {
				second, s2 := newID(), scoreFor(i, 1)
				wantAccepted(t, v.Ballot(second, "c1", s2), "c1", s2, true)
				mine = append(mine, counted(second, s2))
			}
			if i%7 == 0 {
				v.Send(map[string]any{"type": "ballot", "id": first, "contestant": "c1", "score": s1})
				frames := v.WaitFor("the retry's ack", func(f []msg) bool { return count(f, "ack") >= len(mine)+1 })
				retry, _ := last(frames, "ack")
				if !retry.OK || retry.Receipt == nil || *retry.Receipt != *ack1.Receipt {
					t.Errorf("retry ack %s, want the first receipt %s", retry.Raw, ack1.Raw)
				}
			}
			// The ack came after the store had the ballot.
			live, err := e.Svc.VoterBallots(testContext(t), "full", voterIDs[i])
			if err != nil || len(live) != 1 || live[0].ID != mine[len(mine)-1].ID {
				t.Errorf("voter %d: live ballots %+v, %v after the acks; want %s", i, live, err, mine[len(mine)-1].ID)
			}
			mu.Lock()
			cast = append(cast, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	want := voting.Tally(&ev, cast)
	if want.Ballots != nVoters {
		t.Fatalf("tally counts %d ballots, want %d", want.Ballots, nVoters)
	}
	if got := e.Standings("full"); !jsonEqual(t, got, want) {
		t.Fatalf("GET standings = %+v\nwant %+v", got, want)
	}
	for _, c := range []*wsClient{screen, host} {
		frames := c.WaitFor("the exact standings", func(f []msg) bool {
			v := viewOf(f)
			return v.Standings != nil && jsonEqual(t, *v.Standings, want) && v.Turnout == hub.Turnout{Voters: nVoters, Contestant: "c1", Voted: nVoters}
		})
		if n := count(frames, "standings"); n > nVoters*2 {
			t.Errorf("%s got %d standings messages for %d ballots", c.Name, n, nVoters+nVoters/5)
		}
	}
	var wantRanking []voting.RankingRow
	for _, row := range want.Rows {
		if row.Rank > 0 {
			wantRanking = append(wantRanking, voting.RankingRow{Contestant: row.Contestant, Final: row.Final, Rank: row.Rank})
		}
	}
	var voterFrame []byte
	for _, v := range voters {
		frames := v.WaitFor("the ranking", func(f []msg) bool {
			vw := viewOf(f)
			return jsonEqual(t, vw.Ranking, wantRanking) && vw.Turnout.Voted == nVoters && vw.Turnout.Voters == nVoters
		})
		for _, m := range frames {
			if m.Type == "standings" && m.Standings != nil {
				t.Fatalf("a voter got the full standings: %s", m.Raw)
			}
		}
		lastFrame, _ := last(frames, "standings")
		if voterFrame == nil {
			voterFrame = lastFrame.Raw
		} else if !bytes.Equal(voterFrame, lastFrame.Raw) {
			t.Errorf("voters got different bytes for the same standings:\n%s\n%s", voterFrame, lastFrame.Raw)
		}
	}

	// Next contestant: every client gets the stage message (not a resync).
	before := make([]int, len(all))
	for i, c := range all {
		before[i] = count(c.All(), "snapshot")
	}
	st = e.Command("full", voting.Command{Action: voting.ActionNext})
	for i, c := range all {
		frames := c.WaitFor("the stage message for c2", func(f []msg) bool {
			for _, m := range f {
				if m.Type == "stage" && m.Stage.Version == st.Version && m.Stage.Current == "c2" && m.Stage.Phase == voting.PhasePresenting {
					return true
				}
			}
			return false
		})
		if n := count(frames, "snapshot"); n != before[i] {
			t.Errorf("%s was resynchronised (%d snapshots, %d before)", c.Name, n, before[i])
		}
	}
	// The old contestant is closed, and so is the new one until voting opens.
	wantRefused(t, voters[10].Ballot(newID(), "c1", 80), voting.CodeClosed)
	wantRefused(t, voters[11].Ballot(newID(), "c2", 80), voting.CodeClosed)
	// Turnout follows the stage: nobody has voted for c2 yet.
	screen.WaitFor("turnout for c2", func(f []msg) bool {
		return viewOf(f).Turnout == hub.Turnout{Voters: nVoters, Contestant: "c2", Voted: 0}
	})

	// Hide the ranking: the screen keeps the turnout only, voters lose the
	// ranking, the host keeps everything.
	hidden := false
	st = e.Command("full", voting.Command{Action: voting.ActionRanking, Visible: &hidden})
	for _, c := range []*wsClient{screen, host, voters[0]} {
		c.WaitStage("ranking hidden", func(s voting.Stage) bool { return s.Version >= st.Version })
	}
	screen.WaitFor("standings without the board", func(f []msg) bool {
		m, ok := last(f, "standings")
		return ok && viewOf(f).Stage.Version == st.Version && m.Standings == nil && m.Turnout != nil && m.Turnout.Voters == nVoters
	})
	voters[0].WaitFor("standings without the ranking", func(f []msg) bool {
		m, ok := last(f, "standings")
		return ok && viewOf(f).Stage.Version == st.Version && m.Ranking == nil && m.Turnout != nil
	})
	hv := viewOf(host.All())
	if hv.Standings == nil || !jsonEqual(t, *hv.Standings, want) {
		t.Errorf("the host lost the standings: %+v", hv.Standings)
	}
	// A snapshot now follows the same rules.
	late := e.Dial("full", "role=screen")
	if s := late.WaitSnapshot(); s.Standings != nil || s.Turnout.Voters != nVoters {
		t.Errorf("screen snapshot with the ranking hidden: %s", s.Raw)
	}

	// Voting on c2 moves "voted".
	st = e.Command("full", voting.Command{Action: voting.ActionOpen})
	for _, v := range voters[:3] {
		v.WaitStage("voting on c2", func(s voting.Stage) bool { return s.Version >= st.Version })
		wantAccepted(t, v.Ballot(newID(), "c2", 90), "c2", 90, false)
	}
	host.WaitFor("3 voted for c2", func(f []msg) bool {
		return viewOf(f).Turnout == hub.Turnout{Voters: nVoters, Contestant: "c2", Voted: 3}
	})
}
