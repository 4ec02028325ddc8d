package hub_test

import (
	"fmt"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"leitai/voting"
)

// TestNoLeaksAfterCycles: 1,000 connections open, get their snapshot (some
// cast a ballot) and close, in batches of 50 at once; then every
// connection has left its room, and once the hub, server and store are
// closed no goroutine is left behind.
func TestNoLeaksAfterCycles(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("cycles", func(t *testing.T) {
		e := newEmbeddedEnv(t, envOptions{})
		votingOn(e, "leak")
		e.CreateEvent(testEvent("leak2", 2))
		const cycles, batch = 1000, 50
		for b := range cycles / batch {
			var wg sync.WaitGroup
			for i := range batch {
				n := b*batch + i
				wg.Add(1)
				go func() {
					defer wg.Done()
					event, query := "leak", voterQuery(fmt.Sprintf("v%d", n%300))
					switch n % 10 {
					case 0:
						query = "role=screen"
					case 1:
						query = "role=host"
					case 2:
						event = "leak2"
					}
					o := dialOptions{Query: query}
					if query == "role=host" {
						o.HostKey = hostKey
					}
					c, _, err := e.TryDial(event, o)
					if err != nil {
						t.Errorf("dial %d: %v", n, err)
						return
					}
					c.WaitSnapshot()
					if n%10 == 5 {
						ack := c.Ballot(newID(), "c1", 80)
						if !ack.OK {
							t.Errorf("ballot %d: %s", n, ack.Raw)
						}
					}
					if n%2 == 0 {
						c.Close() // a close handshake
					} else {
						c.CloseAll() // the connection just drops
					}
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
		}
		waitMetric(t, e.Hub, "leitai_connections", func(v float64) bool { return v == 0 })
		if sd := e.Standings("leak"); sd.Ballots != len(votersCast(cycles)) {
			t.Errorf("standings count %d ballots, want %d", sd.Ballots, len(votersCast(cycles)))
		}
		st := e.Command("leak", voting.Command{Action: voting.ActionClose})
		if st.Phase != voting.PhaseClosed {
			t.Errorf("stage %+v", st)
		}
	})
}

// votersCast is the set of voters that cast in TestNoLeaksAfterCycles.
func votersCast(cycles int) map[int]bool {
	m := map[int]bool{}
	for n := range cycles {
		if n%10 == 5 {
			m[n%300] = true
		}
	}
	return m
}
