package hub_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/hub/api"
	"leitai/voting"
)

// TestRefusals: every bad ballot or frame gets a clear refusal with a code
// and changes nothing; the connection keeps serving.
func TestRefusals(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	votingOn(e, "refuse")
	v := e.Dial("refuse", voterQuery("v1"))
	v.WaitSnapshot()

	for _, tc := range []struct {
		name  string
		frame map[string]any
		code  voting.Code
	}{
		{"above the range", map[string]any{"contestant": "c1", "score": 100.5}, voting.CodeInvalid},
		{"below the range", map[string]any{"contestant": "c1", "score": 59.5}, voting.CodeInvalid},
		{"off the step", map[string]any{"contestant": "c1", "score": 80.3}, voting.CodeInvalid},
		{"criteria on a plain event", map[string]any{"contestant": "c1", "scores": map[string]float64{"x": 80}}, voting.CodeInvalid},
		{"unknown contestant", map[string]any{"contestant": "c99", "score": 80}, voting.CodeNotFound},
		{"not on stage", map[string]any{"contestant": "c2", "score": 80}, voting.CodeClosed},
		{"no score", map[string]any{"contestant": "c1"}, voting.CodeInvalid},
		{"no contestant", map[string]any{"score": 80}, voting.CodeNotFound},
	} {
		id := newID()
		tc.frame["type"], tc.frame["id"] = "ballot", id
		v.Send(tc.frame)
		ack := v.WaitAck(id)
		wantRefused(t, ack, tc.code)
		if t.Failed() {
			t.Fatalf("%s: refused wrongly", tc.name)
		}
	}
	// A ballot id that is not a UUID is refused too (the ack echoes it).
	wantRefused(t, v.Ballot("not-a-uuid", "c1", 80), voting.CodeInvalid)
	v.Send(map[string]any{"type": "ballot", "contestant": "c1", "score": 80})
	wantRefused(t, v.WaitAck(""), voting.CodeInvalid)

	// Frames the server cannot use get an error frame with code invalid.
	for _, tc := range []struct{ name, frame, want string }{
		{"malformed JSON", `{"type": "ballot", `, "malformed"},
		{"not an object", `[1, 2]`, "malformed"},
		{"unknown type", `{"type": "vote", "id": "x"}`, `unknown message type "vote"`},
		{"no type", `{"contestant": "c1"}`, "no type"},
		{"unknown field", `{"type": "resync", "please": true}`, "malformed"},
		{"two objects", `{"type": "resync"} {"type": "resync"}`, "one JSON object"},
		{"score of the wrong type", `{"type": "ballot", "id": "` + newID() + `", "contestant": "c1", "score": "80"}`, "wrong type"},
	} {
		before := count(v.All(), "error")
		v.Send(tc.frame)
		frames := v.WaitFor("an error frame for "+tc.name, func(f []msg) bool { return count(f, "error") > before })
		m, _ := last(frames, "error")
		if m.Error == nil || m.Error.Code != voting.CodeInvalid || !strings.Contains(m.Error.Message, tc.want) {
			t.Errorf("%s: got %s, want an invalid error mentioning %q", tc.name, m.Raw, tc.want)
		}
	}

	// Only voters cast ballots.
	for _, o := range []dialOptions{{Query: "role=host", HostKey: hostKey}, {Query: "role=screen"}} {
		c := e.DialWith("refuse", o)
		c.WaitSnapshot()
		wantRefused(t, c.Ballot(newID(), "c1", 80), voting.CodeForbidden)
	}

	// Nothing changed, and the connection still serves.
	if sd := e.Standings("refuse"); sd.Ballots != 0 {
		t.Fatalf("refused ballots counted: %+v", sd)
	}
	wantAccepted(t, v.Ballot(newID(), "c1", 80), "c1", 80, false)

	// A panel that needs a key: each ballot without it is refused (the
	// key is checked per ballot, not at the handshake).
	judge := e.Dial("refuse", voterQuery("judge")+"&panel=judges&panelKey=wrong")
	judge.WaitSnapshot()
	wantRefused(t, judge.Ballot(newID(), "c1", 80), voting.CodeForbidden)
	if sd := e.Standings("refuse"); sd.Ballots != 1 {
		t.Fatalf("a ballot with a wrong panel key counted: %+v", sd)
	}

	// The host changes the judges' key: a judge who joined with the old
	// one is refused from the next ballot on, without reconnecting.
	old := e.Dial("refuse", voterQuery("judge2")+"&panel=judges&panelKey=judge-key")
	old.WaitSnapshot()
	wantAccepted(t, old.Ballot(newID(), "c1", 85), "c1", 85, false)
	var ev voting.Event
	e.Must("GET", "/api/events/refuse", nil, &ev)
	ev.Panels[1].Key = "new-judge-key"
	e.Must("PUT", "/api/events/refuse", ev, &ev)
	wantRefused(t, old.Ballot(newID(), "c1", 90), voting.CodeForbidden)
}

