package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"leitai/voting"
)

// mustAudit reads an event's whole audit log, page by page.
func mustAudit(t testing.TB, s voting.Store, event string) []voting.AuditEntry {
	t.Helper()
	var all []voting.AuditEntry
	for {
		page, err := s.Audit(ctx(t), event, int64(len(all)), 100)
		if err != nil {
			t.Fatalf("Audit(%s, after %d): %v", event, len(all), err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
	}
}

// checkAudit checks that the event's audit log is one unbroken chain and
// that the standings recomputed from it are the store's.
func checkAudit(t testing.TB, what string, s voting.Store, ev *voting.Event) {
	t.Helper()
	log := mustAudit(t, s, ev.ID)
	rep, err := voting.VerifyAudit(ev, log)
	if err != nil {
		t.Fatalf("%s: the audit log does not verify: %v", what, err)
	}
	if d := voting.StandingsDiff(rep.Standings, mustStandings(t, s, ev.ID)); d != "" {
		t.Fatalf("%s: standings from the audit log differ from the store's: %s", what, d)
	}
}

// ticketEvent is newEvent with the judges' panel on tickets.
func ticketEvent(id string) voting.Event {
	return newEvent(id, scopeAll, func(ev *voting.Event) { ev.Panels[1].Tickets = true })
}

func newTickets(panel string, n int) []voting.Ticket {
	out := make([]voting.Ticket, n)
	for i := range out {
		out[i] = voting.Ticket{Code: voting.NewTicketCode(), Panel: panel, Issued: baseTime + int64(i)}
	}
	return out
}

// testTickets: no ballot in a ticketed panel without a ticket; a ticket
// binds to its first claimer only; one ticket per voter and panel;
// revocation stops the holder at once, in the same step as casting.
func testTickets(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, ticketEvent("show"))
	openVoting(t, s, "show", "")
	judges := newTickets("judges", 3)
	if err := s.CreateTickets(ctx(t), "show", judges); err != nil {
		t.Fatalf("CreateTickets: %v", err)
	}
	// A clashing code stores nothing, not even the fresh ones beside it.
	clash := append(newTickets("judges", 1), judges[0])
	checkErr(t, "CreateTickets with an existing code", s.CreateTickets(ctx(t), "show", clash), voting.ErrConflict)
	checkErr(t, "CreateTickets for a missing event", s.CreateTickets(ctx(t), "nope", newTickets("judges", 1)), voting.ErrNotFound)
	list, err := s.Tickets(ctx(t), "show")
	if err != nil || len(list) != 3 {
		t.Fatalf("Tickets = %d tickets, %v; want the 3 created", len(list), err)
	}
	for i, tk := range list {
		if tk != judges[i] {
			t.Fatalf("Tickets[%d] = %+v, want %+v (ordered by issue)", i, tk, judges[i])
		}
	}

	// Without a ticket: refused, nothing recorded, nothing audited.
	b := ballot(t, &ev, "v1", "c1", "judges", 90, baseTime)
	_, err = s.CastBallot(ctx(t), b, ev.Revision)
	checkErr(t, "ballot without a ticket", err, voting.ErrForbidden)
	checkTally(t, "after a ballot without a ticket", s, &ev, nil)
	if log := mustAudit(t, s, "show"); len(log) != 0 {
		t.Fatalf("audit log after a refused ballot: %d entries, want 0", len(log))
	}
	// The audience panel needs none.
	live := liveSet{}
	a := ballot(t, &ev, "v1", "c1", "audience", 70, baseTime)
	castNew(t, s, a, ev.Revision, live.put(a))

	code := judges[0].Code
	got, err := s.ClaimTicket(ctx(t), "show", code, "v1", baseTime+5)
	if err != nil || got.Voter != "v1" || got.Claimed != baseTime+5 || got.Panel != "judges" {
		t.Fatalf("ClaimTicket = %+v, %v; want held by v1 since %d", got, err, baseTime+5)
	}
	if again, err := s.ClaimTicket(ctx(t), "show", code, "v1", baseTime+9); err != nil || again != got {
		t.Fatalf("second ClaimTicket by the holder = %+v, %v; want %+v", again, err, got)
	}
	_, err = s.ClaimTicket(ctx(t), "show", code, "v2", baseTime+6)
	checkErr(t, "ClaimTicket of a held ticket", err, voting.ErrForbidden)
	_, err = s.ClaimTicket(ctx(t), "show", judges[1].Code, "v1", baseTime+6)
	checkErr(t, "ClaimTicket of a second ticket of the panel", err, voting.ErrConflict)
	_, err = s.ClaimTicket(ctx(t), "show", voting.NewTicketCode(), "v1", baseTime+6)
	checkErr(t, "ClaimTicket of an unknown code", err, voting.ErrNotFound)
	_, err = s.ClaimTicket(ctx(t), "nope", code, "v1", baseTime+6)
	checkErr(t, "ClaimTicket in a missing event", err, voting.ErrNotFound)

	castNew(t, s, b, ev.Revision, live.put(b))
	b2 := ballot(t, &ev, "v2", "c1", "judges", 80, baseTime+1)
	_, err = s.CastBallot(ctx(t), b2, ev.Revision)
	checkErr(t, "ballot of a voter whose claim failed", err, voting.ErrForbidden)
	if _, err := s.ClaimTicket(ctx(t), "show", judges[1].Code, "v2", baseTime+7); err != nil {
		t.Fatalf("ClaimTicket by v2: %v", err)
	}
	castNew(t, s, b2, ev.Revision, live.put(b2))

	revoked, err := s.RevokeTicket(ctx(t), "show", code)
	if err != nil || !revoked.Revoked || revoked.Voter != "v1" {
		t.Fatalf("RevokeTicket = %+v, %v; want revoked, still naming v1", revoked, err)
	}
	if again, err := s.RevokeTicket(ctx(t), "show", code); err != nil || again != revoked {
		t.Fatalf("second RevokeTicket = %+v, %v", again, err)
	}
	_, err = s.RevokeTicket(ctx(t), "show", voting.NewTicketCode())
	checkErr(t, "RevokeTicket of an unknown code", err, voting.ErrNotFound)
	// The holder can vote no more; a retry of an accepted ballot is still
	// answered with its receipt; the counted ballot stays.
	_, err = s.CastBallot(ctx(t), ballot(t, &ev, "v1", "c2", "judges", 95, baseTime+2), ev.Revision)
	checkErr(t, "ballot with a revoked ticket", err, voting.ErrForbidden)
	if _, err := s.CastBallot(ctx(t), b, ev.Revision); err != nil {
		t.Fatalf("retry of a ballot accepted before the revocation: %v", err)
	}
	_, err = s.ClaimTicket(ctx(t), "show", code, "v3", baseTime+8)
	checkErr(t, "ClaimTicket of a revoked ticket", err, voting.ErrForbidden)
	_, err = s.ClaimTicket(ctx(t), "show", judges[2].Code, "v1", baseTime+8)
	checkErr(t, "ClaimTicket by a voter whose ticket was revoked", err, voting.ErrConflict)
	checkTally(t, "after the revocation", s, &ev, live.list())

	mine, err := s.VoterTickets(ctx(t), "show", "v1")
	if err != nil || len(mine) != 1 || mine[0] != revoked {
		t.Fatalf("VoterTickets(v1) = %+v, %v; want [%+v]", mine, err, revoked)
	}
	if none, err := s.VoterTickets(ctx(t), "show", "v9"); err != nil || len(none) != 0 {
		t.Fatalf("VoterTickets(v9) = %+v, %v; want none", none, err)
	}
	// Tickets belong to one event.
	other := mustCreate(t, s, ticketEvent("other"))
	openVoting(t, s, "other", "")
	_, err = s.ClaimTicket(ctx(t), "other", judges[2].Code, "v4", baseTime)
	checkErr(t, "ClaimTicket of another event's code", err, voting.ErrNotFound)
	_, err = s.CastBallot(ctx(t), ballot(t, &other, "v2", "c1", "judges", 90, baseTime), other.Revision)
	checkErr(t, "ballot in another event with this event's ticket", err, voting.ErrForbidden)

	// Turning tickets off opens the panel to everyone.
	next := cloneEvent(ev)
	next.Panels[1].Tickets = false
	ev, err = s.UpdateEvent(ctx(t), next)
	if err != nil {
		t.Fatalf("UpdateEvent (tickets off): %v", err)
	}
	b3 := ballot(t, &ev, "v9", "c3", "judges", 88, baseTime+3)
	castNew(t, s, b3, ev.Revision, live.put(b3))
	checkTally(t, "with tickets off", s, &ev, live.list())
}

// testTicketsConcurrentClaims: of many phones claiming one ticket at once,
// exactly one holds it.
func testTicketsConcurrentClaims(t *testing.T, s voting.Store) {
	mustCreate(t, s, ticketEvent("show"))
	tk := newTickets("judges", 1)
	if err := s.CreateTickets(ctx(t), "show", tk); err != nil {
		t.Fatalf("CreateTickets: %v", err)
	}
	const n = 32
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.ClaimTicket(ctx(t), "show", tk[0].Code, fmt.Sprintf("v%d", i), baseTime)
		}()
	}
	wg.Wait()
	won := -1
	for i, err := range errs {
		switch {
		case err == nil && won >= 0:
			t.Fatalf("voters %d and %d both claimed the ticket", won, i)
		case err == nil:
			won = i
		case !errors.Is(err, voting.ErrForbidden):
			t.Fatalf("claim %d: %v, want forbidden", i, err)
		}
	}
	list, _ := s.Tickets(ctx(t), "show")
	if won < 0 || len(list) != 1 || list[0].Voter != fmt.Sprintf("v%d", won) {
		t.Fatalf("winner %d, tickets %+v", won, list)
	}
}

