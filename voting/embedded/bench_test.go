package embedded_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"leitai/voting"
	"leitai/voting/embedded"
	"leitai/voting/votingtest"
)

// hallEvent is the size the store is built for: the example event's 16
// units, a public panel and a jury, voting open on all of them.
func hallEvent() voting.Event { return votingtest.Example(votingtest.ScopeAll) }

// hallBallot is ballot number i: voter i mod voters scores contestant
// i / voters, so that after voters × 16 ballots every further one is a
// replacement. It skips Event.Count (and its UUID parsing): this measures
// the store.
func hallBallot(ev *voting.Event, i, voters int) voting.CountedBallot {
	units := int64(600000 + (i*7919)%80*5000)
	return voting.CountedBallot{
		Ballot: voting.Ballot{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Event: ev.ID,
			Voter: fmt.Sprint("voter-", i%voters), Contestant: ev.Contestants[(i/voters)%len(ev.Contestants)].ID,
			Panel: "audience", Score: float64(units) / voting.ScoreUnits},
		Units: units, At: time.Now().UnixMilli(),
	}
}

func openHall(b *testing.B) (*embedded.Store, voting.Event) {
	s, err := embedded.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	ev := create(b, s, hallEvent())
	openVoting(b, s, ev.ID)
	return s, ev
}

func report(b *testing.B, s *embedded.Store, syncs0 int64, start time.Time) {
	secs := time.Since(start).Seconds()
	syncs := float64(embedded.Syncs(s) - syncs0)
	b.ReportMetric(float64(b.N)/secs, "ballots/s")
	b.ReportMetric(syncs/secs, "fsyncs/s")
	b.ReportMetric(float64(b.N)/syncs, "ballots/fsync")
}

// BenchmarkCastBallot casts ballots with real fsyncs in the test's
// temporary directory: one caller at a time (every ballot waits for its
// own fsync), and many at once (group commit shares them).
func BenchmarkCastBallot(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		s, ev := openHall(b)
		syncs, start := embedded.Syncs(s), time.Now()
		b.ResetTimer()
		for i := range b.N {
			if _, err := s.CastBallot(ctx, hallBallot(&ev, i, 2000), ev.Revision); err != nil {
				b.Fatal(err)
			}
		}
		report(b, s, syncs, start)
	})
	for _, callers := range []int{16, 256} {
		b.Run(fmt.Sprint("parallel-", callers), func(b *testing.B) {
			s, ev := openHall(b)
			var next atomic.Int64
			b.SetParallelism(max(1, callers/2)) // × GOMAXPROCS (2 here)
			syncs, start := embedded.Syncs(s), time.Now()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := s.CastBallot(ctx, hallBallot(&ev, int(next.Add(1)), 2000), ev.Revision); err != nil {
						b.Error(err)
						return
					}
				}
			})
			report(b, s, syncs, start)
		})
	}
}

// BenchmarkStandings is the leaderboard push: 2,000 voters × 16
// contestants, live. Tally is the reference it replaces.
func BenchmarkStandings(b *testing.B) {
	s, ev := openHall(b)
	const voters = 2000
	n := voters * len(ev.Contestants)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 64 {
				if _, err := s.CastBallot(ctx, hallBallot(&ev, i, voters), ev.Revision); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	bs, _ := s.Ballots(ctx, ev.ID)
	if len(bs) != n {
		b.Fatalf("%d live ballots, want %d", len(bs), n)
	}
	b.Run("store", func(b *testing.B) {
		for range b.N {
			if _, err := s.Standings(ctx, ev.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("tally", func(b *testing.B) {
		for range b.N {
			voting.Tally(&ev, bs)
		}
	})
	b.Run("compact", func(b *testing.B) {
		for range b.N {
			if err := s.Compact(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("reopen", func(b *testing.B) {
		dir := b.TempDir()
		s2, err := embedded.Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		create(b, s2, ev)
		openVoting(b, s2, ev.ID)
		var wg sync.WaitGroup
		for w := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += 64 {
					if _, err := s2.CastBallot(ctx, hallBallot(&ev, i, voters), 1); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		s2.Close()
		b.ResetTimer()
		for range b.N {
			s2, err := embedded.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			s2.Close()
		}
	})
}
