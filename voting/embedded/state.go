package embedded

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	"leitai/voting"
)

// state is everything the journal describes. apply is the only way it
// changes, both when a call makes a change and when Open replays the
// journal, so that the two cannot drift apart.
type state struct {
	events map[string]*eventState
	// size is the number of records a snapshot of the state holds (one
	// per event, one per used ballot id); compaction compares the journal
	// with it.
	size int
}

type eventState struct {
	ev    voting.Event
	stage voting.Stage
	// contestants and panels index ev for the checks of every ballot.
	contestants map[string]bool
	panels      map[string]bool
	// ids remembers every ballot id used in the event, live or not, so a
	// retry is answered with its receipt even after a reset or restart.
	ids map[string]idEntry
	// voters holds the live ballots: voter → (contestant, panel) → ballot.
	// Stored ballots are never modified, only replaced.
	voters map[string]map[slot]*voting.CountedBallot
	// scores holds the units of the live ballots per contestant and panel,
	// sorted, so the standings are a sum per slice and not a Tally.
	scores map[slot][]int64
	live   int
	// tickets by code; holders maps voter|panel to the code the voter
	// holds (revoked ones included, so a voter cannot claim another).
	tickets map[string]*voting.Ticket
	holders map[string]string
	// audit is the event's audit log, in order.
	audit []voting.AuditEntry
}

type slot struct{ contestant, panel string }

// idEntry is what is left of a ballot id: the fingerprint to tell a retry
// from a reuse, and what the receipt says.
type idEntry struct {
	fp         string
	contestant string
	panel      string
	units      int64
	at         int64
	replaced   bool
	code       string // receipt code
}

func (e *idEntry) receipt(id string) voting.Receipt {
	return voting.Receipt{BallotID: id, Contestant: e.contestant, Panel: e.panel,
		Score: float64(e.units) / voting.ScoreUnits, Replaced: e.replaced, At: e.at, Code: e.code}
}

func newState() state { return state{events: make(map[string]*eventState)} }

func newEventState(ev voting.Event, stage voting.Stage) *eventState {
	es := &eventState{
		stage:   stage,
		ids:     make(map[string]idEntry),
		voters:  make(map[string]map[slot]*voting.CountedBallot),
		scores:  make(map[slot][]int64),
		tickets: make(map[string]*voting.Ticket),
		holders: make(map[string]string),
	}
	es.setEvent(ev)
	return es
}

func (es *eventState) setEvent(ev voting.Event) {
	es.ev = ev
	es.contestants = make(map[string]bool, len(ev.Contestants))
	for _, c := range ev.Contestants {
		es.contestants[c.ID] = true
	}
	es.panels = make(map[string]bool, len(ev.Panels))
	for _, p := range ev.Panels {
		es.panels[p.ID] = true
	}
}

