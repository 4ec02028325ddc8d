package storetest

import (
	"errors"
	"fmt"
	"testing"

	"leitai/voting"
)

// testBallotClosedPhases checks that ballots are refused (closed) in every
// phase but voting, that a refused ballot changes nothing, and that its id
// is not burned.
func testBallotClosedPhases(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show"))
	b := ballot(t, &ev, "v1", "c1", "audience", 80, baseTime)
	phases := []struct {
		phase   voting.Phase
		current string
	}{
		{voting.PhaseLobby, ""},
		{voting.PhaseLobby, "c1"},
		{voting.PhasePresenting, "c1"},
		{voting.PhaseClosed, "c1"},
		{voting.PhaseReveal, ""},
		{voting.PhaseReveal, "c1"},
		{voting.PhaseEnded, "c1"},
	}
	for _, p := range phases {
		t.Run(string(p.phase)+"/"+p.current, func(t *testing.T) {
			setStage(t, s, "show", func(st *voting.Stage) { st.Phase, st.Current = p.phase, p.current })
			_, err := s.CastBallot(ctx(t), b, ev.Revision)
			checkErr(t, "CastBallot in phase "+string(p.phase), err, voting.ErrClosed)
			checkTally(t, "after a closed ballot", s, &ev, nil)
			if bs := mustVoterBallots(t, s, "show", "v1"); len(bs) != 0 {
				t.Fatalf("VoterBallots after a refused ballot = %v", bs)
			}
		})
	}
	openVoting(t, s, "show", "c1")
	castNew(t, s, b, ev.Revision, false)
	checkTally(t, "the refused ballot cast again while voting", s, &ev, []voting.CountedBallot{b})
}

// testBallotScope checks which contestants take ballots: the one on stage
// in scope "stage", every one in scope "all".
func testBallotScope(t *testing.T, s voting.Store) {
	t.Run("stage", func(t *testing.T) {
		ev := mustCreate(t, s, newEvent("on-stage"))
		openVoting(t, s, ev.ID, "c2")
		var live []voting.CountedBallot
		for _, c := range ev.Contestants {
			b := ballot(t, &ev, "v1", c.ID, "audience", 75, baseTime)
			_, err := s.CastBallot(ctx(t), b, ev.Revision)
			if c.ID == "c2" {
				if err != nil {
					t.Fatalf("ballot for the contestant on stage: %v", err)
				}
				live = append(live, b)
				continue
			}
			checkErr(t, "ballot for "+c.ID+" while c2 is on stage", err, voting.ErrClosed)
		}
		checkTally(t, "scope stage", s, &ev, live)
		// Moving the stage moves the open contestant.
		openVoting(t, s, ev.ID, "c3")
		_, err := s.CastBallot(ctx(t), ballot(t, &ev, "v2", "c2", "audience", 75, baseTime), ev.Revision)
		checkErr(t, "ballot for c2 after c3 went on stage", err, voting.ErrClosed)
		b := ballot(t, &ev, "v2", "c3", "judges", 66, baseTime)
		castNew(t, s, b, ev.Revision, false)
		checkTally(t, "scope stage, next contestant", s, &ev, append(live, b))
	})
	t.Run("all", func(t *testing.T) {
		ev := mustCreate(t, s, newEvent("all", scopeAll))
		var live []voting.CountedBallot
		for _, current := range []string{"", "c4"} {
			openVoting(t, s, ev.ID, current)
			for _, c := range ev.Contestants {
				b := ballot(t, &ev, "v-"+current, c.ID, "audience", 61, baseTime)
				castNew(t, s, b, ev.Revision, false)
				live = append(live, b)
			}
		}
		checkTally(t, "scope all", s, &ev, live)
		closeVoting(t, s, ev.ID)
		_, err := s.CastBallot(ctx(t), ballot(t, &ev, "v9", "c1", "audience", 75, baseTime), ev.Revision)
		checkErr(t, "scope all, voting closed", err, voting.ErrClosed)
	})
}

