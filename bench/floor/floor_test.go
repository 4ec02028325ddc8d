package main

import (
	"io"
	"testing"
	"time"
)

// TestFloor is the floor's short version: a few sockets, two rounds, the
// client in this process. Every socket reads every round's message.
func TestFloor(t *testing.T) {
	t.Parallel()
	inProcess := func(n, size int) startClient {
		return func(addr string) (io.Reader, func(), error) {
			r, w := io.Pipe()
			go func() { _ = w.CloseWithError(runClient(addr, n, size, "127.0.0.1", w)) }()
			return r, func() { _ = r.Close() }, nil
		}
	}
	rep, err := runServer(50, 200, 2, 2, 10*time.Millisecond, inProcess(50, 200))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sockets != 50 || len(rep.Rounds) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for i, r := range rep.Rounds {
		if r.P50 <= 0 || r.P50 > r.P99 || r.P99 > r.Max {
			t.Errorf("round %d: p50 %v, p99 %v, max %v", i+1, r.P50, r.P99, r.Max)
		}
	}
}
