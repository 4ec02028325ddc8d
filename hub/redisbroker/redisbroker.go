// Package redisbroker is the hub.Broker for several leitai instances that
// share one Redis: envelopes travel over Redis pub/sub, with sequence
// numbers from a counter in Redis.
package redisbroker

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"leitai/hub"
	"leitai/voting"
)

var (
	//go:embed publish.lua
	publishLua    string
	publishScript = redis.NewScript(publishLua)
	//go:embed presence.lua
	presenceLua    string
	presenceScript = redis.NewScript(presenceLua)
	//go:embed lead.lua
	leadLua    string
	leadScript = redis.NewScript(leadLua)
)

// PresenceFreshness is how long an instance's voter count stays counted
// after its last report (instances report every 2 s).
const PresenceFreshness = 6 * time.Second

// Broker relays envelopes between instances. It holds one pub/sub
// connection per instance, subscribed to one channel per event that has
// clients here, not one per client.
//
// Guarantees, beyond hub.Broker's: sequence numbers come from one Redis
// counter per event, incremented in the same script that publishes, so
// every instance receives envelopes in number order. When the pub/sub
// connection drops, go-redis reconnects and resubscribes; every event
// resubscribed then gets a KindResync delivery, since messages published
// meanwhile are lost.
type Broker struct {
	client redis.UniversalClient
	ps     *redis.PubSub
	id     string // this broker among those sharing the Redis (TryLead)
	log    *slog.Logger
	now    func() time.Time

	opMu sync.Mutex // orders SUBSCRIBE and UNSUBSCRIBE of one channel

	mu        sync.Mutex
	subs      map[string]map[*subscriber]struct{} // by event
	confirmed map[string]bool                     // by channel: subscription confirmed once
	waiting   map[string]chan struct{}            // by channel: closed on confirmation

	reconnects func() // called when the pub/sub connection was lost

	cancel context.CancelFunc
	done   chan struct{}
}

type subscriber struct{ fn func(hub.Delivery) }

// Options configure a Broker.
type Options struct {
	Logger *slog.Logger
	// OnReconnect is called each time the pub/sub connection is lost
	// (for a metric).
	OnReconnect func()
	Now         func() time.Time
}