// testAudit: every accepted ballot and reset has one entry, in order,
// chained; retries and refusals add none; receipt codes are the entries'.
func testAudit(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show", scopeAll))
	other := mustCreate(t, s, newEvent("other", scopeAll))
	openVoting(t, s, "show", "")
	openVoting(t, s, "other", "")
	if log := mustAudit(t, s, "show"); len(log) != 0 {
		t.Fatalf("a new event's audit log has %d entries", len(log))
	}
	live := liveSet{}
	var cast []voting.CountedBallot
	var receipts []voting.Receipt
	add := func(voter, contestant, panel string, score float64) {
		t.Helper()
		b := ballot(t, &ev, voter, contestant, panel, score, baseTime+int64(len(cast)))
		receipts = append(receipts, castNew(t, s, b, ev.Revision, live.put(b)))
		cast = append(cast, b)
	}
	add("v1", "c1", "audience", 80)
	add("v2", "c1", "audience", 85)
	add("v1", "c1", "audience", 90) // replaces
	add("v3", "c2", "judges", 70)
	castNew(t, s, ballot(t, &other, "v1", "c1", "audience", 60, baseTime), other.Revision, false)
	// A retry adds nothing and repeats the code; a refusal adds nothing.
	if r := mustCast(t, s, cast[0], ev.Revision); r != receipts[0] {
		t.Fatalf("retry: receipt %+v, want %+v", r, receipts[0])
	}
	bad := ballot(t, &ev, "v1", "c1", "audience", 66, baseTime)
	bad.ID = cast[1].ID
	_, err := s.CastBallot(ctx(t), bad, ev.Revision)
	checkErr(t, "reused id", err, voting.ErrConflict)
	if _, err := s.ResetContestant(ctx(t), "show", "c1"); err != nil {
		t.Fatalf("ResetContestant: %v", err)
	}
	live.reset("c1")
	add("v4", "c1", "judges", 77)

	log := mustAudit(t, s, "show")
	if len(log) != 6 {
		t.Fatalf("audit log has %d entries, want 6 (5 ballots, 1 reset): %+v", len(log), log)
	}
	kinds := ""
	for _, e := range log {
		kinds += string(e.Kind[0])
	}
	if kinds != "bbbbrb" {
		t.Fatalf("entry kinds %q, want bbbbrb", kinds)
	}
	for i, ri := range []int{0, 1, 2, 3, -1, 4} {
		e := log[i]
		if ri < 0 {
			if e.Contestant != "c1" || e.Ballot != "" || e.Voter != "" {
				t.Fatalf("reset entry %+v", e)
			}
			continue
		}
		b, r := cast[ri], receipts[ri]
		if e.Ballot != b.ID || e.Voter != voting.VoterDigest(b.Voter) || e.Contestant != b.Contestant ||
			e.Panel != b.Panel || e.Units != b.Units || e.At != b.At {
			t.Fatalf("entry %d = %+v, want ballot %+v", e.Seq, e, b)
		}
		if r.Code == "" || r.Code != voting.ReceiptCode(e.Hash) {
			t.Fatalf("receipt code %q, want %q (entry %d)", r.Code, voting.ReceiptCode(e.Hash), e.Seq)
		}
	}
	checkTally(t, "audit", s, &ev, live.list())
	checkAudit(t, "the other event", s, &other)

	// Pages: after and limit.
	page, err := s.Audit(ctx(t), "show", 2, 3)
	if err != nil || len(page) != 3 || page[0].Seq != 3 || page[2].Seq != 5 {
		t.Fatalf("Audit(after 2, limit 3) = %+v, %v", page, err)
	}
	if page, err := s.Audit(ctx(t), "show", 6, 10); err != nil || len(page) != 0 {
		t.Fatalf("Audit past the end = %+v, %v", page, err)
	}
	_, err = s.Audit(ctx(t), "nope", 0, 10)
	checkErr(t, "Audit of a missing event", err, voting.ErrNotFound)

	// VerifyAudit catches an edited, dropped or reordered entry.
	edited := append([]voting.AuditEntry(nil), log...)
	edited[2].Units += voting.ScoreUnits
	dropped := append(append([]voting.AuditEntry(nil), log[:1]...), log[2:]...)
	for name, l := range map[string][]voting.AuditEntry{"edited": edited, "dropped": dropped} {
		var ae *voting.AuditError
		if _, err := voting.VerifyAudit(&ev, l); !errors.As(err, &ae) {
			t.Fatalf("VerifyAudit of a log with an entry %s: %v, want an *AuditError", name, err)
		}
	}
}

