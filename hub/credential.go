package hub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"leitai/voting"
)

// Voter credentials. The server gives each device a credential: 128
// random bits (the voter id) and an HMAC of them under a secret that every
// instance shares (kept in the store), so any instance can check a
// credential without a lookup and nobody can make one up. A script that
// skips the page still needs a credential per voter, and credentials are
// issued at a limited rate per address.
const (
	// CredentialCookie holds the credential; pages that lose cookies
	// (some in-app browsers) send it as the credential query parameter.
	CredentialCookie = "leitai_voter"
	credentialPrefix = "v1."
	credentialMaxAge = 30 * 24 * time.Hour
)

var b64 = base64.RawURLEncoding

// Credentials issues and checks voter credentials.
type Credentials struct {
	secret []byte
	secure bool // set the cookie's Secure attribute (the public URL is https)

	issue *addressLimiter
	// proxies are the peers whose X-Forwarded-For is believed.
	proxies []netip.Prefix
}

// TrustProxies makes the client address of a request from one of these
// peers (a reverse proxy in front of leitai) the nearest address in its
// X-Forwarded-For that is not itself a trusted proxy, so that per-address
// limits apply to phones rather than to the proxy. Other peers' headers
// are ignored: anyone can write X-Forwarded-For.
func (c *Credentials) TrustProxies(proxies []netip.Prefix) *Credentials {
	c.proxies = proxies
	return c
}

func (c *Credentials) trusted(a netip.Addr) bool {
	for _, p := range c.proxies {
		if p.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// NewCredentials returns an issuer/checker with the given secret (at least
// 32 bytes). perAddress limits issuing per client address (per second,
// with a burst of 20×): halls behind one NAT address share it, so keep it
// generous.
func NewCredentials(secret []byte, secure bool, perAddress rate.Limit) *Credentials {
	return &Credentials{secret: secret, secure: secure, issue: newAddressLimiter(perAddress, int(20*perAddress)+1)}
}

func (c *Credentials) mac(id string) string {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte("leitai voter credential v1|"))
	m.Write([]byte(id))
	return b64.EncodeToString(m.Sum(nil)[:16])
}

// New makes a credential and returns it with its voter id.
func (c *Credentials) New() (credential, voter string) {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw) // crypto/rand never fails on supported platforms
	voter = b64.EncodeToString(raw)
	return c.For(voter), voter
}

// For returns the credential of a given voter id. The server issues only
// random ids (New); For serves tests and tools that hold the secret.
func (c *Credentials) For(voter string) string {
	return credentialPrefix + voter + "." + c.mac(voter)
}

// Voter checks a credential and returns its voter id.
func (c *Credentials) Voter(credential string) (string, bool) {
	rest, ok := strings.CutPrefix(credential, credentialPrefix)
	if !ok || len(rest) > 100 {
		return "", false
	}
	// The MAC is base64url (no dots); the voter id may contain dots.
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return "", false
	}
	voter, mac := rest[:dot], rest[dot+1:]
	if !voting.ValidVoter(voter) {
		return "", false
	}
	if !hmac.Equal([]byte(mac), []byte(c.mac(voter))) {
		return "", false
	}
	return voter, true
}

// FromRequest returns the voter of the request's credential: the cookie,
// else the "credential" query parameter or X-Leitai-Credential header.
func (c *Credentials) FromRequest(r *http.Request) (string, bool) {
	if ck, err := r.Cookie(CredentialCookie); err == nil {
		if v, ok := c.Voter(ck.Value); ok {
			return v, true
		}
	}
	if v, ok := c.Voter(r.URL.Query().Get("credential")); ok {
		return v, true
	}
	return c.Voter(r.Header.Get("X-Leitai-Credential"))
}

// Issue answers POST /api/voter: the caller's valid credential again, or a
// new one (rate-limited per address), set as an HttpOnly cookie and
// returned in the body for the page's fallback storage.
func (c *Credentials) Issue(w http.ResponseWriter, r *http.Request) {
	cred := ""
	if ck, err := r.Cookie(CredentialCookie); err == nil {
		if _, ok := c.Voter(ck.Value); ok {
			cred = ck.Value
		}
	}
	if cred == "" {
		if q := r.Header.Get("X-Leitai-Credential"); q != "" {
			if _, ok := c.Voter(q); ok {
				cred = q
			}
		}
	}
	if cred == "" {
		if !c.issue.allow(c.clientAddress(r)) {
			writeTooMany(w, "too many new voters from this address; try again in a moment")
			return
		}
		cred, _ = c.New()
	}
	voter, _ := c.Voter(cred)
	http.SetCookie(w, &http.Cookie{
		Name: CredentialCookie, Value: cred, Path: "/", MaxAge: int(credentialMaxAge.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secure,
	})
	writeJSON(w, http.StatusOK, map[string]string{"voter": voter, "credential": cred})
}

// writeTooMany answers a request over a per-address limit: 429, with the
// unavailable code so that pages retry.
func writeTooMany(w http.ResponseWriter, message string) {
	w.Header().Set("Retry-After", "2")
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": &ErrorBody{Code: voting.CodeUnavailable, Message: message}})
}

// clientAddress is the request's remote IP (without port), or, from a
// trusted proxy, the client's as the proxies forwarded it.
func (c *Credentials) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.trusted(peer) {
		return host
	}
	// Rightmost first: each proxy appends the address it saw.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return host // a malformed chain: do not guess
		}
		if !c.trusted(a) {
			return a.Unmap().String()
		}
	}
	return host
}

// AllowClaim takes one token of the request's address for a ticket claim;
// claims share the bucket of credential issuing.
func (c *Credentials) AllowClaim(r *http.Request) bool { return c.issue.allow(c.clientAddress(r)) }

// addressLimiter is a token bucket per client address, forgetting
// addresses that have been idle for a while.
type addressLimiter struct {
	limit rate.Limit
	burst int

	mu    sync.Mutex
	byIP  map[string]*rate.Limiter
	swept time.Time
}

func newAddressLimiter(limit rate.Limit, burst int) *addressLimiter {
	return &addressLimiter{limit: limit, burst: burst, byIP: make(map[string]*rate.Limiter)}
}

func (l *addressLimiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.swept) > time.Minute {
		// A full bucket is as good as a new one: drop it.
		for a, lim := range l.byIP {
			if lim.TokensAt(now) >= float64(l.burst) {
				delete(l.byIP, a)
			}
		}
		l.swept = now
	}
	lim := l.byIP[addr]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.byIP[addr] = lim
	}
	return lim.AllowN(now, 1)
}