// TestHandshakeRefusals: a refused handshake gets an HTTP error in the
// protocol's shape.
func TestHandshakeRefusals(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("hs", 2))
	for _, tc := range []struct {
		event, query string
		status       int
	}{
		{"nope", "role=screen", http.StatusNotFound},
		{"hs", "role=host", http.StatusForbidden},
		{"hs", "role=host&key=wrong", http.StatusForbidden},
		{"hs", "role=voter", http.StatusForbidden},
		{"hs", "role=voter&voter=v1", http.StatusForbidden},
		{"hs", "role=voter&credential=v1.v1.forged", http.StatusForbidden},
		{"hs", "role=voter&credential=" + url.QueryEscape(access.NewCredentials(make([]byte, 32), false, 1).For("v1")), http.StatusForbidden},
		{"hs", voterQuery("v1") + "&panel=nope", http.StatusNotFound},
		{"hs", "role=king", http.StatusBadRequest},
	} {
		_, resp, err := e.TryDial(tc.event, dialOptions{Query: tc.query})
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("%s?%s: status %d (%v), want %d", tc.event, tc.query, status, err, tc.status)
		}
	}
	// The default role is voter; the judges' key lets a judge in.
	if s := e.Dial("hs", "credential="+url.QueryEscape(cred("v1"))).WaitSnapshot(); s.Role != hub.RoleVoter {
		t.Errorf("default role: %s", s.Raw)
	}
	if s := e.Dial("hs", voterQuery("j1")+"&panel=judges&panelKey=judge-key").WaitSnapshot(); s.Panel != "judges" {
		t.Errorf("judge snapshot: %s", s.Raw)
	}
}

// TestReconnect: a voter that drops and reconnects with the same id gets a
// snapshot with its ballots and the current stage, and may retry an
// unacknowledged ballot id, which counts once.
func TestReconnect(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	votingOn(e, "again")
	v := e.Dial("again", voterQuery("phone-1"))
	v.WaitSnapshot()
	id := newID()
	ack := v.Ballot(id, "c1", 88.5)
	wantAccepted(t, ack, "c1", 88.5, false)
	v.Close()

	// While it is away the stage moves on.
	st := e.Command("again", voting.Command{Action: voting.ActionClose})

	v2 := e.Dial("again", voterQuery("phone-1"))
	s := v2.WaitSnapshot()
	if s.Stage.Version != st.Version || s.Stage.Phase != voting.PhaseClosed {
		t.Errorf("snapshot stage %+v, want %+v", *s.Stage, st)
	}
	if s.Ballots == nil || len(*s.Ballots) != 1 {
		t.Fatalf("snapshot ballots: %s", s.Raw)
	}
	if b := (*s.Ballots)[0]; b.ID != id || b.Contestant != "c1" || b.Points() != 88.5 || b.Voter != "phone-1" {
		t.Errorf("snapshot ballot %+v", b)
	}
	// The phone resends its ballot (it missed the ack): the same receipt,
	// although voting has closed meanwhile, counted once.
	v2.Send(map[string]any{"type": "ballot", "id": id, "contestant": "c1", "score": 88.5})
	retry := v2.WaitAck(id)
	if !retry.OK || *retry.Receipt != *ack.Receipt {
		t.Errorf("retried ballot: %s, want %s", retry.Raw, ack.Raw)
	}
	// The same id with another score is a conflict.
	v2.Send(map[string]any{"type": "ballot", "id": id, "contestant": "c1", "score": 90})
	frames := v2.WaitFor("the second ack", func(f []msg) bool { return count(f, "ack") == 2 })
	conflict, _ := last(frames, "ack")
	wantRefused(t, conflict, voting.CodeConflict)
	if sd := e.Standings("again"); sd.Ballots != 1 {
		t.Errorf("standings count %d ballots, want 1", sd.Ballots)
	}
}

