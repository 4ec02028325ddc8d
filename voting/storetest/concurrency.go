package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"leitai/voting"
)

// castAll casts every ballot in its own goroutine, all released at once, and
// returns the receipts and errors by index.
func castAll(s voting.Store, bs []voting.CountedBallot, revision int64) ([]voting.Receipt, []error) {
	receipts := make([]voting.Receipt, len(bs))
	errs := make([]error, len(bs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, cancel := context.WithTimeout(context.Background(), callTimeout)
			defer cancel()
			<-start
			receipts[i], errs[i] = s.CastBallot(c, bs[i], revision)
		}()
	}
	close(start)
	wg.Wait()
	return receipts, errs
}

func firstErrors(errs []error) error {
	var out []error
	for i, err := range errs {
		if err != nil && len(out) < 5 {
			out = append(out, fmt.Errorf("ballot %d: %w", i, err))
		}
	}
	return errors.Join(out...)
}

// testConcurrentVoters: 100 voters at once, 100 ballots counted.
func testConcurrentVoters(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show"))
	openVoting(t, s, "show", "c2")
	bs := make([]voting.CountedBallot, 100)
	for i := range bs {
		panel := "audience"
		if i%10 == 0 {
			panel = "judges"
		}
		bs[i] = ballot(t, &ev, fmt.Sprintf("v%03d", i), "c2", panel, 60+float64(i%81)*0.5, baseTime+int64(i))
	}
	receipts, errs := castAll(s, bs, ev.Revision)
	if err := firstErrors(errs); err != nil {
		t.Fatalf("concurrent ballots of different voters failed:\n%v", err)
	}
	for i, r := range receipts {
		checkReceipt(t, r, receiptFor(bs[i], false))
	}
	checkTally(t, "100 concurrent voters", s, &ev, bs)
	if st := mustStandings(t, s, "show"); st.Ballots != 100 {
		t.Fatalf("standings count %d ballots, want 100", st.Ballots)
	}
}

// testConcurrentOneVoter: 1,000 ballots (different ids) of one voter for one
// contestant at once leave one live ballot, one of those acknowledged.
func testConcurrentOneVoter(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show"))
	openVoting(t, s, "show", "c1")
	bs := make([]voting.CountedBallot, 1000)
	for i := range bs {
		bs[i] = ballot(t, &ev, "the-voter", "c1", "audience", 60+float64(i%81)*0.5, baseTime+int64(i))
	}
	receipts, errs := castAll(s, bs, ev.Revision)
	if err := firstErrors(errs); err != nil {
		t.Fatalf("concurrent ballots of one voter failed:\n%v", err)
	}
	firsts := 0
	byID := make(map[string]voting.CountedBallot, len(bs))
	for i, r := range receipts {
		byID[bs[i].ID] = bs[i]
		want := receiptFor(bs[i], r.Replaced)
		checkReceipt(t, r, want)
		if !r.Replaced {
			firsts++
		}
	}
	if firsts != 1 {
		t.Fatalf("%d of 1000 ballots of one voter replaced nothing, want exactly 1 (the first recorded)", firsts)
	}
	got := mustBallots(t, s, "show")
	if len(got) != 1 {
		t.Fatalf("%d live ballots after 1000 of one voter, want 1: %v", len(got), got)
	}
	b, ok := byID[got[0].ID]
	if !ok {
		t.Fatalf("the live ballot %s is none of the acknowledged ones", fmtBallot(got[0]))
	}
	checkBallots(t, "the live ballot", got, []voting.CountedBallot{b})
	checkStandings(t, "one voter, 1000 ballots", mustStandings(t, s, "show"), voting.Tally(&ev, got))
	checkBallots(t, "VoterBallots", mustVoterBallots(t, s, "show", "the-voter"), got)
}