// apply changes the state by one record. It checks everything before it
// changes anything, so a record that does not fit (a corrupt journal, or a
// bug) leaves the state as it was.
func (st *state) apply(r *record) error {
	if r.T == recCreate || r.T == recUpdate {
		if r.Ev == nil {
			return errors.New("event record without an event")
		}
		if err := r.Ev.Validate(); err != nil {
			return fmt.Errorf("invalid event %q: %w", r.Ev.ID, err)
		}
		r.E = r.Ev.ID
	}
	if r.T == recCreate {
		if r.St == nil {
			return errors.New("event record without a stage")
		}
		if _, ok := st.events[r.E]; ok {
			return fmt.Errorf("event %q created twice", r.E)
		}
		st.events[r.E] = newEventState(*r.Ev, *r.St)
		st.size++
		return nil
	}
	es := st.events[r.E]
	if es == nil {
		return fmt.Errorf("record %q for unknown event %q", r.T, r.E)
	}
	switch r.T {
	case recUpdate:
		es.setEvent(*r.Ev)
	case recDelete:
		st.size -= 1 + len(es.ids) + len(es.audit)
		if len(es.tickets) > 0 {
			st.size--
		}
		delete(st.events, r.E)
	case recStage:
		if r.St == nil {
			return errors.New("stage record without a stage")
		}
		if r.St.Version != es.stage.Version+1 {
			return fmt.Errorf("stage version %d follows version %d", r.St.Version, es.stage.Version)
		}
		es.stage = *r.St
	case recBallot, recID:
		if r.I == "" {
			return errors.New("ballot record without an id")
		}
		if _, ok := es.ids[r.I]; ok {
			return fmt.Errorf("ballot id %q recorded twice", r.I)
		}
		if r.T == recID {
			if r.F == "" {
				return errors.New("ballot id record without a fingerprint")
			}
			es.ids[r.I] = idEntry{fp: r.F, contestant: r.C, panel: r.P, units: r.U, at: r.A, replaced: r.X, code: r.K}
			st.size++
			return nil
		}
		if !voting.ValidVoter(r.V) || !es.contestants[r.C] || !es.panels[r.P] {
			return fmt.Errorf("ballot %q does not fit event %q", r.I, r.E)
		}
		b := r.ballot()
		code := r.K
		if r.H != "" {
			if err := st.appendRecordAudit(es, r); err != nil {
				return err
			}
			code = voting.ReceiptCode(r.H)
		}
		es.ids[r.I] = idEntry{fp: b.Fingerprint(), contestant: r.C, panel: r.P, units: r.U, at: r.A, replaced: r.X, code: code}
		st.size++
		es.upsert(b)
	case recReset:
		if !es.contestants[r.C] {
			return fmt.Errorf("reset of unknown contestant %q", r.C)
		}
		if r.H != "" {
			if err := st.appendRecordAudit(es, r); err != nil {
				return err
			}
		}
		es.reset(r.C)
	case recAudit:
		if r.Au == nil {
			return errors.New("audit record without an entry")
		}
		e := *r.Au
		if err := st.appendAudit(r.E, es, e, e.Hash); err != nil {
			return err
		}
	case recTicket:
		for i := range r.Tk {
			if _, ok := es.tickets[r.Tk[i].Code]; ok {
				return fmt.Errorf("ticket %q issued twice", r.Tk[i].Code)
			}
		}
		if len(es.tickets) == 0 && len(r.Tk) > 0 {
			st.size++ // a snapshot writes the tickets as one record
		}
		for i := range r.Tk {
			t := r.Tk[i]
			es.tickets[t.Code] = &t
			if t.Voter != "" {
				es.holders[t.Voter+"|"+t.Panel] = t.Code
			}
		}
	case recClaim:
		t := es.tickets[r.K]
		if t == nil || t.Voter != "" || !voting.ValidVoter(r.V) {
			return fmt.Errorf("claim of ticket %q does not fit", r.K)
		}
		t.Voter, t.Claimed = r.V, r.A
		es.holders[r.V+"|"+t.Panel] = t.Code
	case recRevoke:
		t := es.tickets[r.K]
		if t == nil {
			return fmt.Errorf("revocation of unknown ticket %q", r.K)
		}
		t.Revoked = true
	case recFree:
		t := es.tickets[r.K]
		if t == nil || t.Revoked {
			return fmt.Errorf("release of ticket %q does not fit", r.K)
		}
		if t.Voter != "" {
			delete(es.holders, t.Voter+"|"+t.Panel)
		}
		t.Voter, t.Claimed = "", 0
	default:
		return fmt.Errorf("unknown record type %q", r.T)
	}
	return nil
}

// auditFor builds the audit entry that a ballot or reset record appends
// to the log as it stands, without its hash.
func (es *eventState) auditFor(r *record) voting.AuditEntry {
	e := voting.AuditEntry{Seq: int64(len(es.audit)) + 1, At: r.A, Kind: voting.AuditReset, Contestant: r.C}
	if r.T == recBallot {
		e.Kind, e.Ballot, e.Voter, e.Panel, e.Units = voting.AuditBallot, r.I, voting.VoterDigest(r.V), r.P, r.U
	}
	if n := len(es.audit); n > 0 {
		e.Prev = es.audit[n-1].Hash
	}
	return e
}

