package storetest

import (
	"testing"

	"leitai/voting"
)

// testSeats: a judges' seat is a ticket with a seat number; a seat's
// ballot (voter SeatVoter(code)) is taken only from the device holding that
// ticket, checked in the same step; releasing the seat stops that device
// at once, the next device to claim the same ticket holds it, and its
// ballot replaces the seat's earlier one (one live ballot per seat).
func testSeats(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("seats", scopeAll, func(ev *voting.Event) {
		ev.Panels[1].Seats = voting.SeatNames(3)
	}))
	if !ev.Panels[1].Tickets {
		t.Fatal("seats imply tickets")
	}
	openVoting(t, s, ev.ID, "")
	seats := newTickets("judges", 3)
	for i := range seats {
		seats[i].Seat = i + 1
	}
	if err := s.CreateTickets(ctx(t), ev.ID, seats); err != nil {
		t.Fatalf("CreateTickets: %v", err)
	}
	list, err := s.Tickets(ctx(t), ev.ID)
	if err != nil || len(list) != 3 || list[2] != seats[2] {
		t.Fatalf("Tickets = %+v, %v; want the seats with their numbers", list, err)
	}
	code := seats[0].Code
	if _, err := s.ClaimTicket(ctx(t), ev.ID, code, "phone-a", baseTime); err != nil {
		t.Fatalf("claim: %v", err)
	}
	seatBallot := func(device string, score float64, at int64) voting.CountedBallot {
		b := ballot(t, &ev, voting.SeatVoter(code), "c1", "judges", score, at)
		b.Device = device
		return b
	}
	live := liveSet{}
	first := seatBallot("phone-a", 88, baseTime+1)
	castNew(t, s, first, ev.Revision, false)
	live.put(first)

	before := takeSnapshot(t, s, ev.ID)
	for _, tc := range []struct {
		what string
		b    voting.CountedBallot
	}{
		{"a device without the seat's ticket", seatBallot("phone-b", 90, baseTime+2)},
		{"a seat's ballot without a device", seatBallot("", 90, baseTime+2)},
	} {
		_, err := s.CastBallot(ctx(t), tc.b, ev.Revision)
		checkErr(t, tc.what, err, voting.ErrForbidden)
	}
	checkSnapshot(t, "after refused seat ballots", s, before)

	// The judge's phone dies: release, and another device takes the seat.
	rel, err := s.ReleaseTicket(ctx(t), ev.ID, code)
	if err != nil || rel.Voter != "" || rel.Claimed != 0 || rel.Seat != 1 {
		t.Fatalf("ReleaseTicket = %+v, %v; want it unclaimed, still seat 1", rel, err)
	}
	if held, _ := s.VoterTickets(ctx(t), ev.ID, "phone-a"); len(held) != 0 {
		t.Fatalf("the released phone still holds %+v", held)
	}
	_, err = s.CastBallot(ctx(t), seatBallot("phone-a", 91, baseTime+3), ev.Revision)
	checkErr(t, "a ballot from the released device", err, voting.ErrForbidden)
	if again, err := s.ReleaseTicket(ctx(t), ev.ID, code); err != nil || again != rel {
		t.Fatalf("releasing an unclaimed ticket = %+v, %v; want it unchanged", again, err)
	}
	if _, err := s.ClaimTicket(ctx(t), ev.ID, code, "phone-b", baseTime+4); err != nil {
		t.Fatalf("the new device claims the seat: %v", err)
	}
	second := seatBallot("phone-b", 92.5, baseTime+5)
	castNew(t, s, second, ev.Revision, true) // the seat's score, replaced
	live.put(second)
	checkTally(t, "one live ballot per seat", s, &ev, live.list())
	if got := mustVoterBallots(t, s, ev.ID, voting.SeatVoter(code)); len(got) != 1 || got[0].Units != 925000 {
		t.Fatalf("the seat's ballots: %+v", got)
	}

	// A revoked seat cannot be released; unknown codes are not found.
	if _, err := s.RevokeTicket(ctx(t), ev.ID, seats[1].Code); err != nil {
		t.Fatal(err)
	}
	_, err = s.ReleaseTicket(ctx(t), ev.ID, seats[1].Code)
	checkErr(t, "releasing a revoked ticket", err, voting.ErrForbidden)
	_, err = s.ReleaseTicket(ctx(t), ev.ID, voting.NewTicketCode())
	checkErr(t, "releasing an unknown ticket", err, voting.ErrNotFound)
	_, err = s.ReleaseTicket(ctx(t), "nope", code)
	checkErr(t, "releasing in a missing event", err, voting.ErrNotFound)
}
