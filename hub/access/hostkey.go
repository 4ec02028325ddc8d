package access

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

	"leitai/voting"
)

// The host key. The operator configures one (Config.HostKey of the Guard); a host can
// rotate it from the control page without a restart. The store keeps only
// SHA-256 digests (voting.HostKeys), so every instance sharing the store
// sees a rotation within hostKeyRefresh, and a restart with the same
// configured key keeps the rotated one. Configuring a different key (the
// way back when the rotated key is lost) replaces it.
const hostKeyRefresh = time.Second

// MinHostKeyLength is the shortest host key a host may rotate to.
const MinHostKeyLength = 16

// KeyStore is where the host key digests are kept (the voting service,
// over its store).
type KeyStore interface {
	HostKeys(ctx context.Context) (voting.HostKeys, error)
	SwapHostKeys(ctx context.Context, old, next voting.HostKeys) error
}

type hostKeys struct {
	store KeyStore
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

// The WebSocket subprotocols a browser page offers: protoLeitai, which the
// server selects, and one that carries a secret, since a page cannot set
// headers on a WebSocket handshake and URLs end up in proxies' logs.
const (
	ProtoLeitai     = "leitai"
	ProtoHostKey    = "leitai-key."  // + base64url of the host key
	ProtoCredential = "leitai-cred." // + the voter credential (URL-safe already)
)

// SubprotocolValue returns what follows prefix in the request's
// Sec-WebSocket-Protocol offers ("" if none).
func SubprotocolValue(r *http.Request, prefix string) string {
	for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(line, ",") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), prefix); ok {
				return v
			}
		}
	}
	return ""
}

// HostKeyFrom reads the host key from the Authorization header (Bearer),
// the X-Host-Key header, or, on a WebSocket handshake from a page, the
// leitai-key.<base64url> subprotocol. Never from the URL: URLs are
// logged by proxies.
func HostKeyFrom(r *http.Request) string {
	if a := r.Header.Get("Authorization"); len(a) > 7 && a[:7] == "Bearer " {
		return a[7:]
	}
	if k := r.Header.Get("X-Host-Key"); k != "" {
		return k
	}
	if v := SubprotocolValue(r, ProtoHostKey); v != "" {
		if b, err := b64.DecodeString(v); err == nil {
			return string(b)
		}
	}
	return ""
}

// NewHostKey makes a random host key (128 bits, URL-safe).
func NewHostKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return b64.EncodeToString(b)
}
