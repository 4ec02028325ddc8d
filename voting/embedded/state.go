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
	if r.Type == recCreate || r.Type == recUpdate {
		if r.Event == nil {
			return errors.New("event record without an event")
		}
		if err := r.Event.Validate(); err != nil {
			return fmt.Errorf("invalid event %q: %w", r.Event.ID, err)
		}
		r.EventID = r.Event.ID
	}
	if r.Type == recCreate {
		if r.Stage == nil {
			return errors.New("event record without a stage")
		}
		if _, ok := st.events[r.EventID]; ok {
			return fmt.Errorf("event %q created twice", r.EventID)
		}
		st.events[r.EventID] = newEventState(*r.Event, *r.Stage)
		st.size++
		return nil
	}
	es := st.events[r.EventID]
	if es == nil {
		return fmt.Errorf("record %q for unknown event %q", r.Type, r.EventID)
	}
	switch r.Type {
	case recUpdate:
		es.setEvent(*r.Event)
	case recDelete:
		st.size -= 1 + len(es.ids) + len(es.audit)
		if len(es.tickets) > 0 {
			st.size--
		}
		delete(st.events, r.EventID)
	case recStage:
		if r.Stage == nil {
			return errors.New("stage record without a stage")
		}
		if r.Stage.Version != es.stage.Version+1 {
			return fmt.Errorf("stage version %d follows version %d", r.Stage.Version, es.stage.Version)
		}
		es.stage = *r.Stage
	case recBallot, recID:
		if r.BallotID == "" {
			return errors.New("ballot record without an id")
		}
		if _, ok := es.ids[r.BallotID]; ok {
			return fmt.Errorf("ballot id %q recorded twice", r.BallotID)
		}
		if r.Type == recID {
			if r.Fingerprint == "" {
				return errors.New("ballot id record without a fingerprint")
			}
			es.ids[r.BallotID] = idEntry{fp: r.Fingerprint, contestant: r.Contestant, panel: r.Panel, units: r.Units, at: r.At, replaced: r.Replaced, code: r.Code}
			st.size++
			return nil
		}
		if !voting.ValidVoter(r.Voter) || !es.contestants[r.Contestant] || !es.panels[r.Panel] {
			return fmt.Errorf("ballot %q does not fit event %q", r.BallotID, r.EventID)
		}
		b := r.ballot()
		code := r.Code
		if r.AuditHash != "" {
			if err := st.appendRecordAudit(es, r); err != nil {
				return err
			}
			code = voting.ReceiptCode(r.AuditHash)
		}
		es.ids[r.BallotID] = idEntry{fp: b.Fingerprint(), contestant: r.Contestant, panel: r.Panel, units: r.Units, at: r.At, replaced: r.Replaced, code: code}
		st.size++
		es.upsert(b)
	case recReset:
		if !es.contestants[r.Contestant] {
			return fmt.Errorf("reset of unknown contestant %q", r.Contestant)
		}
		if r.AuditHash != "" {
			if err := st.appendRecordAudit(es, r); err != nil {
				return err
			}
		}
		es.reset(r.Contestant)
	case recAudit:
		if r.Audit == nil {
			return errors.New("audit record without an entry")
		}
		e := *r.Audit
		if err := st.appendAudit(r.EventID, es, e, e.Hash); err != nil {
			return err
		}
	case recTicket:
		for i := range r.Tickets {
			if _, ok := es.tickets[r.Tickets[i].Code]; ok {
				return fmt.Errorf("ticket %q issued twice", r.Tickets[i].Code)
			}
		}
		if len(es.tickets) == 0 && len(r.Tickets) > 0 {
			st.size++ // a snapshot writes the tickets as one record
		}
		for i := range r.Tickets {
			t := r.Tickets[i]
			es.tickets[t.Code] = &t
			if t.Voter != "" {
				es.holders[t.Voter+"|"+t.Panel] = t.Code
			}
		}
	case recClaim:
		t := es.tickets[r.Code]
		if t == nil || t.Voter != "" || !voting.ValidVoter(r.Voter) {
			return fmt.Errorf("claim of ticket %q does not fit", r.Code)
		}
		t.Voter, t.Claimed = r.Voter, r.At
		es.holders[r.Voter+"|"+t.Panel] = t.Code
	case recRevoke:
		t := es.tickets[r.Code]
		if t == nil {
			return fmt.Errorf("revocation of unknown ticket %q", r.Code)
		}
		t.Revoked = true
	case recFree:
		t := es.tickets[r.Code]
		if t == nil || t.Revoked {
			return fmt.Errorf("release of ticket %q does not fit", r.Code)
		}
		if t.Voter != "" {
			delete(es.holders, t.Voter+"|"+t.Panel)
		}
		t.Voter, t.Claimed = "", 0
	default:
		return fmt.Errorf("unknown record type %q", r.Type)
	}
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
	if err := fn(&record{Type: recCreate, Event: &se.ev, Stage: &se.stage}); err != nil {
		return err
	}
	if len(se.tickets) > 0 {
		slices.SortFunc(se.tickets, func(a, b voting.Ticket) int { return cmp.Compare(a.Code, b.Code) })
		if err := fn(&record{Type: recTicket, EventID: se.ev.ID, Tickets: se.tickets}); err != nil {
			return err
		}
	}
	// Sorted, so that the same state always makes the same file.
	slices.SortFunc(se.live, func(a, b *voting.CountedBallot) int { return cmp.Compare(a.ID, b.ID) })
	live := make(map[string]bool, len(se.live))
	for _, b := range se.live {
		live[b.ID] = true
		r := ballotRecord(b, se.ids[b.ID].replaced)
		r.Code = se.ids[b.ID].code
		if err := fn(r); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(se.ids)) {
		if live[id] {
			continue
		}
		e := se.ids[id]
		if err := fn(&record{Type: recID, EventID: se.ev.ID, BallotID: id, Fingerprint: e.fp, Contestant: e.contestant, Panel: e.panel, Units: e.units, At: e.at, Replaced: e.replaced, Code: e.code}); err != nil {
			return err
		}
	}
	for i := range se.audit {
		if err := fn(&record{Type: recAudit, EventID: se.ev.ID, Audit: &se.audit[i]}); err != nil {
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
