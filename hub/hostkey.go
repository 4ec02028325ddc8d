package hub

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"leitai/voting"
)

// The host key. The operator configures one (Config.HostKey); a host can
// rotate it from the control page without a restart. The store keeps only
// SHA-256 digests (voting.HostKeys), so every instance sharing the store
// sees a rotation within hostKeyRefresh, and a restart with the same
// configured key keeps the rotated one. Configuring a different key (the
// way back when the rotated key is lost) replaces it.
const hostKeyRefresh = time.Second

// MinHostKeyLength is the shortest host key a host may rotate to.
const MinHostKeyLength = 16

type hostKeys struct {
	store voting.Store
	seed  string // digest of the configured key

	mu      sync.Mutex
	current string // digest in force; "" until loaded
	loaded  time.Time
}

func keyDigest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// load reads the digests from the store, adopting the configured key when
// the store has none or another seed.
func (k *hostKeys) load(ctx context.Context) (string, error) {
	for attempt := 0; ; attempt++ {
		hk, err := k.store.HostKeys(ctx)
		if err != nil {
			return "", err
		}
		if hk.Seed == k.seed && hk.Current != "" {
			return hk.Current, nil
		}
		next := voting.HostKeys{Seed: k.seed, Current: k.seed}
		err = k.store.SwapHostKeys(ctx, hk, next)
		if err == nil {
			return next.Current, nil
		}
		if !errors.Is(err, voting.ErrConflict) || attempt >= 3 {
			return "", err
		}
	}
}

// digest returns the digest in force, from the store at most every
// hostKeyRefresh. When the store cannot answer, the last known digest
// serves; before the first load there is none, and hosts are refused
// with unavailable.
func (k *hostKeys) digest(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.current != "" && time.Since(k.loaded) < hostKeyRefresh {
		return k.current, nil
	}
	d, err := k.load(ctx)
	if err != nil {
		if k.current != "" {
			return k.current, nil
		}
		return "", voting.Wrap(voting.CodeUnavailable, err, "the host key cannot be checked right now; try again")
	}
	k.current, k.loaded = d, time.Now()
	return d, nil
}

// rotate replaces the key in force (whose digest the caller presented) by
// next.
func (k *hostKeys) rotate(ctx context.Context, presented, next string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	hk, err := k.store.HostKeys(ctx)
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(hk.Current), []byte(presented)) != 1 {
		return voting.Errorf(voting.CodeConflict, "the host key was changed meanwhile; sign in again")
	}
	nd := keyDigest(next)
	if err := k.store.SwapHostKeys(ctx, hk, voting.HostKeys{Seed: hk.Seed, Current: nd}); err != nil {
		return err
	}
	k.current, k.loaded = nd, time.Now()
	return nil
}

// authHost checks the host key the request presents (hostKeyFrom) in
// constant time and returns its digest. A wrong key is forbidden, counted
// and logged with the client's address (never the key); an address that
// has tried too many wrong keys is refused (429) without a check until its
// budget refills, so the key cannot be guessed at speed.
func (h *Hub) authHost(r *http.Request) (string, error) {
	key := hostKeyFrom(r)
	if key == "" {
		return "", errHostKey
	}
	addr := h.cfg.Credentials.clientAddress(r)
	if h.keyFailures.empty(addr) {
		h.metrics.hostKeyLimited.Inc()
		return "", errHostKeyLimited
	}
	cur, err := h.hostKeys.digest(r.Context())
	if err != nil {
		return "", err
	}
	d := keyDigest(key)
	if subtle.ConstantTimeCompare([]byte(d), []byte(cur)) != 1 {
		h.keyFailures.allow(addr)
		h.metrics.hostKeyFailures.Inc()
		h.log.Warn("refused a wrong host key", "addr", addr, "path", clip(r.URL.Path, 80))
		return "", errHostKey
	}
	return d, nil
}

var (
	errHostKey        = voting.Errorf(voting.CodeForbidden, "the host key is missing or wrong")
	errHostKeyLimited = voting.Errorf(voting.CodeUnavailable, "too many wrong host keys from this address; wait a minute and try again")
)