// seal gives a ballot or reset record made by a call its audit entry and
// hash (r.H, which goes to the journal). The entry rides along with the
// record so that applying it does not hash it again under the lock.
func (es *eventState) seal(event string, r *record) {
	e := es.auditFor(r)
	e.Hash = voting.AuditHash(event, &e)
	r.H, r.sealed = e.Hash, &e
}

// appendRecordAudit appends the audit entry of a ballot or reset record:
// the one seal made, or, replaying the journal, one rebuilt from the
// record and checked against its hash.
func (st *state) appendRecordAudit(es *eventState, r *record) error {
	if r.sealed != nil {
		es.audit = append(es.audit, *r.sealed)
		st.size++
		return nil
	}
	return st.appendAudit(r.E, es, es.auditFor(r), r.H)
}

// appendAudit seals e and appends it if its hash is want and it follows
// the log's last entry.
func (st *state) appendAudit(event string, es *eventState, e voting.AuditEntry, want string) error {
	if e.Seq != int64(len(es.audit))+1 {
		return fmt.Errorf("audit entry %d follows entry %d", e.Seq, len(es.audit))
	}
	if n := len(es.audit); (n == 0 && e.Prev != "") || (n > 0 && e.Prev != es.audit[n-1].Hash) {
		return fmt.Errorf("audit entry %d does not link to the entry before it", e.Seq)
	}
	if h := voting.AuditHash(event, &e); h != want {
		return fmt.Errorf("audit entry %d: hash %s does not match its content", e.Seq, want)
	}
	e.Hash = want
	es.audit = append(es.audit, e)
	st.size++
	return nil
}

// ticketHeld reports whether voter holds an unrevoked ticket for panel.
func (es *eventState) ticketHeld(voter, panel string) bool {
	code, ok := es.holders[voter+"|"+panel]
	return ok && !es.tickets[code].Revoked
}

// ballotHolds reports whether b may be cast in its ticketed panel: its
// voter holds an unrevoked ticket there, or, for a seat's ballot, its
// device holds the seat's ticket.
func (es *eventState) ballotHolds(b *voting.CountedBallot) bool {
	if b.Device == "" {
		return es.ticketHeld(b.Voter, b.Panel)
	}
	seat, ok := voting.SeatCode(b.Voter)
	return ok && es.holders[b.Device+"|"+b.Panel] == seat && es.ticketHeld(b.Device, b.Panel)
}

// upsert makes b the voter's live ballot for its contestant and panel and
// reports whether it replaced one.
func (es *eventState) upsert(b *voting.CountedBallot) bool {
	k := slot{b.Contestant, b.Panel}
	mine := es.voters[b.Voter]
	if mine == nil {
		mine = make(map[slot]*voting.CountedBallot, 2)
		es.voters[b.Voter] = mine
	}
	old := mine[k]
	if old != nil {
		es.scores[k] = removeSorted(es.scores[k], old.Units)
	} else {
		es.live++
	}
	mine[k] = b
	es.scores[k] = insertSorted(es.scores[k], b.Units)
	return old != nil
}

// has reports whether voter has a live ballot for contestant and panel.
func (es *eventState) has(voter, contestant, panel string) bool {
	_, ok := es.voters[voter][slot{contestant, panel}]
	return ok
}

// reset removes the live ballots for contestant and returns how many.
func (es *eventState) reset(contestant string) int {
	n := 0
	for voter, mine := range es.voters {
		for k := range mine {
			if k.contestant == contestant {
				delete(mine, k)
				n++
			}
		}
		if len(mine) == 0 {
			delete(es.voters, voter)
		}
	}
	for k := range es.scores {
		if k.contestant == contestant {
			delete(es.scores, k)
		}
	}
	es.live -= n
	return n
}

func (es *eventState) countFor(contestant string) int {
	n := 0
	for k, us := range es.scores {
		if k.contestant == contestant {
			n += len(us)
		}
	}
	return n
}

func insertSorted(s []int64, u int64) []int64 {
	i, _ := slices.BinarySearch(s, u)
	return slices.Insert(s, i, u)
}

