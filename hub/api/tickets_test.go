package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/hub/api"
	"leitai/voting"
)

// voterAPI sends a request with a voter's credential in its header.
func (e *env) voterAPI(method, path, voter string, body any) (int, []byte) {
	e.T.Helper()
	var rd io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(testContext(e.T), method, e.Srv.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if voter != "" {
		req.Header.Set("X-Leitai-Credential", cred(voter))
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func (e *env) claim(voter, code string) (int, []byte) {
	e.T.Helper()
	return e.voterAPI("POST", "/api/events/show/tickets/"+code+"/claim", voter, nil)
}

// ticketShow is a two-panel event whose judges vote with tickets (no
// shared panel key) and whose audience votes with tickets too.
func ticketShow(e *env) voting.Event {
	ev := testEvent("show", 3)
	ev.Panels[1].Key = ""
	ev.Panels[0].Tickets, ev.Panels[1].Tickets = true, true
	ev.VotingScope = voting.ScopeAll
	ev = e.CreateEvent(ev)
	e.Command("show", voting.Command{Action: voting.ActionOpen})
	return ev
}

func issue(e *env, panel string, n int) []api.TicketView {
	e.T.Helper()
	var out struct{ Tickets []api.TicketView }
	e.Must("POST", "/api/events/show/tickets", api.IssueRequest{Panel: panel, Count: n}, &out)
	if len(out.Tickets) != n {
		e.T.Fatalf("issued %d tickets, want %d", len(out.Tickets), n)
	}
	return out.Tickets
}

// TestTickets runs 一人一票 as a hall would: tickets issued and listed by
// the host only, claimed by phones, ballots refused without one, a
// revoked ticket stopping its phone, judges' tickets the same way.
func TestTickets(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ticketShow(e)

	// Host only, and bad requests change nothing.
	for _, tc := range []struct {
		name   string
		key    string
		body   any
		status int
		code   voting.Code
	}{
		{"no key", "", api.IssueRequest{Panel: "audience", Count: 1}, 403, voting.CodeForbidden},
		{"wrong key", "nope", api.IssueRequest{Panel: "audience", Count: 1}, 403, voting.CodeForbidden},
		{"none", hostKey, api.IssueRequest{Panel: "audience", Count: 0}, 400, voting.CodeInvalid},
		{"too many", hostKey, api.IssueRequest{Panel: "audience", Count: voting.MaxTicketsPerCall + 1}, 400, voting.CodeInvalid},
		{"unknown panel", hostKey, api.IssueRequest{Panel: "guests", Count: 1}, 404, voting.CodeNotFound},
		{"unknown field", hostKey, `{"panel":"audience","count":1,"free":true}`, 400, voting.CodeInvalid},
	} {
		status, data := e.Do("POST", "/api/events/show/tickets", tc.key, tc.body)
		t.Run(tc.name, func(t *testing.T) { wantAPIError(t, status, data, tc.status, tc.code) })
	}
	status, data := e.Do("GET", "/api/events/show/tickets", "", nil)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	var list struct{ Tickets []api.TicketView }
	e.Must("GET", "/api/events/show/tickets", nil, &list)
	if len(list.Tickets) != 0 {
		t.Fatalf("tickets after refused requests: %d", len(list.Tickets))
	}

	audience := issue(e, "audience", 3)
	judges := issue(e, "judges", 2)

	// A phone without a ticket cannot vote, over the socket or HTTP.
	anon := e.Dial("show", voterQuery("anon"))
	defer anon.Close()
	anon.WaitSnapshot()
	wantRefused(t, anon.Ballot(newID(), "c1", 80), voting.CodeForbidden)
	status, data = e.voterAPI("POST", "/api/events/show/ballots", "anon", map[string]any{"id": newID(), "contestant": "c1", "score": 80})
	wantAPIError(t, status, data, 403, voting.CodeForbidden)

	// Claiming: typed codes with dashes and lower case work; the first
	// phone holds it; others are refused; a claim needs a credential.
	code := audience[0].Code
	status, data = e.claim("alice", strings.ToLower(voting.FormatTicketCode(code)))
	if status != 200 {
		t.Fatalf("claim = %d %s", status, data)
	}
	var held api.TicketView
	_ = json.Unmarshal(data, &held)
	if held.Code != code || held.Panel != "audience" || held.Claimed == 0 || held.Holder != voting.VoterDigest("alice") {
		t.Fatalf("claimed ticket %+v", held)
	}
	if status, _ := e.claim("alice", code); status != 200 {
		t.Fatalf("second claim by the holder = %d", status)
	}
	status, data = e.claim("mallory", code)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	status, data = e.claim("alice", audience[1].Code)
	wantAPIError(t, status, data, 409, voting.CodeConflict)
	status, data = e.claim("", audience[1].Code)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	for _, bad := range []string{"NOPE", voting.NewTicketCode(), strings.Repeat("B", 300)} {
		status, data = e.claim("bob", bad)
		wantAPIError(t, status, data, 404, voting.CodeNotFound)
	}

	alice := e.Dial("show", voterQuery("alice"))
	defer alice.Close()
	alice.WaitSnapshot()
	ack := alice.Ballot(newID(), "c1", 90)
	wantAccepted(t, ack, "c1", 90, false)
	if len(ack.Receipt.Code) != voting.ReceiptCodeLength {
		t.Fatalf("receipt without a receipt code: %s", ack.Raw)
	}

	// Judges: a judge's ticket admits to the judges' panel only.
	status, _ = e.claim("judge1", judges[0].Code)
	if status != 200 {
		t.Fatalf("judge claim = %d", status)
	}
	judge := e.Dial("show", voterQuery("judge1")+"&panel=judges")
	defer judge.Close()
	judge.WaitSnapshot()
	wantAccepted(t, judge.Ballot(newID(), "c1", 70), "c1", 70, false)
	judgeInAudience := e.Dial("show", voterQuery("judge1"))
	defer judgeInAudience.Close()
	judgeInAudience.WaitSnapshot()
	wantRefused(t, judgeInAudience.Ballot(newID(), "c1", 70), voting.CodeForbidden)

	var mine struct{ Tickets []api.TicketView }
	status, data = e.voterAPI("GET", "/api/events/show/tickets/mine", "judge1", nil)
	if err := json.Unmarshal(data, &mine); status != 200 || err != nil || len(mine.Tickets) != 1 || mine.Tickets[0].Panel != "judges" {
		t.Fatalf("mine = %d %s", status, data)
	}

	// Revoking stops the phone at once; its counted ballot stays.
	status, data = e.Do("POST", "/api/events/show/tickets/"+code+"/revoke", "", nil)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	var revoked api.TicketView
	e.Must("POST", "/api/events/show/tickets/"+code+"/revoke", nil, &revoked)
	if !revoked.Revoked {
		t.Fatalf("revoked ticket %+v", revoked)
	}
	wantRefused(t, alice.Ballot(newID(), "c2", 90), voting.CodeForbidden)
	sd := e.Standings("show")
	if sd.Ballots != 2 {
		t.Fatalf("standings count %d ballots, want 2 (alice's first and the judge's)", sd.Ballots)
	}
	status, data = e.claim("carol", code)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)

	e.Must("GET", "/api/events/show/tickets", nil, &list)
	if len(list.Tickets) != 5 {
		t.Fatalf("listed %d tickets, want 5", len(list.Tickets))
	}
	claimed, gone := 0, 0
	for _, tk := range list.Tickets {
		if tk.Claimed != 0 {
			claimed++
		}
		if tk.Revoked {
			gone++
		}
		if strings.Contains(string(mustMarshal(t, tk)), "alice") {
			t.Fatal("the ticket list shows a voter id")
		}
	}
	if claimed != 2 || gone != 1 {
		t.Fatalf("listed %d claimed and %d revoked, want 2 and 1", claimed, gone)
	}
}

func mustMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAuditAPI: the host reads the audit log page by page; it verifies
// and gives the standings; each ack's receipt code is its entry's.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	ev := testEvent("show", 3)
	ev.VotingScope = voting.ScopeAll
	ev = e.CreateEvent(ev)
	e.Command("show", voting.Command{Action: voting.ActionOpen})
	codes := map[string]string{}
	for i, v := range []string{"a", "b", "c", "a"} {
		c := e.Dial("show", voterQuery(v))
		c.WaitSnapshot()
		id := newID()
		ack := c.Ballot(id, "c"+string(rune('1'+i%3)), 80+float64(i))
		if !ack.OK {
			t.Fatalf("ack %s", ack.Raw)
		}
		codes[id] = ack.Receipt.Code
		c.Close()
	}
	status, data := e.Do("GET", "/api/events/show/audit", "", nil)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	status, data = e.Do("GET", "/api/events/show/audit?after=-1", hostKey, nil)
	wantAPIError(t, status, data, 400, voting.CodeInvalid)

	var all []voting.AuditEntry
	for {
		var page struct {
			Entries []voting.AuditEntry
			More    bool
		}
		e.Must("GET", "/api/events/show/audit?limit=3&after="+itoa(len(all)), nil, &page)
		all = append(all, page.Entries...)
		if !page.More {
			break
		}
	}
	if len(all) != 4 {
		t.Fatalf("audit log has %d entries, want 4", len(all))
	}
	rep, err := voting.VerifyAudit(&ev, all)
	if err != nil {
		t.Fatal(err)
	}
	if d := voting.StandingsDiff(rep.Standings, e.Standings("show")); d != "" {
		t.Fatalf("standings from the log differ: %s", d)
	}
	for _, en := range all {
		if codes[en.Ballot] != voting.ReceiptCode(en.Hash) {
			t.Fatalf("entry %d: receipt code %q, ack said %q", en.Seq, voting.ReceiptCode(en.Hash), codes[en.Ballot])
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestHostKeyRotation: a host rotates the key; the old one stops working
// here and on another instance sharing the store, host sockets opened
// with it are closed, and a stale or short key is refused.
func TestHostKeyRotation(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("show", 2))
	// A second hub on the same store, as another instance would be.
	other := startEnv(t, e.Store, hub.NewMemoryBroker(), envOptions{})
	if status, _ := other.Do("GET", "/api/events", hostKey, nil); status != 200 {
		t.Fatalf("other instance with the configured key: %d", status)
	}
	hostSock := e.DialHost("show")
	defer hostSock.Close()
	hostSock.WaitSnapshot()

	status, data := e.Do("POST", "/api/host-key", "wrong", api.RotateRequest{Key: "a-new-key-for-tonight"})
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	status, data = e.Do("POST", "/api/host-key", hostKey, api.RotateRequest{Key: "short"})
	wantAPIError(t, status, data, 400, voting.CodeInvalid)
	if status, _ := e.Do("GET", "/api/events", hostKey, nil); status != 200 {
		t.Fatalf("a refused rotation changed the key: %d", status)
	}

	var rotated struct{ Key string }
	e.Must("POST", "/api/host-key", api.RotateRequest{}, &rotated)
	if len(rotated.Key) < access.MinHostKeyLength {
		t.Fatalf("rotated key %q", rotated.Key)
	}
	status, data = e.Do("GET", "/api/events", hostKey, nil)
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	if status, _ := e.Do("GET", "/api/events", rotated.Key, nil); status != 200 {
		t.Fatalf("the new key: %d", status)
	}
	if err := hostSock.WaitClosed(); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("host socket with the old key: %v, want closed with 1008", err)
	}
	if _, resp, err := e.TryDial("show", dialOptions{Query: "role=host", HostKey: hostKey}); err == nil || resp == nil || resp.StatusCode != 403 {
		t.Fatalf("host socket with the old key opened: %v", err)
	}
	// The other instance follows within a second or two.
	eventually(t, "the other instance refuses the old key", func() bool {
		status, _ := other.Do("GET", "/api/events", hostKey, nil)
		return status == 403
	})
	if status, _ := other.Do("GET", "/api/events", rotated.Key, nil); status != 200 {
		t.Fatalf("the other instance refuses the new key: %d", status)
	}
	// Rotating again from the new key works; from the old one it does not.
	status, data = other.Do("POST", "/api/host-key", hostKey, api.RotateRequest{})
	wantAPIError(t, status, data, 403, voting.CodeForbidden)
	other.must2(rotated.Key, "POST", "/api/host-key", api.RotateRequest{Key: "the-third-key-of-the-night"})
	eventually(t, "the first instance takes the key rotated on the other one", func() bool {
		status, _ := e.Do("GET", "/api/events", "the-third-key-of-the-night", nil)
		return status == 200
	})
}

// must2 is must with another key.
func (e *env) must2(key, method, path string, body any) {
	e.T.Helper()
	if status, data := e.Do(method, path, key, body); status >= 300 {
		e.T.Fatalf("%s %s = %d %s", method, path, status, data)
	}
}

// TestTicketClaimsRateLimited: guessing codes from one address hits the
// per-address limit (429), and a valid claim after the limit refills works.
func TestTicketClaimsRateLimited(t *testing.T) {
	t.Parallel()
	creds := access.NewCredentials(bytes.Repeat([]byte{42}, 32), false, 1) // 1/s, burst 21
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{Credentials: creds}})
	ticketShow(e)
	tk := issue(e, "audience", 1)
	limited := 0
	for range 40 {
		status, _ := e.claim("guesser", voting.NewTicketCode())
		switch status {
		case http.StatusTooManyRequests:
			limited++
		case http.StatusNotFound:
		default:
			t.Fatalf("a guess got %d", status)
		}
	}
	if limited < 15 {
		t.Fatalf("%d of 40 guesses were rate-limited, want most beyond the burst of 21", limited)
	}
	eventually(t, "a valid claim once the limit refills", func() bool {
		status, _ := e.claim("guesser", tk[0].Code)
		return status == http.StatusOK
	})
}
