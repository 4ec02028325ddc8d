// Package storetest is the contract test suite that every voting.Store
// implementation passes. A store's tests wire it like this:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) (voting.Store, func() voting.Store) {
//			s := open(t) // a fresh, empty store; closed by a t.Cleanup
//			return s, func() voting.Store { /* close s, restart the backing, reopen */ }
//		})
//	}
//
// The suite never calls Close on a store itself: the factory registers the
// cleanup for the store it returns and for every store restart returns.
// Stores are used with ballots stamped an hour ahead of the wall clock
// (CountedBallot.At), so a store must judge countdowns by At, not its clock.
// The random test logs its seed; set LEITAI_STORETEST_SEED to replay one.
//
// The suite checks the guarantees documented on voting.Store: events and
// their revisions, the stage's compare-and-set, ballots (stage checks,
// idempotency, replacement, stale revisions, resets), standings against
// voting.Tally over random ballots, concurrency, and durability across a
// restart of the backing service.
package storetest

import (
	"testing"

	"leitai/voting"
)

// Factory opens a fresh, empty store for one test. Restart, when called, must make the
// store durable-restart: close it, restart its backing (Redis killed with SIGKILL and
// restarted on the same AOF dir; the embedded store reopened on the same dir) and
// return a new Store on the same data. Restart may be nil if the backend can't restart
// (then restart tests skip).
type Factory func(t *testing.T) (s voting.Store, restart func() voting.Store)

// Run runs the contract suite against the stores f makes: every subtest
// opens its own fresh store, and the subtests run in parallel (each store
// is its own, so they cannot see each other).
func Run(t *testing.T, f Factory) { run(t, f, true) }

// RunSerial runs the suite one subtest at a time, for a factory whose
// stores share one backing (e.g. a Redis that each store empties first).
func RunSerial(t *testing.T, f Factory) { run(t, f, false) }

func run(t *testing.T, f Factory, parallel bool) {
	tests := []struct {
		name string
		run  func(t *testing.T, f Factory)
	}{
		{"Ping", withStore(testPing)},
		{"CreateEvent", withStore(testCreateEvent)},
		{"CreateDuplicate", withStore(testCreateDuplicate)},
		{"MissingEvent", withStore(testMissingEvent)},
		{"UpdateEvent", withStore(testUpdateEvent)},
		{"UpdateAfterBallots", withStore(testUpdateAfterBallots)},
		{"EventSource", withStore(testEventSource)},
		{"EventsSorted", withStore(testEventsSorted)},
		{"DeleteEvent", withStore(testDeleteEvent)},
		{"EventsIsolated", withStore(testEventsIsolated)},
		{"StageCompareAndSet", withStore(testStageCAS)},
		{"StageRoundTrip", withStore(testStageRoundTrip)},
		{"StageConcurrentCAS", withStore(testStageConcurrentCAS)},
		{"BallotClosedPhases", withStore(testBallotClosedPhases)},
		{"BallotScope", withStore(testBallotScope)},
		{"BallotCountdown", withStore(testBallotCountdown)},
		{"BallotRetry", withStore(testBallotRetry)},
		{"BallotIDReused", withStore(testBallotIDReused)},
		{"BallotStaleRevision", withStore(testBallotStaleRevision)},
		{"BallotReplacement", withStore(testBallotReplacement)},
		{"BallotsRoundTrip", withStore(testBallotsRoundTrip)},
		{"ResetContestant", withStore(testResetContestant)},
		{"StandingsRounding", withStore(testStandingsRounding)},
		{"ModesAndTieBreaks", withStore(testModesAndTieBreaks)},
		{"RandomAgainstTally", withStore(testRandomAgainstTally)},
		{"ConcurrentVoters", withStore(testConcurrentVoters)},
		{"ConcurrentOneVoter", withStore(testConcurrentOneVoter)},
		{"ConcurrentSameID", withStore(testConcurrentSameID)},
		{"CloseWhileVoting", withStore(testCloseWhileVoting)},
		{"Restart", testRestart},
		{"Presentation", testPresentation},
		{"Secret", testSecret},
		{"Tickets", withStore(testTickets)},
		{"Seats", withStore(testSeats)},
		{"TicketsConcurrentClaims", withStore(testTicketsConcurrentClaims)},
		{"Audit", withStore(testAudit)},
		{"HostKeys", testHostKeys},
		{"Series", testSeries},
		{"Season", withStore(testSeason)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if parallel {
				t.Parallel()
			}
			tc.run(t, f)
		})
	}
}

func withStore(fn func(t *testing.T, s voting.Store)) func(*testing.T, Factory) {
	return func(t *testing.T, f Factory) {
		s, _ := f(t)
		fn(t, s)
	}
}
