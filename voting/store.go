package voting

import "context"

// Store keeps events, their stage and their ballots. Implementations live in
// subpackages (redisstore, embedded) and pass the contract suite in
// voting/storetest.
//
// Guarantees every implementation gives:
//
//   - Durability: when CastBallot, SetStage, CreateEvent, UpdateEvent or
//     ResetContestant returns without error, the change survives a crash of
//     the process (and, for Redis, a restart of Redis with AOF on).
//   - Atomicity of a ballot: CastBallot checks, in one step with recording,
//     that voting is open for the ballot's contestant in the stage as the
//     store has it (not as the caller last saw it) and that the event has
//     the revision the ballot was validated against. A ballot is either
//     recorded with every aggregate updated, or not at all.
//   - What a store checks of a ballot, and what it does not: only what
//     must be atomic with recording (the ballot id, the revision, the
//     stage, the voter's ticket) and that the ids are safe in its keys.
//     The content (ids well formed, contestant and panel of the event,
//     panel key, scores on the scale) is Service.Cast's to check, once
//     (Event.Check); the revision check pins the event it was checked
//     against, so a store does not check it again.
//   - Idempotency: a ballot id is recorded once. Casting the same id again
//     with the same content returns the first receipt, whatever the stage
//     is by then; the same id with other content is refused (conflict).
//   - One live ballot per voter, contestant and panel: a later ballot
//     replaces the earlier one while voting is open.
//   - Linearizable stage: SetStage succeeds only if the stored version is
//     next.Version-1, so two hosts cannot both move the stage from the same
//     version. A ballot either happens before a stage change (and counts)
//     or after it (and is judged by the new stage).
//   - Standings equal Tally over the live ballots, exactly.
//   - Tickets: a ballot in a panel that needs tickets (Panel.Tickets) is
//     taken only from a voter who holds an unrevoked ticket for that panel,
//     checked in the same step as recording. A ticket binds to the first
//     voter that claims it, and a voter holds at most one per panel. A
//     seat's ballot (Voter is SeatVoter(code), Device set) is taken only
//     while Device holds that unrevoked ticket, checked in the same step.
//   - Audit: every recorded ballot and every reset is appended to the
//     event's audit log in the same atomic step, chained by AuditHash;
//     the receipt carries the entry's ReceiptCode (a retry gets the same).
//     VerifyAudit over the whole log gives the store's Standings.
//
// Errors are *Error: not_found for a missing event, conflict for a lost
// compare-and-set or reused ballot id, closed when voting is not open,
// unavailable when the backing service cannot be reached (the caller may
// retry with the same ballot id), internal otherwise.
type Store interface {
	// CreateEvent stores a new event (with Revision 1) and its initial
	// stage. The event must be valid; an existing id is a conflict.
	CreateEvent(ctx context.Context, ev Event) (Event, error)
	// UpdateEvent replaces an event whose stored revision is ev.Revision and
	// returns it with the next revision. Once the event has ballots, only an
	// update that keeps the scoring unchanged (ScoringUnchanged) is taken.
	UpdateEvent(ctx context.Context, ev Event) (Event, error)
	// Event returns an event with its secrets (panel keys).
	Event(ctx context.Context, id string) (Event, error)
	// Events returns every event, ordered by id.
	Events(ctx context.Context) ([]Event, error)
	// DeleteEvent removes an event with its stage, ballots, tickets and
	// audit log (export the log first if it must be kept).
	DeleteEvent(ctx context.Context, id string) error

	// Stage returns the event's stage.
	Stage(ctx context.Context, event string) (Stage, error)
	// SetStage stores next if the stored version is next.Version-1.
	SetStage(ctx context.Context, event string, next Stage) error

	// CastBallot records a ballot checked (Event.Check) against the event
	// at the given revision, at time b.At; see the guarantees above.
	CastBallot(ctx context.Context, b CountedBallot, revision int64) (Receipt, error)
	// Ballots returns the live ballots of an event (one per voter,
	// contestant and panel), in no particular order.
	Ballots(ctx context.Context, event string) ([]CountedBallot, error)
	// VoterBallots returns one voter's live ballots.
	VoterBallots(ctx context.Context, event, voter string) ([]CountedBallot, error)
	// Standings returns the standings from the live ballots.
	Standings(ctx context.Context, event string) (Standings, error)
	// ResetContestant removes every ballot for one contestant and returns
	// how many there were. Their ids stay used: a retry of one of them is
	// answered with its old receipt and not counted again.
	ResetContestant(ctx context.Context, event, contestant string) (int, error)

	// CreateTickets stores new, unclaimed tickets. A code that exists
	// already is a conflict and nothing is stored.
	CreateTickets(ctx context.Context, event string, tickets []Ticket) error
	// Tickets returns the event's tickets, ordered by Issued then Code.
	Tickets(ctx context.Context, event string) ([]Ticket, error)
	// ClaimTicket binds an unclaimed ticket to voter at time at and
	// returns it; claiming a ticket the voter already holds returns it
	// unchanged. A ticket held by another voter or revoked is forbidden; a
	// voter holding another ticket of the same panel is a conflict; an
	// unknown code is not_found.
	ClaimTicket(ctx context.Context, event, code, voter string, at int64) (Ticket, error)
	// ReleaseTicket unbinds a ticket from its holder (a judge's phone
	// that died): the holder can vote with it no more and may claim
	// another; the next device to claim it holds it. Releasing an
	// unclaimed ticket returns it unchanged; a revoked one is forbidden.
	ReleaseTicket(ctx context.Context, event, code string) (Ticket, error)
	// RevokeTicket marks a ticket revoked; its holder can no longer vote
	// with it. Revoking twice is not an error.
	RevokeTicket(ctx context.Context, event, code string) (Ticket, error)
	// VoterTickets returns the tickets voter holds (revoked ones included).
	VoterTickets(ctx context.Context, event, voter string) ([]Ticket, error)

	// CreateSeries stores a new series (赛季) with Revision 1; an existing
	// id is a conflict. UpdateSeries replaces a series whose stored
	// revision is se.Revision and returns it with the next revision.
	// Series returns one (not_found when missing), SeriesList every one,
	// ordered by id. A series holds only its rule: the events name their
	// series and round (Event.Series, Event.Round).
	CreateSeries(ctx context.Context, se Series) (Series, error)
	UpdateSeries(ctx context.Context, se Series) (Series, error)
	Series(ctx context.Context, id string) (Series, error)
	SeriesList(ctx context.Context) ([]Series, error)

	// Audit returns up to limit audit entries with Seq > after, in order.
	Audit(ctx context.Context, event string, after int64, limit int) ([]AuditEntry, error)

	// HostKeys returns the stored host key digests (zero before first use).
	HostKeys(ctx context.Context) (HostKeys, error)
	// SwapHostKeys stores next if the stored value is still old (a zero
	// old: nothing stored yet); else it is a conflict.
	SwapHostKeys(ctx context.Context, old, next HostKeys) error

	// Secret returns the random secret (SecretSize bytes) with the given
	// name, made on first use and the same for every instance that shares
	// the store, e.g. the key that signs voter credentials.
	Secret(ctx context.Context, name string) ([]byte, error)

	// Ping reports whether the store can serve (for readiness).
	Ping(ctx context.Context) error
	// Close releases the store; it flushes what was acknowledged.
	Close() error
}

// SecretSize is the length of a Store secret: 256 bits.
const SecretSize = 32

// ErrStaleRevision is what stores return (unwrapped or wrapped) when a
// ballot was validated against an older revision of the event; the Service
// reloads the event and tries again. Match it with errors.Is.
var ErrStaleRevision = &Error{Code: CodeConflict, Message: "the event changed while the ballot was checked; try again"}

// HostKeys is what the store keeps of the host key, shared by every
// instance so that a rotation reaches all of them: SHA-256 digests (hex),
// never the key. Seed is the digest of the key the operator configured;
// Current the digest of the key in force, which differs after a rotation.
type HostKeys struct {
	Seed    string `json:"seed"`
	Current string `json:"current"`
}
