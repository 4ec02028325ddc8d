package hub_test

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"leitai/hub"
	"leitai/voting"
)

// smallBuffers makes the server's socket send buffers small, so that a
// client that stops reading blocks its writer after a few KiB rather than
// after megabytes of loopback buffer.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// dialSmall dials with a small receive buffer.
func dialSmall(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	return c, err
}

func metricValue(t testing.TB, h *hub.Hub, name string) float64 {
	t.Helper()
	mfs, err := h.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				sum += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

// waitMetric waits until pred holds for a metric's value.
func waitMetric(t testing.TB, h *hub.Hub, name string, pred func(float64) bool) float64 {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		v := metricValue(t, h, name)
		if pred(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("metric %s stayed at %v", name, v)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSlowClient: a client that stops reading while a burst of stage and
// standings messages goes out does not hold up anyone else: every other
// client receives every stage message, in order. The slow client's queue
// overflows; it is closed with 1008 once its writer can write again, and
// reconnects to a snapshot of the latest stage.
func TestSlowClient(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{
		Hub:      hub.Config{WriteTimeout: time.Minute, StandingsInterval: 20 * time.Millisecond},
		Listener: func(l net.Listener) net.Listener { return smallBuffers{l} },
	})
	e.CreateEvent(testEvent("slow", 3))
	others := []*wsClient{e.Dial("slow", "role=screen"), e.DialHost("slow")}
	for i := range 4 {
		others = append(others, e.Dial("slow", voterQuery("fast-"+string(rune('a'+i)))))
	}
	slow := e.DialWith("slow", dialOptions{Query: voterQuery("sleepy"), NoRead: true, DialCtx: dialSmall})
	for _, c := range others {
		c.WaitSnapshot()
	}
	e.waitConnections(len(others) + 1) // the sleepy one has joined too
	first := viewOf(others[0].All()).Seq

	// The burst, in waves: each wave of stage messages (each must arrive)
	// and a standings message (coalesced) is published straight to the
	// broker, as a host command would be after the store took it; the next
	// wave goes once every reading client has the last one, as a hall's
	// phones keep up with a host. The sleepy client falls behind.
	const waves, perWave = 30, 20
	const burst = waves * perWave
	ctx := testContext(t)
	var lastSeq int64
	for w := range waves {
		for i := range perWave {
			st := voting.Stage{Phase: voting.PhasePresenting, Current: "c1", Version: int64(100 + w*perWave + i), RankingVisible: true}
			seq, err := e.Broker.Publish(ctx, "slow", hub.Envelope{Kind: hub.KindStage, Stage: &st})
			if err != nil {
				t.Fatal(err)
			}
			lastSeq = seq
		}
		sd := voting.Standings{Ballots: w}
		if _, err := e.Broker.Publish(ctx, "slow", hub.Envelope{Kind: hub.KindStandings, Standings: &sd, Voters: 5}); err != nil {
			t.Fatal(err)
		}
		for _, c := range others {
			c.WaitFor("the wave", func(f []msg) bool { return viewOf(f).Seq == lastSeq })
		}
	}
	waitMetric(t, e.Hub, "leitai_slow_clients_closed_total", func(v float64) bool { return v == 1 })

	for _, c := range others {
		frames := c.WaitFor("every stage message", func(f []msg) bool { return viewOf(f).Seq == lastSeq })
		next := first + 1
		for _, m := range frames {
			switch m.Type {
			case "stage":
				if m.Seq != next {
					t.Fatalf("%s: stage message seq %d, want %d", c.Name, m.Seq, next)
				}
				next++
			case "snapshot":
				if m.Seq != first {
					t.Fatalf("%s was resynchronised: %s", c.Name, m.Raw)
				}
			}
		}
		if next != lastSeq+1 {
			t.Fatalf("%s got stage messages up to %d, want %d", c.Name, next-1, lastSeq)
		}
	}

	// The slow client reads again: what was written reaches it, then 1008.
	slow.StartReading()
	err := slow.WaitClosed()
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("slow client: %v, want close status 1008", err)
	}
	if got := slow.All(); len(got) == 0 || got[0].Type != "snapshot" || viewOf(got).Seq >= lastSeq {
		t.Errorf("slow client got %d frames, up to seq %d; want a prefix of the burst", len(got), viewOf(got).Seq)
	}
	// It reconnects to a snapshot of the latest stage.
	again := e.Dial("slow", voterQuery("sleepy"))
	if s := again.WaitSnapshot(); s.Seq != lastSeq || s.Stage.Version != 100+burst-1 {
		t.Errorf("reconnect snapshot seq %d, stage %+v; want seq %d, version %d", s.Seq, s.Stage, lastSeq, 100+burst-1)
	}
	// Everyone still hears new messages.
	e.Command("slow", voting.Command{Action: voting.ActionNext})
	for _, c := range append(others, again) {
		c.WaitFor("the next stage message", func(f []msg) bool {
			m, ok := last(f, "stage")
			return ok && m.Seq == lastSeq+1
		})
	}
}

// TestPing: the server pings every PingInterval; a client that answers
// (its library answers while it reads) stays; one that never reads, so
// never answers, is dropped once a ping goes unanswered for WriteTimeout.
func TestPing(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{PingInterval: 20 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}})
	e.CreateEvent(testEvent("ping", 2))
	var pings atomic.Int32
	c := e.DialWith("ping", dialOptions{Query: "role=screen", OnPing: func() { pings.Add(1) }})
	c.WaitSnapshot()
	dead := e.DialWith("ping", dialOptions{Query: voterQuery("dead"), NoRead: true})
	waitMetric(t, e.Hub, "leitai_connections", func(v float64) bool { return v == 2 })
	// The dead one goes; the live one stays.
	waitMetric(t, e.Hub, "leitai_connections", func(v float64) bool { return v == 1 })
	_ = dead
	c.WaitFor("three pings", func([]msg) bool { return pings.Load() >= 3 })
	st := e.Command("ping", voting.Command{Action: voting.ActionNext})
	c.WaitStage("next", func(s voting.Stage) bool { return s.Version == st.Version })
}

