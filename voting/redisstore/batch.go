package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
)

// Batching: concurrent CastBallot calls hand their script run to a few
// worker goroutines, and each worker sends what has piled up while it was
// waiting for Redis as one pipeline (one write and one read for many
// ballots instead of one each, on both sides of the connection). Every
// ballot is still its own cast.lua run and is answered only after Redis
// replied to it, so nothing about atomicity or durability changes.
const (
	batchWorkers = 4   // pipelines in flight at once
	batchMax     = 128 // ballots per pipeline at most
)

type castReq struct {
	ctx   context.Context
	keys  []string
	args  []any
	reply []any
	err   error
	done  chan struct{}
}

type batcher struct {
	client redis.UniversalClient
	script *redis.Script
	// reqs is unbuffered: a request is taken by a worker or not at all, so
	// none is stranded when the batcher closes.
	reqs chan *castReq
	quit chan struct{}
	once sync.Once
	wg   sync.WaitGroup
}

func newBatcher(client redis.UniversalClient, script *redis.Script) *batcher {
	b := &batcher{client: client, script: script, reqs: make(chan *castReq), quit: make(chan struct{})}
	b.wg.Add(batchWorkers)
	for range batchWorkers {
		go b.work()
	}
	return b
}

// run runs the script for one ballot in a batch and waits for its answer
// or for ctx. A caller that gives up may still see its ballot counted, as
// when a reply is lost; a retry with the same ballot id is safe.
func (b *batcher) run(ctx context.Context, keys []string, args []any) ([]any, error) {
	r := &castReq{ctx: ctx, keys: keys, args: args, done: make(chan struct{})}
	select {
	case b.reqs <- r:
	case <-b.quit:
		return nil, voting.Wrap(voting.CodeUnavailable, redis.ErrClosed, unavailableMessage)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-r.done:
		return r.reply, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// close stops the workers after they answered the requests they took.
func (b *batcher) close() {
	b.once.Do(func() { close(b.quit) })
	b.wg.Wait()
}

func (b *batcher) work() {
	defer b.wg.Done()
	batch := make([]*castReq, 0, batchMax)
	for {
		select {
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		case <-b.quit:
			return
		}
		// Take whoever is waiting right now, without waiting for more.
	fill:
		for len(batch) < batchMax {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		b.flush(batch)
		clear(batch) // drop references to finished requests
	}
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