// TestResyncRequest: {"type":"resync"} is answered with a fresh snapshot
// (with the voter's ballots).
func TestResyncRequest(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	votingOn(e, "resync")
	v := e.Dial("resync", voterQuery("v1"))
	first := v.WaitSnapshot()
	id := newID()
	v.Ballot(id, "c1", 70)
	st := e.Command("resync", voting.Command{Action: voting.ActionClose})
	v.WaitStage("closed", func(s voting.Stage) bool { return s.Version == st.Version })
	v.Send(`{"type":"resync"}`)
	frames := v.WaitFor("a second snapshot", func(f []msg) bool { return count(f, "snapshot") == 2 })
	s, _ := last(frames, "snapshot")
	if s.Seq <= first.Seq || s.Stage.Version != st.Version || s.Ballots == nil || len(*s.Ballots) != 1 || (*s.Ballots)[0].ID != id {
		t.Errorf("resync snapshot %s (first had seq %d)", s.Raw, first.Seq)
	}
	// A screen's resync: no ballots.
	sc := e.Dial("resync", "role=screen")
	sc.WaitSnapshot()
	sc.Send(`{"type":"resync"}`)
	frames = sc.WaitFor("a second snapshot", func(f []msg) bool { return count(f, "snapshot") == 2 })
	if s, _ := last(frames, "snapshot"); s.Ballots != nil || s.Standings == nil {
		t.Errorf("screen resync snapshot %s", s.Raw)
	}
}

// TestSequenceNumbers: stage, event, reset and deleted messages take the
// next number; standings repeat it; a client that applies them never sees a
// gap.
func TestSequenceNumbers(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	ev := votingOn(e, "seq")
	v := e.Dial("seq", voterQuery("v1"))
	s := v.WaitSnapshot()
	v.Ballot(newID(), "c1", 90)
	e.Command("seq", voting.Command{Action: voting.ActionClose})
	ev.Title = "改名"
	var updated voting.Event
	e.Must("PUT", "/api/events/seq", ev, &updated)
	e.Must("POST", "/api/events/seq/contestants/c1/reset", map[string]string{"confirm": "c1"}, nil)
	e.Must("DELETE", "/api/events/seq?confirm=seq", nil, nil)
	frames := v.WaitFor("the deleted message", func(f []msg) bool { return count(f, "deleted") == 1 })
	prev := s.Seq
	kinds := ""
	for _, m := range frames[1:] {
		switch m.Type {
		case "stage", "event", "reset", "deleted":
			if m.Seq != prev+1 {
				t.Errorf("%s with seq %d after %d", m.Type, m.Seq, prev)
			}
			prev = m.Seq
			kinds += m.Type + " "
		case "standings":
			if m.Seq != prev {
				t.Errorf("standings with seq %d after %d", m.Seq, prev)
			}
		}
	}
	if kinds != "stage event reset deleted " {
		t.Errorf("messages: %s", kinds)
	}
	if m, _ := last(frames, "event"); m.Event.Title != "改名" || m.Event.Panels[1].Key != voting.KeyRequired {
		t.Errorf("event message %s", m.Raw)
	}
	if m, _ := last(frames, "reset"); m.Contestant != "c1" {
		t.Errorf("reset message %s", m.Raw)
	}
}