// testConcurrentSameID: one ballot sent 100 times at once is counted once and
// every reply is the same.
func testConcurrentSameID(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show", withCriteria(3, 1)))
	openVoting(t, s, "show", "c1")
	b := count(t, &ev, voting.Ballot{
		ID: "f47ac10b-58cc-4372-a567-0e02b2c3d479", Event: "show", Voter: "v1", Contestant: "c1", Panel: "judges",
		Scores: map[string]float64{"measures": 90.5, "results": 71},
	}, baseTime)
	bs := make([]voting.CountedBallot, 100)
	for i := range bs {
		bs[i] = b
	}
	receipts, errs := castAll(s, bs, ev.Revision)
	if err := firstErrors(errs); err != nil {
		t.Fatalf("concurrent retries failed:\n%v", err)
	}
	for i, r := range receipts {
		if r != receipts[0] {
			t.Fatalf("reply %d differs:\n got %+v\nwant %+v (reply 0)", i, r, receipts[0])
		}
	}
	checkReceipt(t, receipts[0], receiptFor(b, false))
	checkTally(t, "one ballot sent 100 times", s, &ev, []voting.CountedBallot{b})
}

// testCloseWhileVoting closes voting while ballots are in flight: every
// ballot is either acknowledged and counted or refused as closed, and none
// that started after the close returned is acknowledged.
func testCloseWhileVoting(t *testing.T, s voting.Store) {
	ev := mustCreate(t, s, newEvent("show", scopeAll))
	open := openVoting(t, s, "show", "")

	const workers = 8
	const afterClose = 5 // calls each worker makes after the close returned
	type result struct {
		b          voting.CountedBallot
		err        error
		afterClose bool // the call started after SetStage returned
	}
	var (
		closed   atomic.Bool
		acked    atomic.Int64
		wg       sync.WaitGroup
		resultMu sync.Mutex
		results  []result
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := 0
			for i := 0; after < afterClose; i++ {
				b, err := makeBallot(&ev, fmt.Sprintf("w%d-%d", w, i), ev.Contestants[i%len(ev.Contestants)].ID,
					"audience", 60+float64(i%81)*0.5, time.Now().UnixMilli())
				started := closed.Load()
				if err == nil {
					c, cancel := context.WithTimeout(context.Background(), callTimeout)
					_, err = s.CastBallot(c, b, ev.Revision)
					cancel()
				}
				if started {
					after++
				}
				if err == nil {
					acked.Add(1)
				}
				resultMu.Lock()
				results = append(results, result{b, err, started})
				resultMu.Unlock()
				if i > 100_000 {
					return // the close never came; the main goroutine fails
				}
			}
		}()
	}
	// Close once ballots are flowing.
	deadline := time.Now().Add(10 * time.Second)
	for acked.Load() < 200 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	next := open
	next.Version, next.Phase = open.Version+1, voting.PhaseClosed
	if err := s.SetStage(ctx(t), "show", next); err != nil {
		closed.Store(true)
		wg.Wait()
		t.Fatalf("SetStage(closed) while ballots are in flight: %v", err)
	}
	closed.Store(true)
	// Every ballot that counts happened before the close: what a reader sees
	// right after the close returned is final, whatever is still in flight.
	atClose := mustBallots(t, s, "show")
	wg.Wait()

	var ackedBallots []voting.CountedBallot
	refused := 0
	for _, r := range results {
		switch {
		case r.err == nil && r.afterClose:
			t.Fatalf("ballot %s started after the close returned but was acknowledged", fmtBallot(r.b))
		case r.err == nil:
			ackedBallots = append(ackedBallots, r.b)
		case errors.Is(r.err, voting.ErrClosed):
			refused++
		default:
			t.Fatalf("ballot %s: %v; want acknowledged or closed", fmtBallot(r.b), r.err)
		}
	}
	t.Logf("%d acknowledged, %d refused as closed", len(ackedBallots), refused)
	if len(ackedBallots) == 0 || refused < workers*afterClose {
		t.Fatalf("%d acknowledged, %d refused: the test did not overlap ballots with the close", len(ackedBallots), refused)
	}
	checkTally(t, "after closing while voting", s, &ev, ackedBallots)
	checkBallots(t, "ballots seen right after the close returned (got) vs acknowledged (want)", atClose, ackedBallots)
	if st := mustStandings(t, s, "show"); st.Ballots != len(ackedBallots) {
		t.Fatalf("standings count %d ballots, %d were acknowledged", st.Ballots, len(ackedBallots))
	}
}
