package access

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Per-address limits: a token bucket per client address for credentials,
// ticket claims, HTTP ballots and host-key failures, and counts of what
// one address holds open (HTTP requests in flight, screen sockets).

// clientAddress is the request's remote IP (without port), or, from a
// trusted proxy, the client's as the proxies forwarded it: the rightmost
// address of X-Forwarded-For that is not itself a trusted proxy (each
// proxy appends the address it saw; what a client wrote is further left).
func (c *Credentials) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !c.trusted(peer) {
		return host
	}
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

// ClientAddress is the address the per-address limits count a request
// against (see TrustProxies).
func (c *Credentials) ClientAddress(r *http.Request) string { return c.clientAddress(r) }

// Limiter is a token bucket per key (a client address, or a voter),
// forgetting keys that have been idle for a while.
type Limiter struct {
	limit rate.Limit
	burst int

	mu    sync.Mutex
	byIP  map[string]*rate.Limiter
	swept time.Time
}

// NewLimiter returns a Limiter of burst tokens per key, refilled at limit.
func NewLimiter(limit rate.Limit, burst int) *Limiter {
	return &Limiter{limit: limit, burst: burst, byIP: make(map[string]*rate.Limiter)}
}

// get returns key's bucket; l.mu is held.
func (l *Limiter) get(key string, now time.Time) *rate.Limiter {
	if now.Sub(l.swept) > time.Minute {
		// A full bucket is as good as a new one: drop it.
		for a, lim := range l.byIP {
			if lim.TokensAt(now) >= float64(l.burst) {
				delete(l.byIP, a)
			}
		}
		l.swept = now
	}
	lim := l.byIP[key]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.byIP[key] = lim
	}
	return lim
}

// Allow takes one token of key's bucket, if there is one.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	return l.get(key, now).AllowN(now, 1)
}

// Empty reports whether key's bucket has no token left, taking none.
func (l *Limiter) Empty(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.byIP[key]; !ok {
		return false
	}
	now := time.Now()
	return l.get(key, now).TokensAt(now) < 1
}

// Counter counts what each address holds open, up to a cap.
type Counter struct {
	max int

	mu sync.Mutex
	n  map[string]int
}

// NewCounter returns a Counter that lets each address hold max.
func NewCounter(max int) *Counter {
	return &Counter{max: max, n: make(map[string]int)}
}

// Acquire counts one more for addr unless it is at the cap; release
// undoes it.
func (a *Counter) Acquire(addr string) (release func(), ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n[addr] >= a.max {
		return nil, false
	}
	a.n[addr]++
	return sync.OnceFunc(func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.n[addr]--; a.n[addr] <= 0 {
			delete(a.n, addr)
		}
	}), true
}

// IssueWatch counts the credentials issued to each address in the current
// minute, so that an address minting many identities is logged (once per
// minute) and the busiest one shows in /metrics. Per-address metric
// labels would let a script with many addresses grow /metrics without
// bound; the addresses go to the log instead.
type IssueWatch struct {
	// Threshold is the count at which an address is reported.
	Threshold int

	mu      sync.Mutex
	window  time.Time
	counts  map[string]int
	busiest int
}

// Add counts one credential for addr and reports whether addr has just
// reached the threshold in this minute, and the busiest address's count.
func (w *IssueWatch) Add(addr string, now time.Time) (reached bool, count, busiest int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.window) >= time.Minute || w.counts == nil {
		w.window, w.counts, w.busiest = now, make(map[string]int), 0
	}
	w.counts[addr]++
	count = w.counts[addr]
	w.busiest = max(w.busiest, count)
	return count == w.Threshold, count, w.busiest
}
