package storetest

import (
	"testing"

	"leitai/voting"
)

// testModesAndTieBreaks: each scoring mode (a trimmed panel with its own
// trim, an average panel, a sum panel) and each tie-break (unrounded, a
// panel's result, the number of top scores, and a list run out: a shared
// place) give Tally's standings, ranks included.
func testModesAndTieBreaks(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("modes", scopeAll, func(ev *voting.Event) {
		ev.Panels = []voting.Panel{
			{ID: "audience", Name: "大众评审", Weight: 3, Mode: voting.ModeTrimmed, Trim: 2},
			{ID: "judges", Name: "专家评委", Weight: 2, Mode: voting.ModeAverage},
		}
		ev.Rules.TieBreaks = []voting.TieBreak{"unrounded", "panel:judges", "top"}
		ev.Contestants = append(ev.Contestants, voting.Contestant{ID: "c5", Name: "五号单位"}, voting.Contestant{ID: "c6", Name: "六号单位"})
	}))
	openVoting(t, s, ev.ID, "")
	live := liveSet{}
	cast := func(c, panel string, scores ...float64) {
		for i, sc := range scores {
			b := ballot(t, &ev, panel+c+string(rune('a'+i)), c, panel, sc, baseTime)
			live.put(b)
			mustCast(t, s, b, ev.Revision)
		}
	}
	// c1, c2: (3×88 + 2×90) / 5 = 88.8 = (3×90 + 2×87) / 5: the judges decide.
	// The audience's trim 2 drops 100, 99 and 60, 61 of c1's seven.
	cast("c1", "audience", 100, 99, 88, 88, 88, 60, 61)
	cast("c1", "judges", 89, 91, 90)
	cast("c2", "audience", 90, 90)
	cast("c2", "judges", 87)
	// c3, c4: the same results (86 and 93), but c3 has a top score.
	cast("c3", "audience", 100, 86, 86, 86, 60)
	cast("c3", "judges", 93)
	cast("c4", "audience", 95, 86, 86, 86, 60)
	cast("c4", "judges", 93)
	// c5, c6: equal in every step: a shared place.
	cast("c5", "audience", 70)
	cast("c6", "audience", 70)
	checkTally(t, "modes and tie-breaks", s, &ev, live.list())
	got := mustStandings(t, s, ev.ID)
	want := []struct {
		id   string
		rank int
	}{{"c3", 1}, {"c4", 2}, {"c1", 3}, {"c2", 4}, {"c5", 5}, {"c6", 5}}
	for i, w := range want {
		if r := got.Rows[i]; r.Contestant != w.id || r.Rank != w.rank {
			t.Fatalf("row %d: %s rank %d, want %s rank %d\n%s", i, r.Contestant, r.Rank, w.id, w.rank, fmtRow(&r))
		}
	}
	if r, _ := got.Row("c1"); r.Panels[0].Dropped != 4 || r.Panels[0].Average != 88 || r.Panels[0].Top != 1 {
		t.Fatalf("c1's audience, trim 2: %s", fmtRow(&r))
	}

	// The sum mode; scoring modes are part of the scoring, which ballots fix.
	sum := mustCreate(t, s, newEvent("sums", scopeAll, func(ev *voting.Event) {
		ev.Panels = []voting.Panel{{ID: "judges", Name: "专家评委", Weight: 1, Mode: voting.ModeSum}}
	}))
	openVoting(t, s, sum.ID, "")
	sumLive := liveSet{}
	for i, sc := range []float64{85, 88, 90, 92.5} {
		b := ballot(t, &sum, "j"+string(rune('1'+i)), "c1", "judges", sc, baseTime)
		sumLive.put(b)
		mustCast(t, s, b, sum.Revision)
	}
	checkTally(t, "sum mode", s, &sum, sumLive.list())
	sumSt := mustStandings(t, s, sum.ID)
	if r, _ := sumSt.Row("c1"); r.Final != 355.5 || r.Panels[0].Average != 355.5 {
		t.Fatalf("sum mode: %s", fmtRow(&r))
	}
	next := cloneEvent(sum)
	next.Panels[0].Mode = voting.ModeAverage
	_, err := s.UpdateEvent(ctx(t), next)
	checkErr(t, "changing the mode after ballots", err, voting.ErrConflict)
	next = cloneEvent(sum)
	next.Rules.TieBreaks = []voting.TieBreak{"top"}
	_, err = s.UpdateEvent(ctx(t), next)
	checkErr(t, "changing the tie-breaks after ballots", err, voting.ErrConflict)
}
