package api_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/hub/api"
	"leitai/voting"
)

// The other doors of issue 13: slow bodies, host-key guessing and its
// place in requests, what anyone in the hall can reach. Each attack runs
// here and fails.

func rateOf(r float64) rate.Limit { return rate.Limit(r) }

func ptr[T any](v T) *T { return &v }

// loopback trusts the test client as a proxy, so that X-Forwarded-For
// picks the address a request counts against.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func textLogger(w *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// metricsText is what /metrics would serve.
func metricsText(t testing.TB, e *env) string {
	t.Helper()
	rec := &recorder{header: http.Header{}}
	r, _ := http.NewRequest("GET", "/metrics", nil)
	promhttp.HandlerFor(e.Hub.Metrics().Registry, promhttp.HandlerOpts{}).ServeHTTP(rec, r)
	return rec.body.String()
}

type recorder struct {
	header http.Header
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(p []byte) (int, error) { return r.body.Write(p) }
func (r *recorder) WriteHeader(int)             {}

// slowBody opens a connection and sends a request whose body then trickles
// in, a byte every gap. It returns a channel that gets what the server
// answered (the status line, or "" if it closed without one) once it did.
func slowBody(t *testing.T, addr, method, path string, hdr http.Header, gap time.Duration) <-chan string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n", method, path, addr)
	for k, vs := range hdr {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n{")
	if _, err := c.Write([]byte(head.String())); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			if _, err := c.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	answer := make(chan string, 1)
	go func() {
		defer close(stop)
		line, _ := bufio.NewReader(c).ReadString('\n')
		for {
			// Whatever follows, the server is done when it closes.
			if _, err := c.Read(make([]byte, 512)); err != nil {
				break
			}
		}
		answer <- strings.TrimSpace(line)
	}()
	return answer
}

// TestSlowBodies: bodies that trickle in (the probe's one byte every 5 s)
// are cut off at the body deadline, and the connection closed, while a
// normal request is answered meanwhile; POST /api/host-key refuses a wrong
// key before it reads any body.
func TestSlowBodies(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{BodyTimeout: 500 * time.Millisecond, HostKeyFailures: 1000}})
	e.CreateEvent(testEvent("slow", 2))
	e.Command("slow", voting.Command{Action: voting.ActionNext})
	e.Command("slow", voting.Command{Action: voting.ActionOpen})
	addr := strings.TrimPrefix(e.Srv.URL, "http://")

	var slow []<-chan string
	for i := range 40 {
		path := "/api/events/slow/ballots"
		var hdr http.Header
		if i%2 == 1 {
			path, hdr = "/api/host-key", http.Header{"Authorization": {"Bearer " + hostKey}}
		}
		slow = append(slow, slowBody(t, addr, "POST", path, hdr, 100*time.Millisecond))
	}
	// A wrong key is refused at once, with the body still to come.
	wrong := slowBody(t, addr, "POST", "/api/host-key", http.Header{"Authorization": {"Bearer not-the-key"}}, time.Hour)

	// Meanwhile a phone's ballot goes through.
	status, data := e.Do("POST", "/api/events/slow/ballots", "", api.BallotRequest{ID: newID(), Credential: cred("normal"), Contestant: "c1", Score: ptr(80.0)})
	if status != http.StatusOK {
		t.Fatalf("a normal ballot while 40 bodies trickle in: %d %s", status, data)
	}
	if status, _ := e.Do("GET", "/api/events/slow/stage", "", nil); status != http.StatusOK {
		t.Fatalf("a normal read: %d", status)
	}
	// Every slow connection ends: a generous bound, far below the minute
	// the probe saw them stay open (the deadline is half a second).
	deadline := time.After(20 * time.Second)
	for i, ch := range slow {
		select {
		case line := <-ch:
			if line != "" && !strings.Contains(line, " 400 ") {
				t.Errorf("slow body %d answered %q, want 400 or a close", i, line)
			}
		case <-deadline:
			t.Fatalf("slow body %d still open after 20 s", i)
		}
	}
	select {
	case line := <-wrong:
		if !strings.Contains(line, " 403 ") {
			t.Errorf("wrong key with a body to come: %q, want 403", line)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a wrong key waited for its body")
	}
	if sd := e.Standings("slow"); sd.Ballots != 1 {
		t.Errorf("ballots %d, want the normal one", sd.Ballots)
	}
}

// TestRequestsInFlightCapped: one address may have MaxRequestsPerAddress
// requests in flight; beyond, 429 at once; other addresses are served.
func TestRequestsInFlightCapped(t *testing.T) {
	t.Parallel()
	creds := access.NewCredentials(bytes.Repeat([]byte{5}, 32), false, 1000).TrustProxies(loopback)
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{Credentials: creds, MaxRequestsPerAddress: 5, BodyTimeout: time.Hour}})
	e.CreateEvent(testEvent("cap", 2))
	addr := strings.TrimPrefix(e.Srv.URL, "http://")
	from := func(a string) http.Header { return http.Header{"X-Forwarded-For": {a}} }
	var held []<-chan string
	for range 5 {
		held = append(held, slowBody(t, addr, "POST", "/api/events/cap/ballots", from("203.0.113.9"), time.Second))
	}
	eventually(t, "the sixth request from the address to be refused", func() bool {
		status, _, _ := e.request("GET", "/api/events/cap/stage", from("203.0.113.9"), nil)
		return status == http.StatusTooManyRequests
	})
	if status, _, _ := e.request("GET", "/api/events/cap/stage", from("203.0.113.10"), nil); status != http.StatusOK {
		t.Fatalf("another address: %d", status)
	}
	if !strings.Contains(metricsText(t, e), "leitai_http_requests_refused_total ") {
		t.Error("refusals are not in /metrics")
	}
	_ = held
}

