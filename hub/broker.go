package hub

import (
	"context"
	"sync"
	"time"

	"leitai/voting"
)

// Kinds of envelope.
const (
	KindStage     = "stage"     // the stage changed
	KindEvent     = "event"     // the event (contestants, rules, panels) changed
	KindStandings = "standings" // fresh standings and turnout; coalesced, carries no new seq
	KindReset     = "reset"     // a contestant's ballots were removed
	KindDeleted   = "deleted"   // the event was deleted
	KindResync    = "resync"    // not published: the broker may have lost messages
)

// An Envelope is one message of an event as it travels between instances.
// Each instance turns it into at most three frames (host, screen, voter),
// each encoded once and written as the same bytes to every client.
type Envelope struct {
	Kind       string            `json:"kind"`
	Stage      *voting.Stage     `json:"stage,omitempty"`
	Event      *voting.Event     `json:"event,omitempty"` // public copy
	Standings  *voting.Standings `json:"standings,omitempty"`
	Voters     int               `json:"voters,omitempty"` // connected voters on all instances
	Contestant string            `json:"contestant,omitempty"`
}

// Bumps reports whether the envelope takes a new sequence number. Standings
// are full state and may be coalesced or replaced in a queue, so they repeat
// the current number; everything else must not be missed and gets the next.
func (e *Envelope) Bumps() bool { return e.Kind != KindStandings }

// A Delivery is an envelope with its place in the event's sequence.
type Delivery struct {
	Event string
	Seq   int64
	Envelope
}

// Broker carries envelopes between the instances that serve an event.
//
// Guarantees: Publish assigns sequence numbers per event from one counter
// shared by every instance, and every subscriber of the event, on every
// instance, receives envelopes in that order. A subscriber may miss
// envelopes (a lost connection to Redis): then it receives a Delivery of
// KindResync, or sees a gap in the numbers, and must reload the event's
// state from the store. Callbacks of one subscription run one at a time and
// must not block.
type Broker interface {
	// Publish sends env to every subscriber of the event and returns its
	// sequence number.
	Publish(ctx context.Context, event string, env Envelope) (int64, error)
	// Subscribe calls fn for every envelope of the event until the returned
	// function is called.
	Subscribe(ctx context.Context, event string, fn func(Delivery)) (unsubscribe func(), err error)
	// Seq returns the event's current sequence number.
	Seq(ctx context.Context, event string) (int64, error)
	// TryLead reports whether this instance may publish the event's
	// standings now. One instance holds the lease; it keeps it while it
	// calls at least once per period, and another instance wins only once
	// a period has passed without the holder calling, so that instances
	// publish in turn, never together.
	TryLead(ctx context.Context, event string, period time.Duration) (bool, error)
	// Presence records this instance's count of connected voters for the
	// event and returns the total over all live instances.
	Presence(ctx context.Context, event, instance string, voters int) (int, error)
	// Close stops the broker.
	Close() error
}

// MemoryBroker is the Broker of a single instance (the embedded store).
type MemoryBroker struct {
	mu     sync.Mutex // orders deliveries; held while subscribers run
	subs   map[string]map[*memorySub]struct{}
	closed bool

	seqMu sync.Mutex // separate, so that a subscriber may call Seq
	seq   map[string]int64
}

type memorySub struct{ fn func(Delivery) }

// NewMemoryBroker returns a broker for one process.
func NewMemoryBroker() *MemoryBroker {
	return &MemoryBroker{seq: make(map[string]int64), subs: make(map[string]map[*memorySub]struct{})}
}

// Publish delivers env synchronously, under the broker's lock, so that
// deliveries are in sequence order.
func (b *MemoryBroker) Publish(_ context.Context, event string, env Envelope) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, voting.Errorf(voting.CodeUnavailable, "the server is shutting down")
	}
	b.seqMu.Lock()
	if env.Bumps() {
		b.seq[event]++
	}
	d := Delivery{Event: event, Seq: b.seq[event], Envelope: env}
	b.seqMu.Unlock()
	for s := range b.subs[event] {
		s.fn(d)
	}
	return d.Seq, nil
}

// Subscribe registers fn for the event.
func (b *MemoryBroker) Subscribe(_ context.Context, event string, fn func(Delivery)) (func(), error) {
	s := &memorySub{fn: fn}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[event] == nil {
		b.subs[event] = make(map[*memorySub]struct{})
	}
	b.subs[event][s] = struct{}{}
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs[event], s)
		if len(b.subs[event]) == 0 {
			delete(b.subs, event)
		}
	}, nil
}

// Seq returns the event's current sequence number.
func (b *MemoryBroker) Seq(_ context.Context, event string) (int64, error) {
	b.seqMu.Lock()
	defer b.seqMu.Unlock()
	return b.seq[event], nil
}

// TryLead always wins: there is only this instance.
func (b *MemoryBroker) TryLead(context.Context, string, time.Duration) (bool, error) {
	return true, nil
}

// Presence returns this instance's own count.
func (b *MemoryBroker) Presence(_ context.Context, _, _ string, voters int) (int, error) {
	return voters, nil
}

// Close stops publishing.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}
