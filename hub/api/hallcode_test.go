package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/hub/api"
	"leitai/voting"
)

// The rotating hall code (现场码), issue 13 §1: the stuffing script of the
// security probe, run against it, and what a phone legitimately does.

// testClock is a clock a test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Date(2020, 5, 20, 14, 0, 0, 0, time.UTC)} }

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// hallCreds are credentials with their own secret, issuing rate and clock.
func hallCreds(perAddress float64, clk *testClock) *access.Credentials {
	return access.NewCredentials(bytes.Repeat([]byte{99}, 32), false, rateOf(perAddress)).WithHallCode(30*time.Second, clk.now)
}

// request sends a request with headers and returns the status, headers
// and body.
func (e *env) request(method, path string, hdr http.Header, body any) (int, http.Header, []byte) {
	e.T.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(testContext(e.T), method, e.Srv.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := e.HTTP.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, data
}

// issued is the answer of POST /api/voter.
type issued struct {
	Voter      string `json:"voter"`
	Credential string `json:"credential"`
	Error      *access.ErrorBody
}

// join asks for a voter credential as the vote page does.
func (e *env) join(req api.VoterRequest, hdr http.Header) (int, issued, http.Header) {
	e.T.Helper()
	status, h, data := e.request("POST", "/api/voter", hdr, req)
	var out issued
	if err := json.Unmarshal(data, &out); err != nil {
		e.T.Fatalf("POST /api/voter: %d %s", status, data)
	}
	return status, out, h
}

func credHeader(cred string) http.Header { return http.Header{access.CredentialHeader: {cred}} }

// TestStuffingNeedsHallCode is the probe's stuffing script: a fresh
// credential before each ballot. With the hall code on and no current
// code (none, a copied one that expired, a guess) it gets no credential and
// casts nothing; a credential of an event without the hall code does not
// count in one with it. (Without the hall code, the script got 412 counted
// ballots from one address in 0.59 s.)
func TestStuffingNeedsHallCode(t *testing.T) {
	t.Parallel()
	clk := newTestClock()
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{Credentials: hallCreds(1000, clk)}})
	e.CreateEvent(testEvent("stuff", 2)) // the hall code is on by default
	open := testEvent("open", 2)
	open.NoHallCode = true
	e.CreateEvent(open)
	for _, ev := range []string{"stuff", "open"} {
		e.Command(ev, voting.Command{Action: voting.ActionNext})
		e.Command(ev, voting.Command{Action: voting.ActionOpen})
	}
	copied := e.HallCode("stuff")
	clk.add(61 * time.Second) // the copied link's code has expired

	credentials, refused := 0, map[voting.Code]int{}
	for i := range 300 {
		req := api.VoterRequest{Event: "stuff"}
		switch i % 3 {
		case 1:
			req.HallCode = copied
		case 2:
			req.HallCode = "a2b3c4"
		}
		status, out, _ := e.join(req, nil)
		if status == http.StatusOK {
			credentials++
			if s, data := e.Do("POST", "/api/events/stuff/ballots", "", api.BallotRequest{
				ID: newID(), Credential: out.Credential, Contestant: "c1", Score: ptr(100.0),
			}); s == http.StatusOK {
				t.Fatalf("a stuffed ballot counted: %s", data)
			}
			continue
		}
		if out.Error != nil {
			refused[out.Error.Code]++
		}
	}
	if credentials != 0 || refused[voting.CodeHallCode] != 300 {
		t.Fatalf("without a current hall code: %d credentials, refusals %v; want 0 and 300 hall_code", credentials, refused)
	}
	if sd := e.Standings("stuff"); sd.Ballots != 0 {
		t.Fatalf("ballots counted: %+v", sd)
	}

	// An event without the hall code gives credentials freely; they do not
	// count in another event.
	status, out, _ := e.join(api.VoterRequest{Event: "open"}, nil)
	if status != http.StatusOK {
		t.Fatalf("open event: %d %+v", status, out)
	}
	s, data := e.Do("POST", "/api/events/stuff/ballots", "", api.BallotRequest{ID: newID(), Credential: out.Credential, Contestant: "c1", Score: ptr(100.0)})
	wantAPIError(t, s, data, http.StatusForbidden, voting.CodeForbidden)
	_, resp, err := e.TryDial("stuff", dialOptions{Query: "role=voter", Header: credHeader(out.Credential)})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a socket with another event's credential: %v (%v), want 403", err, resp)
	}
	if status, again, _ := e.join(api.VoterRequest{Event: "stuff"}, credHeader(out.Credential)); status != http.StatusForbidden || again.Error.Code != voting.CodeHallCode {
		t.Errorf("another event's credential traded for one: %d %+v", status, again)
	}
	// It works where it was issued.
	if s, data := e.Do("POST", "/api/events/open/ballots", "", api.BallotRequest{ID: newID(), Credential: out.Credential, Contestant: "c1", Score: ptr(80.0)}); s != http.StatusOK {
		t.Fatalf("the open event's own credential: %d %s", s, data)
	}
}

