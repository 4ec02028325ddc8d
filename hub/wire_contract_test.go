package hub

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebsocketContract pins what the wire (wire.go) needs from
// coder/websocket, so that an upgrade that changes any of it fails here
// rather than on the wire:
//
//   - Accept hijacks through the ResponseWriter it is given (following
//     Unwrap) and keeps the connection and the bufio.Reader and Writer it
//     gets: all its bytes go through the wire, and its buffers are the
//     small ones (the memory of an idle connection);
//   - it writes, by itself, only control frames: final, unmasked, at
//     most 125 bytes of payload, each flushed whole in one Write (the
//     wire copes with pieces, but whole frames are its fast path);
//   - it answers a ping with a pong of the same payload, and calls
//     OnPongReceived for a pong (the hub's ping deadline);
//   - Close writes one close frame with the code and reason (with a reason
//     over 123 bytes it writes none and drops the connection: client.close
//     clips reasons), writes
//     nothing after it, not even a pong, and returns once the peer has
//     answered; a close from the peer is answered with one close frame.
func TestWebsocketContract(t *testing.T) {
	srv, accepted := contractServer(t)

	t.Run("hijack, pong, ping and close", func(t *testing.T) {
		cl := dialContract(t, srv)
		sc := <-accepted
		lib := reflect.ValueOf(sc.conn).Elem()
		for _, f := range []struct {
			field string
			want  any
		}{{"rwc", sc.wire}, {"br", sc.rw.Reader}, {"bw", sc.rw.Writer}} {
			v := lib.FieldByName(f.field)
			if !v.IsValid() || v.Kind() == reflect.Interface && v.Elem().Pointer() != reflect.ValueOf(f.want).Pointer() ||
				v.Kind() == reflect.Pointer && v.Pointer() != reflect.ValueOf(f.want).Pointer() {
				t.Fatalf("websocket.Conn.%s is not what upgradeWriter.Hijack handed on: the library's bytes may bypass the wire, or its buffers be its own", f.field)
			}
		}
		payload := bytes.Repeat([]byte{'p'}, 125)
		cl.write(0x9, payload)
		if op, p := cl.read(); op != 0xa || !bytes.Equal(p, payload) {
			t.Fatalf("ping answered with opcode %#x, %d bytes; want a pong with the ping's 125 bytes", op, len(p))
		}
		if w := sc.log.all(); len(w) != 1 || !bytes.Equal(w[0], append([]byte{0x8a, 125}, payload...)) {
			t.Fatalf("the pong reached the wire in %d writes; want one write of the whole, final, unmasked frame", len(w))
		}
		if err := sc.wire.writeBatch(true, [][]byte{[]byte("hi")}); err != nil {
			t.Fatal(err)
		}
		if op, _ := cl.read(); op != 0x9 {
			t.Fatalf("opcode %#x, want the ping", op)
		}
		if op, p := cl.read(); op != 0x1 || string(p) != "hi" {
			t.Fatalf("opcode %#x %q, want the text frame", op, p)
		}
		cl.write(0xa, nil)
		waitFor(t, "OnPongReceived", func() bool { return sc.pongs.Load() == 1 })

		reason := strings.Repeat("r", maxCloseReason)
		closed := make(chan error, 1)
		go func() { closed <- sc.conn.Close(websocket.StatusGoingAway, reason) }()
		op, p := cl.read()
		if op != 0x8 || len(p) < 2 || binary.BigEndian.Uint16(p) != 1001 || string(p[2:]) != reason {
			t.Fatalf("close frame: opcode %#x, % x", op, p[:min(len(p), 4)])
		}
		if !sc.wire.isClosed() {
			t.Fatal("the wire did not see the close frame")
		}
		if err := sc.wire.writeBatch(false, [][]byte{[]byte("late")}); !errors.Is(err, errWireClosed) {
			t.Fatalf("a batch after the close: %v, want errWireClosed", err)
		}
		cl.write(0x9, []byte("after")) // no pong may follow the close
		cl.write(0x8, p[:2])
		select {
		case err := <-closed:
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
		case <-time.After(4 * time.Second):
			t.Fatal("Close did not return once the close was answered")
		}
		if rest, err := io.ReadAll(cl.br); len(rest) > 0 {
			t.Fatalf("%d bytes after the close frame (% x), %v", len(rest), rest[:min(len(rest), 8)], err)
		}
		w := sc.log.all()
		if last := w[len(w)-1]; len(w) != 2 || last[0] != 0x88 || int(last[1]) != 2+len(reason) || len(last) != 2+2+len(reason) {
			t.Fatalf("library writes: %d, last % x; want the pong, then the close frame whole", len(w), last[:min(len(last), 4)])
		}
	})

	t.Run("long close reason", func(t *testing.T) {
		cl := dialContract(t, srv)
		sc := <-accepted
		err := sc.conn.Close(websocket.StatusGoingAway, strings.Repeat("r", maxCloseReason+1))
		if rest, _ := io.ReadAll(cl.br); err == nil || len(rest) > 0 {
			t.Fatalf("Close with a 124-byte reason: %v, and the client got % x; want an error and no close frame", err, rest)
		}
	})

	t.Run("peer closes first", func(t *testing.T) {
		cl := dialContract(t, srv)
		sc := <-accepted
		cl.write(0x8, append(binary.BigEndian.AppendUint16(nil, 1000), "bye"...))
		op, p := cl.read()
		if op != 0x8 || len(p) < 2 || binary.BigEndian.Uint16(p) != 1000 {
			t.Fatalf("the answer to a close: opcode %#x, % x", op, p)
		}
		if err := <-sc.readErr; websocket.CloseStatus(err) != websocket.StatusNormalClosure {
			t.Fatalf("reader: %v, want the peer's close", err)
		}
		if !sc.wire.isClosed() {
			t.Fatal("the wire did not see the answer to the close")
		}
		if rest, _ := io.ReadAll(cl.br); len(rest) > 0 {
			t.Fatalf("%d bytes after the close frame", len(rest))
		}
	})
}