// testBallotCountdown checks that voting closes at EndsAt by the ballot's
// time (At), not the store's clock.
func testBallotCountdown(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show"))
	ends := baseTime + 60_000
	setStage(t, s, "show", func(st *voting.Stage) {
		st.Phase, st.Current, st.EndsAt = voting.PhaseVoting, "c1", ends
	})
	early := ballot(t, &ev, "v1", "c1", "audience", 80, ends-1)
	r := castNew(t, s, early, ev.Revision, false)
	for _, at := range []int64{ends, ends + 1, ends + 3_600_000} {
		_, err := s.CastBallot(ctx(t), ballot(t, &ev, "v2", "c1", "audience", 90, at), ev.Revision)
		checkErr(t, "ballot at or after EndsAt", err, voting.ErrClosed)
		// A replacement is refused as well.
		_, err = s.CastBallot(ctx(t), ballot(t, &ev, "v1", "c1", "audience", 90, at), ev.Revision)
		checkErr(t, "replacement at or after EndsAt", err, voting.ErrClosed)
	}
	// A retry of the early ballot, arriving late, gets its receipt.
	late := early
	late.At = ends + 10
	checkReceipt(t, mustCast(t, s, late, ev.Revision), r)
	checkTally(t, "after the countdown", s, &ev, []voting.CountedBallot{early})
	// Stopping the countdown opens voting again.
	setStage(t, s, "show", func(st *voting.Stage) { st.EndsAt = 0 })
	b := ballot(t, &ev, "v2", "c1", "audience", 90, ends+20)
	castNew(t, s, b, ev.Revision, false)
	checkTally(t, "after the countdown stopped", s, &ev, []voting.CountedBallot{early, b})
}

// testBallotRetry checks idempotency: the same id with the same content gets
// the first receipt, whatever happened since, and is counted once.
func testBallotRetry(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show", withCriteria(2, 1)))
	openVoting(t, s, "show", "c1")
	first := count(t, &ev, voting.Ballot{
		ID: "6F9619FF-8B86-4D01-B42D-00CF4FC964FF", Event: "show", Voter: "v1", Contestant: "c1", Panel: "audience",
		Scores: map[string]float64{"measures": 85.5, "results": 70},
	}, baseTime)
	if first.ID != "6f9619ff-8b86-4d01-b42d-00cf4fc964ff" {
		t.Fatalf("Count did not lower-case the id: %s", first.ID)
	}
	r1 := castNew(t, s, first, ev.Revision, false)
	// (2×85.5 + 70) / 3 = 80.3333… → 803333 units.
	if first.Units != 803333 || !near(r1.Score, 80.3333) {
		t.Fatalf("units %d, receipt score %v; want 803333 units, 80.3333", first.Units, r1.Score)
	}
	retry := func(what string, b voting.CountedBallot, want voting.Receipt) {
		t.Helper()
		got := mustCast(t, s, b, ev.Revision)
		if got != want {
			t.Fatalf("%s: receipt\n got %+v\nwant %+v (the first receipt, exactly)", what, got, want)
		}
	}
	retry("retry", first, r1)
	later := first
	later.At = baseTime + 5_000 // the Service stamps a retry with the time it arrives
	retry("retry arriving later", later, r1)
	checkTally(t, "after retries", s, &ev, []voting.CountedBallot{first})

	second := ballot(t, &ev, "v1", "c1", "audience", 90, baseTime+10)
	r2 := castNew(t, s, second, ev.Revision, true)
	// A late retry of the replaced ballot gets its old receipt and does not
	// bring its score back.
	retry("retry of a replaced ballot", first, r1)
	checkTally(t, "after a retry of a replaced ballot", s, &ev, []voting.CountedBallot{second})

	closeVoting(t, s, "show")
	retry("retry after voting closed", second, r2)
	retry("retry of a replaced ballot after voting closed", first, r1)
	setStage(t, s, "show", func(st *voting.Stage) { st.Phase, st.Current = voting.PhasePresenting, "c2" })
	retry("retry while another contestant is on stage", second, r2)
	setStage(t, s, "show", func(st *voting.Stage) { st.Phase = voting.PhaseEnded })
	retry("retry after the event ended", second, r2)
	checkTally(t, "after all retries", s, &ev, []voting.CountedBallot{second})
}

