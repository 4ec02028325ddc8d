package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"leitai/voting"
	"leitai/voting/embedded"
	"leitai/voting/votingtest"
)

func TestEvents(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	ev := create(t, s, testEvent("b-event"))
	if ev.Revision != 1 {
		t.Fatalf("revision %d, want 1", ev.Revision)
	}
	st, err := s.Stage(ctx, ev.ID)
	if err != nil || st != voting.InitialStage() {
		t.Fatalf("stage %+v, %v; want the initial stage", st, err)
	}
	_, err = s.CreateEvent(ctx, testEvent("b-event"))
	wantCode(t, err, voting.CodeConflict)
	_, err = s.CreateEvent(ctx, voting.Event{ID: "Not Valid"})
	wantCode(t, err, voting.CodeInvalid)
	create(t, s, testEvent("a-event"))

	// Returned events are copies.
	ev.Contestants[0].Name = "changed"
	ev.Panels[0].Weight = 99
	got, _ := s.Event(ctx, "b-event")
	if want := testEvent("a-event"); got.Contestants[0].Name != want.Contestants[0].Name || got.Panels[0].Weight != want.Panels[0].Weight {
		t.Fatalf("store shares memory with a returned event: %+v", got)
	}

	all, err := s.Events(ctx)
	if err != nil || len(all) != 2 || all[0].ID != "a-event" || all[1].ID != "b-event" {
		t.Fatalf("Events: %+v, %v", all, err)
	}

	// Update: compare-and-set on the revision.
	up := got
	up.Title = "renamed"
	up2, err := s.UpdateEvent(ctx, up)
	if err != nil || up2.Revision != 2 || up2.Title != "renamed" {
		t.Fatalf("UpdateEvent: %+v, %v", up2, err)
	}
	_, err = s.UpdateEvent(ctx, up) // still revision 1
	wantCode(t, err, voting.CodeConflict)
	up2.Rules.Trim = 0 // no ballots yet: scoring may change
	if up2, err = s.UpdateEvent(ctx, up2); err != nil || up2.Revision != 3 {
		t.Fatalf("UpdateEvent without ballots: %+v, %v", up2, err)
	}
	missing := testEvent("nobody")
	_, err = s.UpdateEvent(ctx, missing)
	wantCode(t, err, voting.CodeNotFound)

	_, err = s.Event(ctx, "nobody")
	wantCode(t, err, voting.CodeNotFound)
	_, err = s.Stage(ctx, "nobody")
	wantCode(t, err, voting.CodeNotFound)
	_, err = s.Standings(ctx, "nobody")
	wantCode(t, err, voting.CodeNotFound)
	_, err = s.Ballots(ctx, "nobody")
	wantCode(t, err, voting.CodeNotFound)

	if err := s.DeleteEvent(ctx, "b-event"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteEvent(ctx, "b-event"), voting.CodeNotFound)
	_, err = s.Event(ctx, "b-event")
	wantCode(t, err, voting.CodeNotFound)
	// The id is free again, with nothing left of the old event.
	create(t, s, testEvent("b-event"))
	if bs, _ := s.Ballots(ctx, "b-event"); len(bs) != 0 {
		t.Fatalf("ballots survived DeleteEvent: %v", bs)
	}
}