// TestHallCodeInHallRate: with a current code, new credentials from one
// address come at the per-address rate (a burst of 20× the rate, then the
// rate), so a script in the hall is bounded; another address is not
// affected; every new credential is counted and a busy address is logged.
func TestHallCodeInHallRate(t *testing.T) {
	t.Parallel()
	clk := newTestClock()
	var logs syncBuffer
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{Logger: textLogger(&logs)}, Access: access.Config{Credentials: hallCreds(1, clk).TrustProxies(loopback)}})
	e.CreateEvent(testEvent("hall", 2))
	code := e.HallCode("hall")
	from := func(addr string) http.Header { return http.Header{"X-Forwarded-For": {addr}} }
	ok, limited := 0, 0
	for range 200 {
		switch status, _, _ := e.join(api.VoterRequest{Event: "hall", HallCode: code}, from("198.51.100.7")); status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("status %d", status)
		}
	}
	// Burst 21 at 1/s: however slow the machine, far fewer than 200.
	if ok < 21 || ok > 100 || limited == 0 {
		t.Fatalf("200 requests with a current code from one address: %d credentials, %d limited", ok, limited)
	}
	if status, _, _ := e.join(api.VoterRequest{Event: "hall", HallCode: code}, from("198.51.100.8")); status != http.StatusOK {
		t.Fatalf("another address was limited too: %d", status)
	}
	m := metricsText(t, e)
	for _, want := range []string{`leitai_voter_credentials_issued_total{proof="hall_code"} ` + itoa(ok+1), `leitai_voter_credentials_refused_total{reason="rate"} ` + itoa(limited)} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if ok >= access.IssueWatchThreshold {
		if !strings.Contains(logs.String(), "many new voter credentials from one address") || !strings.Contains(logs.String(), "198.51.100.7") ||
			!strings.Contains(m, "leitai_voter_credentials_flagged_addresses_total 1\n") {
			t.Errorf("the busy address was not logged and counted:\n%s", logs.String())
		}
	}
}