// TestReadLimit: a frame over the read limit closes the connection with
// 1009; hosts have a larger limit.
func TestReadLimit(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("limit", 2))
	big := `{"type":"resync","pad":"` + strings.Repeat("x", 10<<10) + `"}`

	v := e.Dial("limit", voterQuery("v1"))
	v.WaitSnapshot()
	// The server may close before the whole frame is written.
	_ = v.Conn.Write(testContext(t), websocket.MessageText, []byte(big))
	err := v.WaitClosed()
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Fatalf("voter sending 10 KiB: %v, want close status 1009", err)
	}

	h := e.DialHost("limit")
	h.WaitSnapshot()
	h.Send(big)
	frames := h.WaitFor("an error frame", func(f []msg) bool { return count(f, "error") == 1 })
	if m, _ := last(frames, "error"); m.Error.Code != voting.CodeInvalid {
		t.Errorf("host sending 10 KiB: %s, want an invalid error (unknown field)", m.Raw)
	}
	// Everyone else keeps being served.
	st := e.Command("limit", voting.Command{Action: voting.ActionNext})
	h.WaitStage("next", func(s voting.Stage) bool { return s.Version == st.Version })
}

// TestCloseGoingAway: Hub.Close tells every client to reconnect (1001) and
// returns after their connections ended.
func TestCloseGoingAway(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("bye", 2))
	e.CreateEvent(testEvent("bye2", 2))
	clients := []*wsClient{e.Dial("bye", voterQuery("v1")), e.Dial("bye", "role=screen"), e.DialHost("bye2")}
	for _, c := range clients {
		c.WaitSnapshot()
	}
	e.Hub.Close()
	for _, c := range clients {
		if err := c.WaitClosed(); websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Errorf("%s: %v, want close status 1001", c.Name, err)
		}
	}
	// A connection that comes while the server shuts down is refused (503)
	// rather than joined to a closing hub.
	_, resp, err := e.TryDial("bye", dialOptions{Query: voterQuery("v1")})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("dial after Close: %v (%v), want 503", err, resp)
	}
}

// TestDeletedEvent: clients of a deleted event get "deleted"; new
// connections are refused with 404.
func TestDeletedEvent(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("gone", 2))
	v := e.Dial("gone", voterQuery("v1"))
	v.WaitSnapshot()
	sc := e.Dial("gone", "role=screen")
	sc.WaitSnapshot()
	st := e.Command("gone", voting.Command{Action: voting.ActionNext})
	v.WaitStage("next", func(s voting.Stage) bool { return s.Version == st.Version })
	e.Must("DELETE", "/api/events/gone?confirm=gone", nil, nil)
	v.WaitFor("deleted", func(f []msg) bool { return count(f, "deleted") == 1 })
	sc.WaitFor("deleted", func(f []msg) bool { return count(f, "deleted") == 1 })
	// Asking a deleted event for a snapshot: the server closes with 1013
	// (the client reconnects and is told the event is not there).
	sc.Send(`{"type":"resync"}`)
	if err := sc.WaitClosed(); websocket.CloseStatus(err) != websocket.StatusTryAgainLater {
		t.Errorf("resync on a deleted event: %v, want close status 1013", err)
	}
	_, resp, err := e.TryDial("gone", dialOptions{Query: voterQuery("v2")})
	if err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("dial a deleted event: %v, want 404", err)
	}
	// Creating it again (while the old client is still connected) serves
	// the new event, not the old one's state.
	ev := testEvent("gone", 3)
	ev.Title = "重新创建"
	e.CreateEvent(ev)
	v3 := e.Dial("gone", voterQuery("v3"))
	s := v3.WaitSnapshot()
	if s.Stage.Version != 1 || s.Stage.Phase != voting.PhaseLobby || s.Event.Title != "重新创建" || len(s.Event.Contestants) != 3 {
		t.Errorf("snapshot of the recreated event: %s", s.Raw)
	}
	// Its numbers go on from the old event's, so the old client sees no
	// number go back.
	if s.Seq < 2 {
		t.Errorf("snapshot seq %d, want at least 2", s.Seq)
	}
}

