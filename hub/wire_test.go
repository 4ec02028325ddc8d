package hub_test

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"leitai/voting"
)

// wireFrame is one WebSocket frame as it crossed the wire.
type wireFrame struct {
	opcode  byte
	payload []byte
}

// wireReader parses, strictly by RFC 6455, the frames a server sends: no
// extension bits (none is negotiated), known opcodes, unmasked frames,
// control frames final and at most 125 bytes, a close frame's code, text in
// UTF-8 (messages are never fragmented by this server), and nothing at all
// after a close frame.
type wireReader struct {
	r      *bufio.Reader
	closed bool
}

func (w *wireReader) next() (wireFrame, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(w.r, hdr[:]); err != nil {
		return wireFrame{}, err
	}
	if w.closed {
		return wireFrame{}, fmt.Errorf("a frame (first byte %#x) after the close frame (RFC 6455 §5.5.1)", hdr[0])
	}
	fin, rsv, op := hdr[0]&0x80 != 0, hdr[0]&0x70, hdr[0]&0x0f
	if rsv != 0 {
		return wireFrame{}, fmt.Errorf("reserved bits %#x set without an extension", rsv)
	}
	if hdr[1]&0x80 != 0 {
		return wireFrame{}, fmt.Errorf("a masked frame from the server (§5.1)")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(w.r, b[:]); err != nil {
			return wireFrame{}, err
		}
		if n = uint64(binary.BigEndian.Uint16(b[:])); n < 126 {
			return wireFrame{}, fmt.Errorf("length %d in 16 bits (§5.2: minimal encoding)", n)
		}
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(w.r, b[:]); err != nil {
			return wireFrame{}, err
		}
		if n = binary.BigEndian.Uint64(b[:]); n <= 0xffff || n>>63 != 0 {
			return wireFrame{}, fmt.Errorf("length %d in 64 bits (§5.2)", n)
		}
	}
	if n > 1<<20 {
		return wireFrame{}, fmt.Errorf("a %d-byte frame", n)
	}
	switch op {
	case 0x1, 0x2:
		if !fin {
			return wireFrame{}, fmt.Errorf("a fragmented message")
		}
	case 0x8, 0x9, 0xa:
		if !fin || n > 125 {
			return wireFrame{}, fmt.Errorf("control frame %#x: final %v, %d bytes (§5.5)", op, fin, n)
		}
	default:
		return wireFrame{}, fmt.Errorf("opcode %#x", op)
	}
	f := wireFrame{opcode: op, payload: make([]byte, n)}
	if _, err := io.ReadFull(w.r, f.payload); err != nil {
		return wireFrame{}, err
	}
	switch {
	case op == 0x1 && !utf8.Valid(f.payload):
		return wireFrame{}, fmt.Errorf("a text frame that is not UTF-8")
	case op == 0x8:
		w.closed = true
		if n == 1 {
			return wireFrame{}, fmt.Errorf("a close frame with a 1-byte payload (§5.5.1)")
		}
		if n >= 2 {
			code := binary.BigEndian.Uint16(f.payload)
			if code < 1000 || code == 1004 || code == 1005 || code == 1006 || (code > 1011 && code < 3000) || code > 4999 {
				return wireFrame{}, fmt.Errorf("close code %d (§7.4)", code)
			}
			if !utf8.Valid(f.payload[2:]) {
				return wireFrame{}, fmt.Errorf("a close reason that is not UTF-8")
			}
		}
	}
	return f, nil
}

// maskedText is a client's text frame: final, masked (§5.3).
func maskedText(payload []byte) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n <= 125:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

// rawUpgrade writes a WebSocket upgrade request for path with extra headers
// and, in the same write, the frames given (a client that does not wait for
// the 101), then reads the response's head.
func rawUpgrade(t *testing.T, addr, path string, header http.Header, frames ...[]byte) (net.Conn, *wireReader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(wait))
	var req strings.Builder
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n", path, addr)
	fmt.Fprintf(&req, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
	for k, vs := range header {
		for _, v := range vs {
			fmt.Fprintf(&req, "%s: %s\r\n", k, v)
		}
	}
	req.WriteString("\r\n")
	out := []byte(req.String())
	for _, f := range frames {
		out = append(out, f...)
	}
	if _, err := conn.Write(out); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %s", resp.Status)
	}
	return conn, &wireReader{r: br}
}

// TestFrameWithTheUpgrade: a client whose first frame arrives with its
// upgrade request (or between the 101 and the hijack, which net/http's
// background read then holds) gets it read in order: no byte of it is lost
// (a lost byte shifted the stream, and the server read the rest of the
// frame as a header with reserved bits set).
func TestFrameWithTheUpgrade(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("early", 2))
	e.Command("early", voting.Command{Action: voting.ActionNext})
	e.Command("early", voting.Command{Action: voting.ActionOpen})
	for i := range 20 {
		id := uuid.NewString()
		ballot, _ := json.Marshal(map[string]any{"type": "ballot", "id": id, "contestant": "c1", "score": 80})
		_, wr := rawUpgrade(t, e.Srv.Listener.Addr().String(), "/e/early/ws?role=voter",
			http.Header{"X-Leitai-Credential": {cred(fmt.Sprintf("early-%d", i))}}, maskedText(ballot))
		for {
			f, err := wr.next()
			if err != nil {
				t.Fatalf("voter %d: %v", i, err)
			}
			var m struct {
				Type, ID string
				OK       bool
			}
			if f.opcode == 0x1 && json.Unmarshal(f.payload, &m) == nil && m.Type == "ack" {
				if m.ID != id || !m.OK {
					t.Fatalf("voter %d: ack %s", i, f.payload)
				}
				break
			}
			if f.opcode == 0x8 {
				t.Fatalf("voter %d: closed: %q", i, f.payload)
			}
		}
	}
}
