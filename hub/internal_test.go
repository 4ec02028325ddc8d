package hub

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"leitai/hub/access"
	"leitai/voting"
	"leitai/voting/embedded"
)

// queued returns the frames queued for c, as strings.
func queued(c *client) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.queue))
	for i, f := range c.queue {
		out[i] = string(f)
	}
	return out
}

// TestClientQueue: a newer standings frame replaces a queued older one
// (latest wins) and takes its place after anything queued meanwhile, so
// frames keep the order of their sequence numbers; a full queue marks the
// client slow and takes nothing more.
func TestClientQueue(t *testing.T) {
	c := newClient(nil, RoleScreen)
	send := func(f string, standings bool) (bool, bool) { return c.send([]byte(f), standings, 4) }

	send("stage1", false)
	send("board1", true)
	if dropped, _ := send("board2", true); !dropped {
		t.Error("a second standings frame did not replace the first")
	}
	if got := strings.Join(queued(c), " "); got != "stage1 board2" {
		t.Errorf("queue %q, want %q", got, "stage1 board2")
	}
	send("stage2", false)
	send("board3", true) // replaces board2, but must come after stage2
	if got := strings.Join(queued(c), " "); got != "stage1 stage2 board3" {
		t.Errorf("queue %q, want %q (a standings frame must not overtake a newer stage frame)", got, "stage1 stage2 board3")
	}

	frames, slow := c.take()
	if slow || len(frames) != 3 {
		t.Fatalf("take = %d frames, slow %v", len(frames), slow)
	}
	// After a take, a standings frame is queued anew, not replaced.
	if dropped, _ := send("board4", true); dropped {
		t.Error("a standings frame replaced one already taken by the writer")
	}
	send("s5", false)
	send("s6", false)
	send("s7", false)
	if _, slowNow := send("s8", false); !slowNow {
		t.Error("the fifth frame in a queue of 4 did not mark the client slow")
	}
	if _, slowNow := send("s9", false); slowNow {
		t.Error("slow was reported twice")
	}
	if _, slow := c.take(); !slow {
		t.Error("take did not report the client slow")
	}
}

// testHub is a hub over an embedded store and a memory broker, without an
// HTTP server: clients are fakes without sockets.
func testHub(t testing.TB, cfg Config) (*Hub, *voting.Service, *MemoryBroker) {
	t.Helper()
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return testHubOn(t, cfg, st)
}

// testHubOn is testHub over a given store.
func testHubOn(t testing.TB, cfg Config, st voting.Store) (*Hub, *voting.Service, *MemoryBroker) {
	t.Helper()
	br := NewMemoryBroker()
	svc := voting.NewService(st, nil)
	guard, err := access.NewGuard(access.Config{HostKey: "internal-test-host-key", Keys: svc,
		Credentials: access.NewCredentials(make([]byte, 32), false, 100)})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Service, cfg.Broker, cfg.Access = svc, br, guard
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, svc, br
}

func testEvent(id string, n int) voting.Event {
	ev := voting.Event{ID: id, Title: "擂台 " + id, Rules: voting.Rules{Min: 60, Max: 100, Step: 0.5, Decimals: 2}}
	for i := range n {
		ev.Contestants = append(ev.Contestants, voting.Contestant{ID: fmt.Sprintf("c%d", i+1), Name: fmt.Sprintf("单位%d", i+1)})
	}
	return ev
}

type frameHead struct {
	Type  string        `json:"type"`
	Seq   int64         `json:"seq"`
	Stage *voting.Stage `json:"stage"`
}

