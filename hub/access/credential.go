// Package access holds the doors of leitai: voter credentials and the hall
// code that admits new phones, the host key (digests and rotation), the
// per-address limits, the guard in front of every route, and the one way
// an error becomes an HTTP answer. The socket side (hub) and the REST side
// (hub/api) both use it.
package access

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"leitai/voting"
)

// Voter credentials. The server gives each phone a credential: 128 random
// bits (the voter id) and an HMAC of them under a secret that every
// instance shares (kept in the store), so any instance can check a
// credential without a lookup and nobody can make one up.
//
// A credential the server issues is scoped to one event (v2): a phone
// that joined one event cannot use that identity in another, so an event
// that lets anyone in (no hall code) cannot be used to mint identities for
// one that does. A scope may also name a panel: a credential issued on the
// strength of a panel key, or for panels that take tickets, admits its
// voter only there. Unscoped credentials (v1) are made only by holders of
// the secret (For: tests and tools) and were issued by earlier versions.
const (
	// CredentialCookie is the name of the credential cookie of phones
	// that joined before credentials had scopes; an event's cookie is
	// CredentialCookie + "." + the event id.
	CredentialCookie = "leitai_voter"
	credentialMaxAge = 30 * 24 * time.Hour
	credentialV1     = "v1."
	credentialV2     = "v2."

	// TicketPanels is the panel scope of a credential issued to a phone
	// that brings a ticket: it admits every panel that takes tickets,
	// where a ticket, not the credential, is the proof (ids cannot start
	// with '_', so no panel is called this).
	TicketPanels = "_tickets"

	// CredentialHeader carries a credential on HTTP requests (and on
	// WebSocket handshakes of clients that can set headers).
	CredentialHeader = "X-Leitai-Credential"
)

var b64 = base64.RawURLEncoding

// Scope says where a credential admits its voter: everywhere (zero), one
// event, or one panel (or TicketPanels) of one event.
type Scope struct {
	Event string
	Panel string
}

// Admits reports whether a credential of scope s may vote in panel of ev.
// An empty panel asks about the event only (reading one's own ballots).
func (s Scope) Admits(ev *voting.Event, panel string) bool {
	switch {
	case s.Event == "":
		return true
	case s.Event != ev.ID:
		return false
	case s.Panel == "" || panel == "":
		return true
	case s.Panel == TicketPanels:
		p, ok := ev.Panel(panel)
		return ok && p.Tickets
	}
	return s.Panel == panel
}

// Credentials issues and checks voter credentials and the hall codes
// (现场码) that admit new phones.
type Credentials struct {
	secret []byte
	secure bool // set the cookie's Secure attribute (the public URL is https)

	issue *Limiter
	// proxies are the peers whose X-Forwarded-For is believed.
	proxies []netip.Prefix

	// hallPeriod is how long one hall code is shown; now is the clock.
	hallPeriod time.Duration
	now        func() time.Time
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
	return &Credentials{
		secret: secret, secure: secure, issue: NewLimiter(perAddress, int(20*perAddress)+1),
		hallPeriod: DefaultHallCodePeriod, now: time.Now,
	}
}

func (c *Credentials) mac(parts ...string) string {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte("leitai voter credential"))
	for _, p := range parts {
		m.Write([]byte{'|'})
		m.Write([]byte(p))
	}
	return b64.EncodeToString(m.Sum(nil)[:16])
}

func newVoterID() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw) // crypto/rand never fails on supported platforms
	return b64.EncodeToString(raw)
}

// New makes a credential of the given scope and returns it with its
// voter id. A zero scope makes an unscoped credential (as For does).
func (c *Credentials) New(s Scope) (credential, voter string) {
	voter = newVoterID()
	if s.Event == "" {
		return c.For(voter), voter
	}
	return credentialV2 + s.Event + "." + s.Panel + "." + voter + "." + c.mac("v2", s.Event, s.Panel, voter), voter
}

// For returns the unscoped credential of a given voter id, valid in every
// event. The server issues only scoped credentials with random ids; For
// serves tests and tools that hold the secret.
func (c *Credentials) For(voter string) string {
	return credentialV1 + voter + "." + c.mac("v1", voter)
}