func TestStageCAS(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	ev := create(t, s, testEvent("e"))
	st, _ := s.Stage(ctx, ev.ID)
	next, err := st.Apply(&ev, voting.Command{Action: voting.ActionNext}, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStage(ctx, ev.ID, next); err != nil {
		t.Fatal(err)
	}
	// A second host moving from the same version loses.
	other, _ := st.Apply(&ev, voting.Command{Action: voting.ActionEnd}, time.Now(), 0)
	wantCode(t, s.SetStage(ctx, ev.ID, other), voting.CodeConflict)
	skip := next
	skip.Version += 2
	wantCode(t, s.SetStage(ctx, ev.ID, skip), voting.CodeConflict)
	wantCode(t, s.SetStage(ctx, "nobody", next), voting.CodeNotFound)
	if got, _ := s.Stage(ctx, ev.ID); got != next {
		t.Fatalf("stage %+v, want %+v", got, next)
	}
}

func TestCastBallot(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	ev := testEvent("e")
	ev.VotingScope = voting.ScopeOnStage
	ev = create(t, s, ev)

	b := ballot(t, &ev, "v1", "c1", "audience", 80)
	_, err := s.CastBallot(ctx, b, ev.Revision)
	wantCode(t, err, voting.CodeClosed) // lobby
	openVoting(t, s, ev.ID)             // c1 on stage, voting

	r := cast(t, s, b, ev.Revision)
	want := voting.Receipt{BallotID: b.ID, Contestant: "c1", Panel: "audience", Score: 80, At: b.At, Code: r.Code}
	if r != want || len(r.Code) != voting.ReceiptCodeLength {
		t.Fatalf("receipt %+v, want %+v", r, want)
	}
	// A retry gets the first receipt and counts once.
	if r2 := cast(t, s, b, ev.Revision); r2 != r {
		t.Fatalf("retry: %+v, want %+v", r2, r)
	}
	// The same id with other content is refused.
	other := b
	other.Score, other.Units = 90, 900000
	_, err = s.CastBallot(ctx, other, ev.Revision)
	wantCode(t, err, voting.CodeConflict)
	if msg := voting.ErrorMessage(err); msg != "this ballot id was already used for another ballot" {
		t.Fatalf("message %q", msg)
	}
	// Not on stage.
	_, err = s.CastBallot(ctx, ballot(t, &ev, "v1", "c2", "audience", 70), ev.Revision)
	wantCode(t, err, voting.CodeClosed)
	// Stale revision: ErrStaleRevision itself.
	_, err = s.CastBallot(ctx, ballot(t, &ev, "v2", "c1", "audience", 70), ev.Revision-1)
	if !errors.Is(err, voting.ErrStaleRevision) {
		t.Fatalf("stale revision: %v", err)
	}
	// Replacing: the voter's second ballot replaces the first.
	r3 := cast(t, s, ballot(t, &ev, "v1", "c1", "audience", 95.5), ev.Revision)
	if !r3.Replaced || r3.Score != 95.5 {
		t.Fatalf("replacement receipt %+v", r3)
	}
	cast(t, s, ballot(t, &ev, "v1", "c1", "judges", 70), ev.Revision)
	cast(t, s, ballot(t, &ev, "v2", "c1", "audience", 61), ev.Revision)
	mine, _ := s.VoterBallots(ctx, ev.ID, "v1")
	if len(mine) != 2 {
		t.Fatalf("v1 has %d live ballots, want 2", len(mine))
	}
	st := checkStandings(t, s, ev.ID)
	if st.Ballots != 3 {
		t.Fatalf("%d ballots counted, want 3", st.Ballots)
	}

	// Closed voting: new ballots are refused, retries still answered.
	command(t, s, ev.ID, voting.Command{Action: voting.ActionClose})
	_, err = s.CastBallot(ctx, ballot(t, &ev, "v3", "c1", "audience", 70), ev.Revision)
	wantCode(t, err, voting.CodeClosed)
	if r4 := cast(t, s, b, ev.Revision); r4 != r {
		t.Fatalf("retry after close: %+v, want %+v", r4, r)
	}
	// A countdown that ran out closes voting at its end, by the ballot's time.
	command(t, s, ev.ID, voting.Command{Action: voting.ActionOpen})
	command(t, s, ev.ID, voting.Command{Action: voting.ActionCountdown, Seconds: 10})
	late := ballot(t, &ev, "v4", "c1", "audience", 70)
	late.At += 11000
	_, err = s.CastBallot(ctx, late, ev.Revision)
	wantCode(t, err, voting.CodeClosed)
	cast(t, s, ballot(t, &ev, "v4", "c1", "audience", 70), ev.Revision)

	_, err = s.CastBallot(ctx, ballot(t, &ev, "v5", "c1", "audience", 70), 99)
	if err != voting.ErrStaleRevision {
		t.Fatalf("want ErrStaleRevision itself, got %v", err)
	}
	nobody := ballot(t, &ev, "v5", "c1", "audience", 70)
	nobody.Event = "nobody"
	_, err = s.CastBallot(ctx, nobody, 1)
	wantCode(t, err, voting.CodeNotFound)
	checkStandings(t, s, ev.ID)
}

func TestBallotCopies(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	ev := create(t, s, criteriaEvent("e"))
	openVoting(t, s, ev.ID)
	b := ballot(t, &ev, "v1", "c1", "audience", 8)
	cast(t, s, b, ev.Revision)
	b.Scores[votingtest.Measures] = 1 // the caller's map is not the store's
	got, _ := s.VoterBallots(ctx, ev.ID, "v1")
	if got[0].Scores[votingtest.Measures] != 8 {
		t.Fatalf("store kept the caller's map: %v", got[0].Scores)
	}
	got[0].Scores[votingtest.Measures] = 2
	again, _ := s.Ballots(ctx, ev.ID)
	if again[0].Scores[votingtest.Measures] != 8 {
		t.Fatalf("store returned its own map: %v", again[0].Scores)
	}
}

func TestUpdateEventWithBallots(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	cast(t, s, ballot(t, &ev, "v1", "c1", "audience", 80), ev.Revision)

	changed := ev
	changed.Rules.Trim = 0
	_, err := s.UpdateEvent(ctx, changed)
	wantCode(t, err, voting.CodeConflict)
	if !strings.Contains(voting.ErrorMessage(err), "ballots have been cast") {
		t.Fatalf("unclear message: %q", voting.ErrorMessage(err))
	}
	removed := cloneEv(ev)
	removed.Contestants = removed.Contestants[1:]
	_, err = s.UpdateEvent(ctx, removed)
	wantCode(t, err, voting.CodeConflict)

	renamed := cloneEv(ev)
	renamed.Contestants[0].Name = "新名字"
	renamed.Contestants = append(renamed.Contestants, voting.Contestant{ID: "c5", Name: "五号"})
	up, err := s.UpdateEvent(ctx, renamed)
	if err != nil || up.Revision != 2 {
		t.Fatalf("UpdateEvent keeping the scoring: %+v, %v", up, err)
	}
	// Ballots validated against revision 1 must be checked again.
	_, err = s.CastBallot(ctx, ballot(t, &ev, "v2", "c1", "audience", 70), 1)
	if !errors.Is(err, voting.ErrStaleRevision) {
		t.Fatalf("want stale revision, got %v", err)
	}
	cast(t, s, ballot(t, &up, "v2", "c5", "audience", 70), up.Revision)
	checkStandings(t, s, ev.ID)
}

func cloneEv(ev voting.Event) voting.Event {
	ev.Contestants = append([]voting.Contestant(nil), ev.Contestants...)
	ev.Panels = append([]voting.Panel(nil), ev.Panels...)
	return ev
}

func TestResetContestant(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	var c1 []voting.CountedBallot
	for i := range 5 {
		b := ballot(t, &ev, fmt.Sprint("v", i), "c1", "audience", 60+float64(i))
		cast(t, s, b, ev.Revision)
		c1 = append(c1, b)
		cast(t, s, ballot(t, &ev, fmt.Sprint("v", i), "c2", "judges", 70), ev.Revision)
	}
	n, err := s.ResetContestant(ctx, ev.ID, "c1")
	if err != nil || n != 5 {
		t.Fatalf("ResetContestant: %d, %v", n, err)
	}
	if n, err := s.ResetContestant(ctx, ev.ID, "c1"); err != nil || n != 0 {
		t.Fatalf("second ResetContestant: %d, %v", n, err)
	}
	_, err = s.ResetContestant(ctx, ev.ID, "nobody")
	wantCode(t, err, voting.CodeNotFound)
	st := checkStandings(t, s, ev.ID)
	if row, _ := st.Row("c1"); row.Ballots != 0 || st.Ballots != 5 {
		t.Fatalf("after reset: %+v", st)
	}
	// The ids stay used: a retry gets its receipt and is not counted.
	if r := cast(t, s, c1[0], ev.Revision); r.BallotID != c1[0].ID || r.Score != 60 {
		t.Fatalf("retry after reset: %+v", r)
	}
	if st := checkStandings(t, s, ev.ID); st.Ballots != 5 {
		t.Fatalf("a retried ballot counted again after a reset")
	}
	// So after a restart.
	s.Close()
	s = open(t, dir)
	if r := cast(t, s, c1[1], ev.Revision); r.BallotID != c1[1].ID || r.Score != 61 {
		t.Fatalf("retry after reset and restart: %+v", r)
	}
	if st := checkStandings(t, s, ev.ID); st.Ballots != 5 {
		t.Fatalf("a retried ballot counted again after a restart")
	}
}

// TestRandomAgainstTally drives the store with random ballots, replacements
// and resets, and checks its standings against Tally all along, across
// restarts and compactions.
func TestRandomAgainstTally(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	rng := rand.New(rand.NewPCG(1, 2))
	events := []voting.Event{create(t, s, testEvent("plain")), create(t, s, criteriaEvent("criteria"))}
	for _, ev := range events {
		openVoting(t, s, ev.ID)
	}
	var receipts []voting.Receipt
	var cast1 []voting.CountedBallot
	for round := range 6 {
		for range 150 {
			ev := &events[rng.IntN(len(events))]
			score := ev.Rules.Min + ev.Rules.Step*float64(rng.IntN(int((ev.Rules.Max-ev.Rules.Min)/ev.Rules.Step)+1))
			if len(ev.Rules.Criteria) > 0 {
				score = float64(2 + rng.IntN(9)) // the second criterion gets score-1
			}
			c := ev.Contestants[rng.IntN(len(ev.Contestants))].ID
			p := ev.Panels[rng.IntN(len(ev.Panels))].ID
			b := ballot(t, ev, fmt.Sprint("voter-", rng.IntN(20)), c, p, score)
			receipts = append(receipts, cast(t, s, b, ev.Revision))
			cast1 = append(cast1, b)
		}
		if round%2 == 1 {
			ev := events[rng.IntN(len(events))]
			if _, err := s.ResetContestant(ctx, ev.ID, ev.Contestants[rng.IntN(len(ev.Contestants))].ID); err != nil {
				t.Fatal(err)
			}
		}
		before := map[string]snapshot{}
		for _, ev := range events {
			checkStandings(t, s, ev.ID)
			before[ev.ID] = take(t, s, ev.ID)
		}
		switch round % 3 {
		case 0:
			s.Close()
			s = open(t, dir)
		case 1:
			if err := s.Compact(); err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := s.Compact(); err != nil {
				t.Fatal(err)
			}
			s.Close()
			s = open(t, dir)
		}
		for _, ev := range events {
			sameSnapshot(t, take(t, s, ev.ID), before[ev.ID])
		}
	}
	// Every id gives its first receipt back.
	for i, b := range cast1 {
		if r := cast(t, s, b, events[0].Revision); r != receipts[i] {
			t.Fatalf("ballot %d: receipt %+v, first was %+v", i, r, receipts[i])
		}
	}
}

func TestConcurrentBallotsAndStage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	ev := create(t, s, testEvent("e"))
	openVoting(t, s, ev.ID)
	var (
		mu       sync.Mutex
		accepted = map[string]bool{}
		wg       sync.WaitGroup
	)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				b := ballot(t, &ev, fmt.Sprintf("g%d-%d", g, i%15), ev.Contestants[i%4].ID, "audience", 60+float64(i%40))
				_, err := s.CastBallot(ctx, b, ev.Revision)
				switch voting.ErrorCode(err) {
				case "":
					mu.Lock()
					accepted[b.ID] = true
					mu.Unlock()
				case voting.CodeClosed:
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 10 {
		action := voting.ActionClose
		if i%2 == 1 {
			action = voting.ActionOpen
		}
		command(t, s, ev.ID, voting.Command{Action: action})
		time.Sleep(time.Millisecond)
	}
	wg.Wait()
	live, _ := s.Ballots(ctx, ev.ID)
	for _, b := range live {
		if !accepted[b.ID] {
			t.Fatalf("ballot %s is live but was not accepted", b.ID)
		}
	}
	before := take(t, s, ev.ID)
	checkStandings(t, s, ev.ID)
	s.Close()
	sameSnapshot(t, take(t, open(t, dir), ev.ID), before)
}

func TestClose(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	ev := create(t, s, testEvent("e"))
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err := s.Event(ctx, ev.ID)
	wantCode(t, err, voting.CodeUnavailable)
	_, err = s.CreateEvent(ctx, testEvent("f"))
	wantCode(t, err, voting.CodeUnavailable)
	_, err = s.CastBallot(ctx, ballot(t, &ev, "v", "c1", "audience", 70), 1)
	wantCode(t, err, voting.CodeUnavailable)
	wantCode(t, s.Ping(ctx), voting.CodeUnavailable)
	wantCode(t, s.Compact(), voting.CodeUnavailable)
}

func TestCanceledContext(t *testing.T) {
	t.Parallel()
	s := open(t, t.TempDir())
	c, cancel := context.WithCancel(ctx)
	cancel()
	_, err := s.CreateEvent(c, testEvent("e"))
	wantCode(t, err, voting.CodeUnavailable)
	if _, err := s.Event(ctx, "e"); voting.ErrorCode(err) != voting.CodeNotFound {
		t.Fatalf("a canceled create changed the state: %v", err)
	}
}

func TestDirectoryLock(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := embedded.Open(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second Open of the same directory: %v", err)
	}
	s.Close()
	open(t, dir)
}
