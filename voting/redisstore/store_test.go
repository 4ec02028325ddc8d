package redisstore_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"leitai/voting"
	"leitai/voting/redisstore"
	"leitai/voting/redistest"
	"leitai/voting/votingtest"
)

func TestEvents(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	s := openStore(t, srv, redisstore.Options{})
	ctx := testContext(t)

	ev := testEvent("gongshu-2020", 4)
	ev.Revision = 7 // ignored: a new event starts at 1
	created := mustCreate(t, s, ev)
	if created.Revision != 1 {
		t.Fatalf("created revision %d, want 1", created.Revision)
	}
	_, err := s.CreateEvent(ctx, ev)
	wantCode(t, err, voting.CodeConflict)

	got, err := s.Event(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, created) {
		t.Fatalf("Event = %+v\nwant %+v", got, created)
	}
	if got.Panels[1].Key != votingtest.JudgesKey {
		t.Fatal("the store must keep panel keys")
	}
	_, err = s.Event(ctx, "missing")
	wantCode(t, err, voting.CodeNotFound)
	_, err = s.Event(ctx, "{bad}")
	wantCode(t, err, voting.CodeNotFound)

	// The event's keys share its hash tag.
	raw := rawClient(t, srv)
	if n, _ := raw.Exists(ctx, "leitai:{gongshu-2020}:event", "leitai:{gongshu-2020}:stage").Result(); n != 2 {
		t.Fatalf("event and stage keys: %d of 2 exist", n)
	}

	st, err := s.Stage(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	if st != voting.InitialStage() {
		t.Fatalf("stage %+v, want the initial stage", st)
	}

	mustCreate(t, s, testEvent("a-first", 1))
	list, err := s.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "a-first" || list[1].ID != "gongshu-2020" {
		t.Fatalf("Events: %v", list)
	}

	// Update: compare-and-set on the revision.
	up := created
	up.Title = "新标题"
	_, err = s.UpdateEvent(ctx, withRevision(up, 5))
	wantCode(t, err, voting.CodeConflict)
	updated, err := s.UpdateEvent(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Revision != 2 || updated.Title != "新标题" {
		t.Fatalf("updated %+v", updated)
	}
	_, err = s.UpdateEvent(ctx, up) // revision 1 again: lost the race
	wantCode(t, err, voting.CodeConflict)
	if got, _ := s.Event(ctx, ev.ID); !reflect.DeepEqual(got, updated) {
		t.Fatalf("after update Event = %+v", got)
	}
	missing := testEvent("nope", 1)
	missing.Revision = 1
	_, err = s.UpdateEvent(ctx, missing)
	wantCode(t, err, voting.CodeNotFound)
	bad := updated
	bad.Contestants = slices.Clone(bad.Contestants)
	bad.Contestants[0].Name = ""
	_, err = s.UpdateEvent(ctx, bad)
	wantCode(t, err, voting.CodeInvalid)

	// Stage: compare-and-set on the version.
	next, err := st.Apply(&updated, cmdNext, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetStage(ctx, ev.ID, next); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.SetStage(ctx, ev.ID, next), voting.CodeConflict) // same version twice
	if got, _ := s.Stage(ctx, ev.ID); got != next {
		t.Fatalf("stage %+v, want %+v", got, next)
	}
	wantCode(t, s.SetStage(ctx, "missing", next), voting.CodeNotFound)
	_, err = s.Stage(ctx, "missing")
	wantCode(t, err, voting.CodeNotFound)

	// Delete removes every key of the event, ballots and ballot ids too.
	command(t, s, &updated, cmdOpen)
	for i, v := range []string{"v1", "v2", "v3"} {
		b := counted(t, &updated, v, "c1", "audience", 60+float64(i))
		if _, err := s.CastBallot(ctx, b, updated.Revision); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteEvent(ctx, ev.ID); err != nil {
		t.Fatal(err)
	}
	if keys, _ := raw.Keys(ctx, "leitai:{gongshu-2020}*").Result(); len(keys) != 0 {
		t.Fatalf("keys left after delete: %v", keys)
	}
	wantCode(t, s.DeleteEvent(ctx, ev.ID), voting.CodeNotFound)
	list, _ = s.Events(ctx)
	if len(list) != 1 || list[0].ID != "a-first" {
		t.Fatalf("Events after delete: %v", list)
	}
	// The id can be used again, from scratch.
	again := mustCreate(t, s, testEvent("gongshu-2020", 2))
	if b, _ := s.Ballots(ctx, again.ID); len(b) != 0 {
		t.Fatalf("a recreated event has %d ballots", len(b))
	}
}

func withRevision(ev voting.Event, rev int64) voting.Event {
	ev.Revision = rev
	return ev
}

func TestCastBallot(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := openStore(t, srv, m.opts)
			ctx := testContext(t)
			ev := mustCreate(t, s, testEvent("cast-"+m.name, 3))

			b := counted(t, &ev, "voter-1", "c1", "audience", 88.5)
			_, err := s.CastBallot(ctx, b, ev.Revision)
			wantCode(t, err, voting.CodeClosed) // lobby
			if msg := voting.ErrorMessage(err); msg != "voting is not open for this contestant" {
				t.Fatalf("message %q", msg)
			}

			command(t, s, &ev, cmdNext, cmdOpen) // c1 on stage, voting
			r, err := s.CastBallot(ctx, b, ev.Revision)
			if err != nil {
				t.Fatal(err)
			}
			want := voting.Receipt{BallotID: b.ID, Contestant: "c1", Panel: "audience", Score: 88.5, At: b.At, Code: r.Code}
			if r != want || len(r.Code) != voting.ReceiptCodeLength {
				t.Fatalf("receipt %+v, want %+v", r, want)
			}

			// Another contestant is not on stage.
			_, err = s.CastBallot(ctx, counted(t, &ev, "voter-1", "c2", "audience", 70), ev.Revision)
			wantCode(t, err, voting.CodeClosed)

			// An honest retry (later, even after the close) gets the first receipt.
			command(t, s, &ev, cmdClose)
			retry := b
			retry.At += 5000
			r2, err := s.CastBallot(ctx, retry, ev.Revision)
			if err != nil || r2 != want {
				t.Fatalf("retry: %+v, %v; want %+v", r2, err, want)
			}
			// The same id with other content is refused.
			other := counted(t, &ev, "voter-1", "c1", "audience", 90)
			other.ID = b.ID
			_, err = s.CastBallot(ctx, other, ev.Revision)
			wantCode(t, err, voting.CodeConflict)
			if !strings.Contains(voting.ErrorMessage(err), "already used") {
				t.Fatalf("message %q", voting.ErrorMessage(err))
			}

			// A second ballot of the same voter replaces the first.
			command(t, s, &ev, cmdOpen)
			b2 := counted(t, &ev, "voter-1", "c1", "audience", 61)
			r, err = s.CastBallot(ctx, b2, ev.Revision)
			if err != nil || !r.Replaced || r.Score != 61 {
				t.Fatalf("replacing ballot: %+v, %v", r, err)
			}
			// Its retry still says replaced.
			if r3, err := s.CastBallot(ctx, b2, ev.Revision); err != nil || r3 != r {
				t.Fatalf("retry of replacing ballot: %+v, %v; want %+v", r3, err, r)
			}
			judge := counted(t, &ev, "judge-1", "c1", "judges", 99.5)
			if _, err := s.CastBallot(ctx, judge, ev.Revision); err != nil {
				t.Fatal(err)
			}
			all, err := s.Ballots(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			sortBallots(all)
			wantBallots := []voting.CountedBallot{judge, b2}
			sortBallots(wantBallots)
			if !reflect.DeepEqual(all, wantBallots) {
				t.Fatalf("Ballots = %+v\nwant %+v", all, wantBallots)
			}
			mine, err := s.VoterBallots(ctx, ev.ID, "voter-1")
			if err != nil || !reflect.DeepEqual(mine, []voting.CountedBallot{b2}) {
				t.Fatalf("VoterBallots = %+v, %v", mine, err)
			}
			if none, err := s.VoterBallots(ctx, ev.ID, "nobody"); err != nil || len(none) != 0 {
				t.Fatalf("VoterBallots(nobody) = %+v, %v", none, err)
			}
			_, err = s.VoterBallots(ctx, "missing", "voter-1")
			wantCode(t, err, voting.CodeNotFound)
			checkStandings(t, s, &ev, []voting.CountedBallot{b, b2, judge})

			// A ballot checked against an older revision is stale.
			up := ev
			up.Title = "改名"
			ev2, err := s.UpdateEvent(ctx, up)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.CastBallot(ctx, counted(t, &ev, "voter-2", "c1", "audience", 80), ev.Revision)
			if !errors.Is(err, voting.ErrStaleRevision) || !errors.Is(err, voting.ErrConflict) {
				t.Fatalf("stale ballot: %v", err)
			}
			// The ballot id is looked up first: a retry against the old
			// revision still gets its receipt.
			if r3, err := s.CastBallot(ctx, b2, ev.Revision); err != nil || r3 != r {
				t.Fatalf("retry at the old revision: %+v, %v; want %+v", r3, err, r)
			}
			ev = ev2

			// A countdown closes voting at EndsAt, by the ballot's time.
			st := command(t, s, &ev, voting.Command{Action: voting.ActionCountdown, Seconds: 30})
			early := counted(t, &ev, "voter-3", "c1", "audience", 75)
			early.At = st.EndsAt - 1
			if _, err := s.CastBallot(ctx, early, ev.Revision); err != nil {
				t.Fatalf("ballot before the countdown ends: %v", err)
			}
			late := counted(t, &ev, "voter-4", "c1", "audience", 75)
			late.At = st.EndsAt
			_, err = s.CastBallot(ctx, late, ev.Revision)
			wantCode(t, err, voting.CodeClosed)
			if msg := voting.ErrorMessage(err); msg != "voting has closed" {
				t.Fatalf("message %q", msg)
			}

			// Changing the scoring is refused while ballots exist.
			rescored := ev
			rescored.Rules.Trim = 0
			_, err = s.UpdateEvent(ctx, rescored)
			wantCode(t, err, voting.CodeConflict)
			if !strings.Contains(voting.ErrorMessage(err), "ballots") {
				t.Fatalf("message %q", voting.ErrorMessage(err))
			}
			// Adding a contestant is fine.
			grown := ev
			grown.Contestants = append(slices.Clone(ev.Contestants), voting.Contestant{ID: "c9", Name: "新单位"})
			if ev, err = s.UpdateEvent(ctx, grown); err != nil {
				t.Fatal(err)
			}

			// Reset: ballots go, their ids stay used.
			n, err := s.ResetContestant(ctx, ev.ID, "c1")
			if err != nil || n != 3 {
				t.Fatalf("ResetContestant = %d, %v; want 3", n, err)
			}
			if all, _ := s.Ballots(ctx, ev.ID); len(all) != 0 {
				t.Fatalf("ballots after reset: %v", all)
			}
			if mine, _ := s.VoterBallots(ctx, ev.ID, "voter-1"); len(mine) != 0 {
				t.Fatalf("voter ballots after reset: %v", mine)
			}
			checkStandings(t, s, &ev, nil)
			if r3, err := s.CastBallot(ctx, b2, ev.Revision); err != nil || r3 != r {
				t.Fatalf("retry after reset: %+v, %v; want the old receipt %+v", r3, err, r)
			}
			checkStandings(t, s, &ev, nil) // and not counted again
			_, err = s.ResetContestant(ctx, ev.ID, "zz")
			wantCode(t, err, voting.CodeNotFound)
			// With no live ballot left, the scoring may change again.
			rescored = ev
			rescored.Rules.Trim = 0
			if _, err := s.UpdateEvent(ctx, rescored); err != nil {
				t.Fatalf("update after reset: %v", err)
			}

			// Unknown event.
			gone := b
			gone.Event = "missing"
			_, err = s.CastBallot(ctx, gone, 1)
			wantCode(t, err, voting.CodeNotFound)
		})
	}
}

func sortBallots(bs []voting.CountedBallot) {
	slices.SortFunc(bs, func(a, b voting.CountedBallot) int { return strings.Compare(a.ID, b.ID) })
}

// checkStandings compares the store's standings with voting.Tally over the
// ballots in the order they were cast, exactly.
func checkStandings(t testing.TB, s voting.Store, ev *voting.Event, cast []voting.CountedBallot) {
	t.Helper()
	got, err := s.Standings(testContext(t), ev.ID)
	if err != nil {
		t.Fatalf("Standings: %v", err)
	}
	want := voting.Tally(ev, cast)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Standings differ from Tally:\n got %+v\nwant %+v", got, want)
	}
}