// TestConcurrentJoinLeave: clients join and leave one event concurrently
// while stage changes go out; every client that stays sees every change.
func TestConcurrentJoinLeave(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("churn", 3))
	stay := e.Dial("churn", "role=screen")
	stay.WaitSnapshot()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				c, _, err := e.TryDial("churn", dialOptions{Query: voterQuery("churn-" + string(rune('a'+i)))})
				if err != nil {
					t.Errorf("dial: %v", err)
					return
				}
				c.WaitSnapshot()
				c.Close()
			}
		}()
	}
	var last voting.Stage
	for range 10 {
		last = e.Command("churn", voting.Command{Action: voting.ActionCountdown, Seconds: 30})
	}
	close(stop)
	wg.Wait()
	frames := stay.WaitFor("every stage", func(f []msg) bool { return viewOf(f).Stage.Version == last.Version })
	if n := count(frames, "stage"); n != 10 {
		t.Errorf("the staying client got %d stage messages, want 10", n)
	}
	if count(frames, "snapshot") != 1 {
		t.Errorf("the staying client was resynchronised")
	}
}

// TestCloseWhileConnecting: Hub.Close while clients keep connecting
// returns, and every connection either ends or was refused with 503.
func TestCloseWhileConnecting(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("rush", 2))
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []*wsClient
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				c, resp, err := e.TryDial("rush", dialOptions{Query: voterQuery(fmt.Sprintf("r%d-%d", i, j))})
				if err != nil {
					if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
						t.Errorf("dial: %v (%v), want success or 503", err, resp)
					}
					continue
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}
		}()
	}
	e.waitConnections(8)
	e.Hub.Close()
	close(stop)
	wg.Wait()
	for _, c := range conns {
		c.WaitClosed()
	}
}

// TestFloodClosed: a connection that sends messages far faster than a
// phone does gets them refused with an error frame, then is closed with
// 1008, while another voter in the same event is served throughout and
// nothing the flooder sent beyond its allowance was recorded.
func TestFloodClosed(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("flood", 2))
	e.Command("flood", voting.Command{Action: voting.ActionNext})
	e.Command("flood", voting.Command{Action: voting.ActionOpen})
	flooder := e.Dial("flood", voterQuery("flooder"))
	honest := e.Dial("flood", voterQuery("honest"))
	flooder.WaitSnapshot()
	honest.WaitSnapshot()

	// Valid ballots (each replacing the last), far faster than a phone:
	// only the burst allowance is handled, the rest refused.
	ctx := testContext(t)
	flood := func(n int) (err error) {
		for i := 0; i < n && err == nil; i++ {
			msg := fmt.Sprintf(`{"type":"ballot","id":%q,"contestant":"c1","score":%d}`, newID(), 60+i%41)
			err = flooder.Conn.Write(ctx, websocket.MessageText, []byte(msg))
		}
		return err
	}
	if err := flood(60); err != nil {
		t.Fatal(err)
	}
	frames := flooder.WaitFor("60 answers", func(f []msg) bool { return count(f, "ack") == 60 })
	var accepted, refused int
	for _, m := range frames {
		switch {
		case m.Type != "ack":
		case m.OK:
			accepted++
		case m.Error.Code == voting.CodeUnavailable && strings.Contains(m.Error.Message, "try again"):
			refused++
		default:
			t.Errorf("unexpected ack %s", m.Raw)
		}
	}
	if accepted == 0 || accepted > 40 || accepted+refused != 60 {
		t.Errorf("flooder: %d accepted, %d refused as unavailable; want at most the burst allowance (30, plus refill) accepted", accepted, refused)
	}
	// Other messages beyond the allowance get a warning.
	for i := 0; i < 40; i++ {
		if err := flooder.Conn.Write(ctx, websocket.MessageText, []byte(`{"type":"nonsense"}`)); err != nil {
			t.Fatal(err)
		}
	}
	flooder.WaitFor("a slow-down error", func(f []msg) bool {
		m, ok := last(f, "error")
		return ok && m.Error.Code == voting.CodeInvalid && strings.Contains(m.Error.Message, "too many")
	})
	// Keeping on closes the connection.
	_ = flood(300)
	err := flooder.WaitClosed()
	if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("flooder: %v, want close status 1008", err)
	}
	// The honest voter is served, before and after.
	wantAccepted(t, honest.Ballot(newID(), "c1", 88), "c1", 88, false)
	st := e.Command("flood", voting.Command{Action: voting.ActionClose})
	honest.WaitStage("voting closed", func(s voting.Stage) bool { return s.Version == st.Version })
}

