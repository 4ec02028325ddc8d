package rehearse

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"leitai/voting"
)

// Verification is the end-of-run check: the server's standings against
// the standings computed (voting.Tally) from the acknowledged ballots.
type Verification struct {
	// StandingsEqual: every row (rank, group rank, final score, ballot
	// counts, panel averages) equals the reference tally.
	StandingsEqual bool     `json:"standingsEqual"`
	Differences    []string `json:"differences,omitempty"`
	// ExpectedBallots is the number of live ballots the acknowledgements
	// imply (one per voter and contestant); ServerBallots what the
	// server's standings count.
	ExpectedBallots int `json:"expectedBallots"`
	ServerBallots   int `json:"serverBallots"`
	// VotersChecked had their live ballots read back one by one.
	VotersChecked int `json:"votersChecked"`
	// Lost are acknowledged ballots missing from (or different on) the
	// server; Unacknowledged are ballots the server counts that no
	// acknowledgement announced.
	Lost           int `json:"lost"`
	Unacknowledged int `json:"unacknowledged"`
	// ScreensInSync showed exactly the final standings before they closed.
	ScreensInSync int `json:"screensInSync"`
}

// verify compares the server's state with what was acknowledged.
func (r *runner) verify(ctx context.Context, rep *Report, voters []*voter, screens []*screen) {
	ver := &rep.Verification
	ev, err := r.host.event(ctx, r.event.ID)
	if err != nil {
		r.problemf("could not read the event back: %v", err)
		return
	}
	var sd voting.Standings
	for attempt := 0; ; attempt++ {
		if sd, err = r.host.standings(ctx, r.event.ID); err == nil || attempt >= 10 || !retriable(err) {
			break
		}
		sleepCtx(ctx, time.Second)
	}
	if err != nil {
		r.problemf("could not read the standings: %v", err)
		return
	}
	// What the acknowledgements say: each voter's latest acknowledged
	// ballot per contestant. A voter has one ballot in flight at a time, so
	// the order of its acknowledgements is the order its ballots count in.
	expected := make(map[string][]voting.CountedBallot, len(voters))
	var all []voting.CountedBallot
	for _, v := range voters {
		panel := v.panel
		if panel == "" {
			panel = ev.Panels[0].ID
		}
		v.mu.Lock()
		for ci, lb := range v.live {
			if lb.id == "" {
				continue
			}
			b := voting.CountedBallot{Ballot: voting.Ballot{
				ID: lb.id, Event: ev.ID, Voter: v.id, Contestant: ev.Contestants[ci].ID, Panel: panel,
			}, Units: lb.units}
			expected[v.id] = append(expected[v.id], b)
			all = append(all, b)
		}
		v.mu.Unlock()
	}
	want := voting.Tally(&ev, all)
	ver.ExpectedBallots = len(all)
	ver.ServerBallots = sd.Ballots
	ver.Differences = compareStandings(&sd, &want)
	ver.StandingsEqual = len(ver.Differences) == 0
	rep.Miscounted = countRowDiffs(&sd, &want)
	if len(ver.Differences) > 20 {
		ver.Differences = append(ver.Differences[:20], fmt.Sprintf("… and %d more", len(ver.Differences)-20))
	}

	for _, s := range screens {
		s.mu.Lock()
		if s.latest != nil && len(compareStandings(s.latest, &sd)) == 0 {
			ver.ScreensInSync++
		}
		s.mu.Unlock()
	}

	if r.cfg.SkipVoterCheck {
		ver.Lost = max(0, ver.ExpectedBallots-ver.ServerBallots)
		ver.Unacknowledged = max(0, ver.ServerBallots-ver.ExpectedBallots)
	} else {
		r.checkVoters(ctx, ver, voters, expected)
	}
	rep.Lost = ver.Lost
	rep.Miscounted += ver.Unacknowledged
}

