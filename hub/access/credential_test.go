package access

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"leitai/voting"
)

func testCredentials(limit float64) *Credentials {
	return NewCredentials(bytes.Repeat([]byte{7}, 32), false, rate.Limit(limit))
}

func TestCredentialRoundTrip(t *testing.T) {
	t.Parallel()
	c := testCredentials(10)
	for _, scope := range []Scope{{}, {Event: "ev"}, {Event: "ev", Panel: "judges"}, {Event: "ev", Panel: TicketPanels}} {
		cred, voter := c.New(scope)
		if len(voter) != 22 {
			t.Fatalf("voter id %q: want 22 characters (128 bits)", voter)
		}
		got, s, ok := c.Check(cred)
		if !ok || got != voter || s != scope {
			t.Fatalf("Check(%q) = %q, %+v, %v; want %q, %+v", cred, got, s, ok, voter, scope)
		}
		other := NewCredentials(bytes.Repeat([]byte{8}, 32), false, 10)
		if _, ok := other.Voter(cred); ok {
			t.Fatal("a credential passed under another secret")
		}
		_, voter2 := c.New(scope)
		if voter2 == voter {
			t.Fatal("two credentials share a voter id")
		}
	}
}

func TestCredentialForgeries(t *testing.T) {
	t.Parallel()
	c := testCredentials(10)
	cred, voter := c.New(Scope{})
	mac := cred[strings.LastIndexByte(cred, '.')+1:]
	flipped := []byte(cred)
	flipped[len(flipped)-1] ^= 1
	scoped, sv := c.New(Scope{Event: "ev", Panel: "judges"})
	smac := scoped[strings.LastIndexByte(scoped, '.')+1:]
	for _, bad := range []string{
		"", "v1.", voter, "v1." + voter, "v1." + voter + ".", "v2." + voter + "." + mac,
		"v1.AAAAAAAAAAAAAAAAAAAAAA." + mac, string(flipped), cred + "x",
		"v1." + strings.Repeat("a", 200) + "." + mac,
		// A scope cannot be widened or moved: the MAC covers it.
		"v2.ev.." + sv + "." + smac, "v2.other.judges." + sv + "." + smac, "v2.ev." + TicketPanels + "." + sv + "." + smac,
		"v1." + sv + "." + smac, "v2.ev.judges." + sv, "v2.ev.judges.x." + sv + "." + smac, "v2.EV.judges." + sv + "." + smac,
	} {
		if v, ok := c.Voter(bad); ok {
			t.Errorf("Voter(%q) accepted as %q", bad, v)
		}
	}
}

func TestScopeAdmits(t *testing.T) {
	t.Parallel()
	ev := &voting.Event{ID: "ev", Panels: []voting.Panel{
		{ID: "audience"}, {ID: "judges", Key: "k"}, {ID: "staff", Tickets: true},
	}}
	tests := []struct {
		scope Scope
		panel string
		want  bool
	}{
		{Scope{}, "audience", true},
		{Scope{}, "judges", true},
		{Scope{Event: "ev"}, "audience", true},
		{Scope{Event: "ev"}, "staff", true},
		{Scope{Event: "ev"}, "", true},
		{Scope{Event: "other"}, "audience", false},
		{Scope{Event: "other"}, "", false},
		{Scope{Event: "ev", Panel: "judges"}, "judges", true},
		{Scope{Event: "ev", Panel: "judges"}, "audience", false},
		{Scope{Event: "ev", Panel: "judges"}, "", true},
		{Scope{Event: "ev", Panel: TicketPanels}, "staff", true},
		{Scope{Event: "ev", Panel: TicketPanels}, "audience", false},
		{Scope{Event: "ev", Panel: TicketPanels}, "judges", false},
		{Scope{Event: "ev", Panel: TicketPanels}, "nope", false},
	}
	for _, tc := range tests {
		if got := tc.scope.Admits(ev, tc.panel); got != tc.want {
			t.Errorf("%+v admits %q = %v, want %v", tc.scope, tc.panel, got, tc.want)
		}
	}
}