// TestHallCodeJoin is a phone's path: it joins with the code of the QR
// code it scanned; a reload or reconnect (cookie or its stored copy) keeps
// its identity with no code, long after the code changed; a phone whose
// code expired on the way is told so; the code of the period before still
// admits (it scanned just before the screen changed it).
func TestHallCodeJoin(t *testing.T) {
	t.Parallel()
	clk := newTestClock()
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{Credentials: hallCreds(1000, clk)}})
	e.CreateEvent(testEvent("join", 2))
	e.Command("join", voting.Command{Action: voting.ActionNext})
	e.Command("join", voting.Command{Action: voting.ActionOpen})

	code := e.HallCode("join")
	status, phone, h := e.join(api.VoterRequest{Event: "join", HallCode: code}, nil)
	if status != http.StatusOK || len(phone.Voter) != 22 {
		t.Fatalf("joining with the code: %d %+v", status, phone)
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == access.CredentialCookie+".join" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != phone.Credential || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
		t.Fatalf("cookie %+v", cookie)
	}

	clk.add(10 * time.Minute) // the code is long gone
	for name, hdr := range map[string]http.Header{
		"cookie": {"Cookie": {cookie.Name + "=" + cookie.Value}},
		"stored": credHeader(phone.Credential),
	} {
		status, again, _ := e.join(api.VoterRequest{Event: "join"}, hdr)
		if status != http.StatusOK || again.Voter != phone.Voter || again.Credential != phone.Credential {
			t.Errorf("reload with the %s credential: %d %+v", name, status, again)
		}
	}
	v := e.DialWith("join", dialOptions{Query: "role=voter", Protocols: []string{"leitai", "leitai-cred." + phone.Credential}})
	if s := v.WaitSnapshot(); s.Voter != phone.Voter {
		t.Fatalf("socket voter %q, want %q", s.Voter, phone.Voter)
	}
	wantAccepted(t, v.Ballot(newID(), "c1", 80), "c1", 80, false)

	// Slow Wi-Fi: the code expired before the phone got in.
	status, late, _ := e.join(api.VoterRequest{Event: "join", HallCode: code}, nil)
	if status != http.StatusForbidden || late.Error == nil || late.Error.Code != voting.CodeHallCode || !strings.Contains(late.Error.Message, "expired") {
		t.Errorf("an expired code: %d %+v", status, late)
	}
	status, none, _ := e.join(api.VoterRequest{Event: "join"}, nil)
	if status != http.StatusForbidden || none.Error == nil || none.Error.Code != voting.CodeHallCode || !strings.Contains(none.Error.Message, "scan the QR code") {
		t.Errorf("no code: %d %+v", status, none)
	}
	// The code of the period before admits; two periods back does not.
	prev := e.HallCode("join")
	clk.add(30 * time.Second)
	if status, _, _ := e.join(api.VoterRequest{Event: "join", HallCode: prev}, nil); status != http.StatusOK {
		t.Errorf("the previous period's code: %d", status)
	}
	clk.add(30 * time.Second)
	if status, _, _ := e.join(api.VoterRequest{Event: "join", HallCode: prev}, nil); status != http.StatusForbidden {
		t.Errorf("a code two periods old: %d, want 403", status)
	}
	// Bad requests change nothing and say why.
	for _, body := range []string{`{}`, `{"event":"nope"}`, `{"event":"join","panel":"nope"}`, `{"event":"join","extra":1}`, `not json`} {
		status, data := e.Do("POST", "/api/voter", "", body)
		if status != http.StatusBadRequest && status != http.StatusNotFound {
			t.Errorf("POST /api/voter %s: %d %s", body, status, data)
		}
	}
}

