package storetest

import (
	"context"
	"errors"
	"testing"

	"leitai/voting"
)

func testPing(t *testing.T, s voting.Store) {
	if err := s.Ping(ctx(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCreateEvent(t *testing.T, s voting.Store) {
	evs, err := s.Events(ctx(t))
	if err != nil || len(evs) != 0 {
		t.Fatalf("Events of a fresh store = %d events, %v; want none", len(evs), err)
	}
	ev := newEvent("show", withCriteria(0.6, 0.4))
	created := mustCreate(t, s, ev)
	if created.Revision != 1 {
		t.Fatalf("created revision %d, want 1", created.Revision)
	}
	// Event returns the secrets (panel keys) too.
	got := mustEvent(t, s, "show")
	checkEvent(t, "Event after CreateEvent", got, created)
	if p, _ := got.Panel("judges"); p.Key != "judge-key" {
		t.Fatalf("judges key = %q, want the secret back", p.Key)
	}
	st := mustStage(t, s, "show")
	want := voting.InitialStage()
	want.ChangedAt = st.ChangedAt // a store may stamp the time it made the stage
	if st != want {
		t.Fatalf("stage of a new event\n got %+v\nwant %+v", st, want)
	}
	// A new event has a standing row per contestant, all unscored.
	checkTally(t, "new event", s, &created, nil)
	if bs := mustVoterBallots(t, s, "show", "nobody"); len(bs) != 0 {
		t.Fatalf("VoterBallots of a new event = %v, want none", bs)
	}
}

func testCreateDuplicate(t *testing.T, s voting.Store) {
	first := mustCreate(t, s, newEvent("dup"))
	openVoting(t, s, "dup", "c1")
	castNew(t, s, ballot(t, &first, "v1", "c1", "audience", 80, baseTime), first.Revision, false)
	before := takeSnapshot(t, s, "dup")

	again := newEvent("dup", func(ev *voting.Event) { ev.Title = "another show" })
	_, err := s.CreateEvent(ctx(t), again)
	checkErr(t, "CreateEvent with a taken id", err, voting.ErrConflict)
	checkSnapshot(t, "after a refused duplicate create", s, before)
}

// testMissingEvent checks that every call about an event that does not exist
// is not_found, and creates nothing.
func testMissingEvent(t *testing.T, s voting.Store) {
	other := mustCreate(t, s, newEvent("real"))
	ghost := newEvent("ghost")
	ghost.Revision = 1
	b := ballot(t, &ghost, "v1", "c1", "audience", 80, baseTime)
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Event", func(c context.Context) error { _, err := s.Event(c, "ghost"); return err }},
		{"UpdateEvent", func(c context.Context) error { _, err := s.UpdateEvent(c, ghost); return err }},
		{"DeleteEvent", func(c context.Context) error { return s.DeleteEvent(c, "ghost") }},
		{"Stage", func(c context.Context) error { _, err := s.Stage(c, "ghost"); return err }},
		{"SetStage", func(c context.Context) error {
			return s.SetStage(c, "ghost", voting.Stage{Phase: voting.PhaseVoting, Current: "c1", Version: 2})
		}},
		{"CastBallot", func(c context.Context) error { _, err := s.CastBallot(c, b, 1); return err }},
		{"Ballots", func(c context.Context) error { _, err := s.Ballots(c, "ghost"); return err }},
		{"VoterBallots", func(c context.Context) error { _, err := s.VoterBallots(c, "ghost", "v1"); return err }},
		{"Standings", func(c context.Context) error { _, err := s.Standings(c, "ghost"); return err }},
		{"ResetContestant", func(c context.Context) error { _, err := s.ResetContestant(c, "ghost", "c1"); return err }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, tc.name+" of a missing event", tc.call(ctx(t)), voting.ErrNotFound)
		})
	}
	evs, err := s.Events(ctx(t))
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if len(evs) != 1 || evs[0].ID != "real" {
		t.Fatalf("Events after calls on a missing event = %v, want only %q", ids(evs), "real")
	}
	checkEvent(t, "the other event", evs[0], other)
	// Nothing was left behind: creating the event now starts it clean.
	created := mustCreate(t, s, newEvent("ghost"))
	if st := mustStage(t, s, "ghost"); st.Version != 1 || st.Phase != voting.PhaseLobby {
		t.Fatalf("stage of an event created after calls on it while missing = %+v, want the initial stage", st)
	}
	checkTally(t, "event created after calls on it while missing", s, &created, nil)
	// And the ballot id refused while the event was missing is not burned.
	openVoting(t, s, "ghost", "c1")
	castNew(t, s, b, created.Revision, false)
}

