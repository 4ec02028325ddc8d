package hub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"leitai/voting"
)

// BenchmarkFanout measures the time to turn one envelope into frames and
// queue them for every client of a room on this instance: the work done on
// the broker's delivery path. Clients are fakes without sockets (their
// queues are emptied between iterations, outside the timer).
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		for _, kind := range []string{KindStage, KindStandings} {
			b.Run(fmt.Sprintf("clients=%d/%s", n, kind), func(b *testing.B) {
				benchFanout(b, n, kind)
			})
		}
	}
}

func benchFanout(b *testing.B, n int, kind string) {
	h, svc, _ := testHub(b, Config{StandingsInterval: time.Hour, SendQueue: 64})
	ctx := context.Background()
	ev := testEvent("fan", 16)
	if _, err := svc.CreateEvent(ctx, ev); err != nil {
		b.Fatal(err)
	}
	clients := make([]*client, n)
	var r *room
	var err error
	for i := range clients {
		role := RoleVoter
		switch i % 50 {
		case 0:
			role = RoleScreen
		case 1:
			role = RoleHost
		}
		c := newClient(nil, role)
		c.voter = fmt.Sprintf("v%d", i)
		if role == RoleHost {
			// The key in force: the hub's periodic check closes hosts
			// with another one.
			if err = h.access.RefreshHostKey(ctx); err != nil {
				b.Fatal(err)
			}
			c.key = h.access.HostDigest()
		}
		if r, err = h.join(ctx, "fan", c, nil); err != nil {
			b.Fatal(err)
		}
		clients[i] = c
	}
	defer func() {
		for _, c := range clients {
			h.leave(r, c)
		}
	}()
	// Standings of 16 contestants with 500 ballots each.
	var sd voting.Standings
	for i, c := range ev.Contestants {
		sd.Rows = append(sd.Rows, voting.Standing{Contestant: c.ID, Ballots: 500, Final: 90 - float64(i)/4, Rank: i + 1,
			Panels: []voting.PanelScore{{Panel: "audience", Count: 500, Average: 90 - float64(i)/4}}})
		sd.Ballots += 500
	}
	drain := func() {
		for _, c := range clients {
			c.take()
		}
	}
	drain()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := Delivery{Event: "fan"}
		if kind == KindStage {
			d.Seq = r.seq + 1
			d.Envelope = Envelope{Kind: KindStage, Stage: &voting.Stage{Phase: voting.PhaseVoting, Current: "c1", Version: int64(i + 2), RankingVisible: true}}
		} else {
			d.Seq = r.seq
			sd.Ballots++
			d.Envelope = Envelope{Kind: KindStandings, Standings: &sd, Voters: n}
		}
		r.deliver(d)
		if i%32 == 31 {
			b.StopTimer()
			drain()
			b.StartTimer()
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
}