// New starts a broker on client. Close stops it; the client stays open.
func New(client redis.UniversalClient, opts Options) *Broker {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OnReconnect == nil {
		opts.OnReconnect = func() {}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{
		client: client, ps: client.Subscribe(ctx), id: uuid.NewString(), log: opts.Logger, now: opts.Now,
		subs: make(map[string]map[*subscriber]struct{}), confirmed: make(map[string]bool),
		waiting:    make(map[string]chan struct{}),
		reconnects: opts.OnReconnect, cancel: cancel, done: make(chan struct{}),
	}
	go b.receive(ctx)
	return b
}

func key(event, what string) string { return "leitai:{" + event + "}:" + what }

func channel(event string) string { return key(event, "bus") }

func eventOf(channel string) (string, bool) {
	const prefix, suffix = "leitai:{", "}:bus"
	if len(channel) <= len(prefix)+len(suffix) || channel[:len(prefix)] != prefix || channel[len(channel)-len(suffix):] != suffix {
		return "", false
	}
	return channel[len(prefix) : len(channel)-len(suffix)], true
}

func unavailable(err error) error {
	if err == nil {
		return nil
	}
	return voting.Wrap(voting.CodeUnavailable, err, "the live service is unavailable; try again")
}

// Publish runs the publish script: number and send in one step.
func (b *Broker) Publish(ctx context.Context, event string, env hub.Envelope) (int64, error) {
	payload, err := json.Marshal(env)
	if err != nil {
		return 0, fmt.Errorf("redisbroker: encode envelope: %w", err)
	}
	bump := "0"
	if env.Bumps() {
		bump = "1"
	}
	seq, err := publishScript.Run(ctx, b.client, []string{key(event, "seq"), channel(event)}, bump, payload).Int64()
	return seq, unavailable(err)
}

// Subscribe adds fn for the event. The first subscriber of an event
// subscribes the instance's connection to the event's channel and waits for
// Redis to confirm, so that nothing published after Subscribe returns is
// missed.
func (b *Broker) Subscribe(ctx context.Context, event string, fn func(hub.Delivery)) (func(), error) {
	s := &subscriber{fn: fn}
	b.opMu.Lock()
	defer b.opMu.Unlock()
	b.mu.Lock()
	first := len(b.subs[event]) == 0
	if first {
		b.subs[event] = make(map[*subscriber]struct{})
	}
	b.subs[event][s] = struct{}{}
	var confirmed chan struct{}
	if first {
		confirmed = make(chan struct{})
		b.waiting[channel(event)] = confirmed
	}
	b.mu.Unlock()
	if first {
		err := b.ps.Subscribe(ctx, channel(event))
		if err == nil {
			select {
			case <-confirmed:
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err != nil {
			b.removeLocked(ctx, event, s)
			return nil, unavailable(err)
		}
	}
	return func() {
		b.opMu.Lock()
		defer b.opMu.Unlock()
		b.removeLocked(context.Background(), event, s)
	}, nil
}

// removeLocked drops a subscriber; b.opMu is held.
func (b *Broker) removeLocked(ctx context.Context, event string, s *subscriber) {
	b.mu.Lock()
	delete(b.subs[event], s)
	last := len(b.subs[event]) == 0
	if last {
		delete(b.subs, event)
		delete(b.confirmed, channel(event))
		delete(b.waiting, channel(event))
	}
	b.mu.Unlock()
	if last {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_ = b.ps.Unsubscribe(ctx, channel(event))
	}
}

// receive reads the pub/sub connection until Close.
func (b *Broker) receive(ctx context.Context) {
	defer close(b.done)
	failed := false
	for {
		msg, err := b.ps.Receive(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !failed {
				b.log.Warn("lost the Redis pub/sub connection; reconnecting", "err", err)
				b.reconnects()
			}
			failed = true
			select {
			case <-ctx.Done():
				return
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		failed = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			b.mu.Lock()
			again := b.confirmed[m.Channel]
			b.confirmed[m.Channel] = true
			if w := b.waiting[m.Channel]; w != nil {
				close(w)
				delete(b.waiting, m.Channel)
			}
			b.mu.Unlock()
			if event, ok := eventOf(m.Channel); ok && again {
				b.deliver(hub.Delivery{Event: event, Envelope: hub.Envelope{Kind: hub.KindResync}})
			}
		case *redis.Message:
			d, err := decode(m.Channel, m.Payload)
			if err != nil {
				b.log.Error("dropped an undecodable broker message", "channel", m.Channel, "err", err)
				continue
			}
			b.deliver(d)
		}
	}
}

func decode(ch, payload string) (hub.Delivery, error) {
	event, ok := eventOf(ch)
	if !ok {
		return hub.Delivery{}, errors.New("not an event channel")
	}
	sp := bytes.IndexByte([]byte(payload), ' ')
	if sp < 0 {
		return hub.Delivery{}, errors.New("no sequence number")
	}
	seq, err := strconv.ParseInt(payload[:sp], 10, 64)
	if err != nil {
		return hub.Delivery{}, fmt.Errorf("sequence number: %w", err)
	}
	d := hub.Delivery{Event: event, Seq: seq}
	if err := json.Unmarshal([]byte(payload[sp+1:]), &d.Envelope); err != nil {
		return hub.Delivery{}, fmt.Errorf("envelope: %w", err)
	}
	return d, nil
}

func (b *Broker) deliver(d hub.Delivery) {
	b.mu.Lock()
	subs := make([]*subscriber, 0, len(b.subs[d.Event]))
	for s := range b.subs[d.Event] {
		subs = append(subs, s)
	}
	b.mu.Unlock()
	for _, s := range subs {
		s.fn(d)
	}
}

// Seq returns the event's current sequence number.
func (b *Broker) Seq(ctx context.Context, event string) (int64, error) {
	n, err := b.client.Get(ctx, key(event, "seq")).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, unavailable(err)
}

// TryLead takes the event's standings lease for one period, or keeps it
// when this broker holds it. Keeping matters: the hub calls once per
// period, so a lease that had to expire first would be lost to timer
// jitter about every other time and halve the standings rate.
func (b *Broker) TryLead(ctx context.Context, event string, period time.Duration) (bool, error) {
	n, err := leadScript.Run(ctx, b.client, []string{key(event, "lead")}, b.id, max(period.Milliseconds(), 1)).Int()
	return n == 1, unavailable(err)
}

// Presence records this instance's voters and sums the live instances'.
func (b *Broker) Presence(ctx context.Context, event, instance string, voters int) (int, error) {
	n, err := presenceScript.Run(ctx, b.client, []string{key(event, "presence")},
		instance, voters, b.now().UnixMilli(), PresenceFreshness.Milliseconds()).Int()
	return n, unavailable(err)
}

// Close stops receiving. The Redis client stays open (its owner closes it).
func (b *Broker) Close() error {
	b.cancel()
	err := b.ps.Close()
	<-b.done
	return err
}
