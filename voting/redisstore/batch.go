package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Batching: concurrent CastBallot calls queue their script run, and a caller
// that finds one of a few pipeline slots free sends everything queued as one
// pipeline (one write and one read for many ballots instead of one each, on
// both sides of the connection), then hands the replies out. A lone caller
// takes a slot at once and sends its own ballot, with no hand-off to another
// goroutine. Every ballot is still its own cast.lua run and is answered
// only after Redis replied to it, so atomicity and durability are those of
// a single ballot.
const batchSlots = 4 // pipelines in flight at once

type castReq struct {
	ctx   context.Context
	keys  []string
	args  []any
	reply []any
	err   error
	done  chan struct{} // closed when reply and err are set
}

type batcher struct {
	client redis.UniversalClient
	script *redis.Script
	slots  chan struct{} // a send takes a slot

	mu    sync.Mutex
	queue []*castReq
}

func newBatcher(client redis.UniversalClient, script *redis.Script) *batcher {
	return &batcher{client: client, script: script, slots: make(chan struct{}, batchSlots)}
}

// run runs the script for one ballot and waits for its answer or for ctx.
// A caller that gives up may still see its ballot counted, as when a reply
// is lost; a retry with the same ballot id is safe.
func (b *batcher) run(ctx context.Context, keys []string, args []any) ([]any, error) {
	r := &castReq{ctx: ctx, keys: keys, args: args, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	b.mu.Unlock()
	for {
		select { // an answer first, before any free slot
		case <-r.done:
			return r.reply, r.err
		default:
		}
		select {
		case <-r.done:
			return r.reply, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		case b.slots <- struct{}{}:
			// This caller sends what is queued, its own ballot and others'
			// (or, when another pipeline already carries its ballot, only
			// others'), and so may wait past its own deadline, for at most
			// the latest deadline in the batch or the client's timeouts.
			batch := b.take()
			if len(batch) > 0 {
				b.flush(batch)
			}
			<-b.slots
			if len(batch) == 0 {
				// Another caller's pipeline carries r: wait for it
				// rather than spin on free slots.
				select {
				case <-r.done:
					return r.reply, r.err
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
		}
	}
}

// take empties the queue. Every request in it has a caller waiting for a
// slot, or one that gave up (its request is dropped in flush), so none is
// left behind.
func (b *batcher) take() []*castReq {
	b.mu.Lock()
	defer b.mu.Unlock()
	batch := b.queue
	b.queue = nil
	return batch
}

func (b *batcher) flush(batch []*castReq) {
	live := make([]*castReq, 0, len(batch))
	var latest time.Time
	bounded := true
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
		if d, ok := r.ctx.Deadline(); !ok {
			bounded = false
		} else if d.After(latest) {
			latest = d
		}
	}
	if len(live) == 0 {
		return
	}
	if len(live) == 1 {
		r := live[0]
		r.reply, r.err = b.script.Run(r.ctx, b.client, r.keys, r.args...).Slice()
		close(r.done)
		return
	}
	// The pipeline serves several callers, so no one caller's cancellation
	// stops it (each stops waiting on its own); but it need not outlive the
	// last of them. Without deadlines the client's timeouts bound it.
	ctx := context.Background()
	if bounded {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, latest)
		defer cancel()
	}
	pipe := b.client.Pipeline()
	cmds := make([]*redis.Cmd, len(live))
	hash := b.script.Hash()
	for i, r := range live {
		cmds[i] = pipe.EvalSha(ctx, hash, r.keys, r.args...)
	}
	_, _ = pipe.Exec(ctx) // errors are per command
	for i, r := range live {
		cmd := cmds[i]
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			// Redis lost its script cache (restart, SCRIPT FLUSH): Run
			// sends the source and so loads it again.
			cmd = b.script.Run(ctx, b.client, r.keys, r.args...)
		}
		r.reply, r.err = cmd.Slice()
		close(r.done)
	}
}