// testBallotIDReused checks that a ballot id cast again with other content
// is refused (conflict) and changes nothing.
func testBallotIDReused(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show", scopeAll, withCriteria(1, 1)))
	openVoting(t, s, "show", "")
	orig := count(t, &ev, voting.Ballot{
		ID: "0b5f7a52-6e3c-4c1e-9a57-3f3a3b1c2d4e", Event: "show", Voter: "v1", Contestant: "c1", Panel: "audience",
		Scores: map[string]float64{"measures": 80, "results": 90},
	}, baseTime)
	castNew(t, s, orig, ev.Revision, false)
	other := ballot(t, &ev, "v2", "c1", "audience", 70, baseTime)
	castNew(t, s, other, ev.Revision, false)
	before := takeSnapshot(t, s, "show")

	cases := []struct {
		name   string
		change func(b *voting.Ballot)
	}{
		{"score", func(b *voting.Ballot) { b.Scores = map[string]float64{"measures": 80, "results": 90.5} }},
		// Same weighted score (equal weights), other criteria scores.
		{"swapped-criteria", func(b *voting.Ballot) { b.Scores = map[string]float64{"measures": 90, "results": 80} }},
		{"contestant", func(b *voting.Ballot) { b.Contestant = "c2" }},
		{"panel", func(b *voting.Ballot) { b.Panel = "judges" }},
		{"voter", func(b *voting.Ballot) { b.Voter = "v2" }},
		{"new-voter", func(b *voting.Ballot) { b.Voter = "v3" }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := orig.Ballot
			raw.Scores = map[string]float64{"measures": 80, "results": 90}
			tc.change(&raw)
			b := count(t, &ev, raw, baseTime+1)
			_, err := s.CastBallot(ctx(t), b, ev.Revision)
			checkErr(t, "ballot id reused with another "+tc.name, err, voting.ErrConflict)
			if errors.Is(err, voting.ErrStaleRevision) {
				t.Fatalf("a reused ballot id must not be reported as a stale revision: %v", err)
			}
			checkSnapshot(t, "after a reused ballot id", s, before)
			for _, v := range []string{"v1", "v2", "v3"} {
				checkBallots(t, "VoterBallots "+v, mustVoterBallots(t, s, "show", v), liveSet{
					{"v1", "c1", "audience"}: orig, {"v2", "c1", "audience"}: other,
				}.voter(v))
			}
		})
	}
}

// testBallotStaleRevision checks that a ballot validated against an older
// revision of the event is refused with ErrStaleRevision and changes nothing.
func testBallotStaleRevision(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show"))
	openVoting(t, s, "show", "c1")
	b0 := ballot(t, &ev, "v0", "c1", "audience", 60, baseTime)
	castNew(t, s, b0, 1, false)
	next := cloneEvent(ev)
	next.Contestants[0].Name = "一号单位（更名）"
	updated, err := s.UpdateEvent(ctx(t), next)
	if err != nil {
		t.Fatalf("UpdateEvent: %v", err)
	}
	before := takeSnapshot(t, s, "show")

	b := ballot(t, &updated, "v1", "c1", "audience", 80, baseTime)
	_, err = s.CastBallot(ctx(t), b, 1)
	checkErr(t, "ballot at an older revision", err, voting.ErrConflict)
	if !errors.Is(err, voting.ErrStaleRevision) {
		t.Fatalf("ballot at an older revision: %v; want errors.Is(err, voting.ErrStaleRevision)", err)
	}
	checkSnapshot(t, "after a stale ballot", s, before)
	// A replacement at an old revision is refused too.
	_, err = s.CastBallot(ctx(t), ballot(t, &updated, "v0", "c1", "audience", 99, baseTime), 1)
	if !errors.Is(err, voting.ErrStaleRevision) {
		t.Fatalf("replacement at an older revision: %v; want ErrStaleRevision", err)
	}
	// A revision the event never had is refused as well.
	_, err = s.CastBallot(ctx(t), b, updated.Revision+1)
	checkErr(t, "ballot at a revision ahead of the stored one", err, voting.ErrConflict)
	checkSnapshot(t, "after refused ballots", s, before)

	// The Service reloads and retries with the same id: it counts.
	castNew(t, s, b, updated.Revision, false)
	checkTally(t, "after the retry at the new revision", s, &updated, []voting.CountedBallot{b0, b})
}