func TestCredentialFromRequest(t *testing.T) {
	t.Parallel()
	c := testCredentials(10)
	ev := &voting.Event{ID: "x", Panels: []voting.Panel{{ID: "audience"}}}
	cred, voter := c.New(Scope{Event: "x"})
	legacy := c.For("old-phone")
	for name, tc := range map[string]struct {
		r     *http.Request
		voter string
	}{
		"event cookie": {func() *http.Request {
			r := httptest.NewRequest("GET", "/e/x/ws", nil)
			r.AddCookie(&http.Cookie{Name: CredentialCookie + ".x", Value: cred})
			return r
		}(), voter},
		"legacy cookie": {func() *http.Request {
			r := httptest.NewRequest("GET", "/e/x/ws", nil)
			r.AddCookie(&http.Cookie{Name: CredentialCookie, Value: legacy})
			return r
		}(), "old-phone"},
		"query": {httptest.NewRequest("GET", "/e/x/ws?credential="+cred, nil), voter},
		"header": {func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set(CredentialHeader, cred)
			return r
		}(), voter},
		"subprotocol": {func() *http.Request {
			r := httptest.NewRequest("GET", "/e/x/ws", nil)
			r.Header.Set("Sec-WebSocket-Protocol", "leitai, leitai-cred."+cred)
			return r
		}(), voter},
		"another event's cookie, then the header": {func() *http.Request {
			r := httptest.NewRequest("GET", "/e/x/ws", nil)
			other, _ := c.New(Scope{Event: "y"})
			r.AddCookie(&http.Cookie{Name: CredentialCookie, Value: other})
			r.Header.Set(CredentialHeader, cred)
			return r
		}(), voter},
	} {
		if v, _, ok := c.FromRequest(tc.r, ev, "audience"); !ok || v != tc.voter {
			t.Errorf("%s: %q %v", name, v, ok)
		}
	}
	if _, _, ok := c.FromRequest(httptest.NewRequest("GET", "/e/x/ws?voter="+voter, nil), ev, ""); ok {
		t.Error("a bare voter id passed as a credential")
	}
	other, _ := c.New(Scope{Event: "y"})
	r := httptest.NewRequest("GET", "/e/x/ws", nil)
	r.Header.Set(CredentialHeader, other)
	if _, _, ok := c.FromRequest(r, ev, ""); ok {
		t.Error("a credential of another event passed")
	}
}

// TestHallCodes: a code is valid in its period, the one before and the one
// after, and not two periods away; codes differ between events and
// periods; the screen key differs between events.
func TestHallCodes(t *testing.T) {
	t.Parallel()
	now := time.Date(2020, 5, 20, 14, 0, 0, 0, time.UTC)
	c := testCredentials(10).WithHallCode(30*time.Second, func() time.Time { return now })
	code := c.HallCode("ev", now)
	if len(code) != HallCodeLength || strings.Trim(code, hallAlphabet) != "" {
		t.Fatalf("code %q: want %d characters of %s", code, HallCodeLength, hallAlphabet)
	}
	if cur, left := c.CurrentHallCode("ev"); cur != code || left <= 0 || left > 30*time.Second {
		t.Fatalf("CurrentHallCode = %q, %v", cur, left)
	}
	if c.HallCode("other", now) == code || c.HallCode("ev", now.Add(30*time.Second)) == code {
		t.Fatal("two events or two periods share a code")
	}
	start := now
	for _, tc := range []struct {
		after time.Duration
		valid bool
	}{
		{0, true}, {29 * time.Second, true}, {59 * time.Second, true}, {-30 * time.Second, true},
		{61 * time.Second, false}, {10 * time.Minute, false}, {-61 * time.Second, false},
	} {
		now = start.Add(tc.after)
		if got := c.ValidHallCode("ev", code); got != tc.valid {
			t.Errorf("%v after: valid = %v, want %v", tc.after, got, tc.valid)
		}
	}
	now = start
	for _, bad := range []string{"", code[:5], code + "x", " " + code[:5] + " "} {
		if c.ValidHallCode("ev", bad) {
			t.Errorf("code %q passed", bad)
		}
	}
	if !c.ValidHallCode("ev", strings.ToUpper(code)) {
		t.Error("the code in capitals was refused")
	}
	if c.ValidHallCode("other", code) {
		t.Error("a code passed for another event")
	}
	if c.ScreenKey("ev") == c.ScreenKey("other") || len(c.ScreenKey("ev")) < 20 {
		t.Errorf("screen keys %q %q", c.ScreenKey("ev"), c.ScreenKey("other"))
	}
}

func TestClientAddressBehindProxies(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	tests := []struct {
		name    string
		proxies []netip.Prefix
		remote  string
		xff     []string
		want    string
	}{
		{"direct", nil, "203.0.113.7:5555", nil, "203.0.113.7"},
		{"header from an untrusted peer is ignored", nil, "203.0.113.7:5555", []string{"198.51.100.1"}, "203.0.113.7"},
		{"one trusted proxy", proxies, "127.0.0.1:40000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a spoofed hop before the real one", proxies, "127.0.0.1:40000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies", proxies, "127.0.0.1:40000", []string{"198.51.100.1, 10.1.2.3"}, "198.51.100.1"},
		{"header lines joined", proxies, "127.0.0.1:40000", []string{"9.9.9.9", "198.51.100.1"}, "198.51.100.1"},
		{"only proxies", proxies, "10.0.0.5:1", []string{"10.0.0.6"}, "10.0.0.5"},
		{"malformed chain", proxies, "127.0.0.1:40000", []string{"198.51.100.1, nonsense"}, "127.0.0.1"},
		{"no header", proxies, "127.0.0.1:40000", nil, "127.0.0.1"},
		{"IPv6 peer", []netip.Prefix{netip.MustParsePrefix("::1/128")}, "[::1]:9", []string{"2001:db8::5"}, "2001:db8::5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testCredentials(1).TrustProxies(tc.proxies)
			r := httptest.NewRequest("POST", "/api/voter", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := c.clientAddress(r); got != tc.want {
				t.Fatalf("clientAddress = %q, want %q", got, tc.want)
			}
		})
	}
}