func removeSorted(s []int64, u int64) []int64 {
	if i, ok := slices.BinarySearch(s, u); ok {
		return slices.Delete(s, i, i+1)
	}
	return s
}

// standings scores the live ballots. It is Tally step by step on slices
// that are kept sorted: voting.Score and Rank on the same inputs, so the
// result is the same bit for bit.
func (es *eventState) standings() voting.Standings {
	ev := &es.ev
	rows := make([]voting.Standing, 0, len(ev.Contestants))
	for _, c := range ev.Contestants {
		rows = append(rows, voting.Score(ev, c, func(panel string) []int64 { return es.scores[slot{c.ID, panel}] }))
	}
	return voting.Rank(ev, rows)
}

// snapshotEvent is a copy of one event's state, taken under the lock and
// written out without it. The ballots are shared: stored ballots are
// never modified.
type snapshotEvent struct {
	ev    voting.Event
	stage voting.Stage
	live  []*voting.CountedBallot
	ids   map[string]idEntry
	// tickets are copies; audit shares the entries, which never change.
	tickets []voting.Ticket
	audit   []voting.AuditEntry
}

func (st *state) snapshot() []snapshotEvent {
	out := make([]snapshotEvent, 0, len(st.events))
	for _, es := range st.events {
		se := snapshotEvent{ev: cloneEvent(es.ev), stage: es.stage, ids: maps.Clone(es.ids),
			live: make([]*voting.CountedBallot, 0, es.live), audit: es.audit[:len(es.audit):len(es.audit)]}
		for _, t := range es.tickets {
			se.tickets = append(se.tickets, *t)
		}
		for _, mine := range es.voters {
			for _, b := range mine {
				se.live = append(se.live, b)
			}
		}
		out = append(out, se)
	}
	slices.SortFunc(out, func(a, b snapshotEvent) int { return cmp.Compare(a.ev.ID, b.ev.ID) })
	return out
}

// records calls fn with the records that rebuild the event: the event
// with its stage, its live ballots, then its other used ids.
func (se *snapshotEvent) records(fn func(*record) error) error {
	if err := fn(&record{T: recCreate, Ev: &se.ev, St: &se.stage}); err != nil {
		return err
	}
	if len(se.tickets) > 0 {
		slices.SortFunc(se.tickets, func(a, b voting.Ticket) int { return cmp.Compare(a.Code, b.Code) })
		if err := fn(&record{T: recTicket, E: se.ev.ID, Tk: se.tickets}); err != nil {
			return err
		}
	}
	// Sorted, so that the same state always makes the same file.
	slices.SortFunc(se.live, func(a, b *voting.CountedBallot) int { return cmp.Compare(a.ID, b.ID) })
	live := make(map[string]bool, len(se.live))
	for _, b := range se.live {
		live[b.ID] = true
		r := ballotRecord(b, se.ids[b.ID].replaced)
		r.K = se.ids[b.ID].code
		if err := fn(r); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(se.ids)) {
		if live[id] {
			continue
		}
		e := se.ids[id]
		if err := fn(&record{T: recID, E: se.ev.ID, I: id, F: e.fp, C: e.contestant, P: e.panel, U: e.units, A: e.at, X: e.replaced, K: e.code}); err != nil {
			return err
		}
	}
	for i := range se.audit {
		if err := fn(&record{T: recAudit, E: se.ev.ID, Au: &se.audit[i]}); err != nil {
			return err
		}
	}
	return nil
}

// cloneEvent returns a copy of ev that shares no slices with it.
func cloneEvent(ev voting.Event) voting.Event {
	ev.Contestants = slices.Clone(ev.Contestants)
	ev.Panels = slices.Clone(ev.Panels)
	ev.Rules.Criteria = slices.Clone(ev.Rules.Criteria)
	return ev
}

// cloneBallot returns a copy of b that shares no map with it.
func cloneBallot(b *voting.CountedBallot) voting.CountedBallot {
	c := *b
	c.Scores = maps.Clone(b.Scores)
	return c
}
