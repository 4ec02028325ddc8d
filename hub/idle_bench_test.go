package hub_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"leitai/hub"
)

// BenchmarkSocketIdle: what an idle voter's connection costs the server,
// in bytes of live heap and goroutine stack (after a GC), with n sockets
// open that have their snapshot and nothing more to do. The clients are
// bare TCP connections in the same process (a few hundred bytes each,
// counted in the figure): no reader, no buffers.
func BenchmarkSocketIdle(b *testing.B) {
	const n = 500
	e := newEmbeddedEnv(b, envOptions{Hub: hub.Config{PingInterval: time.Hour}})
	e.CreateEvent(testEvent("idle", 4))
	addr := e.Srv.Listener.Addr().String()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		before := liveBytes()
		goroutines := runtime.NumGoroutine()
		conns := make([]net.Conn, n)
		for j := range conns {
			conns[j] = idleDial(b, addr, fmt.Sprintf("/e/idle/ws?%s", voterQuery(fmt.Sprintf("idle-%d-%d", i, j))))
		}
		// Every connection has its reader and no writer: its snapshot went out.
		for deadline := time.Now().Add(wait); runtime.NumGoroutine() > goroutines+n; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				b.Fatalf("%d goroutines, want at most %d", runtime.NumGoroutine(), goroutines+n)
			}
		}
		after := liveBytes()
		b.ReportMetric(float64(after-before)/n, "B/idle-conn")
		for _, c := range conns {
			_ = c.Close()
		}
		waitMetric(b, e.Hub, "leitai_connections", func(v float64) bool { return v == 0 })
	}
}

// liveBytes is the live heap and the goroutine stacks after a GC.
func liveBytes() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}

// idleDial opens a WebSocket on a bare TCP connection and reads only the
// response head: the client keeps nothing but the socket.
func idleDial(b *testing.B, addr, path string) net.Conn {
	b.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(wait))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, addr)
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 16), nil)
	if err != nil {
		b.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b.Fatalf("upgrade: %s", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn
}
