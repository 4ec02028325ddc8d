package hub

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"leitai/voting"
)

// The HTTP guard in front of every route (Protect): the Host a request
// names, where a state-changing request comes from, how long a body may
// take, how many requests one address has in flight, and nosniff.

var (
	errCrossOrigin   = voting.Errorf(voting.CodeForbidden, "requests from other sites are refused")
	errTooManyInHall = voting.Errorf(voting.CodeUnavailable, "too many requests at once from this address; try again in a moment")
)

// publicOrigin returns the scheme and host of the public URL ("" if unset).
func (h *Hub) publicOrigin() (scheme, host string) {
	u, err := url.Parse(h.cfg.PublicURL)
	if err != nil || u.Host == "" {
		return "", ""
	}
	return u.Scheme, strings.ToLower(u.Host)
}

// originAllowed reports whether a request's Origin, when it has one, is
// the server itself: the public URL's origin, or the host the request was
// sent to. The scheme counts: with an https public URL (or a TLS request)
// a page served over plain http is another origin.
func (h *Hub) originAllowed(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return true // not a browser page
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // "null" (sandboxed frames, file pages) and the like
	}
	scheme, public := h.publicOrigin()
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
func (h *Hub) hostAllowed(r *http.Request) bool {
	_, public := h.publicOrigin()
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
func (h *Hub) crossSite(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	if s := r.Header.Get("Sec-Fetch-Site"); s != "" && s != "same-origin" && s != "none" {
		return true
	}
	return !h.originAllowed(r)
}

// Protect wraps the server's handler (the hub's routes and the pages)
// with the guard. Every response gets nosniff; a request to a Host the
// server does not go by gets 421; a state-changing request from another
// origin gets 403; a body must arrive within BodyTimeout; an address may
// have MaxRequestsPerAddress requests in flight (WebSockets count only
// while they are being opened).
func (h *Hub) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if !h.hostAllowed(r) {
			http.Error(w, "421: this server does not answer for "+clip(r.Host, 80), http.StatusMisdirectedRequest)
			return
		}
		if h.crossSite(r) {
			writeError(w, errCrossOrigin)
			return
		}
		if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
			// A body that trickles in holds a connection and a
			// goroutine: it has BodyTimeout to arrive (decodeBody
			// lifts the deadline once it has).
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.cfg.BodyTimeout))
		}
		release, ok := h.inflight.acquire(h.cfg.Credentials.clientAddress(r))
		if !ok {
			h.metrics.requestsRefused.Inc()
			w.Header().Set("Connection", "close")
			writeTooMany(w, errTooManyInHall.Message)
			return
		}
		defer release()
		next.ServeHTTP(w, r)
	})
}