// TestMatchesTally casts random ballots (replacements, trimming, criteria,
// several panels with odd weights, every precision) and checks that the
// standings equal Tally bit for bit, also after resets.
func TestMatchesTally(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{})
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := openStore(t, srv, m.opts)
			ctx := testContext(t)
			rng := rand.New(rand.NewPCG(1, uint64(len(m.name))))
			for round := range 12 {
				ev := randomEvent(rng, m.name+"-"+strconv.Itoa(round))
				ev = mustCreate(t, s, ev)
				command(t, s, &ev, cmdOpen)
				var cast []voting.CountedBallot
				voters := 5 + rng.IntN(40)
				for i := range 150 + rng.IntN(300) {
					c := ev.Contestants[rng.IntN(len(ev.Contestants))].ID
					p := ev.Panels[rng.IntN(len(ev.Panels))].ID
					steps := int((ev.Rules.Max - ev.Rules.Min) / ev.Rules.Step)
					score := ev.Rules.Min + float64(rng.IntN(steps+1))*ev.Rules.Step
					b := counted(t, &ev, "v"+strconv.Itoa(rng.IntN(voters)), c, p, score)
					if ev.Rules.Criteria != nil && rng.IntN(2) == 0 {
						// Different scores per criterion: a weighted mean.
						for _, cr := range ev.Rules.Criteria {
							b.Scores[cr.ID] = ev.Rules.Min + float64(rng.IntN(steps+1))*ev.Rules.Step
						}
						var err error
						if b, err = ev.Count(b.Ballot); err != nil {
							t.Fatal(err)
						}
					}
					if _, err := s.CastBallot(ctx, b, ev.Revision); err != nil {
						t.Fatalf("ballot %d: %v", i, err)
					}
					cast = append(cast, b)
				}
				checkStandings(t, s, &ev, cast)
				checkBallots(t, s, &ev, cast)

				victim := ev.Contestants[rng.IntN(len(ev.Contestants))].ID
				n, err := s.ResetContestant(ctx, ev.ID, victim)
				if err != nil {
					t.Fatal(err)
				}
				kept := cast[:0:0]
				for _, b := range cast {
					if b.Contestant != victim {
						kept = append(kept, b)
					}
				}
				if n != liveCount(cast)-liveCount(kept) {
					t.Fatalf("reset removed %d, want %d", n, liveCount(cast)-liveCount(kept))
				}
				checkStandings(t, s, &ev, kept)
				checkBallots(t, s, &ev, kept)
			}
		})
	}
}

