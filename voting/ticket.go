package voting

import (
	"crypto/rand"
	"strings"
)

// A Ticket (选票凭证) is a single-use code handed out at the door, printed as a
// QR code. The first device that claims it holds it; from then on that
// voter, and only that voter, may vote in the ticket's panel. A host can
// revoke a ticket (lost, or passed on), which ends its holder's right to
// vote; ballots already cast stay counted and stay in the audit log.
type Ticket struct {
	Code  string `json:"code"`
	Panel string `json:"panel"`
	// Voter is the holder, empty until the ticket is claimed.
	Voter   string `json:"voter,omitempty"`
	Revoked bool   `json:"revoked,omitempty"`
	// Issued and Claimed are Unix milliseconds; Claimed is 0 until claimed.
	Issued  int64 `json:"issued"`
	Claimed int64 `json:"claimed,omitempty"`
	// Seat is the judges' seat (1-based, Panel.Seats) the ticket is for;
	// 0 for a ticket of no seat.
	Seat int `json:"seat,omitempty"`
}

// TicketAlphabet has no characters that are easily confused when a code is
// typed from paper (0/O, 1/I/L) and no vowels to spell words with.
const TicketAlphabet = "23456789BCDFGHJKMNPQRSTVWXYZ"

// TicketLength is the number of characters in a ticket code: 28^10 ≈ 2^48,
// so guessing one of a few thousand codes takes ~10^11 tries.
const TicketLength = 10

// MaxTicketsPerCall bounds one IssueTickets request; a hall of thousands
// is served by a few calls.
const MaxTicketsPerCall = 5000

// NewTicketCode returns a random ticket code.
func NewTicketCode() string {
	var b [TicketLength]byte
	// Rejection sampling: bytes ≥ 252 (9×28) would bias the first letters.
	var buf [32]byte
	n := 0
	for n < TicketLength {
		_, _ = rand.Read(buf[:]) // crypto/rand.Read never fails (Go 1.24+)
		for _, c := range buf {
			if c >= 252 || n == TicketLength {
				continue
			}
			b[n] = TicketAlphabet[int(c)%len(TicketAlphabet)]
			n++
		}
	}
	return string(b[:])
}

// NormalizeTicketCode makes a typed or scanned code canonical: upper case,
// without spaces or dashes (codes are printed in two groups of five). It
// returns "" when what is left is not a well-formed code.
func NormalizeTicketCode(s string) string {
	if len(s) > 4*TicketLength {
		return ""
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r < 128 && strings.IndexByte(TicketAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return ""
		}
	}
	if b.Len() != TicketLength {
		return ""
	}
	return b.String()
}

// FormatTicketCode prints a code in two groups for reading aloud and typing.
func FormatTicketCode(code string) string {
	if len(code) != TicketLength {
		return code
	}
	return code[:TicketLength/2] + "-" + code[TicketLength/2:]
}

// TicketedPanels returns the ids of the panels that need a ticket.
func (e *Event) TicketedPanels() []string {
	var ids []string
	for _, p := range e.Panels {
		if p.Tickets {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

// ErrNoSuchTicket is the answer to an unknown ticket code.
var ErrNoSuchTicket = &Error{Code: CodeNotFound, Message: "no such ticket: check the code on your ticket"}

// CheckClaim says whether voter may claim t, given the code of the ticket
// the voter already holds for t's panel ("" for none). Every store applies
// the same rules.
func CheckClaim(t Ticket, voter, held string) error {
	switch {
	case t.Revoked:
		return Errorf(CodeForbidden, "this ticket was revoked; ask at the door")
	case t.Voter == voter:
		return nil
	case t.Voter != "":
		return Errorf(CodeForbidden, "this ticket is already in use on another phone")
	case held != "":
		return Errorf(CodeConflict, "this phone already holds a ticket (%s) for this panel", FormatTicketCode(held))
	}
	return nil
}

// ErrTicketRevoked refuses to release a revoked ticket.
var ErrTicketRevoked = &Error{Code: CodeForbidden, Message: "this ticket was revoked; issue a new one"}

// ErrNoTicket refuses a ballot in a panel that needs a ticket from a voter
// who holds none (or holds a revoked one).
var ErrNoTicket = &Error{Code: CodeForbidden, Message: "voting needs a ticket: scan the QR code on your ticket"}
