package embedded_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"leitai/voting"
	"leitai/voting/embedded"
)

// TestJournalFormat opens journals written by an earlier build (before the
// record's Go fields got their long names), in testdata/journal-v1: one as
// calls wrote it (every record type a call writes: events, stages,
// tickets claimed and revoked, ballots with audit hashes, a replacement,
// a reset) and one compacted (snapshot records: live ballots with receipt
// codes, used ids, the audit log). Both must replay to the same state: the
// JSON keys are the file format, whatever the Go fields are called.
func TestJournalFormat(t *testing.T) {
	for _, name := range []string{"live", "compacted"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			data := readFile(t, filepath.Join("testdata", "journal-v1", name+".journal"))
			if err := os.WriteFile(journal(dir), data, 0o644); err != nil {
				t.Fatal(err)
			}
			s := open(t, dir)
			checkJournalV1(t, s)
			// A retry of a replaced ballot's id gets its old receipt
			// (the used-id record, with its fingerprint and code) and
			// counts nothing.
			ev, err := s.Event(ctx, "old")
			if err != nil {
				t.Fatal(err)
			}
			retry, err := ev.Count(voting.Ballot{ID: "00000000-0000-4000-8000-000000000001", Event: "old", Voter: "v1",
				Contestant: "c1", Panel: "audience", Scores: map[string]float64{"measures": 85.5, "results": 90}})
			if err != nil {
				t.Fatal(err)
			}
			retry.At = 9000
			r := cast(t, s, retry, ev.Revision)
			if r.Code != "3616FDB6" || r.At != 3000 || r.Score != 87.3 || r.Replaced {
				t.Fatalf("retry of a replaced ballot: %+v", r)
			}
			checkJournalV1(t, s)
		})
	}
}

func checkJournalV1(t *testing.T, s *embedded.Store) {
	t.Helper()
	ev, err := s.Event(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if ev.Title != "旧账本" || len(ev.Panels) != 2 || len(ev.Rules.Criteria) != 2 || ev.Revision != 1 {
		t.Fatalf("event %+v", ev)
	}
	st, err := s.Stage(ctx, "old")
	if err != nil || st.Phase != voting.PhaseVoting || st.Current != "c1" || st.Version != 3 {
		t.Fatalf("stage %+v, %v", st, err)
	}
	bs, err := s.Ballots(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(bs, func(a, b voting.CountedBallot) int { return strings.Compare(a.ID, b.ID) })
	var got []string
	for _, b := range bs {
		got = append(got, b.Fingerprint()+"@"+b.ID[len(b.ID)-1:])
	}
	want := []string{
		"v1|c1|audience|800000|measures=80|results=80@2",
		"j1|c1|judges|920000|measures=90|results=95@3",
		"v2|c1|audience|986000|measures=99|results=98@5",
	}
	if !slices.Equal(got, want) || bs[0].At != 4000 {
		t.Fatalf("live ballots %q (%+v), want %q", got, bs, want)
	}
	sd := checkStandings(t, s, "old")
	if row, _ := sd.Row("c1"); row.Ballots != 3 || row.Final != 90.38 { // 0.6×(80+98.6)/2 + 0.4×92
		t.Fatalf("c1 standing %+v", row)
	}
	tickets, err := s.Tickets(ctx, "old")
	if err != nil || len(tickets) != 2 || tickets[0].Voter != "j1" || tickets[0].Claimed != 2000 || !tickets[1].Revoked {
		t.Fatalf("tickets %+v, %v", tickets, err)
	}
	log, err := s.Audit(ctx, "old", 0, 100)
	if err != nil || len(log) != 6 {
		t.Fatalf("audit log %+v, %v", log, err)
	}
	rep, err := voting.VerifyAudit(&ev, log)
	if err != nil || rep.Resets != 1 || rep.Replaced != 1 {
		t.Fatalf("audit: %+v, %v", rep, err)
	}
	plain, err := s.Ballots(ctx, "plain")
	if err != nil || len(plain) != 1 || plain[0].Score != 88.5 || plain[0].Units != 885000 || plain[0].At != 8000 {
		t.Fatalf("the plain event's ballots %+v, %v", plain, err)
	}
}