func ids(evs []voting.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func testUpdateEvent(t *testing.T, s voting.Store) {
	created := mustCreate(t, s, newEvent("show"))
	// Without ballots anything valid goes, scoring included.
	next := cloneEvent(created)
	next.Title = "决赛"
	next.Contestants = append(next.Contestants, voting.Contestant{ID: "c5", Name: "五号单位"})
	next.Panels[1].Key = "new-key"
	next.Rules = voting.Rules{Min: 1, Max: 10, Step: 1, Trim: 2, Decimals: 1}
	next.VotingScope = voting.ScopeAll
	updated, err := s.UpdateEvent(ctx(t), next)
	if err != nil {
		t.Fatalf("UpdateEvent at the stored revision: %v", err)
	}
	want := next
	want.Revision = 2
	checkEvent(t, "UpdateEvent result", updated, want)
	checkEvent(t, "Event after UpdateEvent", mustEvent(t, s, "show"), want)

	for _, rev := range []int64{1, 0, 3, 99} {
		stale := cloneEvent(next)
		stale.Title = "lost update"
		stale.Revision = rev
		_, err := s.UpdateEvent(ctx(t), stale)
		checkErr(t, "UpdateEvent at a revision other than the stored one", err, voting.ErrConflict)
		checkEvent(t, "Event after a refused update", mustEvent(t, s, "show"), want)
	}

	// The stage is not touched by an update.
	if st := mustStage(t, s, "show"); st.Version != 1 {
		t.Fatalf("stage version after UpdateEvent = %d, want 1", st.Version)
	}
	evs, err := s.Events(ctx(t))
	if err != nil || len(evs) != 1 {
		t.Fatalf("Events = %v, %v", ids(evs), err)
	}
	checkEvent(t, "Events after UpdateEvent", evs[0], want)

	// Another update goes from revision 2 to 3.
	again := cloneEvent(want)
	again.Title = "总决赛"
	updated, err = s.UpdateEvent(ctx(t), again)
	if err != nil || updated.Revision != 3 {
		t.Fatalf("second UpdateEvent = revision %d, %v; want revision 3", updated.Revision, err)
	}
}

// testUpdateAfterBallots checks that once an event has ballots only updates
// that keep the scoring (voting.Event.ScoringUnchanged) are taken.
func testUpdateAfterBallots(t *testing.T, s voting.Store) {
	cases := []struct {
		id     string
		change func(ev *voting.Event)
		ok     bool
	}{
		{"rename-contestant", func(ev *voting.Event) { ev.Contestants[0].Name = "一号单位（更名）" }, true},
		{"add-contestant", func(ev *voting.Event) {
			ev.Contestants = append(ev.Contestants, voting.Contestant{ID: "c5", Name: "五号单位", Group: "街道和园区"})
		}, true},
		{"retitle", func(ev *voting.Event) { ev.Title = "新标题" }, true},
		{"reorder-contestants", func(ev *voting.Event) {
			ev.Contestants[0], ev.Contestants[3] = ev.Contestants[3], ev.Contestants[0]
		}, true},
		{"change-group", func(ev *voting.Event) { ev.Contestants[0].Group = "街道和园区" }, true},
		{"change-panel-key", func(ev *voting.Event) { ev.Panels[1].Key = "another-key" }, true},
		{"rename-panel", func(ev *voting.Event) { ev.Panels[0].Name = "观众" }, true},
		{"remove-contestant", func(ev *voting.Event) { ev.Contestants = ev.Contestants[1:] }, false},
		{"remove-unscored-contestant", func(ev *voting.Event) { ev.Contestants = ev.Contestants[:3] }, false},
		{"change-panel-weight", func(ev *voting.Event) { ev.Panels[0].Weight = 0.5 }, false},
		{"add-panel", func(ev *voting.Event) {
			ev.Panels = append(ev.Panels, voting.Panel{ID: "guests", Name: "嘉宾", Weight: 0.1})
		}, false},
		{"remove-panel", func(ev *voting.Event) { ev.Panels = ev.Panels[:1] }, false},
		{"change-max", func(ev *voting.Event) { ev.Rules.Max = 99 }, false},
		{"change-min", func(ev *voting.Event) { ev.Rules.Min = 50 }, false},
		{"change-step", func(ev *voting.Event) { ev.Rules.Step = 1 }, false},
		{"change-trim", func(ev *voting.Event) { ev.Rules.Trim = 0 }, false},
		{"change-decimals", func(ev *voting.Event) { ev.Rules.Decimals = 1 }, false},
		{"add-criteria", withCriteria(1, 1), false},
		{"change-scope", scopeAll, false},
	}
	for _, tc := range cases {
		t.Run(tc.id, func(t *testing.T) {
			ev := mustCreate(t, s, newEvent(tc.id))
			openVoting(t, s, ev.ID, "c1")
			b1 := ballot(t, &ev, "v1", "c1", "audience", 80, baseTime)
			b2 := ballot(t, &ev, "v2", "c1", "judges", 90.5, baseTime+1)
			castNew(t, s, b1, ev.Revision, false)
			castNew(t, s, b2, ev.Revision, false)
			before := takeSnapshot(t, s, ev.ID)

			next := cloneEvent(ev)
			tc.change(&next)
			next.Normalize()
			if err := next.Validate(); err != nil {
				t.Fatalf("test change makes an invalid event: %v", err)
			}
			updated, err := s.UpdateEvent(ctx(t), next)
			if !tc.ok {
				checkErr(t, "UpdateEvent changing the scoring after ballots", err, voting.ErrConflict)
				checkSnapshot(t, "after a refused update", s, before)
				return
			}
			if err != nil {
				t.Fatalf("UpdateEvent that keeps the scoring: %v", err)
			}
			want := next
			want.Revision = 2
			checkEvent(t, "UpdateEvent result", updated, want)
			checkEvent(t, "Event after UpdateEvent", mustEvent(t, s, ev.ID), want)
			// The ballots still count, in the standings of the new event.
			checkTally(t, "after an update that keeps the scoring", s, &want, []voting.CountedBallot{b1, b2})
			// And ballots go on at the new revision.
			b3 := ballot(t, &want, "v3", "c1", "audience", 70, baseTime+2)
			castNew(t, s, b3, want.Revision, false)
			checkTally(t, "a ballot after the update", s, &want, []voting.CountedBallot{b1, b2, b3})
		})
	}
}

func testEventsSorted(t *testing.T, s voting.Store) {
	for _, id := range []string{"zeta", "alpha", "m-2", "m_1", "0-first", "beta"} {
		mustCreate(t, s, newEvent(id))
	}
	want := []string{"0-first", "alpha", "beta", "m-2", "m_1", "zeta"}
	check := func(want []string) {
		t.Helper()
		evs, err := s.Events(ctx(t))
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		got := ids(evs)
		if len(got) != len(want) {
			t.Fatalf("Events = %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("Events = %v, want %v (ordered by id)", got, want)
			}
			checkEvent(t, "Events entry", evs[i], mustEvent(t, s, want[i]))
		}
	}
	check(want)
	if err := s.DeleteEvent(ctx(t), "beta"); err != nil {
		t.Fatalf("DeleteEvent: %v", err)
	}
	check([]string{"0-first", "alpha", "m-2", "m_1", "zeta"})
}

func testDeleteEvent(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("gone", withCriteria(1, 1)))
	keep := mustCreate(t, s, newEvent("kept"))
	openVoting(t, s, ev.ID, "c1")
	openVoting(t, s, keep.ID, "c1")
	b := ballot(t, &ev, "v1", "c1", "audience", 88, baseTime)
	castNew(t, s, b, ev.Revision, false)
	castNew(t, s, ballot(t, &ev, "v2", "c1", "judges", 70, baseTime), ev.Revision, false)
	kb := ballot(t, &keep, "v1", "c1", "audience", 77, baseTime)
	castNew(t, s, kb, keep.Revision, false)
	if _, err := s.UpdateEvent(ctx(t), func() voting.Event { e := cloneEvent(ev); e.Title = "x"; return e }()); err != nil {
		t.Fatalf("UpdateEvent: %v", err)
	}
	keepBefore := takeSnapshot(t, s, keep.ID)

	if err := s.DeleteEvent(ctx(t), ev.ID); err != nil {
		t.Fatalf("DeleteEvent: %v", err)
	}
	if _, err := s.Event(ctx(t), ev.ID); !errors.Is(err, voting.ErrNotFound) {
		t.Fatalf("Event after DeleteEvent: %v, want not_found", err)
	}
	if _, err := s.Stage(ctx(t), ev.ID); !errors.Is(err, voting.ErrNotFound) {
		t.Fatalf("Stage after DeleteEvent: %v, want not_found", err)
	}
	if _, err := s.Standings(ctx(t), ev.ID); !errors.Is(err, voting.ErrNotFound) {
		t.Fatalf("Standings after DeleteEvent: %v, want not_found", err)
	}
	if _, err := s.Ballots(ctx(t), ev.ID); !errors.Is(err, voting.ErrNotFound) {
		t.Fatalf("Ballots after DeleteEvent: %v, want not_found", err)
	}
	if _, err := s.CastBallot(ctx(t), ballot(t, &ev, "v3", "c1", "audience", 80, baseTime), 1); !errors.Is(err, voting.ErrNotFound) {
		t.Fatalf("CastBallot after DeleteEvent: %v, want not_found", err)
	}
	if err := s.DeleteEvent(ctx(t), ev.ID); !errors.Is(err, voting.ErrNotFound) {
		t.Fatalf("second DeleteEvent: %v, want not_found", err)
	}
	evs, err := s.Events(ctx(t))
	if err != nil || len(evs) != 1 || evs[0].ID != keep.ID {
		t.Fatalf("Events after DeleteEvent = %v, %v; want only %q", ids(evs), err, keep.ID)
	}
	checkSnapshot(t, "the other event after DeleteEvent", s, keepBefore)

	// The same id starts from nothing: revision 1, the initial stage, no
	// ballots, and ballot ids of the old event are forgotten.
	again := mustCreate(t, s, newEvent("gone", withCriteria(1, 1)))
	st := mustStage(t, s, "gone")
	if st.Version != 1 || st.Phase != voting.PhaseLobby || st.Current != "" {
		t.Fatalf("stage of a re-created event = %+v, want the initial stage", st)
	}
	checkTally(t, "re-created event", s, &again, nil)
	if bs := mustVoterBallots(t, s, "gone", "v1"); len(bs) != 0 {
		t.Fatalf("VoterBallots of a re-created event = %v, want none", bs)
	}
	openVoting(t, s, "gone", "c1")
	castNew(t, s, b, again.Revision, false)
	checkTally(t, "re-created event, old ballot id cast again", s, &again, []voting.CountedBallot{b})
}