// liveCount is the number of live ballots among cast.
func liveCount(cast []voting.CountedBallot) int {
	live := make(map[[3]string]bool)
	for _, b := range cast {
		live[[3]string{b.Voter, b.Contestant, b.Panel}] = true
	}
	return len(live)
}

// checkBallots compares Ballots and VoterBallots with the latest ballot of
// each voter, contestant and panel.
func checkBallots(t testing.TB, s voting.Store, ev *voting.Event, cast []voting.CountedBallot) {
	t.Helper()
	ctx := testContext(t)
	latest := make(map[[3]string]voting.CountedBallot)
	for _, b := range cast {
		latest[[3]string{b.Voter, b.Contestant, b.Panel}] = b
	}
	var want []voting.CountedBallot
	perVoter := make(map[string][]voting.CountedBallot)
	for _, b := range latest {
		want = append(want, b)
		perVoter[b.Voter] = append(perVoter[b.Voter], b)
	}
	got, err := s.Ballots(ctx, ev.ID)
	if err != nil {
		t.Fatal(err)
	}
	sortBallots(got)
	sortBallots(want)
	if !reflect.DeepEqual(got, want) && len(got)+len(want) > 0 {
		t.Fatalf("Ballots: %d ballots, want %d (or contents differ)", len(got), len(want))
	}
	for v, want := range perVoter {
		got, err := s.VoterBallots(ctx, ev.ID, v)
		if err != nil {
			t.Fatal(err)
		}
		sortBallots(got)
		sortBallots(want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("VoterBallots(%s) = %+v\nwant %+v", v, got, want)
		}
	}
}

