// Package brokertest is the contract test suite that every hub.Broker
// passes. A broker's tests wire it like this:
//
//	func TestContract(t *testing.T) {
//		brokertest.Run(t, func(t *testing.T) brokertest.Instances {
//			// a fresh backend for one subtest; cleanups registered on t
//			return func() hub.Broker { /* one more instance on that backend */ }
//		}, brokertest.Options{})
//	}
//
// The suite checks the guarantees documented on hub.Broker: numbering
// (bumping envelopes take the next number, standings repeat the current
// one), order, per-event isolation, unsubscribing, delivery of everything
// published after Subscribe returns, one callback at a time, the standings
// lease (TryLead) and presence.
package brokertest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"leitai/hub"
	"leitai/voting"
)

// Instances returns one more broker instance on the subtest's backend each
// time it is called, as if in another server process. A single-process
// broker (hub.MemoryBroker) returns the same broker every time. The
// factory registers the cleanups (Close) for what it returns.
type Instances func() hub.Broker

// Factory makes a fresh, empty backend for one subtest.
type Factory func(t *testing.T) Instances

// Options describe the broker under test.
type Options struct {
	// SingleInstance says the broker serves one process only: TryLead
	// always wins and Presence counts this instance alone.
	SingleInstance bool
}

// Run runs the suite; every subtest gets its own backend.
func Run(t *testing.T, f Factory, opts Options) {
	tests := []struct {
		name string
		run  func(t *testing.T, in Instances, opts Options)
	}{
		{"Numbering", testNumbering},
		{"OrderAcrossInstances", testOrderAcrossInstances},
		{"EventsIsolated", testEventsIsolated},
		{"Unsubscribe", testUnsubscribe},
		{"SeesEverythingAfterSubscribe", testSeesEverythingAfterSubscribe},
		{"CallbacksOneAtATime", testCallbacksOneAtATime},
		{"EnvelopeRoundTrip", testEnvelopeRoundTrip},
		{"TryLead", testTryLead},
		{"Presence", testPresence},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, f(t), opts)
		})
	}
}

// Timeout bounds every wait of the suite. It is generous: the suite waits
// for conditions, it never asserts how long they took.
const Timeout = 20 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return ctx
}

// Recorder collects the deliveries of one subscription.
type Recorder struct {
	mu     sync.Mutex
	got    []hub.Delivery
	notify chan struct{}
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{notify: make(chan struct{}, 1)} }

// Deliver is the subscription callback.
func (r *Recorder) Deliver(d hub.Delivery) {
	r.mu.Lock()
	r.got = append(r.got, d)
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// Got returns a copy of the deliveries so far.
func (r *Recorder) Got() []hub.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hub.Delivery(nil), r.got...)
}

// WaitFor waits until pred holds for the deliveries so far and returns them;
// it fails the test after Timeout.
func (r *Recorder) WaitFor(t testing.TB, what string, pred func([]hub.Delivery) bool) []hub.Delivery {
	t.Helper()
	deadline := time.NewTimer(Timeout)
	defer deadline.Stop()
	for {
		got := r.Got()
		if pred(got) {
			return got
		}
		select {
		case <-r.notify:
		case <-deadline.C:
			t.Fatalf("waiting for %s: gave up with %d deliveries: %s", what, len(got), Describe(got))
			return nil
		}
	}
}

// WaitCount waits until at least n deliveries arrived (excluding
// KindResync) and returns them.
func (r *Recorder) WaitCount(t testing.TB, n int) []hub.Delivery {
	t.Helper()
	return r.WaitFor(t, fmt.Sprintf("%d deliveries", n), func(ds []hub.Delivery) bool { return len(Real(ds)) >= n })
}

// Real drops KindResync deliveries.
func Real(ds []hub.Delivery) []hub.Delivery {
	out := make([]hub.Delivery, 0, len(ds))
	for _, d := range ds {
		if d.Kind != hub.KindResync {
			out = append(out, d)
		}
	}
	return out
}

// Describe renders deliveries for failure messages.
func Describe(ds []hub.Delivery) string {
	s := ""
	for i, d := range ds {
		if i == 20 {
			return s + fmt.Sprintf(" …(%d more)", len(ds)-i)
		}
		s += fmt.Sprintf(" %s/%s#%d", d.Event, d.Kind, d.Seq)
	}
	return s
}

