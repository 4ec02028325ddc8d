package storetest

import (
	"testing"

	"leitai/voting"
)

// testRestart checks durability: after a restart of the backing service the
// store shows exactly what it acknowledged before, ballot ids stay used and
// the stage's compare-and-set and the event's revision carry on.
func testRestart(t *testing.T, f Factory) {
	s, restart := f(t)
	if restart == nil {
		t.Skip("the store cannot be restarted")
	}
	ev := mustCreate(t, s, newEvent("show", scopeAll, withCriteria(0.6, 0.4)))
	other := mustCreate(t, s, newEvent("other"))
	deleted := mustCreate(t, s, newEvent("deleted"))
	next := cloneEvent(ev)
	next.Title = "决赛"
	next.Contestants = append(next.Contestants, voting.Contestant{ID: "c5", Name: "五号单位"})
	next.Source = voting.EventSource{Digest: "sha256:5e1f", Revision: 2} // kept like every other field
	ev, err := s.UpdateEvent(ctx(t), next)
	if err != nil {
		t.Fatalf("UpdateEvent: %v", err)
	}
	openVoting(t, s, "show", "")
	openVoting(t, s, "other", "c1")
	openVoting(t, s, "deleted", "c1")

	live := liveSet{}
	receipts := map[string]voting.Receipt{}
	var cast []voting.CountedBallot
	add := func(voter, contestant, panel string, score float64) {
		t.Helper()
		b := ballot(t, &ev, voter, contestant, panel, score, baseTime+int64(len(cast)))
		receipts[b.ID] = castNew(t, s, b, ev.Revision, live.put(b))
		cast = append(cast, b)
	}
	for i := range 12 {
		add("v"+string(rune('a'+i)), ev.Contestants[i%5].ID, ev.Panels[i%2].ID, 60+float64(i)*3.5)
	}
	add("va", "c1", "audience", 99)   // replaces
	add("vb", "c2", "judges", 61.5)   // replaces
	add("vz", "c3", "audience", 80.5) // c3 is reset below
	otherBallot := ballot(t, &other, "va", "c1", "audience", 77, baseTime)
	castNew(t, s, otherBallot, other.Revision, false)
	castNew(t, s, ballot(t, &deleted, "vx", "c1", "judges", 70, baseTime), deleted.Revision, false)
	if n, err := s.ResetContestant(ctx(t), "show", "c3"); err != nil || n != live.reset("c3") {
		t.Fatalf("ResetContestant = %d, %v", n, err)
	}
	if err := s.DeleteEvent(ctx(t), "deleted"); err != nil {
		t.Fatalf("DeleteEvent: %v", err)
	}
	stage := setStage(t, s, "show", func(st *voting.Stage) {
		st.EndsAt, st.RankingVisible, st.ChangedAt = baseTime+90_000, false, baseTime+7
	})
	closeVoting(t, s, "other")
	checkTally(t, "before the restart", s, &ev, live.list())

	verify := func(what string, s voting.Store, wantStage voting.Stage) {
		t.Helper()
		evs, err := s.Events(ctx(t))
		if err != nil {
			t.Fatalf("%s: Events: %v", what, err)
		}
		if got := ids(evs); len(got) != 2 || got[0] != "other" || got[1] != "show" {
			t.Fatalf("%s: Events = %v, want [other show]", what, got)
		}
		checkEvent(t, what+": event", mustEvent(t, s, "show"), ev)
		checkEvent(t, what+": other event", mustEvent(t, s, "other"), other)
		if got := mustStage(t, s, "show"); got != wantStage {
			t.Fatalf("%s: stage\n got %+v\nwant %+v", what, got, wantStage)
		}
		if got := mustStage(t, s, "other"); got.Phase != voting.PhaseClosed || got.Version != 3 {
			t.Fatalf("%s: stage of the other event = %+v, want closed at version 3", what, got)
		}
		checkTally(t, what, s, &ev, live.list())
		checkTally(t, what+": other event", s, &other, []voting.CountedBallot{otherBallot})
		for _, v := range []string{"va", "vb", "vz"} {
			checkBallots(t, what+": VoterBallots("+v+")", mustVoterBallots(t, s, "show", v), live.voter(v))
		}
	}
	s = restart()
	verify("after a restart", s, stage)

	// Every ballot id stays used: live, replaced and reset ones get their
	// receipts and change nothing.
	for _, b := range cast {
		if got := mustCast(t, s, b, ev.Revision); got != receipts[b.ID] {
			t.Fatalf("retry after a restart of %s: receipt\n got %+v\nwant %+v", fmtBallot(b), got, receipts[b.ID])
		}
	}
	reused := cast[0]
	reused.Units++
	_, err = s.CastBallot(ctx(t), reused, ev.Revision)
	checkErr(t, "reused ballot id after a restart", err, voting.ErrConflict)
	_, err = s.CastBallot(ctx(t), ballot(t, &ev, "new", "c1", "audience", 80, baseTime+100), ev.Revision-1)
	checkErr(t, "stale revision after a restart", err, voting.ErrStaleRevision)
	verify("after retries", s, stage)

	// The stage carries on from its version.
	wrong := stage
	wrong.Phase = voting.PhaseClosed
	checkErr(t, "SetStage at the old version after a restart", s.SetStage(ctx(t), "show", wrong), voting.ErrConflict)
	setStage(t, s, "show", func(st *voting.Stage) { st.EndsAt = 0 })
	add("vq", "c3", "audience", 71)
	add("va", "c1", "audience", 62.5) // replaces
	ev2 := cloneEvent(ev)
	ev2.Contestants[0].Name = "一号单位（更名）"
	if ev, err = s.UpdateEvent(ctx(t), ev2); err != nil || ev.Revision != 3 {
		t.Fatalf("UpdateEvent after a restart = revision %d, %v; want 3", ev.Revision, err)
	}
	add("vr", "c5", "judges", 100)
	stage = setStage(t, s, "show", func(st *voting.Stage) { st.Phase, st.Revealed = voting.PhaseReveal, 2 })

	// A second restart keeps what was written after the first.
	s = restart()
	verify("after a second restart", s, stage)
	for _, b := range cast {
		if got := mustCast(t, s, b, ev.Revision); got != receipts[b.ID] {
			t.Fatalf("retry after a second restart of %s: receipt\n got %+v\nwant %+v", fmtBallot(b), got, receipts[b.ID])
		}
	}
	// The deleted event is gone for good, and its id is free.
	recreated := mustCreate(t, s, newEvent("deleted"))
	checkTally(t, "the deleted event, re-created after restarts", s, &recreated, nil)
}