// TestHostKeyGuessing: wrong keys from one address are refused, logged
// with the address (never a key) and counted; after HostKeyFailures of
// them the address gets 429 without a check, even with the right key,
// while other addresses are served.
func TestHostKeyGuessing(t *testing.T) {
	t.Parallel()
	creds := access.NewCredentials(bytes.Repeat([]byte{6}, 32), false, 1000).TrustProxies(loopback)
	var logs syncBuffer
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{Logger: textLogger(&logs)}, Access: access.Config{Credentials: creds}})
	e.CreateEvent(testEvent("guess", 2))
	from := func(a, key string) http.Header {
		return http.Header{"X-Forwarded-For": {a}, "Authorization": {"Bearer " + key}}
	}
	var guesses []string
	forbidden, limited := 0, 0
	for i := range 3 * access.HostKeyFailureBurst {
		g := fmt.Sprintf("guess-%04d-%s", i, strings.Repeat("x", 10))
		guesses = append(guesses, g)
		switch status, _, _ := e.request("GET", "/api/events", from("192.0.2.66", g), nil); status {
		case http.StatusForbidden:
			forbidden++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("guess %d: %d", i, status)
		}
	}
	// One more may pass its check if the run takes HostKeyFailureEvery.
	if forbidden < access.HostKeyFailureBurst || forbidden > access.HostKeyFailureBurst+2 || limited < 2*access.HostKeyFailureBurst-2 {
		t.Fatalf("%d refused, %d limited; want %d and %d", forbidden, limited, access.HostKeyFailureBurst, 2*access.HostKeyFailureBurst)
	}
	// The right key from that address waits too: the guessing stops.
	if status, _, _ := e.request("GET", "/api/events", from("192.0.2.66", hostKey), nil); status != http.StatusTooManyRequests {
		t.Errorf("the right key from a limited address: %d, want 429", status)
	}
	// The host's sockets from there too.
	if _, resp, err := e.TryDial("guess", dialOptions{Query: "role=host", HostKey: hostKey, Header: http.Header{"X-Forwarded-For": {"192.0.2.66"}}}); err == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a host socket from a limited address: %v (%v)", err, resp)
	}
	if status, _, _ := e.request("GET", "/api/events", from("192.0.2.67", hostKey), nil); status != http.StatusOK {
		t.Errorf("the host from another address: %d", status)
	}
	m := metricsText(t, e)
	for _, want := range []string{"leitai_host_key_failures_total " + itoa(forbidden), "leitai_host_key_limited_total "} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	log := logs.String()
	if strings.Count(log, "refused a wrong host key") != forbidden || !strings.Contains(log, "192.0.2.66") {
		t.Errorf("wrong keys not logged with the address:\n%.500s", log)
	}
	for _, g := range append(guesses, hostKey) {
		if strings.Contains(log, g) {
			t.Fatalf("the log shows a key: %q", g)
		}
	}
}