func randomEvent(rng *rand.Rand, id string) voting.Event {
	weights := []float64{0.6, 0.4, 1, 1.0 / 3, 2.5, 0.15, 7}
	ev := voting.Event{ID: id, Title: id, VotingScope: voting.ScopeAll}
	for i := range 1 + rng.IntN(3) {
		ev.Panels = append(ev.Panels, voting.Panel{ID: "p" + strconv.Itoa(i), Name: "组", Weight: weights[rng.IntN(len(weights))]})
	}
	for range 2 + rng.IntN(5) {
		c := voting.Contestant{Name: "单位"}
		if rng.IntN(2) == 0 {
			c.Group = "g" + strconv.Itoa(rng.IntN(2))
		}
		ev.Contestants = append(ev.Contestants, c)
	}
	switch rng.IntN(3) {
	case 0:
		ev.Rules = voting.Rules{Min: 60, Max: 100, Step: 0.5}
	case 1:
		ev.Rules = voting.Rules{Min: 1, Max: 10, Step: 1}
	default:
		ev.Rules = voting.Rules{Min: 0, Max: 10, Step: 0.1, Criteria: []voting.Criterion{
			{ID: "jucuo", Name: "举措", Weight: 0.7}, {ID: "chengji", Name: "成绩", Weight: 0.3},
		}}
	}
	ev.Rules.Trim = rng.IntN(3)
	ev.Rules.Decimals = rng.IntN(5)
	ev.Normalize()
	if err := ev.Validate(); err != nil {
		panic(err)
	}
	return ev
}

