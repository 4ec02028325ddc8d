package hub_test

import (
	"bufio"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"leitai/hub"
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

// maskedFrame is a client's final, masked frame with a short payload.
func maskedFrame(op byte, payload []byte) []byte {
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	b := append([]byte{0x80 | op, 0x80 | byte(len(payload))}, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

// rawClient reads, strictly, every byte the server sends it: it answers
// pings, answers the close frame with its own, and then reads on to the
// end of the connection, so that a byte after the close fails it.
type rawClient struct {
	name  string
	conn  net.Conn
	wr    *wireReader
	texts int
	pings int
	code  uint16 // the close frame's code
	err   error
}

func (c *rawClient) run() {
	for {
		f, err := c.wr.next()
		switch {
		case err != nil && c.wr.closed && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
			return // the end, after the close frame
		case err != nil:
			c.err = fmt.Errorf("%s, after %d text frames and %d pings: %w", c.name, c.texts, c.pings, err)
			return
		}
		switch f.opcode {
		case 0x1:
			c.texts++
		case 0x9:
			c.pings++
			_, _ = c.conn.Write(maskedFrame(0xa, f.payload))
		case 0x8:
			c.code = binary.BigEndian.Uint16(f.payload)
			_, _ = c.conn.Write(maskedFrame(0x8, f.payload[:2]))
		}
	}
}

// TestWireUnderPingsBroadcastAndClose: pings (due at every tick), a stream
// of broadcasts and closes happen at once, and every byte each client
// receives is a well-formed frame, with nothing after the close frame
// (RFC 6455 §5.5.1): a flooder closed mid-stream (1008), then everyone
// by Hub.Close (1001). Many rounds, each with a fresh hub.
func TestWireUnderPingsBroadcastAndClose(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	pings := 0
	for round := range rounds {
		pings += wireRound(t, round)
		if t.Failed() {
			return
		}
	}
	if pings < rounds {
		t.Errorf("%d pings in %d rounds: the test did not mix pings in", pings, rounds)
	}
}

// wireRound is one round; it returns how many pings the clients answered.
func wireRound(t *testing.T, round int) (pings int) {
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{PingInterval: time.Millisecond, WriteTimeout: 5 * time.Second,
		SendQueue: 4096, MessageRate: 1, MessageBurst: 2, FloodClose: 5}})
	e.CreateEvent(testEvent("wire", 2))
	addr := e.Srv.Listener.Addr().String()
	open := func(name, query string, header http.Header, frames ...[]byte) *rawClient {
		conn, wr := rawUpgrade(t, addr, "/e/wire/ws?"+query, header, frames...)
		return &rawClient{name: name, conn: conn, wr: wr}
	}
	clients := []*rawClient{
		open("screen", "role=screen", nil),
		open("host", "role=host", http.Header{"Sec-Websocket-Protocol": {"leitai, leitai-key." + base64.RawURLEncoding.EncodeToString([]byte(hostKey))}}),
	}
	for i := range 4 {
		clients = append(clients, open(fmt.Sprintf("voter %d", i), "role=voter",
			http.Header{"X-Leitai-Credential": {cred(fmt.Sprintf("wire-%d-%d", round, i))}}))
	}
	// The flooder sends its messages with the upgrade: it is closed
	// (1008) while the broadcast goes on.
	var flood [][]byte
	for range 12 {
		flood = append(flood, maskedText([]byte(`{"type":"resync"}`)))
	}
	flooder := open("flooder", "role=voter", http.Header{"X-Leitai-Credential": {cred(fmt.Sprintf("wire-flood-%d", round))}}, flood...)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() { defer wg.Done(); c.run() }()
	}
	flooded := make(chan struct{})
	go func() { defer close(flooded); flooder.run() }()

	ctx := testContext(t)
	stop := make(chan struct{})
	published := make(chan int)
	go func() {
		n := 0
		defer func() { published <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			n++
			st := voting.Stage{Phase: voting.PhasePresenting, Current: "c1", Version: int64(10 + n), RankingVisible: true}
			if _, err := e.Broker.Publish(ctx, "wire", hub.Envelope{Kind: hub.KindStage, Stage: &st}); err != nil {
				return
			}
			if n%4 == 0 {
				sd := voting.Standings{Ballots: n}
				_, _ = e.Broker.Publish(ctx, "wire", hub.Envelope{Kind: hub.KindStandings, Standings: &sd, Voters: 5})
			}
			if n%16 == 0 {
				time.Sleep(100 * time.Microsecond) // waves: the ping loop gets the room's lock too
			}
		}
	}()
	// The flooder is closed while the broadcast goes on; then Hub.Close
	// lands while the broadcast and the pings go on.
	select {
	case <-flooded:
	case <-time.After(wait):
		t.Fatalf("round %d: the flooder was not closed", round)
	}
	time.Sleep(time.Duration(50+round*10) * time.Millisecond)
	e.Hub.Close()
	close(stop)
	n := <-published
	wg.Wait()
	if flooder.err != nil || flooder.code != 1008 {
		t.Errorf("round %d: flooder: close code %d after %d text frames, %v", round, flooder.code, flooder.texts, flooder.err)
	}
	for _, c := range clients {
		if c.err != nil || c.code != 1001 {
			t.Errorf("round %d: %s: close code %d, %v", round, c.name, c.code, c.err)
		}
		pings += c.pings
	}
	t.Logf("round %d: %d stage messages published; the screen read %d text frames; %d pings answered", round, n, clients[0].texts, pings)
	return pings + flooder.pings
}
