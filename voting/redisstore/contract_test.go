package redisstore_test

import (
	"testing"

	"leitai/voting"
	"leitai/voting/redistest"
	"leitai/voting/storetest"
)

// TestContract runs the shared store contract suite, with ballots sent one
// by one and batched. Each store gets its own redis-server (AOF, fsync
// always), so that the restart tests can kill it.
func TestContract(t *testing.T) {
	redistest.Parallel(t)
	run := storetest.Run
	if redistest.Shared() {
		run = storetest.RunSerial // one server, emptied for each store
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			redistest.Parallel(t)
			run(t, func(t *testing.T) (voting.Store, func() voting.Store) {
				srv := redistest.MustStart(t, redistest.Options{AOF: true})
				if srv.External() {
					// A shared LEITAI_TEST_REDIS: it must be a throwaway
					// server, emptied for each store; it cannot restart.
					if err := rawClient(t, srv).FlushAll(testContext(t)).Err(); err != nil {
						t.Fatal(err)
					}
					return openStore(t, srv, m.opts), nil
				}
				s := openStore(t, srv, m.opts)
				return s, func() voting.Store {
					_ = s.Close()
					srv.Restart()
					s = openStore(t, srv, m.opts)
					return s
				}
			})
		})
	}
}