// testBallotReplacement checks one live ballot per voter, contestant and
// panel, and VoterBallots.
func testBallotReplacement(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show", scopeAll))
	openVoting(t, s, "show", "")
	live := liveSet{}
	cast := func(voter, contestant, panel string, score float64) voting.CountedBallot {
		t.Helper()
		b := ballot(t, &ev, voter, contestant, panel, score, baseTime+int64(len(live)))
		replaced := live.put(b)
		castNew(t, s, b, ev.Revision, replaced)
		return b
	}
	cast("v1", "c1", "audience", 80)
	cast("v2", "c1", "audience", 70)
	checkTally(t, "two voters", s, &ev, live.list())
	cast("v1", "c1", "audience", 90) // replaces
	checkTally(t, "after a replacement", s, &ev, live.list())
	st := mustStandings(t, s, "show")
	if row, _ := st.Row("c1"); row.Panels[0].Count != 2 || !near(row.Panels[0].Average, 80) {
		t.Fatalf("c1 audience after a replacement = %+v, want 2 ballots averaging 80", row.Panels[0])
	}
	cast("v1", "c1", "judges", 60)   // another panel: not a replacement
	cast("v1", "c2", "audience", 75) // another contestant: not a replacement
	cast("v1", "c1", "audience", 90) // the same score again still replaces
	cast("v1", "c1", "audience", 60.5)
	checkTally(t, "after more ballots", s, &ev, live.list())
	for _, v := range []string{"v1", "v2", "nobody"} {
		got := mustVoterBallots(t, s, "show", v)
		checkBallots(t, "VoterBallots("+v+")", got, live.voter(v))
	}
	if n := len(live.voter("v1")); n != 3 {
		t.Fatalf("test bug: v1 has %d live ballots", n)
	}
}

// testBallotsRoundTrip checks that Ballots returns every field as cast.
func testBallotsRoundTrip(t *testing.T, s voting.Store) {
	crit := mustCreate(t, s, newEvent("crit", scopeAll, withCriteria(0.7, 0.3), func(ev *voting.Event) {
		ev.Rules.Min, ev.Rules.Max, ev.Rules.Step = 0, 10, 0.25
	}))
	plain := mustCreate(t, s, newEvent("plain", scopeAll))
	openVoting(t, s, "crit", "")
	openVoting(t, s, "plain", "")
	voters := []string{"v1", "wx:oAbC-1_2.3~!", "judge#7", "0"}
	var critLive, plainLive []voting.CountedBallot
	for i, v := range voters {
		b := count(t, &crit, voting.Ballot{
			ID: "00000000-0000-4000-8000-00000000000" + string(rune('1'+i)), Event: "crit", Voter: v,
			Contestant: crit.Contestants[i].ID, Panel: crit.Panels[i%2].ID,
			Scores: map[string]float64{"measures": 8.25 + float64(i)*0.25, "results": 9.75 - float64(i)},
		}, 1_732_540_000_123+int64(i)*1_000_003)
		castNew(t, s, b, crit.Revision, false)
		critLive = append(critLive, b)
		p := ballot(t, &plain, v, plain.Contestants[3-i].ID, plain.Panels[i%2].ID, 60+float64(i)*10.5, 1_732_540_000_999-int64(i))
		castNew(t, s, p, plain.Revision, false)
		plainLive = append(plainLive, p)
	}
	// 0.7×8.25 + 0.3×9.75 = 8.7 → 87000 units.
	if critLive[0].Units != 87000 {
		t.Fatalf("test bug: units %d", critLive[0].Units)
	}
	checkTally(t, "criteria ballots", s, &crit, critLive)
	checkTally(t, "plain ballots", s, &plain, plainLive)
	for i, v := range voters {
		checkBallots(t, "VoterBallots("+v+")", mustVoterBallots(t, s, "crit", v), critLive[i:i+1])
	}
}