func subscribe(t *testing.T, b hub.Broker, event string) *Recorder {
	t.Helper()
	r := NewRecorder()
	unsub, err := b.Subscribe(testContext(t), event, r.Deliver)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", event, err)
	}
	t.Cleanup(unsub)
	return r
}

func publish(t *testing.T, b hub.Broker, event string, env hub.Envelope) int64 {
	t.Helper()
	seq, err := b.Publish(testContext(t), event, env)
	if err != nil {
		t.Fatalf("Publish(%s, %s): %v", event, env.Kind, err)
	}
	return seq
}

func stageEnv(version int64) hub.Envelope {
	return hub.Envelope{Kind: hub.KindStage, Stage: &voting.Stage{Phase: voting.PhasePresenting, Current: "c1", Version: version}}
}

func standingsEnv(ballots int) hub.Envelope {
	return hub.Envelope{Kind: hub.KindStandings, Standings: &voting.Standings{Ballots: ballots}, Voters: ballots}
}

// testNumbering: stage, event, reset and deleted take the next number;
// standings repeat the current one; Seq reports the current number; the
// subscriber sees each envelope with the number Publish returned.
func testNumbering(t *testing.T, in Instances, _ Options) {
	b := in()
	ctx := testContext(t)
	if seq, err := b.Seq(ctx, "numbering"); err != nil || seq != 0 {
		t.Fatalf("Seq of a new event = %d, %v; want 0", seq, err)
	}
	rec := subscribe(t, b, "numbering")
	pub := sampleEvent()
	envs := []hub.Envelope{
		standingsEnv(0),
		stageEnv(2),
		standingsEnv(1),
		standingsEnv(2),
		{Kind: hub.KindEvent, Event: &pub},
		{Kind: hub.KindReset, Contestant: "c1"},
		standingsEnv(3),
		{Kind: hub.KindDeleted},
	}
	want := []int64{0, 1, 1, 1, 2, 3, 3, 4}
	for i, env := range envs {
		if seq := publish(t, b, "numbering", env); seq != want[i] {
			t.Fatalf("Publish #%d (%s) = seq %d, want %d", i, env.Kind, seq, want[i])
		}
	}
	got := Real(rec.WaitCount(t, len(envs)))
	if len(got) != len(envs) {
		t.Fatalf("got %d deliveries, want %d:%s", len(got), len(envs), Describe(got))
	}
	for i, d := range got {
		if d.Event != "numbering" || d.Kind != envs[i].Kind || d.Seq != want[i] {
			t.Errorf("delivery #%d = %s/%s#%d, want numbering/%s#%d", i, d.Event, d.Kind, d.Seq, envs[i].Kind, want[i])
		}
	}
	if seq, err := b.Seq(ctx, "numbering"); err != nil || seq != 4 {
		t.Fatalf("Seq = %d, %v; want 4", seq, err)
	}
}

