package embedded

// The audit log of an event: every ballot and reset appends an entry,
// chained by voting.AuditHash, in the same apply that changes the state;
// replaying the journal rebuilds each entry and checks it against the
// hash the journal holds.

import (
	"context"
	"fmt"
	"slices"

	"leitai/voting"
)

// Audit implements voting.Store.
func (s *Store) Audit(_ context.Context, event string, after int64, limit int) ([]voting.AuditEntry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	es, err := s.eventLocked(event)
	if err != nil {
		return nil, err
	}
	after = max(after, 0)
	if after >= int64(len(es.audit)) || limit <= 0 {
		return []voting.AuditEntry{}, nil
	}
	end := min(int64(len(es.audit)), after+int64(limit))
	return slices.Clone(es.audit[after:end]), nil
}

// auditFor builds the audit entry that a ballot or reset record appends
// to the log as it stands, without its hash.
func (es *eventState) auditFor(r *record) voting.AuditEntry {
	e := voting.AuditEntry{Seq: int64(len(es.audit)) + 1, At: r.At, Kind: voting.AuditReset, Contestant: r.Contestant}
	if r.Type == recBallot {
		e.Kind, e.Ballot, e.Voter, e.Panel, e.Units = voting.AuditBallot, r.BallotID, voting.VoterDigest(r.Voter), r.Panel, r.Units
	}
	if n := len(es.audit); n > 0 {
		e.Prev = es.audit[n-1].Hash
	}
	return e
}

// seal gives a ballot or reset record made by a call its audit entry and
// hash (r.AuditHash, which goes to the journal). The entry rides along with the
// record so that applying it does not hash it again under the lock.
func (es *eventState) seal(event string, r *record) {
	e := es.auditFor(r)
	e.Hash = voting.AuditHash(event, &e)
	r.AuditHash, r.sealed = e.Hash, &e
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
	return st.appendAudit(r.EventID, es, es.auditFor(r), r.AuditHash)
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