func heads(t testing.TB, c *client) []frameHead {
	t.Helper()
	frames, _ := c.take()
	out := make([]frameHead, len(frames))
	for i, f := range frames {
		if err := json.Unmarshal(f, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestRoomDeliver: in-order envelopes are fanned out; stale ones are
// ignored; a gap in the numbers (a lost bumping envelope, seen on a
// bumping or a standings envelope) or a KindResync reloads the room from
// the store and sends every client a snapshot.
func TestRoomDeliver(t *testing.T) {
	h, svc, br := testHub(t, Config{StandingsInterval: time.Hour})
	ctx := context.Background()
	if _, err := svc.CreateEvent(ctx, testEvent("gap", 3)); err != nil {
		t.Fatal(err)
	}
	c := newClient(nil, RoleScreen)
	r, err := h.join(ctx, "gap", c, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.leave(r, c)
	if hs := heads(t, c); len(hs) != 1 || hs[0].Type != "snapshot" || hs[0].Seq != 0 {
		t.Fatalf("join queued %+v", hs)
	}

	stage := func(v int64) *voting.Stage {
		return &voting.Stage{Phase: voting.PhasePresenting, Current: "c1", Version: v, RankingVisible: true}
	}
	// In order.
	if _, err := br.Publish(ctx, "gap", Envelope{Kind: KindStage, Stage: stage(2)}); err != nil {
		t.Fatal(err)
	}
	hs := heads(t, c)
	if len(hs) < 1 || hs[0].Type != "stage" || hs[0].Seq != 1 || hs[0].Stage.Version != 2 {
		t.Fatalf("in-order stage queued %+v", hs)
	}
	// Stale (already reflected): ignored.
	r.deliver(Delivery{Event: "gap", Seq: 1, Envelope: Envelope{Kind: KindStage, Stage: stage(2)}})
	if hs := heads(t, c); len(hs) != 0 {
		t.Fatalf("a stale envelope queued %+v", hs)
	}
	resyncs := func() float64 { return readCounter(t, h, "leitai_resyncs_total") }

	// A stage change that the store has but whose envelope was lost (seq 2),
	// then envelope 3 arrives: the room reloads and sends a snapshot with
	// the stored stage.
	st, err := svc.Command(ctx, "gap", voting.Command{Action: voting.ActionNext})
	if err != nil {
		t.Fatal(err)
	}
	br.seqMu.Lock()
	br.seq["gap"] = 3 // 2 was lost, 3 is the one delivered below
	br.seqMu.Unlock()
	r.deliver(Delivery{Event: "gap", Seq: 3, Envelope: Envelope{Kind: KindStage, Stage: stage(99)}})
	hs = heads(t, c)
	if len(hs) != 1 || hs[0].Type != "snapshot" || hs[0].Seq != 3 || hs[0].Stage.Version != st.Version {
		t.Fatalf("after a gap queued %+v, want one snapshot at seq 3 with stage version %d", hs, st.Version)
	}
	if n := resyncs(); n != 1 {
		t.Errorf("resyncs = %v, want 1", n)
	}

	// A standings envelope numbered above the room's: a bumping envelope was
	// lost before it.
	st, err = svc.Command(ctx, "gap", voting.Command{Action: voting.ActionNext})
	if err != nil {
		t.Fatal(err)
	}
	br.seqMu.Lock()
	br.seq["gap"] = 4
	br.seqMu.Unlock()
	r.deliver(Delivery{Event: "gap", Seq: 4, Envelope: Envelope{Kind: KindStandings, Standings: &voting.Standings{}}})
	hs = heads(t, c)
	if len(hs) != 1 || hs[0].Type != "snapshot" || hs[0].Seq != 4 || hs[0].Stage.Version != st.Version {
		t.Fatalf("after a gap seen on standings queued %+v, want one snapshot at seq 4 with stage version %d", hs, st.Version)
	}

	// KindResync: the broker may have lost envelopes.
	r.deliver(Delivery{Event: "gap", Envelope: Envelope{Kind: KindResync}})
	if hs := heads(t, c); len(hs) != 1 || hs[0].Type != "snapshot" || hs[0].Seq != 4 {
		t.Fatalf("after KindResync queued %+v", hs)
	}
	if n := resyncs(); n != 3 {
		t.Errorf("resyncs = %v, want 3", n)
	}

	// A stage envelope with an older version than the room has (two hosts'
	// commands published out of order) keeps the newer stage but still
	// takes its number, so that clients see no gap.
	r.deliver(Delivery{Event: "gap", Seq: 5, Envelope: Envelope{Kind: KindStage, Stage: stage(2)}})
	hs = heads(t, c)
	if len(hs) < 1 || hs[0].Type != "stage" || hs[0].Seq != 5 || hs[0].Stage.Version != st.Version {
		t.Fatalf("an older stage queued %+v, want a stage message at seq 5 with version %d", hs, st.Version)
	}
}

func readCounter(t testing.TB, h *Hub, name string) float64 {
	t.Helper()
	mfs, err := h.metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestJoinLoadFailure: a room that cannot load (the store lost the event)
// does not stay behind subscribed.
func TestJoinLoadFailure(t *testing.T) {
	st, err := embedded.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h, svc, br := testHubOn(t, Config{StandingsInterval: time.Hour}, st)
	ctx := context.Background()
	if _, err := svc.CreateEvent(ctx, testEvent("flaky", 2)); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteEvent(ctx, "flaky"); err != nil { // behind the service's back
		t.Fatal(err)
	}
	c := newClient(nil, RoleVoter)
	if _, err := h.join(ctx, "flaky", c, nil); err == nil {
		t.Fatal("join of a deleted event succeeded")
	}
	h.mu.Lock()
	rooms := len(h.rooms)
	h.mu.Unlock()
	br.mu.Lock()
	subs := len(br.subs)
	br.mu.Unlock()
	if rooms != 0 || subs != 0 {
		t.Errorf("after a failed join: %d rooms, %d subscribed events; want none", rooms, subs)
	}
}

// TestClientEnded: once a client has ended (its connection closed or its
// writer failed), frames are no longer queued, standings included.
func TestClientEnded(t *testing.T) {
	c := newClient(nil, RoleScreen)
	c.send([]byte("stage1"), false, 4)
	c.send([]byte("board1"), true, 4)
	if err := c.end(); err != nil {
		t.Fatal(err)
	}
	for _, standings := range []bool{true, false} {
		if dropped, slow := c.send([]byte("late"), standings, 4); dropped || slow {
			t.Errorf("send after end: dropped %v, slow %v", dropped, slow)
		}
	}
	if q := queued(c); len(q) != 0 {
		t.Errorf("queued after end: %q", q)
	}
}

// TestAppendText: text frames are framed as RFC 6455 says, at every
// length encoding, and pings between them stay whole.
func TestAppendText(t *testing.T) {
	var b []byte
	lens := []int{0, 1, 125, 126, 127, 0xFFFF, 0x10000, 70000}
	for _, n := range lens {
		b = appendText(b, bytes.Repeat([]byte{'x'}, n))
		b = append(b, pingFrame...)
	}
	for _, n := range lens {
		if b[0] != 0x81 {
			t.Fatalf("len %d: first byte %#x, want 0x81 (final text frame)", n, b[0])
		}
		got, hdr := int(b[1]), 2
		switch got {
		case 126:
			got, hdr = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			got, hdr = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		if got != n || (n > 125 && hdr == 2) || (n > 0xFFFF && hdr != 10) {
			t.Fatalf("len %d: header says %d (header %d bytes)", n, got, hdr)
		}
		if size := frameSize(b); size != hdr+n {
			t.Fatalf("len %d: frameSize %d, want %d", n, size, hdr+n)
		}
		b = b[hdr+n:]
		if !bytes.Equal(b[:2], pingFrame) {
			t.Fatalf("len %d: no ping after the frame: % x", n, b[:2])
		}
		b = b[2:]
	}
	if len(b) != 0 {
		t.Errorf("%d bytes left over", len(b))
	}
}

// TestPingDeadline: a ping unanswered for the timeout marks the client
// dead, but not while its reader is busy with a message (a ballot waiting
// for a slow store reads no pong), and the clock restarts when the reader
// reads again; a pong answers it.
func TestPingDeadline(t *testing.T) {
	const timeout = 5 * time.Second
	sec := int64(time.Second)
	c := newClient(nil, RoleVoter)
	c.wire = &wire{}
	c.writing = true // as if a writer ran: tick starts none here
	dead := func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.dead }

	c.tick(100*sec, true, timeout)
	if !c.pingDue || c.pingAt != 100*sec {
		t.Fatalf("no ping asked for: due %v at %d", c.pingDue, c.pingAt)
	}
	c.busy.Store(true)
	if c.tick(106*sec, true, timeout); dead() {
		t.Fatal("dead while the reader was busy")
	}
	c.readyAt.Store(107 * sec)
	c.busy.Store(false)
	if c.tick(111*sec, true, timeout); dead() {
		t.Fatal("dead 4 s after the reader read again")
	}
	if c.pingAt != 100*sec {
		t.Fatal("a new ping was asked for while one waited for its pong")
	}
	if c.tick(112*sec, false, timeout); !dead() {
		t.Fatal("not dead 5 s after the reader read again without a pong")
	}

	c = newClient(nil, RoleVoter)
	c.wire = &wire{}
	c.writing = true
	c.tick(100*sec, true, timeout)
	c.pongAt.Store(100*sec + 1)
	if c.tick(200*sec, true, timeout); dead() || c.pingAt != 200*sec {
		t.Fatalf("answered ping: dead %v, next ping at %d", dead(), c.pingAt)
	}
}

// TestVoterStandingsPacing: phones get periodic standings at most every
// VoterStandingsInterval, less often when there are more phones than the
// budget allows, and at once when what the audience may see changes.
func TestVoterStandingsPacing(t *testing.T) {
	var mu sync.Mutex
	clock := time.Unix(1_800_000_000, 0)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	h, svc, br := testHub(t, Config{StandingsInterval: time.Hour, VoterStandingsInterval: time.Second, VoterStandingsBudget: 100, Now: now})
	ctx := context.Background()
	if _, err := svc.CreateEvent(ctx, testEvent("pace", 2)); err != nil {
		t.Fatal(err)
	}
	v := newClient(nil, RoleVoter)
	v.voter = "v1"
	r, err := h.join(ctx, "pace", v, &[]voting.CountedBallot{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.leave(r, v)
	heads(t, v) // the snapshot

	for _, tc := range []struct {
		voters int
		want   time.Duration
	}{{1, time.Second}, {100, time.Second}, {250, 2500 * time.Millisecond}, {19000, 190 * time.Second}} {
		r.mu.Lock()
		r.voters = tc.voters
		got := r.voterInterval()
		r.mu.Unlock()
		if got != tc.want {
			t.Errorf("voterInterval with %d phones = %v, want %v", tc.voters, got, tc.want)
		}
	}
	r.mu.Lock()
	r.voters = 250 // every 2.5 s
	r.mu.Unlock()

	standings := func() int {
		r.mu.Lock()
		seq := r.seq
		r.mu.Unlock()
		r.deliver(Delivery{Event: "pace", Seq: seq, Envelope: Envelope{Kind: KindStandings, Standings: &voting.Standings{}}})
		n := 0
		for _, f := range heads(t, v) {
			if f.Type == "standings" {
				n++
			}
		}
		return n
	}
	advance(10 * time.Second)
	if n := standings(); n != 1 {
		t.Fatalf("first standings: %d frames to the phone, want 1", n)
	}
	advance(time.Second)
	if n := standings(); n != 0 {
		t.Fatalf("standings 1 s later with 250 phones: %d frames, want 0 (held back)", n)
	}
	// Hiding the ranking changes what phones may see: at once.
	if _, err := br.Publish(ctx, "pace", Envelope{Kind: KindStage, Stage: &voting.Stage{Phase: voting.PhaseLobby, Version: 2, RankingVisible: false}}); err != nil {
		t.Fatal(err)
	}
	hs := heads(t, v)
	if len(hs) != 2 || hs[0].Type != "stage" || hs[1].Type != "standings" {
		t.Fatalf("after hiding the ranking the phone got %+v, want the stage and the standings at once", hs)
	}
	// The held-back frame goes out once the interval has passed.
	advance(3 * time.Second)
	h.flushVoters()
	if n := standings(); n != 1 {
		t.Fatalf("standings after the interval: %d frames, want 1", n)
	}
}

// TestDroppedByCause: a writer's failure is counted under its cause.
func TestDroppedByCause(t *testing.T) {
	m := NewMetrics()
	m.dropped(errPingTimeout)
	m.dropped(fmt.Errorf("write: %w", errSlowClient))
	m.dropped(errors.New("i/o timeout"))
	m.dropped(errPingTimeout)
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "leitai_connections_dropped_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			got[mt.GetLabel()[0].GetValue()] = mt.GetCounter().GetValue()
		}
	}
	if got["ping_timeout"] != 2 || got["slow"] != 1 || got["write_error"] != 1 {
		t.Fatalf("dropped by cause = %v", got)
	}
}