// testResetContestant checks that a reset removes one contestant's live
// ballots, keeps the others, and that a reset ballot id stays used.
func testResetContestant(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show", scopeAll))
	openVoting(t, s, "show", "")
	live := liveSet{}
	receipts := map[string]voting.Receipt{}
	var cast []voting.CountedBallot
	add := func(voter, contestant, panel string, score float64) voting.CountedBallot {
		t.Helper()
		b := ballot(t, &ev, voter, contestant, panel, score, baseTime+int64(len(cast)))
		replaced := live.put(b)
		receipts[b.ID] = castNew(t, s, b, ev.Revision, replaced)
		cast = append(cast, b)
		return b
	}
	add("v1", "c1", "audience", 80)
	add("v2", "c1", "audience", 85)
	add("v3", "c1", "judges", 90)
	add("v1", "c1", "audience", 81) // replaces: c1 has 3 live ballots
	add("v1", "c2", "audience", 70)
	add("v4", "c2", "judges", 75)
	checkTally(t, "before the reset", s, &ev, live.list())

	n, err := s.ResetContestant(ctx(t), "show", "c1")
	if err != nil {
		t.Fatalf("ResetContestant: %v", err)
	}
	if want := live.reset("c1"); n != want {
		t.Fatalf("ResetContestant removed %d, want %d (the live ballots)", n, want)
	}
	checkTally(t, "after the reset", s, &ev, live.list())
	st := mustStandings(t, s, "show")
	if row, _ := st.Row("c1"); row.Rank != 0 || row.Ballots != 0 {
		t.Fatalf("c1 after its reset = %+v, want unscored", row)
	}
	checkBallots(t, "VoterBallots(v1) after the reset", mustVoterBallots(t, s, "show", "v1"), live.voter("v1"))
	checkBallots(t, "VoterBallots(v3) after the reset", mustVoterBallots(t, s, "show", "v3"), nil)

	// Retries of reset ballots (live or replaced before) get their old
	// receipts and are not counted again.
	for _, b := range cast {
		if b.Contestant != "c1" {
			continue
		}
		if got := mustCast(t, s, b, ev.Revision); got != receipts[b.ID] {
			t.Fatalf("retry of a reset ballot: receipt\n got %+v\nwant %+v", got, receipts[b.ID])
		}
	}
	checkTally(t, "after retries of reset ballots", s, &ev, live.list())

	// New ballots for the contestant count afresh: nothing to replace.
	add("v1", "c1", "audience", 66)
	add("v5", "c1", "audience", 67)
	checkTally(t, "new ballots after the reset", s, &ev, live.list())
	n, err = s.ResetContestant(ctx(t), "show", "c1")
	if err != nil || n != 2 {
		t.Fatalf("second ResetContestant = %d, %v; want 2", n, err)
	}
	live.reset("c1")
	n, err = s.ResetContestant(ctx(t), "show", "c3")
	if err != nil || n != 0 {
		t.Fatalf("ResetContestant of a contestant without ballots = %d, %v; want 0", n, err)
	}
	checkTally(t, "after the second reset", s, &ev, live.list())
}

// testStandingsRounding checks hand-computed standings: rounding half up
// where the float64 arithmetic lands just below the half, ties sharing a
// rank, a panel without ballots left out, an unscored contestant last.
func testStandingsRounding(t *testing.T, s voting.Store) {
	// The weights 0.6 and 0.4 (not 60 and 40) are part of the hand-computed
	// float64 below.
	ev := mustCreate(t, s, newEvent("show", scopeAll, withWeights(0.6, 0.4)))
	openVoting(t, s, "show", "")
	var live []voting.CountedBallot
	add := func(voter, contestant, panel string, score float64) {
		t.Helper()
		b := ballot(t, &ev, voter, contestant, panel, score, baseTime+int64(len(live)))
		castNew(t, s, b, ev.Revision, false)
		live = append(live, b)
	}
	// c1 and c2 get the same ballots: audience 60; ten judges 60, 74 ×7,
	// 76.5, 100. Trim 1 drops 60 and 100 of the judges: 594.5 / 8 = 74.3125.
	// Final 0.6×60 + 0.4×74.3125 = 65.725 → 65.73 (65.72499999999999… as a
	// float64).
	for _, c := range []string{"c1", "c2"} {
		add("a-"+c, c, "audience", 60)
		for i, score := range []float64{60, 74, 74, 74, 74, 74, 74, 74, 76.5, 100} {
			add(fmt.Sprintf("j%d", i), c, "judges", score)
		}
	}
	// c3 has only an audience ballot: the judges' weight is left out.
	add("a-c3", "c3", "audience", 70)
	got := mustStandings(t, s, "show")
	checkStandings(t, "hand-computed standings", got, voting.Tally(&ev, live))
	want := []struct {
		contestant       string
		final            float64
		rank, groupRank  int
		ballots, dropped int
	}{
		{"c3", 70, 1, 1, 1, 0},
		{"c1", 65.73, 2, 1, 11, 2},
		{"c2", 65.73, 2, 1, 11, 2},
		{"c4", 0, 0, 0, 0, 0},
	}
	for i, w := range want {
		r := got.Rows[i]
		if r.Contestant != w.contestant || r.Final != w.final || r.Rank != w.rank || r.GroupRank != w.groupRank ||
			r.Ballots != w.ballots || r.Panels[1].Dropped != w.dropped {
			t.Fatalf("row %d = %s, want %+v", i, fmtRow(&r), w)
		}
	}
	if got.Ballots != 23 {
		t.Fatalf("standings count %d ballots, want 23", got.Ballots)
	}
}
