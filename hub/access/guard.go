package access

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"leitai/voting"
)

// The guard in front of every route (Protect): the Host a request names,
// where a state-changing request comes from, how long a body may take,
// how many requests one address has in flight, and nosniff; and the doors
// that both the sockets and the API pass: the host key, the screens one
// address may hold, and the client address the limits count against.

var (
	// ErrCrossOrigin refuses a request or socket from another site's page.
	ErrCrossOrigin    = voting.Errorf(voting.CodeForbidden, "requests from other sites are refused")
	errTooManyInHall  = voting.Errorf(voting.CodeUnavailable, "too many requests at once from this address; try again in a moment")
	errTooManyScreens = voting.Errorf(voting.CodeUnavailable, "too many screens open from this address; close one")
)

// Config configures a Guard. Zero values take the defaults below.
type Config struct {
	// HostKey is the configured host key; it must have at least
	// MinHostKeyLength characters. A rotation replaces it (KeyStore).
	HostKey string
	// Keys keeps the host key digests, shared by every instance.
	Keys KeyStore
	// Credentials issue and check voter credentials; required.
	Credentials *Credentials
	// PublicURL, when set, is the only host name the server answers to
	// besides IP addresses and localhost, and an origin its pages may
	// have (Protect).
	PublicURL string
	// BodyTimeout bounds the time a request body may take to arrive
	// (default 15 s); MaxRequestsPerAddress the HTTP requests one client
	// address may have in flight (default 256); MaxScreensPerAddress the
	// screen sockets one address may hold on this instance (default 16).
	BodyTimeout           time.Duration
	MaxRequestsPerAddress int
	MaxScreensPerAddress  int
	// HostKeyFailures is how many wrong host keys one address may try
	// before it is refused with 429, gaining one more every
	// HostKeyFailureEvery (default HostKeyFailureBurst).
	HostKeyFailures int
	Logger          *slog.Logger
	// Metrics, when set, are the metrics to count into (default: new, in
	// a registry of their own).
	Metrics *Metrics
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.BodyTimeout <= 0 {
		c.BodyTimeout = 15 * time.Second
	}
	if c.MaxRequestsPerAddress <= 0 {
		c.MaxRequestsPerAddress = 256
	}
	if c.MaxScreensPerAddress <= 0 {
		c.MaxScreensPerAddress = 16
	}
	if c.HostKeyFailures <= 0 {
		c.HostKeyFailures = HostKeyFailureBurst
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics(nil)
	}
}

// Guard is the doors of one instance (see the file comment).
type Guard struct {
	cfg     Config
	creds   *Credentials
	keys    *hostKeys
	log     *slog.Logger
	metrics *Metrics

	keyFailures *Limiter // wrong host keys, per address
	inflight    *Counter // HTTP requests in flight, per address
	screens     *Counter // screen sockets, per address
}

// NewGuard returns the guard of cfg.
func NewGuard(cfg Config) (*Guard, error) {
	cfg.setDefaults()
	if cfg.Credentials == nil || cfg.Keys == nil {
		return nil, errors.New("access: Credentials and Keys are required")
	}
	if len(cfg.HostKey) < MinHostKeyLength {
		return nil, fmt.Errorf("access: HostKey must have at least %d characters", MinHostKeyLength)
	}
	return &Guard{
		cfg: cfg, creds: cfg.Credentials, log: cfg.Logger, metrics: cfg.Metrics,
		keys:        &hostKeys{store: cfg.Keys, seed: keyDigest(cfg.HostKey)},
		keyFailures: NewLimiter(rate.Every(HostKeyFailureEvery), cfg.HostKeyFailures),
		inflight:    NewCounter(cfg.MaxRequestsPerAddress),
		screens:     NewCounter(cfg.MaxScreensPerAddress),
	}, nil
}

// Credentials returns the voter credentials the guard checks.
func (g *Guard) Credentials() *Credentials { return g.creds }

// Metrics returns the metrics of the doors.
func (g *Guard) Metrics() *Metrics { return g.metrics }

// ClientAddress is the address the per-address limits count a request
// against (see Credentials.TrustProxies).
func (g *Guard) ClientAddress(r *http.Request) string { return g.creds.clientAddress(r) }

// AdmitScreen counts a screen socket against its address's cap; release
// gives it back.
func (g *Guard) AdmitScreen(r *http.Request) (release func(), err error) {
	release, ok := g.screens.Acquire(g.ClientAddress(r))
	if !ok {
		return nil, errTooManyScreens
	}
	return release, nil
}

// HostDigest is the digest of the host key in force as last loaded ("" if
// none yet): sockets opened with another are stale.
func (g *Guard) HostDigest() string {
	g.keys.mu.Lock()
	defer g.keys.mu.Unlock()
	return g.keys.current
}

// RefreshHostKey loads the host key digest in force (at most every
// hostKeyRefresh), picking up a rotation made on another instance.
func (g *Guard) RefreshHostKey(ctx context.Context) error {
	_, err := g.keys.digest(ctx)
	return err
}