// testOrderAcrossInstances: concurrent publishers on several instances; every
// subscriber on every instance sees the same envelopes in number order,
// bumping numbers without gaps or repeats.
func testOrderAcrossInstances(t *testing.T, in Instances, _ Options) {
	pubs := []hub.Broker{in(), in()}
	subs := []*Recorder{subscribe(t, pubs[0], "order"), subscribe(t, pubs[1], "order"), subscribe(t, in(), "order")}
	const perPublisher = 60
	var wg sync.WaitGroup
	for p, b := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perPublisher {
				env := stageEnv(int64(p*1000 + i))
				if i%3 == 2 {
					env = standingsEnv(i)
				}
				if _, err := b.Publish(context.Background(), "order", env); err != nil {
					t.Errorf("Publish: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := len(pubs) * perPublisher
	bumps := int64(len(pubs) * (perPublisher - perPublisher/3))
	var first []hub.Delivery
	for i, r := range subs {
		got := Real(r.WaitCount(t, total))
		if len(got) != total {
			t.Fatalf("subscriber %d: %d deliveries, want %d", i, len(got), total)
		}
		var last int64
		for j, d := range got {
			switch {
			case d.Bumps() && d.Seq != last+1:
				t.Fatalf("subscriber %d, delivery %d: bumping seq %d after %d", i, j, d.Seq, last)
			case !d.Bumps() && d.Seq != last:
				t.Fatalf("subscriber %d, delivery %d: standings seq %d after %d", i, j, d.Seq, last)
			}
			last = d.Seq
		}
		if last != bumps {
			t.Fatalf("subscriber %d: last seq %d, want %d", i, last, bumps)
		}
		if first == nil {
			first = got
			continue
		}
		for j := range got {
			if got[j].Kind != first[j].Kind || got[j].Seq != first[j].Seq || !sameVersion(got[j], first[j]) {
				t.Fatalf("subscriber %d saw another order than subscriber 0 at %d: %s/%d vs %s/%d", i, j, got[j].Kind, got[j].Seq, first[j].Kind, first[j].Seq)
			}
		}
	}
}

func sameVersion(a, b hub.Delivery) bool {
	if (a.Stage == nil) != (b.Stage == nil) {
		return false
	}
	return a.Stage == nil || a.Stage.Version == b.Stage.Version
}

// testEventsIsolated: numbers and deliveries are per event.
func testEventsIsolated(t *testing.T, in Instances, _ Options) {
	b := in()
	ra, rb := subscribe(t, b, "iso-a"), subscribe(t, b, "iso-b")
	for range 3 {
		publish(t, b, "iso-a", stageEnv(1))
	}
	if seq := publish(t, b, "iso-b", stageEnv(1)); seq != 1 {
		t.Fatalf("first bump of iso-b = %d, want 1 (numbers are per event)", seq)
	}
	publish(t, b, "iso-c", stageEnv(1)) // nobody listens
	ga := Real(ra.WaitCount(t, 3))
	rb.WaitCount(t, 1)
	// A marker after everything: once it arrives, anything misrouted would
	// have arrived too.
	publish(t, b, "iso-b", hub.Envelope{Kind: hub.KindDeleted})
	gb := Real(rb.WaitCount(t, 2))
	for _, d := range ga {
		if d.Event != "iso-a" {
			t.Errorf("iso-a subscriber got %s/%s", d.Event, d.Kind)
		}
	}
	if len(gb) != 2 || gb[0].Event != "iso-b" || gb[1].Seq != 2 {
		t.Errorf("iso-b subscriber got%s", Describe(gb))
	}
	if got := Real(ra.Got()); len(got) != 3 {
		t.Errorf("iso-a subscriber got%s, want 3 deliveries", Describe(got))
	}
	ctx := testContext(t)
	for ev, want := range map[string]int64{"iso-a": 3, "iso-b": 2, "iso-c": 1, "iso-d": 0} {
		if seq, err := b.Seq(ctx, ev); err != nil || seq != want {
			t.Errorf("Seq(%s) = %d, %v; want %d", ev, seq, err, want)
		}
	}
}

// testUnsubscribe: after unsubscribe returns, the callback is not called
// again; other subscribers of the event, on the same instance and others,
// keep receiving; subscribing again works.
func testUnsubscribe(t *testing.T, in Instances, _ Options) {
	b, other := in(), in()
	ctx := testContext(t)
	gone := NewRecorder()
	unsub, err := b.Subscribe(ctx, "unsub", gone.Deliver)
	if err != nil {
		t.Fatal(err)
	}
	stay := subscribe(t, b, "unsub")
	elsewhere := subscribe(t, other, "unsub")
	publish(t, other, "unsub", stageEnv(1))
	gone.WaitCount(t, 1)
	unsub()
	unsub2 := func() {}
	defer func() { unsub2() }()
	publish(t, other, "unsub", stageEnv(2))
	stay.WaitCount(t, 2)
	elsewhere.WaitCount(t, 2)
	if got := Real(gone.Got()); len(got) != 1 {
		t.Fatalf("unsubscribed callback got%s after unsubscribe", Describe(got))
	}

	// The last subscriber of an instance leaves, then a new one comes.
	again := NewRecorder()
	unsub2, err = b.Subscribe(ctx, "unsub", again.Deliver)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, other, "unsub", stageEnv(3))
	if got := Real(again.WaitCount(t, 1)); got[0].Seq != 3 {
		t.Fatalf("resubscribed callback got%s, want seq 3", Describe(got))
	}
}

// testSeesEverythingAfterSubscribe: whatever is published (by any instance)
// after Subscribe returns reaches the subscriber, even right after a
// previous subscription of the same instance ended.
func testSeesEverythingAfterSubscribe(t *testing.T, in Instances, _ Options) {
	b, pub := in(), in()
	ctx := testContext(t)
	for round := range 5 {
		event := fmt.Sprintf("after-%d", round%2) // reuse channels
		rec := NewRecorder()
		unsub, err := b.Subscribe(ctx, event, rec.Deliver)
		if err != nil {
			t.Fatal(err)
		}
		first := publish(t, pub, event, stageEnv(1))
		got := Real(rec.WaitCount(t, 1))
		if got[0].Seq != first {
			t.Fatalf("round %d: first delivery seq %d, want %d", round, got[0].Seq, first)
		}
		unsub()
	}
}

// testCallbacksOneAtATime: deliveries of one subscription never overlap,
// even with concurrent publishers.
func testCallbacksOneAtATime(t *testing.T, in Instances, _ Options) {
	b := in()
	var inside, overlaps atomic.Int32
	rec := NewRecorder()
	unsub, err := b.Subscribe(testContext(t), "serial", func(d hub.Delivery) {
		if inside.Add(1) > 1 {
			overlaps.Add(1)
		}
		time.Sleep(100 * time.Microsecond)
		inside.Add(-1)
		rec.Deliver(d)
	})
	if err != nil {
		t.Fatal(err)
	}
	defer unsub()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				if _, err := b.Publish(context.Background(), "serial", stageEnv(int64(i))); err != nil {
					t.Errorf("Publish: %v", err)
				}
			}
		}()
	}
	wg.Wait()
	rec.WaitCount(t, 40)
	if n := overlaps.Load(); n != 0 {
		t.Fatalf("%d callbacks overlapped", n)
	}
}