// testEventsIsolated checks that two events with the same contestant, panel
// and voter ids never see each other's ballots, and that ballot ids are
// scoped to their event.
func testEventsIsolated(t *testing.T, s voting.Store) {
	a := mustCreate(t, s, newEvent("a", scopeAll))
	b := mustCreate(t, s, newEvent("b", scopeAll))
	openVoting(t, s, "a", "")
	openVoting(t, s, "b", "")
	var liveA, liveB []voting.CountedBallot
	for i, v := range []string{"v1", "v2", "v3"} {
		x := ballot(t, &a, v, "c1", "audience", 70+float64(i), baseTime)
		castNew(t, s, x, a.Revision, false)
		liveA = append(liveA, x)
	}
	checkTally(t, "event b while a has ballots", s, &b, nil)
	if bs := mustVoterBallots(t, s, "b", "v1"); len(bs) != 0 {
		t.Fatalf("VoterBallots(b, v1) = %v, want none", bs)
	}
	// The same voter in b is not a replacement of its ballot in a.
	y := ballot(t, &b, "v1", "c1", "audience", 99, baseTime)
	castNew(t, s, y, b.Revision, false)
	liveB = append(liveB, y)
	// The same ballot id (same voter, contestant, panel and score) in another
	// event is another ballot.
	z := liveA[1]
	z.Event = "b"
	castNew(t, s, z, b.Revision, false)
	liveB = append(liveB, z)
	checkTally(t, "event a", s, &a, liveA)
	checkTally(t, "event b", s, &b, liveB)
	if bs := mustVoterBallots(t, s, "a", "v1"); len(bs) != 1 || bs[0].ID != liveA[0].ID {
		t.Fatalf("VoterBallots(a, v1) = %v, want only %s", bs, liveA[0].ID)
	}
	// A reset in b leaves a alone.
	n, err := s.ResetContestant(ctx(t), "b", "c1")
	if err != nil || n != 2 {
		t.Fatalf("ResetContestant(b, c1) = %d, %v; want 2", n, err)
	}
	checkTally(t, "event a after a reset in b", s, &a, liveA)
	checkTally(t, "event b after its reset", s, &b, nil)
	// Closing b leaves a open.
	closeVoting(t, s, "b")
	w := ballot(t, &a, "v4", "c2", "judges", 60, baseTime)
	castNew(t, s, w, a.Revision, false)
	liveA = append(liveA, w)
	checkTally(t, "event a after b closed", s, &a, liveA)
}