// RotateHostKey replaces the key in force, whose digest the caller
// presented (AuthHost), by next, on every instance.
func (g *Guard) RotateHostKey(ctx context.Context, presented, next string) error {
	if len(next) < MinHostKeyLength || len(next) > 200 {
		return voting.Errorf(voting.CodeInvalid, "a host key has %d to 200 characters", MinHostKeyLength)
	}
	return g.keys.rotate(ctx, presented, next)
}

// AuthHost checks the host key the request presents (hostKeyFrom) in
// constant time and returns its digest. A wrong key is forbidden, counted
// and logged with the client's address (never the key); an address that
// has tried too many wrong keys is refused (429) without a check until its
// budget refills, so the key cannot be guessed at speed.
func (g *Guard) AuthHost(r *http.Request) (string, error) {
	key := HostKeyFrom(r)
	if key == "" {
		return "", errHostKey
	}
	addr := g.ClientAddress(r)
	if g.keyFailures.Empty(addr) {
		g.metrics.hostKeyLimited.Inc()
		return "", ErrHostKeyLimited
	}
	cur, err := g.keys.digest(r.Context())
	if err != nil {
		return "", err
	}
	d := keyDigest(key)
	if subtle.ConstantTimeCompare([]byte(d), []byte(cur)) != 1 {
		g.keyFailures.Allow(addr)
		g.metrics.hostKeyFailures.Inc()
		g.log.Warn("refused a wrong host key", "addr", addr, "path", voting.Excerpt(r.URL.Path, 80))
		return "", errHostKey
	}
	return d, nil
}

var (
	errHostKey        = voting.Errorf(voting.CodeForbidden, "the host key is missing or wrong")
	ErrHostKeyLimited = voting.Errorf(voting.CodeUnavailable, "too many wrong host keys from this address; wait a minute and try again")
)

// Failed host-key attempts per address: a burst of HostKeyFailureBurst,
// then one more every HostKeyFailureEvery.
const (
	HostKeyFailureBurst = 20
	HostKeyFailureEvery = 10 * time.Second
)

// IsHost reports whether the request carries the host key in force.
func (g *Guard) IsHost(r *http.Request) bool {
	if HostKeyFrom(r) == "" {
		return false
	}
	_, err := g.AuthHost(r)
	return err == nil
}

// publicOrigin returns the scheme and host of the public URL ("" if unset).
func (g *Guard) publicOrigin() (scheme, host string) {
	u, err := url.Parse(g.cfg.PublicURL)
	if err != nil || u.Host == "" {
		return "", ""
	}
	return u.Scheme, strings.ToLower(u.Host)
}

// OriginAllowed reports whether a request's Origin, when it has one, is
// the server itself: the public URL's origin, or the host the request was
// sent to. The scheme counts: with an https public URL (or a TLS request)
// a page served over plain http is another origin.
func (g *Guard) OriginAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser page
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // "null" (sandboxed frames, file pages) and the like
	}
	scheme, public := g.publicOrigin()
	host := strings.ToLower(u.Host)
	if public != "" && host == public && u.Scheme == scheme {
		return true
	}
	if host != strings.ToLower(r.Host) {
		return false
	}
	if r.TLS != nil || scheme == "https" {
		return u.Scheme == "https"
	}
	return true
}

// hostAllowed reports whether the Host a request names may be served:
// with a public URL set, its host, an IP address or localhost; a name the
// server does not go by is someone else's page pointing a name at it (DNS
// rebinding).
func (g *Guard) hostAllowed(r *http.Request) bool {
	_, public := g.publicOrigin()
	if public == "" {
		return true
	}
	host := strings.ToLower(r.Host)
	if host == public || strings.TrimSuffix(host, ":80") == strings.TrimSuffix(public, ":80") ||
		strings.TrimSuffix(host, ":443") == strings.TrimSuffix(public, ":443") {
		return true
	}
	name := host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		name = hn
	}
	name = strings.Trim(name, "[]")
	return name == "localhost" || net.ParseIP(name) != nil
}

// crossSite reports whether a state-changing request comes from a page
// of another origin: Sec-Fetch-Site says so (same-site counts: another
// port of the same host is another origin), or the Origin is not ours.
// Clients that are not browsers send neither and carry no ambient
// cookie of a victim.
func (g *Guard) crossSite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return true
	}
	return !g.OriginAllowed(r)
}

// Protect wraps the server's handler (the sockets, the API and the pages)
// with the guard. Every response gets nosniff; a request to a Host the
// server does not go by gets 421; a state-changing request from another
// origin gets 403; a body must arrive within BodyTimeout; an address may
// have MaxRequestsPerAddress requests in flight (WebSockets count only
// while they are being opened).
func (g *Guard) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !g.hostAllowed(r) {
			http.Error(w, "421: this server does not answer for "+voting.Excerpt(r.Host, 80), http.StatusMisdirectedRequest)
			return
		}
		if g.crossSite(r) {
			WriteError(w, ErrCrossOrigin)
			return
		}
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			// A body that trickles in holds a connection and a
			// goroutine: it has BodyTimeout to arrive (decodeBody
			// lifts the deadline once it has).
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(g.cfg.BodyTimeout))
		}
		release, ok := g.inflight.Acquire(g.ClientAddress(r))
		if !ok {
			g.metrics.requestsRefused.Inc()
			w.Header().Set("Connection", "close")
			WriteTooMany(w, errTooManyInHall.Message)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
