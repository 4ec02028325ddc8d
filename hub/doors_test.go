package hub_test

import (
	"bytes"
	"net/http"
	"net/netip"
	"testing"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/voting"
)

// loopback trusts the test client as a proxy, so that X-Forwarded-For
// picks the address a request counts against.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}

// The doors of the sockets (issue 13): the host key never in a URL, and
// the screens one address may hold. The doors of the HTTP API are tested
// in hub/api.

// TestHostKeyOutOfURLs: the host key is taken from headers and, for the
// control page's socket, the leitai-key subprotocol; never from a URL.
func TestHostKeyOutOfURLs(t *testing.T) {
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{HostKeyFailures: 1000}})
	e.CreateEvent(testEvent("url", 2))
	if status, _ := e.Do("GET", "/api/events/url/standings?key="+hostKey, "", nil); status != http.StatusForbidden {
		t.Errorf("?key= on the API: %d, want 403", status)
	}
	if _, resp, err := e.TryDial("url", dialOptions{Query: "role=host&key=" + hostKey}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("?key= on the socket: %v, want 403", err)
	}
	for name, o := range map[string]dialOptions{
		"subprotocol": {Query: "role=host", HostKey: hostKey},
		"header":      {Query: "role=host", Header: http.Header{"X-Host-Key": {hostKey}}},
	} {
		c, _, err := e.TryDial("url", o)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s := c.WaitSnapshot(); s.Role != hub.RoleHost {
			t.Errorf("%s: role %s", name, s.Role)
		}
		if o.HostKey != "" && c.Conn.Subprotocol() != "leitai" {
			t.Errorf("%s: subprotocol %q, want leitai", name, c.Conn.Subprotocol())
		}
		c.Close()
	}
	// A key a person chose may be any text: base64url carries it.
	if _, resp, err := e.TryDial("url", dialOptions{Query: "role=host", HostKey: "擂台 主持 密钥 2020!"}); err == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("another key: %v", err)
	}
	// Short keys are refused at start.
	svc := voting.NewService(e.Store, nil)
	if _, err := access.NewGuard(access.Config{Keys: svc, HostKey: "fifteen-chars!!", Credentials: testCreds}); err == nil {
		t.Error("a 15-character host key was taken")
	}
}

// TestScreensCappedPerAddress: screen sockets from one address are capped
// (the probe opened 1,000); a closed one frees its place; other addresses
// are not affected.
func TestScreensCappedPerAddress(t *testing.T) {
	creds := access.NewCredentials(bytes.Repeat([]byte{7}, 32), false, 1000).TrustProxies(loopback)
	e := newEmbeddedEnv(t, envOptions{Access: access.Config{Credentials: creds, MaxScreensPerAddress: 3}})
	e.CreateEvent(testEvent("scr", 2))
	from := func(a string) dialOptions {
		return dialOptions{Query: "role=screen", Header: http.Header{"X-Forwarded-For": {a}}}
	}
	var screens []*wsClient
	for range 3 {
		screens = append(screens, e.DialWith("scr", from("203.0.113.1")))
	}
	if _, resp, err := e.TryDial("scr", from("203.0.113.1")); err == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a fourth screen from one address: %v (%v), want 429", err, resp)
	}
	e.DialWith("scr", from("203.0.113.2")).WaitSnapshot()
	screens[0].Close()
	eventually(t, "a closed screen to free its place", func() bool {
		c, _, err := e.TryDial("scr", from("203.0.113.1"))
		if err != nil {
			return false
		}
		c.Close()
		return true
	})
}