// testHostKeys: the host key digests start empty, change only by
// compare-and-set, and survive a restart.
func testHostKeys(t *testing.T, f Factory) {
	s, restart := f(t)
	hk, err := s.HostKeys(ctx(t))
	if err != nil || hk != (voting.HostKeys{}) {
		t.Fatalf("HostKeys of a new store = %+v, %v; want zero", hk, err)
	}
	first := voting.HostKeys{Seed: "aa", Current: "aa"}
	if err := s.SwapHostKeys(ctx(t), voting.HostKeys{}, first); err != nil {
		t.Fatalf("first SwapHostKeys: %v", err)
	}
	checkErr(t, "SwapHostKeys from a stale value", s.SwapHostKeys(ctx(t), voting.HostKeys{}, voting.HostKeys{Seed: "x", Current: "x"}), voting.ErrConflict)
	rotated := voting.HostKeys{Seed: "aa", Current: "bb"}
	if err := s.SwapHostKeys(ctx(t), first, rotated); err != nil {
		t.Fatalf("SwapHostKeys: %v", err)
	}
	if hk, err := s.HostKeys(ctx(t)); err != nil || hk != rotated {
		t.Fatalf("HostKeys = %+v, %v; want %+v", hk, err, rotated)
	}
	if restart == nil {
		return
	}
	s = restart()
	if hk, err := s.HostKeys(ctx(t)); err != nil || hk != rotated {
		t.Fatalf("HostKeys after a restart = %+v, %v; want %+v", hk, err, rotated)
	}
}