// testEnvelopeRoundTrip: every field of an envelope arrives as published.
func testEnvelopeRoundTrip(t *testing.T, in Instances, _ Options) {
	b := in()
	rec := subscribe(t, in(), "roundtrip")
	st := voting.Stage{Phase: voting.PhaseVoting, Current: "c2", Version: 7, EndsAt: 1795611693940, RankingVisible: true, Revealed: 0, ChangedAt: 1795611633940}
	sd := voting.Standings{Ballots: 3, Rows: []voting.Standing{{Contestant: "c2", Group: "街道", Ballots: 3, Final: 91.35, Rank: 1, GroupRank: 1,
		Panels: []voting.PanelScore{{Panel: "audience", Count: 3, Dropped: 2, Average: 91.35}}}}}
	ev := sampleEvent()
	publish(t, b, "roundtrip", hub.Envelope{Kind: hub.KindStage, Stage: &st})
	publish(t, b, "roundtrip", hub.Envelope{Kind: hub.KindStandings, Standings: &sd, Voters: 212})
	publish(t, b, "roundtrip", hub.Envelope{Kind: hub.KindEvent, Event: &ev})
	publish(t, b, "roundtrip", hub.Envelope{Kind: hub.KindReset, Contestant: "c2"})
	got := Real(rec.WaitCount(t, 4))
	if *got[0].Stage != st {
		t.Errorf("stage = %+v, want %+v", *got[0].Stage, st)
	}
	if g := got[1]; g.Voters != 212 || g.Standings.Ballots != 3 || len(g.Standings.Rows) != 1 ||
		g.Standings.Rows[0].Final != 91.35 || g.Standings.Rows[0].Group != "街道" || g.Standings.Rows[0].Panels[0].Dropped != 2 {
		t.Errorf("standings = %+v (voters %d)", g.Standings, g.Voters)
	}
	if g := got[2].Envelope.Event; g == nil || g.ID != ev.ID || g.Title != ev.Title || len(g.Contestants) != len(ev.Contestants) || g.Panels[1].Key != voting.KeyRequired {
		t.Errorf("event = %+v", g)
	}
	if got[3].Contestant != "c2" {
		t.Errorf("reset contestant = %q", got[3].Contestant)
	}
}

