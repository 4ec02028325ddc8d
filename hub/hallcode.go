package hub

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"net/http"
	"strconv"
	"strings"
	"time"

	"leitai/voting"
)

// The rotating hall code (现场码). The big screen's QR code carries a short
// code that changes every period; a phone gets a new voter credential for
// an event only with a current code (or a panel key, or for panels that
// take tickets, where those are the proof). A link copied out of the hall
// stops minting identities within two periods, and a phone that already
// holds a credential never needs the code again. The code is an HMAC of
// the event and the time slot under the credential secret, so every
// instance computes the same code without asking the store.

// DefaultHallCodePeriod is how long one hall code is shown.
const DefaultHallCodePeriod = 30 * time.Second

// HallCodeLength is the number of characters of a hall code: 30 bits, a
// few characters more on the vote link (the QR code's version stays).
const HallCodeLength = 6

// hallAlphabet is lower-case Crockford base32: no i, l, o or u to misread.
const hallAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// IssueWatchThreshold is the number of new credentials one address may
// get within a minute before it is logged.
const IssueWatchThreshold = 50

// ScreenKeyHeader carries the screen key of GET /api/events/{event}/hall-code.
const ScreenKeyHeader = "X-Leitai-Screen"

// WithHallCode sets the hall code's period and the clock it runs on (tests).
func (c *Credentials) WithHallCode(period time.Duration, now func() time.Time) *Credentials {
	if period > 0 {
		c.hallPeriod = period
	}
	if now != nil {
		c.now = now
	}
	return c
}

func (c *Credentials) slot(at time.Time) int64 { return at.UnixMilli() / c.hallPeriod.Milliseconds() }

func (c *Credentials) hmac(label string, parts ...string) []byte {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(label))
	for _, p := range parts {
		m.Write([]byte{'|'})
		m.Write([]byte(p))
	}
	return m.Sum(nil)
}

func (c *Credentials) codeOfSlot(event string, slot int64) string {
	sum := c.hmac("leitai hall code v1", event, strconv.FormatInt(slot, 10))
	n := binary.BigEndian.Uint64(sum[:8])
	b := make([]byte, HallCodeLength)
	for i := range b {
		b[i] = hallAlphabet[n&31]
		n >>= 5
	}
	return string(b)
}

// HallCode returns the event's hall code at a time.
func (c *Credentials) HallCode(event string, at time.Time) string {
	return c.codeOfSlot(event, c.slot(at))
}

// CurrentHallCode returns the event's hall code now and how long it is
// shown for.
func (c *Credentials) CurrentHallCode(event string) (code string, left time.Duration) {
	now := c.now()
	s := c.slot(now)
	end := time.UnixMilli((s + 1) * c.hallPeriod.Milliseconds())
	return c.codeOfSlot(event, s), end.Sub(now)
}

// ValidHallCode reports whether code is the event's hall code of the
// current period, the one before (a phone that scanned just before the
// screen changed it) or the one after (instances whose clocks differ a
// little).
func (c *Credentials) ValidHallCode(event, code string) bool {
	code = strings.ToLower(strings.TrimSpace(code))
	if len(code) != HallCodeLength {
		return false
	}
	s := c.slot(c.now())
	ok := 0
	for d := int64(-1); d <= 1; d++ {
		ok |= subtle.ConstantTimeCompare([]byte(code), []byte(c.codeOfSlot(event, s+d)))
	}
	return ok == 1
}

// ScreenKey is the key that lets a big screen read the event's hall code
// (GET /api/events/{event}/hall-code): the control page's link to the
// screen carries it in the fragment. It is what a copied vote link lacks.
func (c *Credentials) ScreenKey(event string) string {
	return b64.EncodeToString(c.hmac("leitai screen key v1", event)[:16])
}

var (
	errHallCodeMissing = voting.Errorf(voting.CodeHallCode, "to join, scan the QR code on the big screen")
	errHallCodeExpired = voting.Errorf(voting.CodeHallCode, "the code of this link has expired: scan the QR code on the big screen again")
	errScreenKey       = voting.Errorf(voting.CodeForbidden, "this screen link lacks its key: open the big screen from the control page")
)

// VoterRequest is the body of POST /api/voter: the event the phone joins
// and its proof, when it has no credential for the event yet.
type VoterRequest struct {
	Event string `json:"event"`
	// HallCode is the code of the vote link the phone was opened with
	// (?j=…, from the big screen's QR code).
	HallCode string `json:"hallCode,omitempty"`
	// Panel and PanelKey: the panel the phone votes in (default: the
	// first) and its key, from a judge's link.
	Panel    string `json:"panel,omitempty"`
	PanelKey string `json:"panelKey,omitempty"`
	// Ticket says the phone brings a ticket (一人一票): it gets a
	// credential for the panels that take tickets, where the ticket is
	// the proof.
	Ticket bool `json:"ticket,omitempty"`
}

