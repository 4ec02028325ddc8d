package hub_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"leitai/hub"
	"leitai/hub/redisbroker"
	"leitai/voting"
	"leitai/voting/redistest"
)

// flushRedis empties a shared Redis for a test (a private one starts empty).
func flushRedis(t testing.TB, srv *redistest.Server) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	if err := c.FlushAll(testContext(t)).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestTwoInstances: two hubs on one Redis, each with its own store client,
// broker and HTTP server. Ballots on A move the screen on B; host commands
// on B reach voters on A; both screens converge to the same standings
// (exactly voting.Tally of the acknowledged ballots), stage and turnout
// (voters on both instances, summed).
func TestTwoInstances(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	flushRedis(t, srv)
	cfg := hub.Config{StandingsInterval: 50 * time.Millisecond}
	a := newRedisEnv(t, srv, envOptions{Hub: cfg})
	b := newRedisEnv(t, srv, envOptions{Hub: cfg})
	ev := b.CreateEvent(testEvent("duo", 3))

	screenA, screenB := a.Dial("duo", "role=screen"), b.Dial("duo", "role=screen")
	hostA := a.DialHost("duo")
	const perInstance = 6
	var votersA, votersB []*wsClient
	for i := range perInstance {
		votersA = append(votersA, a.Dial("duo", voterQuery(fmt.Sprintf("a-%d", i))))
		votersB = append(votersB, b.Dial("duo", voterQuery(fmt.Sprintf("b-%d", i))))
	}
	all := append([]*wsClient{screenA, screenB, hostA}, append(votersA, votersB...)...)
	for _, c := range all {
		c.WaitSnapshot()
	}

	// Host commands on B reach everyone, on A too.
	b.Command("duo", voting.Command{Action: voting.ActionNext})
	st := b.Command("duo", voting.Command{Action: voting.ActionOpen})
	for _, c := range all {
		c.WaitStage("voting on c1 (from B)", func(s voting.Stage) bool { return s.Version == st.Version && s.Phase == voting.PhaseVoting })
	}

	// Ballots on A move the screen on B.
	var mu sync.Mutex
	var cast []voting.CountedBallot
	castOn := func(voters []*wsClient, prefix string, contestant string, salt int) {
		var wg sync.WaitGroup
		for i, v := range voters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id, score := newID(), scoreFor(i, salt)
				ack := v.Ballot(id, contestant, score)
				wantAccepted(t, ack, contestant, score, false)
				mu.Lock()
				cast = append(cast, voting.CountedBallot{Ballot: voting.Ballot{ID: id, Event: "duo", Voter: fmt.Sprintf("%s-%d", prefix, i), Contestant: contestant, Panel: "audience", Score: score}, Units: int64(score * voting.ScoreUnits)})
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	castOn(votersA, "a", "c1", 0)
	want := voting.Tally(&ev, cast)
	screenB.WaitFor("A's ballots on B's screen", func(f []msg) bool {
		v := viewOf(f)
		return v.Standings != nil && jsonEqual(t, *v.Standings, want)
	})
	castOn(votersB, "b", "c1", 3)

	// Host command on B: the next contestant; voters on A vote for it.
	st = b.Command("duo", voting.Command{Action: voting.ActionNext})
	for _, c := range votersA {
		c.WaitStage("c2 (from B)", func(s voting.Stage) bool { return s.Version == st.Version })
	}
	wantRefused(t, votersA[0].Ballot(newID(), "c1", 80), voting.CodeClosed)
	st = a.Command("duo", voting.Command{Action: voting.ActionOpen})
	for _, c := range votersB {
		c.WaitStage("voting on c2 (from A)", func(s voting.Stage) bool { return s.Version == st.Version })
	}
	castOn(votersB[:3], "b", "c2", 5)

	// Both instances converge: same standings, stage and turnout.
	want = voting.Tally(&ev, cast)
	wantTurnout := hub.Turnout{Voters: 2 * perInstance, Contestant: "c2", Voted: 3}
	for _, c := range []*wsClient{screenA, screenB, hostA} {
		c.WaitFor("the same standings everywhere", func(f []msg) bool {
			v := viewOf(f)
			return v.Standings != nil && jsonEqual(t, *v.Standings, want) && v.Stage.Version == st.Version && v.Turnout == wantTurnout
		})
	}
	for _, e := range []*env{a, b} {
		if got := e.Standings("duo"); !jsonEqual(t, got, want) {
			t.Errorf("GET standings = %+v, want %+v", got, want)
		}
	}
	// One Redis subscription per event per instance, however many clients.
	if n := pubsubNumsub(t, srv, "duo"); n != 2 {
		t.Errorf("%d subscriptions to the event's channel, want 2 (one per instance)", n)
	}

	// A voter on B leaves: turnout falls on A's screen too (presence).
	votersB[5].Close()
	wantTurnout.Voters--
	screenA.WaitFor("turnout after a voter on B left", func(f []msg) bool { return viewOf(f).Turnout == wantTurnout })
}

func pubsubNumsub(t testing.TB, srv *redistest.Server, event string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	ch := "leitai:{" + event + "}:bus"
	m, err := c.PubSubNumSub(testContext(t), ch).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m[ch]
}

// TestPubSubLost: Redis drops every pub/sub connection; the instances
// resubscribe and resynchronise their rooms, and a stage change made meanwhile
// and one made after reach every client: the clients converge to the
// latest stage and standings.
func TestPubSubLost(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	srv.RequirePrivate()
	cfg := hub.Config{StandingsInterval: 50 * time.Millisecond}
	a := newRedisEnv(t, srv, envOptions{Hub: cfg})
	b := newRedisEnv(t, srv, envOptions{Hub: cfg})
	b.CreateEvent(testEvent("lost", 3))
	clients := []*wsClient{a.Dial("lost", "role=screen"), a.Dial("lost", voterQuery("va")), b.Dial("lost", "role=screen"), b.Dial("lost", voterQuery("vb"))}
	for _, c := range clients {
		c.WaitSnapshot()
	}
	st := a.Command("lost", voting.Command{Action: voting.ActionNext})
	for _, c := range clients {
		c.WaitStage("c1", func(s voting.Stage) bool { return s.Version == st.Version })
	}

	reply, err := srv.Do("CLIENT", "KILL", "TYPE", "pubsub")
	if err != nil || !strings.HasPrefix(reply, ":") || reply == ":0" {
		t.Fatalf("CLIENT KILL TYPE pubsub = %q, %v", reply, err)
	}
	// Changes right away, while the brokers may still be reconnecting:
	// their envelopes may be lost; the resync must make up for them.
	b.Command("lost", voting.Command{Action: voting.ActionOpen})
	_ = clients[3].Ballot(newID(), "c1", 99) // may race the open; counts or not
	st = a.Command("lost", voting.Command{Action: voting.ActionCountdown, Seconds: 600})

	for _, e := range []*env{a, b} {
		waitMetric(t, e.Hub, "leitai_resyncs_total", func(v float64) bool { return v >= 1 })
	}
	want := a.Standings("lost")
	for _, c := range clients {
		c.WaitStage("the stage after the loss", func(s voting.Stage) bool { return s == st })
	}
	for _, c := range []*wsClient{clients[0], clients[2]} {
		c.WaitFor("the standings after the loss", func(f []msg) bool {
			v := viewOf(f)
			return v.Standings != nil && jsonEqual(t, *v.Standings, want)
		})
	}

	// Resubscribed: later changes arrive as plain messages.
	st = b.Command("lost", voting.Command{Action: voting.ActionClose})
	for _, c := range clients {
		c.WaitFor("a stage message after recovery", func(f []msg) bool {
			m, ok := last(f, "stage")
			return ok && *m.Stage == st
		})
	}
}

// TestRedisBallotsAckedAfterStore: on Redis, an acknowledged ballot is in the
// store (read back through another instance's store).
func TestRedisBallotsAckedAfterStore(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	flushRedis(t, srv)
	a := newRedisEnv(t, srv, envOptions{})
	b := newRedisEnv(t, srv, envOptions{})
	votingOn(a, "acked")
	v := a.Dial("acked", voterQuery("v1"))
	v.WaitSnapshot()
	id := newID()
	wantAccepted(t, v.Ballot(id, "c1", 71.5), "c1", 71.5, false)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	live, err := b.Svc.VoterBallots(ctx, "acked", "v1")
	if err != nil || len(live) != 1 || live[0].ID != id {
		t.Fatalf("B's store has %+v, %v", live, err)
	}
}

// TestPresenceKeptFresh: an instance whose voters sit quietly keeps
// reporting them (every 2 s), so that after longer than
// redisbroker.PresenceFreshness the other instance's turnout still counts
// them. The brokers' clock is fake; only the 2 s report is waited for.
func TestPresenceKeptFresh(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	flushRedis(t, srv)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	opts := envOptions{Hub: hub.Config{StandingsInterval: 20 * time.Millisecond}, BrokerNow: clock}
	a, b := newRedisEnv(t, srv, opts), newRedisEnv(t, srv, opts)
	votingOn(b, "fresh")
	for i := range 3 {
		a.Dial("fresh", voterQuery(fmt.Sprintf("quiet-%d", i))).WaitSnapshot()
	}
	sc := b.Dial("fresh", "role=screen")
	sc.WaitFor("3 voters on A", func(f []msg) bool { return viewOf(f).Turnout.Voters == 3 })

	// Half the freshness passes; A reports again by itself.
	advance(redisbroker.PresenceFreshness / 2)
	reported := clock().UnixMilli()
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	deadline := time.Now().Add(wait)
	for {
		vals, err := raw.HVals(testContext(t), "leitai:{fresh}:presence").Result()
		if err != nil {
			t.Fatal(err)
		}
		fresh := false
		for _, v := range vals {
			var n, at int64
			if _, err := fmt.Sscanf(v, "%d:%d", &n, &at); err == nil && n == 3 && at >= reported {
				fresh = true
			}
		}
		if fresh {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A never reported its voters again: %v", vals)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Past the freshness of A's first report: a ballot on B publishes
	// standings whose turnout still counts A's quiet voters.
	advance(redisbroker.PresenceFreshness/2 + time.Second)
	v := b.Dial("fresh", voterQuery("b-0"))
	v.WaitSnapshot()
	wantAccepted(t, v.Ballot(newID(), "c1", 90), "c1", 90, false)
	sc.WaitFor("4 voters, 1 voted", func(f []msg) bool {
		return viewOf(f).Turnout == hub.Turnout{Voters: 4, Contestant: "c1", Voted: 1}
	})
}
