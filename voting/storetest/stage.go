package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"leitai/voting"
)

// testStageCAS checks that SetStage takes only the stored version plus one,
// and that a refused SetStage changes nothing.
func testStageCAS(t *testing.T, s voting.Store) {
	mustCreate(t, s, newEvent("show"))
	cur := setStage(t, s, "show", func(st *voting.Stage) { st.Phase, st.Current = voting.PhasePresenting, "c1" })
	if cur.Version != 2 {
		t.Fatalf("version after one SetStage = %d, want 2", cur.Version)
	}
	for _, v := range []int64{cur.Version, cur.Version + 2, cur.Version + 100, cur.Version - 1, 0, -1} {
		t.Run(fmt.Sprint("version", v), func(t *testing.T) {
			next := cur
			next.Version, next.Phase, next.Current = v, voting.PhaseVoting, "c2"
			checkErr(t, fmt.Sprintf("SetStage version %d over stored %d", v, cur.Version),
				s.SetStage(ctx(t), "show", next), voting.ErrConflict)
			if got := mustStage(t, s, "show"); got != cur {
				t.Fatalf("stage after a refused SetStage\n got %+v\nwant %+v", got, cur)
			}
		})
	}
	next := cur
	next.Version, next.Phase = cur.Version+1, voting.PhaseVoting
	if err := s.SetStage(ctx(t), "show", next); err != nil {
		t.Fatalf("SetStage at stored version + 1: %v", err)
	}
	if got := mustStage(t, s, "show"); got != next {
		t.Fatalf("stage\n got %+v\nwant %+v", got, next)
	}
	// The same version again is a lost race.
	checkErr(t, "SetStage of a version already stored", s.SetStage(ctx(t), "show", next), voting.ErrConflict)
}

// testStageRoundTrip checks that every field of the stage is kept, zero
// values included.
func testStageRoundTrip(t *testing.T, s voting.Store) {
	mustCreate(t, s, newEvent("show"))
	stages := []voting.Stage{
		{Phase: voting.PhaseVoting, Current: "c3", Version: 2, EndsAt: baseTime + 30_000, RankingVisible: false, Revealed: 0, ChangedAt: baseTime},
		{Phase: voting.PhaseReveal, Current: "", Version: 3, EndsAt: 0, RankingVisible: true, Revealed: 3, ChangedAt: baseTime + 1},
		{Phase: voting.PhaseClosed, Current: "c4", Version: 4, EndsAt: 1, RankingVisible: false, Revealed: 1, ChangedAt: 0},
		{Phase: voting.PhaseLobby, Current: "", Version: 5, EndsAt: 0, RankingVisible: false, Revealed: 0, ChangedAt: baseTime + 2},
		{Phase: voting.PhaseEnded, Current: "c1", Version: 6, EndsAt: 0, RankingVisible: true, Revealed: 4, ChangedAt: baseTime + 3},
	}
	for _, st := range stages {
		if err := s.SetStage(ctx(t), "show", st); err != nil {
			t.Fatalf("SetStage(%+v): %v", st, err)
		}
		if got := mustStage(t, s, "show"); got != st {
			t.Fatalf("stage round trip\n got %+v\nwant %+v", got, st)
		}
	}
}

// testStageConcurrentCAS checks that of many hosts moving the stage from
// the same version exactly one wins.
func testStageConcurrentCAS(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show"))
	const hosts = 20
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners []voting.Stage
		errs    []error
	)
	start := make(chan struct{})
	for i := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			next := voting.InitialStage()
			next.Version, next.Phase, next.Current = 2, voting.PhasePresenting, ev.Contestants[i%len(ev.Contestants)].ID
			next.ChangedAt = baseTime + int64(i)
			<-start
			err := s.SetStage(c, "show", next)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, next)
			case !errors.Is(err, voting.ErrConflict):
				errs = append(errs, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("SetStage errors other than conflict: %v", errs)
	}
	if len(winners) != 1 {
		t.Fatalf("%d of %d concurrent SetStage from version 1 succeeded, want exactly 1: %+v", len(winners), hosts, winners)
	}
	if got := mustStage(t, s, "show"); got != winners[0] {
		t.Fatalf("stage\n got %+v\nwant the winner %+v", got, winners[0])
	}
}