// Failed host-key attempts per address: a burst of HostKeyFailureBurst,
// then one more every HostKeyFailureEvery.
const (
	HostKeyFailureBurst = 20
	HostKeyFailureEvery = 10 * time.Second
)

// isHost reports whether the request carries the host key in force.
func (h *Hub) isHost(r *http.Request) bool {
	if hostKeyFrom(r) == "" {
		return false
	}
	_, err := h.authHost(r)
	return err == nil
}

// The WebSocket subprotocols a browser page offers: protoLeitai, which the
// server selects, and one that carries a secret, since a page cannot set
// headers on a WebSocket handshake and URLs end up in proxies' logs.
const (
	protoLeitai     = "leitai"
	protoHostKey    = "leitai-key."  // + base64url of the host key
	protoCredential = "leitai-cred." // + the voter credential (URL-safe already)
)

// subprotocolValue returns what follows prefix in the request's
// Sec-WebSocket-Protocol offers ("" if none).
func subprotocolValue(r *http.Request, prefix string) string {
	for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(line, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), prefix); ok {
				return v
			}
		}
	}
	return ""
}

// hostKeyFrom reads the host key from the Authorization header (Bearer),
// the X-Host-Key header, or, on a WebSocket handshake from a page, the
// leitai-key.<base64url> subprotocol. Never from the URL: URLs are
// logged by proxies.
func hostKeyFrom(r *http.Request) string {
	if a := r.Header.Get("Authorization"); len(a) > 7 && a[:7] == "Bearer " {
		return a[7:]
	}
	if k := r.Header.Get("X-Host-Key"); k != "" {
		return k
	}
	if v := subprotocolValue(r, protoHostKey); v != "" {
		if b, err := b64.DecodeString(v); err == nil {
			return string(b)
		}
	}
	return ""
}

// RotateRequest is the body of POST /api/host-key.
type RotateRequest struct {
	// Key is the new key; empty asks the server to make one.
	Key string `json:"key,omitempty"`
}

// rotateHostKey answers POST /api/host-key: the new key replaces the one
// the request was authorised with, on every instance; host connections
// opened with the old key are closed.
func (h *Hub) rotateHostKey(w http.ResponseWriter, r *http.Request) {
	// The key first: nobody without it gets to send a body.
	presented, err := h.authHost(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var req RotateRequest
	if err := decodeBody(w, r, maxBallotBody, &req); err != nil {
		writeError(w, err)
		return
	}
	next := req.Key
	if next == "" {
		next = NewHostKey()
	}
	if len(next) < MinHostKeyLength || len(next) > 200 {
		writeError(w, voting.Errorf(voting.CodeInvalid, "a host key has %d to 200 characters", MinHostKeyLength))
		return
	}
	if err := h.hostKeys.rotate(r.Context(), presented, next); err != nil {
		writeError(w, err)
		return
	}
	h.log.Info("host key rotated; host connections with the old key are closed")
	h.closeStaleHosts()
	writeJSON(w, http.StatusOK, map[string]string{"key": next})
}

// NewHostKey makes a random host key (128 bits, URL-safe).
func NewHostKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}

// refreshHostKey picks up a rotation made on another instance and closes
// this instance's host connections opened with the old key.
func (h *Hub) refreshHostKey() {
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.WriteTimeout)
	defer cancel()
	if _, err := h.hostKeys.digest(ctx); err == nil {
		h.closeStaleHosts()
	}
}

// closeStaleHosts closes host connections whose key is no longer in force.
func (h *Hub) closeStaleHosts() {
	h.hostKeys.mu.Lock()
	cur := h.hostKeys.current
	h.hostKeys.mu.Unlock()
	for _, r := range h.roomList() {
		r.mu.Lock()
		for c := range r.clients {
			if c.role == RoleHost && c.key != cur {
				c.close(websocket.StatusPolicyViolation, "the host key was changed")
			}
		}
		r.mu.Unlock()
	}
}
