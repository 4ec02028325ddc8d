package hub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/coder/websocket"

	"leitai/hub"
	"leitai/voting"
	"leitai/voting/redistest"
)

// benchConn dials a socket for a benchmark; no frames are recorded.
func benchConn(b *testing.B, e *env, event, query string) *websocket.Conn {
	b.Helper()
	u := "ws" + strings.TrimPrefix(e.Srv.URL, "http") + "/e/" + event + "/ws?" + query
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{}}})
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadLimit(1 << 22)
	b.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// BenchmarkFanoutSockets: one stage message published, until every one of
// N real loopback sockets has read it.
func BenchmarkFanoutSockets(b *testing.B) {
	for _, n := range []int{50, 250} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			e := newEmbeddedEnv(b, envOptions{Hub: hub.Config{SendQueue: 1024}})
			e.CreateEvent(testEvent("fan", 4))
			var got atomic.Int64
			arrived := make(chan struct{}, 1)
			var target atomic.Int64
			target.Store(int64(n))
			var wg sync.WaitGroup
			ctx, stop := context.WithCancel(context.Background())
			defer func() { stop(); wg.Wait() }()
			for i := range n {
				c := benchConn(b, e, "fan", voterQuery(fmt.Sprintf("v%d", i)))
				// The snapshot: the client is in the room from now on.
				if _, _, err := c.Read(ctx); err != nil {
					b.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						_, data, err := c.Read(ctx)
						if err != nil {
							return
						}
						if bytes.HasPrefix(data, []byte(`{"type":"stage"`)) {
							if got.Add(1) == target.Load() {
								arrived <- struct{}{}
							}
						}
					}
				}()
			}
			pctx := testContext(b)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				target.Store(int64(n) * int64(i+1))
				st := voting.Stage{Phase: voting.PhasePresenting, Current: "c1", Version: int64(i + 2)}
				if _, err := e.Broker.Publish(pctx, "fan", hub.Envelope{Kind: hub.KindStage, Stage: &st}); err != nil {
					b.Fatal(err)
				}
				<-arrived
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
		})
	}
}

// BenchmarkBallotOverSocket: ballots per second through the socket, each
// acknowledged after the store has it, on the embedded store and on Redis,
// from 1 socket (one ballot in flight: latency) and from 32 sockets at
// once (throughput). Every ballot replaces the voter's previous one.
func BenchmarkBallotOverSocket(b *testing.B) {
	// No per-connection message budget: the sockets send as fast as
	// their acks come back, far beyond a phone's 10 a second.
	opts := envOptions{Hub: hub.Config{MessageRate: 1e9, MessageBurst: 1 << 30}}
	stores := []struct {
		name string
		make func(b *testing.B) *env
	}{
		{"embedded", func(b *testing.B) *env { return newEmbeddedEnv(b, opts) }},
		{"redis", func(b *testing.B) *env {
			srv := redistest.MustStart(b, redistest.Options{})
			flushRedis(b, srv)
			return newRedisEnv(b, srv, opts)
		}},
		{"redis-aof-always", func(b *testing.B) *env {
			srv := redistest.MustStart(b, redistest.Options{AOF: true})
			srv.RequirePrivate()
			return newRedisEnv(b, srv, opts)
		}},
	}
	for _, s := range stores {
		for _, sockets := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/sockets=%d", s.name, sockets), func(b *testing.B) {
				e := s.make(b)
				votingOn(e, "bb")
				conns := make([]*websocket.Conn, sockets)
				for i := range conns {
					conns[i] = benchConn(b, e, "bb", voterQuery(fmt.Sprintf("v%d", i)))
				}
				var next atomic.Int64
				b.ResetTimer()
				var wg sync.WaitGroup
				for _, c := range conns {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ctx := context.Background()
						for next.Add(1) <= int64(b.N) {
							id := newID()
							frame := fmt.Sprintf(`{"type":"ballot","id":%q,"contestant":"c1","score":%g}`, id, 60+0.5*float64(next.Load()%80))
							if err := c.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
								b.Error(err)
								return
							}
							for {
								_, data, err := c.Read(ctx)
								if err != nil {
									b.Error(err)
									return
								}
								if !bytes.HasPrefix(data, []byte(`{"type":"ack"`)) {
									continue
								}
								var ack struct {
									ID string `json:"id"`
									OK bool   `json:"ok"`
								}
								if err := json.Unmarshal(data, &ack); err != nil || ack.ID != id || !ack.OK {
									b.Errorf("ack %s for %s", data, id)
									return
								}
								break
							}
						}
					}()
				}
				wg.Wait()
				b.StopTimer()
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ballots/s")
			})
		}
	}
}