// TestHTTPBallotsRateLimited: HTTP ballots of one voter are paced like a
// socket's messages (each replaced ballot stays in the audit log); other
// voters are served.
func TestHTTPBallotsRateLimited(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{Hub: hub.Config{MessageRate: 1, MessageBurst: 5}, API: api.Config{BallotRate: 1, BallotBurst: 5}})
	e.CreateEvent(testEvent("pace", 2))
	e.Command("pace", voting.Command{Action: voting.ActionNext})
	e.Command("pace", voting.Command{Action: voting.ActionOpen})
	ok, limited := 0, 0
	for i := range 60 {
		status, _ := e.Do("POST", "/api/events/pace/ballots", "", api.BallotRequest{ID: newID(), Credential: cred("eager"), Contestant: "c1", Score: ptr(60.0 + float64(i%40))})
		switch status {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("ballot %d: %d", i, status)
		}
	}
	if ok < 5 || ok > 30 || limited == 0 {
		t.Fatalf("60 HTTP ballots of one voter at once: %d accepted, %d limited", ok, limited)
	}
	var audit struct{ Entries []voting.AuditEntry }
	e.Must("GET", "/api/events/pace/audit", nil, &audit)
	if len(audit.Entries) != ok {
		t.Errorf("%d audit entries for %d accepted ballots", len(audit.Entries), ok)
	}
	if status, data := e.Do("POST", "/api/events/pace/ballots", "", api.BallotRequest{ID: newID(), Credential: cred("calm"), Contestant: "c1", Score: ptr(77.0)}); status != http.StatusOK {
		t.Errorf("another voter: %d %s", status, data)
	}
}

// TestCrossSiteRequestsRefused: a page of another origin (another port of
// the same host included: same-site) cannot make a visitor's phone change
// anything through its cookie; the server's own pages and clients that are
// not browsers can.
func TestCrossSiteRequestsRefused(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{})
	e.CreateEvent(testEvent("csrf", 2))
	e.Command("csrf", voting.Command{Action: voting.ActionNext})
	e.Command("csrf", voting.Command{Action: voting.ActionOpen})
	cookie := "leitai_voter.csrf=" + cred("victim")
	u, _ := url.Parse(e.Srv.URL)
	other := "http://" + u.Hostname() + ":1" // another port of the same host
	for _, tc := range []struct {
		name string
		hdr  http.Header
		ok   bool
	}{
		{"another port of the same host", http.Header{"Origin": {other}, "Sec-Fetch-Site": {"same-site"}}, false},
		{"another port, Origin only (older browsers)", http.Header{"Origin": {other}}, false},
		{"another site", http.Header{"Origin": {"http://evil.example"}, "Sec-Fetch-Site": {"cross-site"}}, false},
		{"a sandboxed frame", http.Header{"Origin": {"null"}}, false},
		{"same-site without an Origin", http.Header{"Sec-Fetch-Site": {"same-site"}}, false},
		{"the vote page itself", http.Header{"Origin": {e.Srv.URL}, "Sec-Fetch-Site": {"same-origin"}}, true},
		{"not a browser", http.Header{}, true},
	} {
		tc.hdr.Set("Cookie", cookie)
		for _, path := range []string{"/api/events/csrf/ballots", "/api/events/csrf/tickets/ABCDEFGHJK/claim", "/api/voter"} {
			var body any = api.BallotRequest{ID: newID(), Contestant: "c1", Score: ptr(100.0)}
			if path == "/api/voter" {
				body = api.VoterRequest{Event: "csrf"}
			} else if strings.Contains(path, "claim") {
				body = nil
			}
			status, _, data := e.request("POST", path, tc.hdr, body)
			if tc.ok && status == http.StatusForbidden && strings.Contains(string(data), "other sites") {
				t.Errorf("%s: POST %s refused: %s", tc.name, path, data)
			}
			if !tc.ok {
				wantAPIError(t, status, data, http.StatusForbidden, voting.CodeForbidden)
			}
		}
	}
	var audit struct{ Entries []voting.AuditEntry }
	e.Must("GET", "/api/events/csrf/audit", nil, &audit)
	if len(audit.Entries) != 2 {
		t.Errorf("%d ballots counted, want the 2 allowed ones", len(audit.Entries))
	}
}

// TestHostHeaderChecked: with a public URL, the server answers only for its
// name, IP addresses and localhost (a page on a name pointed at it, DNS
// rebinding, gets 421); every answer has nosniff.
func TestHostHeaderChecked(t *testing.T) {
	t.Parallel()
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{PublicURL: "https://vote.example.com"}})
	e.CreateEvent(testEvent("host", 2))
	for _, tc := range []struct {
		host string
		want int
	}{
		{"vote.example.com", 200}, {"VOTE.example.com:443", 200}, {"localhost:8080", 200}, {"192.168.1.20:8080", 200}, {"[::1]:8080", 200},
		{"evil.example", 421}, {"vote.example.com.evil.example", 421}, {"vote.example.com:8443", 421},
	} {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", e.Srv.URL+"/api/events/host/stage", nil)
		req.Host = tc.host
		resp, err := e.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("Host %s: %d, want %d", tc.host, resp.StatusCode, tc.want)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("Host %s: no nosniff", tc.host)
		}
	}
	for _, path := range []string{"/api/events/host", "/api/events/nope", "/api/nothing"} {
		status, h, _ := e.request("GET", path, nil, nil)
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s (%d): headers %v", path, status, h)
		}
	}
}