// TestWirePieces: the library's bytes reach the socket as whole frames
// whatever pieces they come in, and nothing after a close frame.
func TestWirePieces(t *testing.T) {
	var out bytes.Buffer
	w := &wire{Conn: &recordConn{w: &out}, timeout: time.Second}
	pong := append([]byte{0x8a, 5}, "hello"...)
	closeFrame := []byte{0x88, 2, 0x03, 0xe9}
	stream := append(append(append([]byte{}, pong...), pong...), closeFrame...)
	for i := range stream { // one byte at a time
		if _, err := w.Write(stream[i : i+1]); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	if !bytes.Equal(out.Bytes(), stream) {
		t.Fatalf("wrote % x, want % x", out.Bytes(), stream)
	}
	if writes := out.Len(); writes == 0 || !w.isClosed() {
		t.Fatal("the close frame did not close the wire")
	}
	if _, err := w.Write(pong); !errors.Is(err, errWireClosed) {
		t.Fatalf("a pong after the close: %v", err)
	}
	if err := w.writeBatch(true, nil); !errors.Is(err, errWireClosed) {
		t.Fatalf("a ping after the close: %v", err)
	}
	if out.Len() != len(stream) {
		t.Fatalf("%d bytes after the close", out.Len()-len(stream))
	}
}

// TestCloseReasonClipped: a close reason is cut to what a close frame
// carries, on a character boundary.
func TestCloseReasonClipped(t *testing.T) {
	c := newClient(nil, RoleVoter)
	c.close(websocket.StatusTryAgainLater, strings.Repeat("事", 40)+"ab事事") // 128 bytes; byte 123 is inside a 事
	if got := c.closeReason; got != strings.Repeat("事", 40)+"ab" {
		t.Fatalf("reason %d bytes: %q", len(got), got)
	}
	c.close(websocket.StatusGoingAway, "later")
	if c.closeCode != websocket.StatusTryAgainLater {
		t.Fatal("a second close replaced the first")
	}
	if _, slow := c.send([]byte("x"), false, 4); slow || len(c.queue) != 0 {
		t.Fatal("a frame was queued after the close")
	}
}

// recordConn is a net.Conn that only writes, into w.
type recordConn struct {
	net.Conn
	w io.Writer
}

func (c *recordConn) Write(p []byte) (int, error)      { return c.w.Write(p) }
func (c *recordConn) SetWriteDeadline(time.Time) error { return nil }

// contractConn is the server's side of a connection in TestWebsocketContract.
type contractConn struct {
	conn    *websocket.Conn
	wire    *wire
	rw      *bufio.ReadWriter
	log     *writeLog
	pongs   atomic.Int32
	readErr chan error
}

// writeLog records each Write the library makes to the wire.
type writeLog struct {
	mu     sync.Mutex
	to     io.Writer
	writes [][]byte
}

func (l *writeLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.writes = append(l.writes, bytes.Clone(p))
	l.mu.Unlock()
	return l.to.Write(p)
}

func (l *writeLog) all() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.writes
}

// contractServer accepts WebSockets as ServeWS does, with the library's
// writes logged on their way to the wire, and reads each connection.
func contractServer(t *testing.T) (string, chan *contractConn) {
	accepted := make(chan *contractConn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := &contractConn{readErr: make(chan error, 1)}
		uw := &upgradeWriter{ResponseWriter: w, timeout: 5 * time.Second, hijacked: func(wi *wire, rw *bufio.ReadWriter) {
			sc.rw, sc.log = rw, &writeLog{to: wi}
			rw.Writer.Reset(sc.log)
		}}
		conn, err := websocket.Accept(uw, r, &websocket.AcceptOptions{
			OnPongReceived: func(context.Context, []byte) { sc.pongs.Add(1) },
		})
		if err != nil {
			t.Errorf("Accept: %v", err)
			return
		}
		sc.conn, sc.wire = conn, uw.wire
		go func() {
			for {
				if _, _, err := conn.Read(context.Background()); err != nil {
					sc.readErr <- err
					return
				}
			}
		}()
		accepted <- sc
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), accepted
}

// contractClient is a bare WebSocket client: masked frames out, the
// server's frames read as they are.
type contractClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dialContract(t *testing.T, addr string) *contractClient {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", addr)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	return &contractClient{t: t, conn: conn, br: br}
}

func (c *contractClient) write(op byte, payload []byte) {
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	b := append([]byte{0x80 | op, 0x80 | byte(len(payload))}, mask[:]...)
	for i, x := range payload {
		b = append(b, x^mask[i%4])
	}
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

// read reads one frame; it fails on anything but a final, unmasked frame
// of at most 125 bytes (all this test's server sends).
func (c *contractClient) read() (byte, []byte) {
	c.t.Helper()
	var hdr [2]byte
	if _, err := io.ReadFull(c.br, hdr[:]); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if hdr[0]&0xf0 != 0x80 || hdr[1]&0x80 != 0 || hdr[1] > 125 {
		c.t.Fatalf("frame header % x: want final, unmasked, ≤ 125 bytes", hdr)
	}
	p := make([]byte, hdr[1])
	if _, err := io.ReadFull(c.br, p); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return hdr[0] & 0x0f, p
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
	}
}