// waitConnections waits until the hub counts at least n open connections.
func (e *env) waitConnections(n int) {
	e.T.Helper()
	waitMetric(e.T, e.Hub, "leitai_connections", func(v float64) bool { return v >= float64(n) })
}

// TestPingsAmidFrames: pings are written into the same batches as data
// frames, and pongs and the client's ballots flow the other way meanwhile;
// with a ping due at every tick, every client still reads every stage
// message in order, with no protocol error, and answers many pings.
func TestPingsAmidFrames(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{PingInterval: time.Millisecond, WriteTimeout: 5 * time.Second}})
	votingOn(e, "pings")
	var pings atomic.Int32
	var clients []*wsClient
	for i := range 4 {
		q := "role=screen"
		if i > 0 {
			q = voterQuery(fmt.Sprintf("pinged-%d", i))
		}
		c := e.DialWith("pings", dialOptions{Query: q, OnPing: func() { pings.Add(1) }})
		c.WaitSnapshot()
		clients = append(clients, c)
	}
	first := viewOf(clients[0].All()).Seq
	ctx := testContext(t)
	// Waves of 20 (a queue holds 64), each read by everyone before the
	// next, with ballots (and their acks) in between.
	const waves, perWave = 15, 20
	var lastSeq int64
	for w := range waves {
		for i := range perWave {
			st := voting.Stage{Phase: voting.PhaseVoting, Current: "c1", Version: int64(1000 + w*perWave + i)}
			seq, err := e.Broker.Publish(ctx, "pings", hub.Envelope{Kind: hub.KindStage, Stage: &st})
			if err != nil {
				t.Fatal(err)
			}
			lastSeq = seq
		}
		for _, c := range clients[1:] {
			c.Send(map[string]any{"type": "ballot", "id": newID(), "contestant": "c1", "score": 80})
		}
		for _, c := range clients {
			c.WaitFor("the wave", func(f []msg) bool { return viewOf(f).Seq == lastSeq })
		}
	}
	for _, c := range clients {
		frames := c.WaitFor("every stage message", func(f []msg) bool { return viewOf(f).Seq == lastSeq })
		next := first + 1
		for _, m := range frames {
			if m.Type == "stage" {
				if m.Seq != next {
					t.Fatalf("%s: stage seq %d, want %d", c.Name, m.Seq, next)
				}
				next++
			}
		}
	}
	for deadline := time.Now().Add(wait); pings.Load() < 40; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d pings answered, want 40", pings.Load())
		}
	}
	for _, c := range clients {
		if err := c.Err(); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
	}
	if v := metricValue(t, e.Hub, "leitai_connections"); v != 4 {
		t.Errorf("%v connections, want 4 (a client that answers pings must stay)", v)
	}
}