// TestCloseRace casts ballots from many goroutines while the host closes
// voting: every acknowledged ballot counts, every refused one does not.
func TestCloseRace(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := openStore(t, srv, m.opts)
			ctx := testContext(t)
			ev := mustCreate(t, s, testEvent("race-"+m.name, 2))
			command(t, s, &ev, cmdNext, cmdOpen)
			var mu sync.Mutex
			var acked []voting.CountedBallot
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := range 8 {
				wg.Go(func() {
					<-start
					for i := range 100 {
						b := counted(t, &ev, "g"+strconv.Itoa(g)+"-"+strconv.Itoa(i%30), "c1", "audience", 60+float64(i%80)/2)
						_, err := s.CastBallot(ctx, b, ev.Revision)
						switch voting.ErrorCode(err) {
						case "":
							mu.Lock()
							acked = append(acked, b)
							mu.Unlock()
						case voting.CodeClosed:
						default:
							t.Errorf("CastBallot: %v", err)
							return
						}
					}
				})
			}
			close(start)
			time.Sleep(20 * time.Millisecond)
			command(t, s, &ev, cmdClose)
			wg.Wait()
			// Each goroutine's ballots are in its own order, so the latest
			// per voter in acked is the live one.
			checkStandings(t, s, &ev, acked)
			checkBallots(t, s, &ev, acked)
			t.Logf("%d ballots acknowledged before the close", len(acked))
		})
	}
}

func TestScriptFlush(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	srv.RequirePrivate()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := openStore(t, srv, m.opts)
			ctx := testContext(t)
			ev := mustCreate(t, s, testEvent("flush-"+m.name, 2))
			command(t, s, &ev, cmdNext, cmdOpen)
			var cast []voting.CountedBallot
			for i := range 6 {
				if reply, err := srv.Do("SCRIPT", "FLUSH"); err != nil || reply != "+OK" {
					t.Fatalf("SCRIPT FLUSH: %q, %v", reply, err)
				}
				b := counted(t, &ev, "v"+strconv.Itoa(i), "c1", "audience", 70+float64(i))
				if _, err := s.CastBallot(ctx, b, ev.Revision); err != nil {
					t.Fatalf("ballot after SCRIPT FLUSH: %v", err)
				}
				cast = append(cast, b)
			}
			// Concurrent ballots after a flush (several NOSCRIPTs in one pipeline).
			srv.Do("SCRIPT", "FLUSH")
			var mu sync.Mutex
			var wg sync.WaitGroup
			for g := range 10 {
				wg.Go(func() {
					b := counted(t, &ev, "w"+strconv.Itoa(g), "c1", "judges", 80)
					if _, err := s.CastBallot(ctx, b, ev.Revision); err != nil {
						t.Errorf("concurrent ballot after SCRIPT FLUSH: %v", err)
					}
					mu.Lock()
					cast = append(cast, b)
					mu.Unlock()
				})
			}
			wg.Wait()
			srv.Do("SCRIPT", "FLUSH")
			checkStandings(t, s, &ev, cast)
			srv.Do("SCRIPT", "FLUSH")
			checkBallots(t, s, &ev, cast)
			srv.Do("SCRIPT", "FLUSH")
			if _, err := s.ResetContestant(ctx, ev.ID, "c1"); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRestart kills Redis (SIGKILL) and starts it on the same AOF: every
// acknowledged ballot is there, the standings are identical, and the same
// Store goes on taking ballots.
func TestRestart(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	srv.RequirePrivate()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := openStore(t, srv, m.opts)
			ctx := testContext(t)
			ev := mustCreate(t, s, testEvent("restart-"+m.name, 3))
			st := command(t, s, &ev, cmdNext, cmdOpen)
			var cast []voting.CountedBallot
			for i := range 40 {
				b := counted(t, &ev, "v"+strconv.Itoa(i%20), "c1", []string{"audience", "judges"}[i%2], 60+float64(i))
				if _, err := s.CastBallot(ctx, b, ev.Revision); err != nil {
					t.Fatal(err)
				}
				cast = append(cast, b)
			}
			before, err := s.Standings(ctx, ev.ID)
			if err != nil {
				t.Fatal(err)
			}

			srv.Restart()

			after, err := s.Standings(ctx, ev.ID)
			if err != nil {
				t.Fatalf("Standings after restart: %v", err)
			}
			if !reflect.DeepEqual(before, after) {
				t.Fatalf("standings changed across a restart:\nbefore %+v\nafter  %+v", before, after)
			}
			if got, _ := s.Stage(ctx, ev.ID); got != st {
				t.Fatalf("stage after restart %+v, want %+v", got, st)
			}
			// The script cache is empty now; ballots go on, retries are not recounted.
			if r, err := s.CastBallot(ctx, cast[len(cast)-1], ev.Revision); err != nil || r.Score != cast[len(cast)-1].Points() {
				t.Fatalf("retry after restart: %+v, %v", r, err)
			}
			b := counted(t, &ev, "late", "c1", "audience", 99)
			if _, err := s.CastBallot(ctx, b, ev.Revision); err != nil {
				t.Fatalf("ballot after restart: %v", err)
			}
			cast = append(cast, b)
			checkStandings(t, s, &ev, cast)
			checkBallots(t, s, &ev, cast)
		})
	}
}