// checkVoters reads every voter's live ballots back and compares them
// with its acknowledged ones.
func (r *runner) checkVoters(ctx context.Context, ver *Verification, voters []*voter, expected map[string][]voting.CountedBallot) {
	type result struct{ lost, extra int }
	work := make(chan *voter)
	results := make(chan result, len(voters))
	var wg sync.WaitGroup
	var errMu sync.Mutex
	failures := 0
	for range min(32, len(voters)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range work {
				var got []voting.CountedBallot
				var err error
				for attempt := 0; attempt < 5; attempt++ {
					if got, err = v.api.voterBallots(ctx, r.event.ID, v.credential); err == nil || !retriable(err) {
						break
					}
					sleepCtx(ctx, 500*time.Millisecond)
				}
				if err != nil {
					errMu.Lock()
					failures++
					errMu.Unlock()
					r.problemf("could not read a voter's ballots back: %v", err)
					continue
				}
				lost, extra := diffBallots(expected[v.id], got)
				results <- result{lost, extra}
			}
		}()
	}
	for _, v := range voters {
		if ctx.Err() != nil {
			break
		}
		work <- v
	}
	close(work)
	wg.Wait()
	close(results)
	for res := range results {
		ver.VotersChecked++
		ver.Lost += res.lost
		ver.Unacknowledged += res.extra
	}
}

// diffBallots counts the expected ballots the server lacks (or holds with
// another id or score) and the server's ballots that were not expected.
func diffBallots(want, got []voting.CountedBallot) (lost, extra int) {
	type key struct{ contestant, panel string }
	have := make(map[key]voting.CountedBallot, len(got))
	for _, b := range got {
		have[key{b.Contestant, b.Panel}] = b
	}
	matched := 0
	for _, b := range want {
		g, ok := have[key{b.Contestant, b.Panel}]
		if ok && g.ID == b.ID && g.Units == b.Units {
			matched++
			continue
		}
		lost++
	}
	return lost, len(got) - matched
}

// compareStandings lists how got differs from want, row by row.
func compareStandings(got, want *voting.Standings) []string {
	var out []string
	if got.Ballots != want.Ballots {
		out = append(out, fmt.Sprintf("ballots: server %d, expected %d", got.Ballots, want.Ballots))
	}
	if len(got.Rows) != len(want.Rows) {
		return append(out, fmt.Sprintf("rows: server %d, expected %d", len(got.Rows), len(want.Rows)))
	}
	for i := range want.Rows {
		if d := rowDiff(&got.Rows[i], &want.Rows[i]); d != "" {
			out = append(out, fmt.Sprintf("row %d: %s", i+1, d))
		}
	}
	return out
}

func countRowDiffs(got, want *voting.Standings) int {
	if len(got.Rows) != len(want.Rows) {
		return max(len(got.Rows), len(want.Rows))
	}
	n := 0
	for i := range want.Rows {
		if rowDiff(&got.Rows[i], &want.Rows[i]) != "" {
			n++
		}
	}
	return n
}

func rowDiff(g, w *voting.Standing) string {
	const eps = 1e-9
	switch {
	case g.Contestant != w.Contestant:
		return fmt.Sprintf("contestant %s, expected %s", g.Contestant, w.Contestant)
	case g.Group != w.Group:
		return fmt.Sprintf("%s: group %q, expected %q", w.Contestant, g.Group, w.Group)
	case g.Ballots != w.Ballots:
		return fmt.Sprintf("%s: %d ballots, expected %d", w.Contestant, g.Ballots, w.Ballots)
	case math.Abs(g.Final-w.Final) > eps:
		return fmt.Sprintf("%s: final %v, expected %v", w.Contestant, g.Final, w.Final)
	case g.Rank != w.Rank || g.GroupRank != w.GroupRank:
		return fmt.Sprintf("%s: rank %d/%d, expected %d/%d", w.Contestant, g.Rank, g.GroupRank, w.Rank, w.GroupRank)
	case len(g.Panels) != len(w.Panels):
		return fmt.Sprintf("%s: %d panels, expected %d", w.Contestant, len(g.Panels), len(w.Panels))
	}
	for i := range w.Panels {
		gp, wp := g.Panels[i], w.Panels[i]
		if gp.Panel != wp.Panel || gp.Count != wp.Count || gp.Dropped != wp.Dropped || math.Abs(gp.Average-wp.Average) > eps {
			return fmt.Sprintf("%s: panel %s count %d dropped %d average %v, expected %s %d %d %v",
				w.Contestant, gp.Panel, gp.Count, gp.Dropped, gp.Average, wp.Panel, wp.Count, wp.Dropped, wp.Average)
		}
	}
	return ""
}
