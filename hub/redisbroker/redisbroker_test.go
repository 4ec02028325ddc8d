package redisbroker_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"leitai/hub"
	"leitai/hub/brokertest"
	"leitai/hub/redisbroker"
	"leitai/voting"
	"leitai/voting/redistest"
)

// newClient returns a client on srv closed when the test ends.
func newClient(t testing.TB, srv *redistest.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newBroker returns a broker with its own client (as another instance
// would have), closed when the test ends.
func newBroker(t testing.TB, srv *redistest.Server, opts redisbroker.Options) *redisbroker.Broker {
	b := redisbroker.New(newClient(t, srv), opts)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestContract(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	brokertest.Run(t, func(t *testing.T) brokertest.Instances {
		if err := newClient(t, srv).FlushAll(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		return func() hub.Broker { return newBroker(t, srv, redisbroker.Options{}) }
	}, brokertest.Options{})
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), brokertest.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// numsub is how many connections Redis has subscribed to an event's channel.
func numsub(t testing.TB, c *redis.Client, event string) int64 {
	t.Helper()
	ch := "leitai:{" + event + "}:bus"
	m, err := c.PubSubNumSub(testContext(t), ch).Result()
	if err != nil {
		t.Fatal(err)
	}
	return m[ch]
}

// TestOneSubscriptionPerEventPerInstance: many subscribers of one event on
// one instance share one Redis subscription, which goes when the last one
// leaves.
func TestOneSubscriptionPerEventPerInstance(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	raw := newClient(t, srv)
	a, b := newBroker(t, srv, redisbroker.Options{}), newBroker(t, srv, redisbroker.Options{})
	ctx := testContext(t)
	var unsubs []func()
	for range 5 {
		u, err := a.Subscribe(ctx, "one", func(hub.Delivery) {})
		if err != nil {
			t.Fatal(err)
		}
		unsubs = append(unsubs, u)
	}
	ub, err := b.Subscribe(ctx, "one", func(hub.Delivery) {})
	if err != nil {
		t.Fatal(err)
	}
	if n := numsub(t, raw, "one"); n != 2 {
		t.Fatalf("NUMSUB = %d with 5 subscribers on one instance and 1 on another, want 2", n)
	}
	for _, u := range unsubs[1:] {
		u()
	}
	if n := numsub(t, raw, "one"); n != 2 {
		t.Fatalf("NUMSUB = %d while a subscriber is left on each instance, want 2", n)
	}
	unsubs[0]()
	ub()
	// UNSUBSCRIBE is sent, not awaited: wait for Redis to have it.
	deadline := time.Now().Add(brokertest.Timeout)
	for n := numsub(t, raw, "one"); n != 0; n = numsub(t, raw, "one") {
		if time.Now().After(deadline) {
			t.Fatalf("NUMSUB = %d after every subscriber left, want 0", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPresenceExpires: an instance that stops reporting stops counting
// after PresenceFreshness.
func TestPresenceExpires(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	var mu sync.Mutex
	now := time.UnixMilli(1795611633940)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	a := newBroker(t, srv, redisbroker.Options{Now: clock})
	b := newBroker(t, srv, redisbroker.Options{Now: clock})
	ctx := testContext(t)
	presence := func(br *redisbroker.Broker, instance string, voters int) int {
		t.Helper()
		n, err := br.Presence(ctx, "expiry", instance, voters)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	presence(a, "a", 30)
	advance(redisbroker.PresenceFreshness / 2)
	if n := presence(b, "b", 20); n != 50 {
		t.Fatalf("Presence = %d, want 50", n)
	}
	advance(redisbroker.PresenceFreshness/2 + time.Millisecond) // a's report is now stale
	if n := presence(b, "b", 21); n != 21 {
		t.Fatalf("Presence = %d after a stopped reporting, want 21", n)
	}
	if n := presence(a, "a", 4); n != 25 {
		t.Fatalf("Presence = %d after a came back, want 25", n)
	}
}

// TestResyncAfterLostConnection: when Redis drops the pub/sub connection,
// every subscribed event gets a KindResync delivery once the broker has
// resubscribed, and later envelopes arrive again.
func TestResyncAfterLostConnection(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	srv.RequirePrivate()
	var lost sync.WaitGroup
	lost.Add(1)
	var once sync.Once
	b := newBroker(t, srv, redisbroker.Options{OnReconnect: func() { once.Do(lost.Done) }})
	pub := newBroker(t, srv, redisbroker.Options{})
	recs := map[string]*brokertest.Recorder{}
	for _, ev := range []string{"lost-a", "lost-b"} {
		r := brokertest.NewRecorder()
		u, err := b.Subscribe(testContext(t), ev, r.Deliver)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(u)
		recs[ev] = r
	}
	if _, err := pub.Publish(testContext(t), "lost-a", hub.Envelope{Kind: hub.KindDeleted}); err != nil {
		t.Fatal(err)
	}
	recs["lost-a"].WaitCount(t, 1)

	reply, err := srv.Do("CLIENT", "KILL", "TYPE", "pubsub")
	if err != nil || !strings.HasPrefix(reply, ":") || reply == ":0" {
		t.Fatalf("CLIENT KILL TYPE pubsub = %q, %v; want at least one killed", reply, err)
	}
	lost.Wait()
	for ev, r := range recs {
		r.WaitFor(t, ev+" resync", func(ds []hub.Delivery) bool {
			for _, d := range ds {
				if d.Kind == hub.KindResync && d.Event == ev {
					return true
				}
			}
			return false
		})
	}
	// Resubscribed: new envelopes flow again, numbered on.
	seq, err := pub.Publish(testContext(t), "lost-a", hub.Envelope{Kind: hub.KindStage, Stage: &voting.Stage{Version: 2}})
	if err != nil {
		t.Fatal(err)
	}
	got := brokertest.Real(recs["lost-a"].WaitCount(t, 2))
	if got[len(got)-1].Seq != seq || seq != 2 {
		t.Fatalf("after the reconnect got%s, want seq %d = 2 last", brokertest.Describe(got), seq)
	}
}

// TestUnavailable: with Redis gone, Publish, Seq, TryLead and Presence
// return unavailable errors rather than hanging.
func TestUnavailable(t *testing.T) {
	srv := redistest.MustStart(t, redistest.Options{})
	srv.RequirePrivate()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	b := redisbroker.New(c, redisbroker.Options{})
	t.Cleanup(func() { _ = b.Close() })
	srv.Kill()
	ctx := testContext(t)
	_, err := b.Publish(ctx, "gone", hub.Envelope{Kind: hub.KindDeleted})
	wantUnavailable(t, "Publish", err)
	_, err = b.Seq(ctx, "gone")
	wantUnavailable(t, "Seq", err)
	_, err = b.TryLead(ctx, "gone", time.Second)
	wantUnavailable(t, "TryLead", err)
	_, err = b.Presence(ctx, "gone", "a", 1)
	wantUnavailable(t, "Presence", err)
	_, err = b.Subscribe(ctx, "gone", func(hub.Delivery) {})
	wantUnavailable(t, "Subscribe", err)
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if voting.ErrorCode(err) != voting.CodeUnavailable {
		t.Errorf("%s with Redis down: %v, want an unavailable error", what, err)
	}
}
