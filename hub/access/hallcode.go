package access

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
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

// HallPeriod is how long one hall code is shown.
func (c *Credentials) HallPeriod() time.Duration { return c.hallPeriod }

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
)

// Proof is what a phone without a credential brings to get one: the hall
// code of its vote link, a panel key from a judge's link, or the word that
// it brings a ticket.
type Proof struct {
	HallCode string
	PanelKey string
	Ticket   bool
}

// AdmitNew decides the scope of a new credential for panel p of ev from
// the proof, and names the proof for /metrics (open, hall_code, panel_key,
// ticket).
func (c *Credentials) AdmitNew(ev *voting.Event, p voting.Panel, proof Proof) (Scope, string, error) {
	tickets := false
	for _, q := range ev.Panels {
		tickets = tickets || q.Tickets
	}
	switch {
	case ev.NoHallCode:
		return Scope{Event: ev.ID}, "open", nil
	case proof.HallCode != "" && c.ValidHallCode(ev.ID, proof.HallCode):
		return Scope{Event: ev.ID}, "hall_code", nil
	case p.Key != "" && proof.PanelKey != "":
		if subtle.ConstantTimeCompare([]byte(p.Key), []byte(proof.PanelKey)) != 1 {
			return Scope{}, "", voting.Errorf(voting.CodeForbidden, "the panel %q needs its key", p.Name)
		}
		return Scope{Event: ev.ID, Panel: p.ID}, "panel_key", nil
	case tickets && (proof.Ticket || p.Tickets):
		return Scope{Event: ev.ID, Panel: TicketPanels}, "ticket", nil
	case proof.HallCode != "":
		return Scope{}, "", errHallCodeExpired
	}
	return Scope{}, "", errHallCodeMissing
}
