package hub

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// One writer owns each socket's bytes: the wire below. Every frame a
// connection sends passes it, whole and in order, under one mutex: the
// batches of text frames and pings that the client's writer goroutine
// frames itself (one socket write each), and the control frames that
// coder/websocket writes (pongs, from the reader; close frames, from
// whoever closes). A close frame ends the wire: nothing is written after
// it (RFC 6455 §5.5.1), and since a batch is written under the mutex in
// one piece, a close never lands inside one.
//
// coder/websocket is handed the wire as the hijacked connection and a
// small bufio.Writer on it, so it cannot reach the socket another way.
// Its bytes are cut into frames here (it flushes each control frame whole
// through the 128-byte buffer, but nothing depends on that: a frame that
// arrives in pieces is gathered until it is whole). What the design needs
// from the library is pinned by TestWebsocketContract (wire_contract_test.go).

// Buffer sizes of a hijacked connection. net/http's own are 4 KiB each and
// stay with the connection for its life; an idle phone needs neither.
// Frames from phones are small (a ballot is ≈ 100 bytes; bigger ones are
// read in more than one system call), and frames to them go out in the
// writer's pooled batch buffer: the bufio.Writer only carries the
// library's control frames (pong, close: at most 2 + 125 bytes), each in
// one Write.
const (
	readBufferSize  = 256
	writeBufferSize = 128
)

// errWireClosed: a close frame went out; the wire writes nothing more.
var errWireClosed = errors.New("the connection's close frame was sent")

// wire is a WebSocket connection's socket. It reads as the net.Conn does
// (first the bytes that came with the upgrade, if any), and writes only
// whole frames, in order, each socket write under a deadline.
type wire struct {
	net.Conn
	timeout time.Duration
	prefix  []byte // bytes the client sent with its upgrade request, read first

	mu     sync.Mutex // held while a frame or batch goes to the socket: one writer
	closed bool       // a close frame went out
	part   []byte     // the library's bytes of a frame not yet whole
}

// Read returns the bytes that arrived with the upgrade before reading on.
// Only the connection's reader reads.
func (w *wire) Read(p []byte) (int, error) {
	if len(w.prefix) == 0 {
		return w.Conn.Read(p)
	}
	n := copy(p, w.prefix)
	if w.prefix = w.prefix[n:]; len(w.prefix) == 0 {
		w.prefix = nil
	}
	return n, nil
}

// Write is coder/websocket's way out (through its bufio.Writer): its
// bytes are cut into frames, and each whole frame is written in turn.
func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	if len(w.part) > 0 {
		w.part = append(w.part, p...)
		p = w.part
	}
	for len(p) > 0 {
		size := frameSize(p)
		if size < 0 || size > len(p) {
			break
		}
		if err := w.frameLocked(p[:size]); err != nil {
			w.part = nil
			return n, err
		}
		p = p[size:]
	}
	if len(p) == 0 {
		w.part = nil
	} else if len(w.part) == 0 || &p[0] != &w.part[0] {
		w.part = append([]byte(nil), p...) // rare: the library wrote part of a frame
	}
	return n, nil
}

// frameLocked writes one whole frame from the library; a close frame is
// the last. w.mu is held.
func (w *wire) frameLocked(f []byte) error {
	if w.closed {
		return errWireClosed
	}
	w.closed = f[0]&0x0f == opClose
	_, err := w.writeLocked(f)
	return err
}

// writeBatch frames a ping (when asked) and the text frames into a pooled
// buffer and writes them in one socket write. The frames' slots are
// cleared so that the queue's backing array keeps none alive.
func (w *wire) writeBatch(ping bool, frames [][]byte) error {
	b := batchPool.Get().(*[]byte)
	buf := *b
	if ping {
		buf = append(buf, pingFrame...)
	}
	for i, f := range frames {
		buf = appendText(buf, f)
		frames[i] = nil
	}
	w.mu.Lock()
	var err error
	switch {
	case w.closed:
		err = errWireClosed
	case len(buf) > 0:
		_, err = w.writeLocked(buf)
	}
	w.mu.Unlock()
	if cap(buf) <= maxPooledBatch {
		*b = buf[:0]
		batchPool.Put(b)
	}
	return err
}

// writeLocked writes to the socket with a deadline. Every write sets its
// own, so the deadline left behind by the last one needs no reset.
func (w *wire) writeLocked(p []byte) (int, error) {
	_ = w.Conn.SetWriteDeadline(time.Now().Add(w.timeout))
	return w.Conn.Write(p)
}

var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// maxPooledBatch: bigger batch buffers are dropped rather than pooled.
const maxPooledBatch = 64 << 10

// WebSocket opcodes (RFC 6455 §5.2) the wire looks at or writes.
const (
	opText  = 0x1
	opClose = 0x8
	opPing  = 0x9
)

// pingFrame is a WebSocket ping without payload, as a server sends it
// (unmasked, final).
var pingFrame = []byte{0x80 | opPing, 0x00}

// appendText appends p as one final, unmasked text frame (RFC 6455 §5.2:
// 0x81, then the length in 7 bits, or 126 and 16 bits, or 127 and 64
// bits, big-endian).
func appendText(b, p []byte) []byte {
	b = append(b, 0x80|opText)
	switch n := len(p); {
	case n <= 125:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, p...)
}

// frameSize is the length of the frame that p starts with, header
// included, or -1 while p does not hold its header yet.
func frameSize(p []byte) int {
	if len(p) < 2 {
		return -1
	}
	hdr, n := 2, int(p[1]&0x7f)
	switch n {
	case 126:
		if hdr = 4; len(p) < hdr {
			return -1
		}
		n = int(binary.BigEndian.Uint16(p[2:]))
	case 127:
		if hdr = 10; len(p) < hdr {
			return -1
		}
		n64 := binary.BigEndian.Uint64(p[2:])
		if n64 > 1<<40 {
			n64 = 1 << 40 // never whole: the library writes no such frame
		}
		n = int(n64)
	}
	if p[1]&0x80 != 0 {
		hdr += 4 // a masking key (a client's frame; the server's are not masked)
	}
	return hdr + n
}

// upgradeWriter wraps the ResponseWriter of a WebSocket upgrade so that
// the hijacked connection is a wire with small buffers.
type upgradeWriter struct {
	http.ResponseWriter
	timeout time.Duration
	wire    *wire
	// hijacked, when set (tests), is told what Hijack handed on.
	hijacked func(*wire, *bufio.ReadWriter)
}

func (u *upgradeWriter) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// Hijack hijacks the underlying connection and replaces net/http's
// buffers: bytes the client sent after its request are kept. They can be
// there: coder/websocket writes the 101 before it hijacks, so a client's
// first frame may arrive meanwhile (net/http's background read takes its
// first byte). They are kept in the wire, not only in the bufio.Reader:
// coder/websocket resets that reader onto the net.Conn (keeping only what
// it has buffered itself), which would drop them.
func (u *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(u.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if brw.Writer.Buffered() > 0 {
		if err := brw.Writer.Flush(); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
	}
	w := &wire{Conn: conn, timeout: u.timeout}
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		w.prefix = bytes.Clone(b)
	}
	u.wire = w
	rw := bufio.NewReadWriter(bufio.NewReaderSize(w, readBufferSize), bufio.NewWriterSize(w, writeBufferSize))
	if u.hijacked != nil {
		u.hijacked(w, rw)
	}
	return w, rw, nil
}

// isClosed reports whether a close frame went out.
func (w *wire) isClosed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}