// TestUnavailable stops Redis: calls fail fast with unavailable (no panic,
// no hang), and work again once Redis is back.
func TestUnavailable(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{AOF: true})
	srv.RequirePrivate()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := openStore(t, srv, m.opts)
			ctx := testContext(t)
			ev := mustCreate(t, s, testEvent("down-"+m.name, 2))
			command(t, s, &ev, cmdNext, cmdOpen)
			first := counted(t, &ev, "v1", "c1", "audience", 80)
			if _, err := s.CastBallot(ctx, first, ev.Revision); err != nil {
				t.Fatal(err)
			}

			srv.Stop()
			b := counted(t, &ev, "v2", "c1", "audience", 90)
			short, cancel := context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
			began := time.Now()
			_, err := s.CastBallot(short, b, ev.Revision)
			wantCode(t, err, voting.CodeUnavailable)
			if !errors.Is(err, voting.ErrUnavailable) || voting.ErrorMessage(err) != "the vote store is unavailable; try again" {
				t.Fatalf("error %v", err)
			}
			if d := time.Since(began); d > 5*time.Second {
				t.Fatalf("CastBallot took %v with Redis down", d)
			} else {
				t.Logf("CastBallot with Redis down failed after %v", d.Round(time.Millisecond))
			}
			_, err = s.Standings(short, ev.ID)
			wantCode(t, err, voting.CodeUnavailable)
			wantCode(t, s.Ping(short), voting.CodeUnavailable)
			_, err = s.Event(short, ev.ID)
			wantCode(t, err, voting.CodeUnavailable)

			srv.Start()
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping after start: %v", err)
			}
			// The caller retries the ballot with the same id: counted once.
			for range 2 {
				if _, err := s.CastBallot(ctx, b, ev.Revision); err != nil {
					t.Fatalf("ballot after Redis came back: %v", err)
				}
			}
			checkStandings(t, s, &ev, []voting.CountedBallot{first, b})
		})
	}
	if _, err := redisstore.Open(testContext(t), "redis://127.0.0.1:1"); voting.ErrorCode(err) != voting.CodeUnavailable {
		t.Fatalf("Open on a closed port: %v", err)
	}
	if _, err := redisstore.Open(testContext(t), "http://x"); voting.ErrorCode(err) != voting.CodeInvalid {
		t.Fatalf("Open with a bad URL: %v", err)
	}
}

// TestClose checks that a closed store says unavailable rather than panic.
func TestClose(t *testing.T) {
	redistest.Parallel(t)
	srv := redistest.MustStart(t, redistest.Options{})
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			s := openStore(t, srv, m.opts)
			ctx := testContext(t)
			ev := mustCreate(t, s, testEvent("close-"+m.name, 1))
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			_, err := s.CastBallot(ctx, counted(t, &ev, "v", "c1", "audience", 80), ev.Revision)
			wantCode(t, err, voting.CodeUnavailable)
			if err := s.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}
