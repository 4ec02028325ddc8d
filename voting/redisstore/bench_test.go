package redisstore_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"leitai/voting"
	"leitai/voting/redisstore"
	"leitai/voting/redistest"
)

// BenchmarkCastBallot measures acknowledged ballots per second on a private
// Redis, with the AOF fsynced on every write (the documented setting) and
// without AOF, ballots sent one by one and batched, from one goroutine and
// from many. Ballots are spread over 16 contestants, 2 panels and 2,000
// voters, so most are new and some replace an earlier one; trim is 1.
//
//	go test -run '^$' -bench CastBallot -benchtime 2s ./voting/redisstore/
func BenchmarkCastBallot(b *testing.B) {
	for _, persist := range []struct {
		name string
		aof  bool
	}{{"aof-always", true}, {"no-aof", false}} {
		for _, m := range modes {
			b.Run(persist.name+"/"+m.name, func(b *testing.B) {
				srv := redistest.MustStart(b, redistest.Options{AOF: persist.aof})
				if srv.External() { // LEITAI_TEST_REDIS: a throwaway server
					if err := rawClient(b, srv).FlushAll(context.Background()).Err(); err != nil {
						b.Fatal(err)
					}
				}
				s := openStore(b, srv, m.opts)
				ev := testEvent("bench", 16)
				ev.VotingScope = voting.ScopeAll
				ev = mustCreate(b, s, ev)
				command(b, s, &ev, cmdOpen)
				b.Run("sequential", func(b *testing.B) {
					benchCast(b, s, &ev, 0)
				})
				// Callers at once, like phones behind their WebSocket sessions.
				for _, callers := range []int{16, 64, 256} {
					b.Run("parallel-"+strconv.Itoa(callers), func(b *testing.B) {
						benchCast(b, s, &ev, callers)
					})
				}
			})
		}
	}
}

// benchCast casts b.N ballots from one goroutine (callers 0) or from that
// many goroutines.
func benchCast(b *testing.B, s *redisstore.Store, ev *voting.Event, callers int) {
	ballots := make([]voting.CountedBallot, b.N)
	for i := range ballots {
		ballots[i] = benchBallot(b, ev, i)
	}
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	if callers == 0 {
		for i := range b.N {
			if _, err := s.CastBallot(ctx, ballots[i], ev.Revision); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
		return
	}
	b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bal := ballots[next.Add(1)-1]
			if _, err := s.CastBallot(ctx, bal, ev.Revision); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
}

func benchBallot(tb testing.TB, ev *voting.Event, i int) voting.CountedBallot {
	panel := ev.Panels[i%2].ID
	c := ev.Contestants[(i/2)%len(ev.Contestants)].ID
	voter := "voter-" + strconv.Itoa((i*7919)%2000)
	b := voting.Ballot{ID: uuid.NewString(), Event: ev.ID, Voter: voter, Contestant: c, Panel: panel, Score: 60 + float64(i%81)/2}
	cb, err := ev.Count(b)
	if err != nil {
		tb.Fatal(err)
	}
	cb.At = 1_700_000_000_000 + int64(i)
	return cb
}
