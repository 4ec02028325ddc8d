package voting

import (
	"strings"
)

// Seats (评委席). A panel with named seats is a judges' bench: each seat is
// one ticket (Ticket.Seat) printed with its name, claimed by one device by
// scanning it. A ballot cast from a seat's ticket is recorded as the seat's
// (its voter is SeatVoter of the ticket's code), so that a seat has one
// live score per contestant whichever device holds it: when a judge's phone
// dies, the host releases the seat (ReleaseTicket) and another device scans
// the same ticket and goes on.

// MaxSeats bounds the seats of one panel.
const MaxSeats = 30

// seatVoterPrefix starts the voter id of a seat; device voter ids are
// random base64 and never contain '.'.
const seatVoterPrefix = "seat."

// SeatVoter is the voter id under which a seat's ballots are recorded: the
// seat's ticket code, which a release does not change.
func SeatVoter(code string) string { return seatVoterPrefix + code }

// SeatCode returns the ticket code of a seat's voter id, and whether voter
// is one.
func SeatCode(voter string) (string, bool) {
	code, ok := strings.CutPrefix(voter, seatVoterPrefix)
	return code, ok && code != "" && NormalizeTicketCode(code) == code
}

// SeatNames names n seats 评委一, 评委二, … (a count in an event file).
func SeatNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = "评委" + chineseNumber(i+1)
	}
	return names
}

// chineseNumber writes 1–99 in Chinese numerals: 一, 十, 十一, 二十三.
func chineseNumber(n int) string {
	digits := []string{"", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n < 10:
		return digits[n]
	case n < 20:
		return "十" + digits[n%10]
	}
	return digits[n/10] + "十" + digits[n%10]
}

// validSeats checks a panel's seat names.
func (p *Panel) validSeats() error {
	if len(p.Seats) > MaxSeats {
		return Errorf(CodeInvalid, "panel %q: at most %d seats", p.ID, MaxSeats)
	}
	seen := make(map[string]bool, len(p.Seats))
	for _, name := range p.Seats {
		if err := validName("seat name", name, false); err != nil {
			return err
		}
		if seen[name] {
			return Errorf(CodeInvalid, "panel %q: seat %q appears twice", p.ID, Excerpt(name, 20))
		}
		seen[name] = true
	}
	return nil
}

// SeatName returns the name of seat n (1-based) of a panel, or "".
func (p *Panel) SeatName(n int) string {
	if n < 1 || n > len(p.Seats) {
		return ""
	}
	return p.Seats[n-1]
}

// HasSeats reports whether a panel of the event has judges' seats.
func (e *Event) HasSeats() bool {
	for _, p := range e.Panels {
		if len(p.Seats) > 0 {
			return true
		}
	}
	return false
}
