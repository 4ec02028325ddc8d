package voting

import (
	"strings"
	"testing"
)

func TestTicketCodes(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool)
	for range 2000 {
		c := NewTicketCode()
		if len(c) != TicketLength || NormalizeTicketCode(c) != c {
			t.Fatalf("code %q is not canonical", c)
		}
		if seen[c] {
			t.Fatalf("code %q made twice", c)
		}
		seen[c] = true
	}
	code := NewTicketCode()
	tests := []struct {
		in, want string
	}{
		{code, code},
		{strings.ToLower(code), code},
		{FormatTicketCode(code), code},
		{" " + code[:3] + " " + code[3:] + " ", code},
		{code[:9], ""},
		{code + "B", ""},
		{"0" + code[1:], ""}, // 0 is not in the alphabet
		{"I" + code[1:], ""},
		{code[:9] + "é", ""},
		{strings.Repeat("-", 100), ""},
	}
	for _, tc := range tests {
		if got := NormalizeTicketCode(tc.in); got != tc.want {
			t.Errorf("NormalizeTicketCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckClaim(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ticket Ticket
		held   string
		want   Code
	}{
		{"unclaimed", Ticket{}, "", ""},
		{"mine", Ticket{Voter: "v1"}, "C", ""},
		{"someone else's", Ticket{Voter: "v2"}, "", CodeForbidden},
		{"revoked", Ticket{Revoked: true}, "", CodeForbidden},
		{"revoked, mine", Ticket{Voter: "v1", Revoked: true}, "", CodeForbidden},
		{"holding another", Ticket{}, "OTHER", CodeConflict},
	}
	for _, tc := range tests {
		if got := ErrorCode(CheckClaim(tc.ticket, "v1", tc.held)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestVerifyAudit(t *testing.T) {
	t.Parallel()
	ev := Event{ID: "e", Contestants: []Contestant{{ID: "c1", Name: "一"}, {ID: "c2", Name: "二"}},
		Panels: []Panel{DefaultPanel()}, Rules: DefaultRules()}
	ev.Normalize()
	var log []AuditEntry
	add := func(kind AuditKind, voter, contestant string, units int64) {
		e := AuditEntry{Seq: int64(len(log)) + 1, At: 1000 + int64(len(log)), Kind: kind, Contestant: contestant}
		if kind == AuditBallot {
			e.Ballot, e.Voter, e.Panel, e.Units = NewTicketCode(), VoterDigest(voter), "audience", units
		}
		if len(log) > 0 {
			e.Prev = log[len(log)-1].Hash
		}
		e.Hash = AuditHash(ev.ID, &e)
		log = append(log, e)
	}
	add(AuditBallot, "a", "c1", 50000)
	add(AuditBallot, "b", "c1", 70000)
	add(AuditBallot, "a", "c1", 90000) // replaces
	add(AuditBallot, "a", "c2", 40000)
	add(AuditReset, "", "c2", 0)
	add(AuditBallot, "b", "c2", 30000)
	rep, err := VerifyAudit(&ev, log)
	if err != nil {
		t.Fatal(err)
	}
	want := Tally(&ev, []CountedBallot{
		{Ballot: Ballot{Voter: VoterDigest("a"), Contestant: "c1", Panel: "audience"}, Units: 90000},
		{Ballot: Ballot{Voter: VoterDigest("b"), Contestant: "c1", Panel: "audience"}, Units: 70000},
		{Ballot: Ballot{Voter: VoterDigest("b"), Contestant: "c2", Panel: "audience"}, Units: 30000},
	})
	if d := StandingsDiff(rep.Standings, want); d != "" || rep.Ballots != 5 || rep.Replaced != 1 || rep.Resets != 1 || rep.Head != log[5].Hash {
		t.Fatalf("report %+v (diff %q)", rep, d)
	}
	if ReceiptCode(log[0].Hash) != strings.ToUpper(log[0].Hash[:8]) {
		t.Fatal("receipt code")
	}
	breaks := map[string]func(l []AuditEntry) []AuditEntry{
		"edited score": func(l []AuditEntry) []AuditEntry { l[1].Units = 100000; return l },
		"edited and resealed": func(l []AuditEntry) []AuditEntry {
			l[1].Units = 100000
			l[1].Hash = AuditHash(ev.ID, &l[1])
			return l
		},
		"dropped": func(l []AuditEntry) []AuditEntry { return append(l[:2], l[3:]...) },
		"swapped": func(l []AuditEntry) []AuditEntry { l[1], l[2] = l[2], l[1]; return l },
		"other event": func(l []AuditEntry) []AuditEntry {
			ev2 := ev
			ev2.ID = "f"
			l[0].Hash = AuditHash(ev2.ID, &l[0])
			return l
		},
		"unknown kind": func(l []AuditEntry) []AuditEntry { l[5].Kind = "gift"; l[5].Hash = AuditHash(ev.ID, &l[5]); return l },
		"stranger": func(l []AuditEntry) []AuditEntry {
			l[5].Contestant = "c9"
			l[5].Hash = AuditHash(ev.ID, &l[5])
			return l
		},
	}
	for name, mutate := range breaks {
		l := mutate(append([]AuditEntry(nil), log...))
		if _, err := VerifyAudit(&ev, l); err == nil {
			t.Errorf("%s: the log verified", name)
		}
	}
}

// FuzzNormalizeTicketCode: whatever a phone sends as a ticket code, the
// result is "" or a canonical code that normalizes to itself.
func FuzzNormalizeTicketCode(f *testing.F) {
	for _, s := range []string{"K4JJH-DKJ7Q", "k4jjh dkj7q", "", "0000000000", "ÄÖÜ", strings.Repeat("B", 41), "B-B-B-B-B-B-B-B-B-B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := NormalizeTicketCode(s)
		if c == "" {
			return
		}
		if len(c) != TicketLength || NormalizeTicketCode(c) != c || NormalizeTicketCode(FormatTicketCode(c)) != c {
			t.Fatalf("NormalizeTicketCode(%q) = %q, not canonical", s, c)
		}
		for i := 0; i < len(c); i++ {
			if !strings.Contains(TicketAlphabet, c[i:i+1]) {
				t.Fatalf("NormalizeTicketCode(%q) = %q has %q", s, c, c[i])
			}
		}
	})
}