// TestHallCodeExemptions: a panel with a key or with tickets needs no hall
// code (the key or the ticket is the proof), and what it gets admits only
// there.
func TestHallCodeExemptions(t *testing.T) {
	t.Parallel()
	clk := newTestClock()
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{Credentials: hallCreds(1000, clk)}})
	ev := testEvent("exempt", 2)
	ev.Panels = append(ev.Panels, voting.Panel{ID: "staff", Name: "员工", Weight: 10, Tickets: true})
	e.CreateEvent(ev)
	e.Command("exempt", voting.Command{Action: voting.ActionNext})
	e.Command("exempt", voting.Command{Action: voting.ActionOpen})

	// A judge's link: the panel key.
	status, judge, _ := e.join(api.VoterRequest{Event: "exempt", Panel: "judges", PanelKey: "judge-key"}, nil)
	if status != http.StatusOK {
		t.Fatalf("judge: %d %+v", status, judge)
	}
	j := e.DialWith("exempt", dialOptions{Query: "role=voter&panel=judges&panelKey=judge-key", Header: credHeader(judge.Credential)})
	wantAccepted(t, j.Ballot(newID(), "c1", 90), "c1", 90, false)
	if _, resp, err := e.TryDial("exempt", dialOptions{Query: "role=voter", Header: credHeader(judge.Credential)}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a judge's credential in the audience: %v, want 403", err)
	}
	if status, wrong, _ := e.join(api.VoterRequest{Event: "exempt", Panel: "judges", PanelKey: "guess"}, nil); status != http.StatusForbidden || wrong.Error.Code != voting.CodeForbidden {
		t.Errorf("a wrong panel key: %d %+v", status, wrong)
	}

	// A ticket: a credential for the panels that take tickets, useless
	// without a ticket and elsewhere.
	var tk struct{ Tickets []api.TicketView }
	e.Must("POST", "/api/events/exempt/tickets", api.IssueRequest{Panel: "staff", Count: 1}, &tk)
	status, holder, _ := e.join(api.VoterRequest{Event: "exempt", Ticket: true}, nil)
	if status != http.StatusOK {
		t.Fatalf("ticket holder: %d %+v", status, holder)
	}
	if _, resp, err := e.TryDial("exempt", dialOptions{Query: "role=voter", Header: credHeader(holder.Credential)}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("a ticket credential in the audience: %v, want 403", err)
	}
	staff := e.DialWith("exempt", dialOptions{Query: "role=voter&panel=staff", Header: credHeader(holder.Credential)})
	wantRefused(t, staff.Ballot(newID(), "c1", 70), voting.CodeForbidden) // no ticket yet
	if s, _, data := e.request("POST", "/api/events/exempt/tickets/"+tk.Tickets[0].Code+"/claim", credHeader(holder.Credential), nil); s != http.StatusOK {
		t.Fatalf("claim: %d %s", s, data)
	}
	wantAccepted(t, staff.Ballot(newID(), "c1", 70), "c1", 70, false)
	if status, _, _ := e.join(api.VoterRequest{Event: "exempt", Panel: "staff"}, nil); status != http.StatusOK {
		t.Errorf("a phone naming a ticket panel: %d", status)
	}
}

// TestHallCodeForScreens: the code is read with the screen key (which the
// control page's screen link carries) or the host key; a copied vote link
// names the event and nothing more, so it cannot read the next code.
func TestHallCodeForScreens(t *testing.T) {
	t.Parallel()
	clk := newTestClock()
	creds := hallCreds(1000, clk)
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{Credentials: creds}})
	e.CreateEvent(testEvent("scr", 2))
	open := testEvent("remote", 2)
	open.NoHallCode = true
	e.CreateEvent(open)

	var host api.HallCodeInfo
	e.Must("GET", "/api/events/scr/hall-code", nil, &host)
	if !host.On || host.Code != creds.HallCode("scr", clk.now()) || host.ScreenKey != creds.ScreenKey("scr") || host.ExpiresIn <= 0 || host.Period != 30000 {
		t.Fatalf("host: %+v", host)
	}
	status, _, data := e.request("GET", "/api/events/scr/hall-code", http.Header{api.ScreenKeyHeader: {host.ScreenKey}}, nil)
	var screen api.HallCodeInfo
	if status != http.StatusOK || json.Unmarshal(data, &screen) != nil || screen.Code != host.Code || screen.ScreenKey != "" {
		t.Fatalf("screen: %d %s", status, data)
	}
	for name, hdr := range map[string]http.Header{
		"nothing":                  nil,
		"another event's key":      {api.ScreenKeyHeader: {creds.ScreenKey("remote")}},
		"a phone's own credential": credHeader(testCreds.For("v")),
	} {
		status, _, data := e.request("GET", "/api/events/scr/hall-code", hdr, nil)
		wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
		if strings.Contains(string(data), host.Code) {
			t.Errorf("%s: the code leaked: %s", name, data)
		}
	}
	// The code rotates with the period.
	clk.add(30 * time.Second)
	var next api.HallCodeInfo
	e.Must("GET", "/api/events/scr/hall-code", nil, &next)
	if next.Code == host.Code {
		t.Errorf("the code did not change with the period")
	}
	// Off: anyone may ask, there is nothing to tell.
	status, _, data = e.request("GET", "/api/events/remote/hall-code", nil, nil)
	if status != http.StatusOK || strings.TrimSpace(string(data)) != `{"on":false}` {
		t.Errorf("hall code off: %d %s", status, data)
	}
}