// testTryLead: one instance holds an event's lease: it keeps winning
// while the others lose; after a period without the holder calling,
// another wins. A single-instance broker always wins.
func testTryLead(t *testing.T, in Instances, opts Options) {
	ctx := testContext(t)
	a, b := in(), in()
	if opts.SingleInstance {
		for range 3 {
			if ok, err := a.TryLead(ctx, "lead", time.Hour); err != nil || !ok {
				t.Fatalf("TryLead = %v, %v; a single instance always leads", ok, err)
			}
		}
		return
	}
	const period = time.Hour // no test runs that long: the lease holds
	try := func(br hub.Broker, event string, p time.Duration) bool {
		t.Helper()
		ok, err := br.TryLead(ctx, event, p)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !try(a, "lead", period) {
		t.Fatal("the first TryLead lost")
	}
	for i := range 3 {
		if try(b, "lead", period) {
			t.Fatalf("call %d: another instance won a held lease", i)
		}
		if !try(a, "lead", period) {
			t.Fatalf("call %d: the holder lost its lease", i)
		}
	}
	// Another event has its own lease.
	if !try(b, "lead-other", period) {
		t.Fatal("TryLead of another event lost")
	}
	// Concurrent contenders on two instances: one instance wins.
	var winA, winB atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		br, wins := a, &winA
		if i%2 == 1 {
			br, wins = b, &winB
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if ok, err := br.TryLead(context.Background(), "lead-race", period); err == nil && ok {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if (winA.Load() > 0) == (winB.Load() > 0) {
		t.Fatalf("concurrent TryLead: instance a won %d times, b %d; want exactly one instance to win", winA.Load(), winB.Load())
	}
	// A short lease that its holder stops renewing passes to another.
	const short = 50 * time.Millisecond
	if !try(a, "lead-short", short) {
		t.Fatal("first TryLead with a short period lost")
	}
	deadline := time.Now().Add(Timeout)
	for !try(b, "lead-short", short) {
		if time.Now().After(deadline) {
			t.Fatal("the lease never expired")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !try(b, "lead-short", period) { // the new holder keeps it, now for long
		t.Fatal("the new holder lost its lease")
	}
	if try(a, "lead-short", period) {
		t.Fatal("the old holder won back a lease another instance holds")
	}
}

// testPresence: instances report their own voter counts; Presence returns
// the sum over the live instances (a single-instance broker: its own).
func testPresence(t *testing.T, in Instances, opts Options) {
	ctx := testContext(t)
	a, b := in(), in()
	total := func(br hub.Broker, instance string, voters int) int {
		t.Helper()
		n, err := br.Presence(ctx, "presence", instance, voters)
		if err != nil {
			t.Fatalf("Presence: %v", err)
		}
		return n
	}
	if opts.SingleInstance {
		if n := total(a, "a", 5); n != 5 {
			t.Fatalf("Presence = %d, want 5", n)
		}
		if n := total(a, "a", 2); n != 2 {
			t.Fatalf("Presence = %d, want 2", n)
		}
		return
	}
	if n := total(a, "a", 5); n != 5 {
		t.Fatalf("Presence(a=5) = %d, want 5", n)
	}
	if n := total(b, "b", 7); n != 12 {
		t.Fatalf("Presence(b=7) = %d, want 12", n)
	}
	if n := total(a, "a", 1); n != 8 {
		t.Fatalf("Presence(a=1) = %d, want 8 (an instance's report replaces its last)", n)
	}
	if n := total(b, "b", 0); n != 1 {
		t.Fatalf("Presence(b=0) = %d, want 1", n)
	}
	n, err := a.Presence(ctx, "presence-other", "a", 3)
	if err != nil || n != 3 {
		t.Fatalf("Presence of another event = %d, %v; want 3", n, err)
	}
}

// sampleEvent is the public copy of a small event with a keyed panel.
func sampleEvent() voting.Event {
	ev := voting.Event{
		ID: "roundtrip", Title: "拱墅区擂台赛",
		Contestants: []voting.Contestant{{ID: "c1", Name: "区发改经信局", Group: "专项组"}, {ID: "c2", Name: "米市巷街道", Group: "街道"}},
		Panels:      []voting.Panel{{ID: "audience", Name: "大众评审", Weight: 60}, {ID: "judges", Name: "专家评委", Weight: 40, Key: "secret"}},
		Rules:       voting.Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2},
		VotingScope: voting.ScopeOnStage, Revision: 3,
	}
	return ev.Public()
}