// TestVoterCredentials: POST /api/voter issues a credential (cookie and
// body) that the socket and the ballot API take; the same device gets the
// same identity again; sockets per voter are capped.
func TestVoterCredentials(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{MaxVoterConnections: 2}})
	e.CreateEvent(testEvent("cr", 2))
	e.Command("cr", voting.Command{Action: voting.ActionNext})
	e.Command("cr", voting.Command{Action: voting.ActionOpen})

	status, data := e.Do("POST", "/api/voter", "", api.VoterRequest{Event: "cr", HallCode: e.HallCode("cr")})
	var issued struct{ Voter, Credential string }
	if status != http.StatusOK || json.Unmarshal(data, &issued) != nil || issued.Credential == "" || len(issued.Voter) != 22 {
		t.Fatalf("POST /api/voter: %d %s", status, data)
	}
	q := "role=voter&credential=" + url.QueryEscape(issued.Credential)
	v := e.Dial("cr", q)
	if s := v.WaitSnapshot(); s.Voter != issued.Voter {
		t.Errorf("snapshot voter %q, want %q", s.Voter, issued.Voter)
	}
	wantAccepted(t, v.Ballot(newID(), "c1", 80), "c1", 80, false)
	// The voter's ballots are read back with the credential.
	var mine struct{ Ballots []voting.CountedBallot }
	status, data = e.Do("GET", "/api/events/cr/ballots?credential="+url.QueryEscape(issued.Credential), "", nil)
	if status != http.StatusOK || json.Unmarshal(data, &mine) != nil || len(mine.Ballots) != 1 || mine.Ballots[0].Voter != issued.Voter {
		t.Fatalf("voter ballots: %d %s", status, data)
	}
	// Cap: a second socket is fine, a third is closed with 1008.
	e.Dial("cr", q).WaitSnapshot()
	third, _, err := e.TryDial("cr", dialOptions{Query: q})
	if err != nil {
		t.Fatal(err)
	}
	if err := third.WaitClosed(); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("third socket of one voter: %v, want 1008", err)
	}
}

// TestCrossOriginRefused: a page on another site cannot open a socket with
// a visitor's cookie; the server's own origin and the configured public
// host can.
func TestCrossOriginRefused(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{PublicURL: "https://vote.example.com"}})
	e.CreateEvent(testEvent("xo", 2))
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"http://evil.example", false},
		{"https://vote.example.com.evil.example", false},
		{"null", false},
		{e.Srv.URL, false}, // plain http, while the public URL is https
		{strings.Replace(e.Srv.URL, "http:", "https:", 1), true},
		{"https://vote.example.com", true},
		{"http://vote.example.com", false}, // the scheme counts
		{"https://vote.example.com:8443", false},
	} {
		c, resp, err := e.TryDial("xo", dialOptions{Query: voterQuery("v-" + tc.origin), Origin: tc.origin})
		switch {
		case tc.ok && err != nil:
			t.Errorf("origin %s refused: %v", tc.origin, err)
		case !tc.ok && (err == nil || resp == nil || resp.StatusCode != http.StatusForbidden):
			t.Errorf("origin %s: %v (%v), want 403", tc.origin, err, resp)
		}
		if c != nil {
			c.Close()
		}
	}
}
