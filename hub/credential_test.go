package hub

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/time/rate"
)

func testCredentials(limit float64) *Credentials {
	return NewCredentials(bytes.Repeat([]byte{7}, 32), false, rate.Limit(limit))
}

func TestCredentialRoundTrip(t *testing.T) {
	c := testCredentials(10)
	cred, voter := c.New()
	if len(voter) != 22 {
		t.Fatalf("voter id %q: want 22 characters (128 bits)", voter)
	}
	got, ok := c.Voter(cred)
	if !ok || got != voter {
		t.Fatalf("Voter(%q) = %q, %v", cred, got, ok)
	}
	other := NewCredentials(bytes.Repeat([]byte{8}, 32), false, 10)
	if _, ok := other.Voter(cred); ok {
		t.Fatal("a credential passed under another secret")
	}
	_, voter2 := c.New()
	if voter2 == voter {
		t.Fatal("two credentials share a voter id")
	}
}

func TestCredentialForgeries(t *testing.T) {
	c := testCredentials(10)
	cred, voter := c.New()
	mac := cred[strings.LastIndexByte(cred, '.')+1:]
	flipped := []byte(cred)
	flipped[len(flipped)-1] ^= 1
	for _, bad := range []string{
		"", "v1.", voter, "v1." + voter, "v1." + voter + ".", "v2." + voter + "." + mac,
		"v1.AAAAAAAAAAAAAAAAAAAAAA." + mac, string(flipped), cred + "x",
		"v1." + strings.Repeat("a", 200) + "." + mac,
	} {
		if v, ok := c.Voter(bad); ok {
			t.Errorf("Voter(%q) accepted as %q", bad, v)
		}
	}
}

func TestCredentialIssue(t *testing.T) {
	c := testCredentials(1) // burst 21 per address
	issue := func(remote string, cookie *http.Cookie) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", "/api/voter", nil)
		r.RemoteAddr = remote
		if cookie != nil {
			r.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		c.Issue(w, r)
		return w
	}
	w := issue("10.0.0.1:5000", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var body struct{ Voter, Credential string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	if cookie.Name != CredentialCookie || cookie.Value != body.Credential || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("cookie %+v", cookie)
	}
	if v, ok := c.Voter(body.Credential); !ok || v != body.Voter {
		t.Fatalf("issued credential does not check: %q %v", v, ok)
	}
	// A device that comes back keeps its identity, without counting
	// against the address's limit.
	for i := 0; i < 50; i++ {
		w := issue("10.0.0.1:5000", cookie)
		var again struct{ Voter string }
		_ = json.Unmarshal(w.Body.Bytes(), &again)
		if w.Code != http.StatusOK || again.Voter != body.Voter {
			t.Fatalf("return visit %d: %d %s", i, w.Code, w.Body)
		}
	}
	// New identities from one address run into the limit; another
	// address is not affected.
	limited := false
	for i := 0; i < 40 && !limited; i++ {
		limited = issue("10.0.0.2:6000", nil).Code == http.StatusTooManyRequests
	}
	if !limited {
		t.Fatal("40 new credentials at once from one address were all issued")
	}
	if w := issue("10.0.0.3:7000", nil); w.Code != http.StatusOK {
		t.Fatalf("another address was limited too: %d", w.Code)
	}
}

func TestCredentialFromRequest(t *testing.T) {
	c := testCredentials(10)
	cred, voter := c.New()
	for name, r := range map[string]*http.Request{
		"cookie": func() *http.Request {
			r := httptest.NewRequest("GET", "/e/x/ws", nil)
			r.AddCookie(&http.Cookie{Name: CredentialCookie, Value: cred})
			return r
		}(),
		"query": httptest.NewRequest("GET", "/e/x/ws?credential="+cred, nil),
		"header": func() *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("X-Leitai-Credential", cred)
			return r
		}(),
	} {
		if v, ok := c.FromRequest(r); !ok || v != voter {
			t.Errorf("%s: %q %v", name, v, ok)
		}
	}
	if _, ok := c.FromRequest(httptest.NewRequest("GET", "/e/x/ws?voter="+voter, nil)); ok {
		t.Error("a bare voter id passed as a credential")
	}
}

func TestClientAddressBehindProxies(t *testing.T) {
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