// issueVoter answers POST /api/voter: the caller's credential again when it
// presents one that admits it to the event and panel (cookie or header);
// else, rate-limited per address, a new credential for the event, if the
// request brings a proof: a current hall code, the panel's key, a ticket,
// or none when the event has the hall code off. The credential is set as
// an HttpOnly cookie and returned for the page's copy.
func (h *Hub) issueVoter(w http.ResponseWriter, r *http.Request) {
	var req VoterRequest
	if err := decodeBody(w, r, maxBallotBody, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Event == "" {
		writeError(w, voting.Errorf(voting.CodeInvalid, "name the event: {\"event\": \"…\"}"))
		return
	}
	ev, err := h.service.Event(r.Context(), req.Event)
	if err != nil {
		writeError(w, err)
		return
	}
	if req.Panel == "" {
		req.Panel = ev.Panels[0].ID
	}
	p, ok := ev.Panel(req.Panel)
	if !ok {
		writeError(w, voting.Errorf(voting.CodeNotFound, "no such panel in this event"))
		return
	}
	creds := h.cfg.Credentials
	if voter, cred, ok := creds.FromRequest(r, &ev, p.ID); ok {
		creds.setCookie(w, ev.ID, cred)
		writeJSON(w, http.StatusOK, map[string]string{"voter": voter, "credential": cred})
		return
	}
	addr := creds.clientAddress(r)
	if !creds.issue.allow(addr) {
		h.metrics.credentialRefused.WithLabelValues("rate").Inc()
		writeTooMany(w, "too many new voters from this address; try again in a moment")
		return
	}
	scope, proof, err := admitNew(creds, &ev, p, req)
	if err != nil {
		h.metrics.credentialRefused.WithLabelValues(string(voting.ErrorCode(err))).Inc()
		writeError(w, err)
		return
	}
	cred, voter := creds.New(scope)
	h.countIssued(addr, proof)
	creds.setCookie(w, ev.ID, cred)
	writeJSON(w, http.StatusOK, map[string]string{"voter": voter, "credential": cred})
}

// admitNew decides the scope of a new credential from the request's proof.
func admitNew(creds *Credentials, ev *voting.Event, p voting.Panel, req VoterRequest) (Scope, string, error) {
	tickets := false
	for _, q := range ev.Panels {
		tickets = tickets || q.Tickets
	}
	switch {
	case ev.NoHallCode:
		return Scope{Event: ev.ID}, "open", nil
	case req.HallCode != "" && creds.ValidHallCode(ev.ID, req.HallCode):
		return Scope{Event: ev.ID}, "hall_code", nil
	case p.Key != "" && req.PanelKey != "":
		if subtle.ConstantTimeCompare([]byte(p.Key), []byte(req.PanelKey)) != 1 {
			return Scope{}, "", voting.Errorf(voting.CodeForbidden, "the panel %q needs its key", p.Name)
		}
		return Scope{Event: ev.ID, Panel: p.ID}, "panel_key", nil
	case tickets && (req.Ticket || p.Tickets):
		return Scope{Event: ev.ID, Panel: TicketPanels}, "ticket", nil
	case req.HallCode != "":
		return Scope{}, "", errHallCodeExpired
	}
	return Scope{}, "", errHallCodeMissing
}

// countIssued counts a new credential in /metrics and logs an address that
// reaches the watch threshold within a minute.
func (h *Hub) countIssued(addr, proof string) {
	h.metrics.credentialsIssued.WithLabelValues(proof).Inc()
	reached, count, busiest := h.issued.add(addr, time.Now())
	h.metrics.credentialsBusiest.Set(float64(busiest))
	if reached {
		h.metrics.credentialsFlagged.Inc()
		h.log.Warn("many new voter credentials from one address", "addr", addr, "count", count, "within", "1m")
	}
}

// HallCodeInfo is the answer of GET /api/events/{event}/hall-code.
type HallCodeInfo struct {
	// On: the event admits new phones only with the code.
	On bool `json:"on"`
	// Code is the current code; ExpiresIn (ms) how long it is shown;
	// Period (ms) how long each code is shown.
	Code      string `json:"code,omitempty"`
	ExpiresIn int64  `json:"expiresIn,omitempty"`
	Period    int64  `json:"period,omitempty"`
	// ScreenKey (hosts only) goes into the screen link's fragment.
	ScreenKey string `json:"screenKey,omitempty"`
}

// getHallCode answers GET /api/events/{event}/hall-code for the big screen
// (with the screen key) and the host (with the host key): the current
// code, for the QR code. Nobody else reads it: a copied vote link names
// the event, not the screen key.
func (h *Hub) getHallCode(w http.ResponseWriter, r *http.Request) {
	ev, err := h.service.Event(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	creds := h.cfg.Credentials
	var info HallCodeInfo
	if hostKeyFrom(r) != "" {
		if _, err := h.authHost(r); err != nil {
			writeError(w, err)
			return
		}
		info.ScreenKey = creds.ScreenKey(ev.ID)
	} else if !ev.NoHallCode {
		sk := r.Header.Get(ScreenKeyHeader)
		if subtle.ConstantTimeCompare([]byte(sk), []byte(creds.ScreenKey(ev.ID))) != 1 {
			writeError(w, errScreenKey)
			return
		}
	}
	if !ev.NoHallCode {
		code, left := creds.CurrentHallCode(ev.ID)
		info = HallCodeInfo{On: true, Code: code, ExpiresIn: max(left.Milliseconds(), 1), Period: creds.hallPeriod.Milliseconds(), ScreenKey: info.ScreenKey}
	}
	writeJSON(w, http.StatusOK, info)
}