// Check checks a credential and returns its voter id and scope.
func (c *Credentials) Check(credential string) (voter string, scope Scope, ok bool) {
	if len(credential) > 300 {
		return "", Scope{}, false
	}
	if rest, found := strings.CutPrefix(credential, credentialV2); found {
		parts := strings.Split(rest, ".")
		if len(parts) != 4 || !voting.ValidID(parts[0]) || (parts[1] != "" && parts[1] != TicketPanels && !voting.ValidID(parts[1])) ||
			!voting.ValidVoter(parts[2]) {
			return "", Scope{}, false
		}
		if !hmac.Equal([]byte(parts[3]), []byte(c.mac("v2", parts[0], parts[1], parts[2]))) {
			return "", Scope{}, false
		}
		return parts[2], Scope{Event: parts[0], Panel: parts[1]}, true
	}
	rest, found := strings.CutPrefix(credential, credentialV1)
	if !found {
		return "", Scope{}, false
	}
	// The MAC is base64url (no dots); the voter id may contain dots.
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 {
		return "", Scope{}, false
	}
	voter, mac := rest[:dot], rest[dot+1:]
	if !voting.ValidVoter(voter) || !hmac.Equal([]byte(mac), []byte(c.mac("v1", voter))) {
		return "", Scope{}, false
	}
	return voter, Scope{}, true
}

// Voter checks a credential and returns its voter id, whatever its scope.
func (c *Credentials) Voter(credential string) (string, bool) {
	v, _, ok := c.Check(credential)
	return v, ok
}

// cookieName is the name of the cookie that holds a phone's credential
// for an event.
func cookieName(event string) string { return CredentialCookie + "." + event }

// candidates are the credentials a request presents, in the order they
// are tried: the event's cookie, the cookie of earlier versions, the
// header, the WebSocket subprotocol, and the query parameter that older
// tools use (pages never put a credential in a URL).
func candidates(r *http.Request, event string) []string {
	var out []string
	for _, name := range []string{cookieName(event), CredentialCookie} {
		if ck, err := r.Cookie(name); err == nil && ck.Value != "" {
			out = append(out, ck.Value)
		}
	}
	if v := r.Header.Get(CredentialHeader); v != "" {
		out = append(out, v)
	}
	if v := SubprotocolValue(r, ProtoCredential); v != "" {
		out = append(out, v)
	}
	if v := r.URL.Query().Get("credential"); v != "" {
		out = append(out, v)
	}
	return out
}

// FromRequest returns the voter of the first credential the request
// presents that admits its voter to panel of ev ("": any panel), and the
// credential itself.
func (c *Credentials) FromRequest(r *http.Request, ev *voting.Event, panel string) (voter, credential string, ok bool) {
	for _, cred := range candidates(r, ev.ID) {
		if v, s, ok := c.Check(cred); ok && s.Admits(ev, panel) {
			return v, cred, true
		}
	}
	return "", "", false
}

// SetCookie stores an event's credential in the phone's cookie jar.
// HttpOnly keeps it from page script; the page keeps a copy in
// localStorage all the same, for in-app browsers that drop cookies.
func (c *Credentials) SetCookie(w http.ResponseWriter, event, cred string) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName(event), Value: cred, Path: "/", MaxAge: int(credentialMaxAge.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secure,
	})
}

// AllowClaim takes one token of the request's address for a ticket claim;
// claims share the bucket of credential issuing.
func (c *Credentials) AllowClaim(r *http.Request) bool { return c.issue.Allow(c.clientAddress(r)) }

// AllowIssue takes one token of addr's bucket for a new credential.
func (c *Credentials) AllowIssue(addr string) bool { return c.issue.Allow(addr) }

// NoCredential is the refusal of a voter without a credential for the
// event: with the hall code on, the phone needs it to get one.
func NoCredential(ev *voting.Event) error {
	if ev.NoHallCode {
		return errNoCredential
	}
	return errNoCredentialHall
}

// errNoCredential refuses voters without a valid credential.
var errNoCredential = voting.Errorf(voting.CodeForbidden, "this phone has no valid voter credential; open the vote page again")

var errNoCredentialHall = voting.Errorf(voting.CodeForbidden, "this phone has no voter credential for this event; scan the QR code on the big screen")
