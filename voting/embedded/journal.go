package embedded

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"

	"leitai/voting"
)

// The journal is one file: a header line, then frames. A frame is
//
//	length  uint32, little endian: bytes of payload (1 … maxRecord)
//	crc     uint32, little endian: CRC-32C (Castagnoli) of payload
//	payload one record as compact JSON
//
// The store appends frames and fsyncs them before it acknowledges the
// changes they hold; each write ends with a commit mark (see commitMark).
// Compaction replaces the whole file by a snapshot (written aside,
// fsynced, renamed over it).
const (
	journalMagic = "leitai journal v1\n"
	journalName  = "leitai.journal"
	tempName     = "leitai.journal.tmp"
	lockName     = "LOCK"
	frameHeader  = 8
	// maxRecord bounds one payload. The largest record is an event with
	// MaxContestants long names (well under 1 MiB); the bound keeps a
	// corrupt length from making replay allocate or scan gigabytes.
	maxRecord = 4 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends the frame of payload to buf.
func appendFrame(buf, payload []byte) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(payload, castagnoli))
	return append(buf, payload...)
}

// frameAt returns the payload of the frame that starts at off, or why there
// is no whole, intact frame there.
func frameAt(data []byte, off int) ([]byte, string) {
	rest := data[off:]
	if len(rest) < frameHeader {
		return nil, "frame header cut short"
	}
	n := binary.LittleEndian.Uint32(rest)
	// Zero is never a valid length: a crash can leave zero-filled blocks at
	// the end of a file, and those must not read as empty records.
	if n == 0 || n > maxRecord {
		return nil, fmt.Sprintf("impossible record length %d", n)
	}
	if uint64(len(rest)-frameHeader) < uint64(n) {
		return nil, "record cut short"
	}
	payload := rest[frameHeader : frameHeader+int(n)]
	if crc32.Checksum(payload, castagnoli) != binary.LittleEndian.Uint32(rest[4:]) {
		return nil, "checksum mismatch"
	}
	return payload, ""
}

// commitMark is the record that ends every write of the writer (one per
// fsync) and every snapshot. Replay uses these marks to tell a torn
// write from damage to acknowledged data: a write is acknowledged only
// after its fsync, and the next write starts only then, so damage can be
// in the last write alone, and at most one mark (that write's own) can
// follow it intact.
const commitMark = `{"t":"k"}`

// tornTail describes a damaged end of the journal: bytes from Offset on
// do not form frames and belong to the last write, whose fsync never
// completed, so nothing in them was acknowledged.
type tornTail struct {
	Offset  int64
	Dropped int64
	Reason  string
}

// CorruptError is returned by Open when the journal is damaged in a way
// that dropping its end cannot repair: intact records of later writes
// follow the damage, so they (and maybe the damaged one) were
// acknowledged.
type CorruptError struct {
	Path   string
	Offset int64 // where the damage starts
	Frame  int   // ordinal of the damaged frame in the file, from 1
	Next   int64 // offset of the next intact frame, or -1
	Reason string
}

func (e *CorruptError) Error() string {
	if e.Next >= 0 {
		return fmt.Sprintf("journal %s is corrupt at byte %d (frame %d: %s), and records of later writes follow from byte %d; "+
			"refusing to drop them. Keep a copy of the file; truncating it to %d bytes opens it with the records before the damage",
			e.Path, e.Offset, e.Frame, e.Reason, e.Next, e.Offset)
	}
	return fmt.Sprintf("journal %s: frame %d at byte %d: %s", e.Path, e.Frame, e.Offset, e.Reason)
}

// errNotJournal says that a file does not start with the journal header.
var errNotJournal = errors.New("not a leitai journal (wrong header)")

// scanJournal checks the header of data and calls fn with the payload of
// each intact frame in order, commit marks left out. It returns how many
// records fn saw, the offset just past the last intact frame, and the torn
// tail if the data ends in something that is not a frame. Damage followed
// by the commit marks of two writes, or an error from fn, is a
// *CorruptError.
func scanJournal(data []byte, fn func(payload []byte) error) (records int, end int64, tail *tornTail, err error) {
	if len(data) < len(journalMagic) || string(data[:len(journalMagic)]) != journalMagic {
		return 0, 0, nil, errNotJournal
	}
	off, frame := len(journalMagic), 0
	for off < len(data) {
		frame++
		payload, why := frameAt(data, off)
		if payload == nil {
			if next, commits := framesAfter(data, off+1); commits >= 2 {
				return records, int64(off), nil, &CorruptError{Offset: int64(off), Frame: frame, Next: int64(next), Reason: why}
			}
			return records, int64(off), &tornTail{Offset: int64(off), Dropped: int64(len(data) - off), Reason: why}, nil
		}
		if string(payload) != commitMark {
			if err := fn(payload); err != nil {
				return records, int64(off), nil, &CorruptError{Offset: int64(off), Frame: frame, Next: -1, Reason: err.Error()}
			}
			records++
		}
		off += frameHeader + len(payload)
	}
	return records, int64(off), nil, nil
}

// replay applies the records of a journal to st; see scanJournal.
func replay(data []byte, st *state) (records int, end int64, tail *tornTail, err error) {
	return scanJournal(data, func(payload []byte) error {
		var r record
		if err := json.Unmarshal(payload, &r); err != nil {
			return err
		}
		return st.apply(&r)
	})
}

// framesAfter looks for intact frames at or after from, resynchronising
// byte by byte past damage. It returns the offset of the first (or -1) and
// how many commit marks it found. Every payload is a JSON object, which
// rules out most offsets before a checksum is computed.
func framesAfter(data []byte, from int) (first, commits int) {
	first = -1
	for i := from; i+frameHeader < len(data); {
		if data[i+frameHeader] == '{' {
			if p, _ := frameAt(data, i); p != nil {
				if first < 0 {
					first = i
				}
				if string(p) == commitMark {
					commits++
				}
				i += frameHeader + len(p)
				continue
			}
		}
		i++
	}
	return first, commits
}

// Record types (record.Type).
const (
	recCreate = "c"  // Event with its Stage (also how a snapshot lists events)
	recUpdate = "u"  // Event replaces the event EventID
	recDelete = "d"  // EventID and everything in it go
	recStage  = "s"  // Stage is EventID's stage
	recBallot = "b"  // a ballot: registers its id and becomes live
	recID     = "i"  // a used ballot id that is no longer live (snapshots only)
	recReset  = "r"  // the live ballots of Contestant go
	recTicket = "t"  // new Tickets (snapshots: every ticket as it stands)
	recClaim  = "tc" // the ticket Code is claimed by Voter At
	recRevoke = "tr" // the ticket Code is revoked
	recFree   = "tf" // the ticket Code is released by its holder (unclaimed again)
	recAudit  = "a"  // the Audit entry, verbatim (snapshots only)
	// "k" is the commit mark (commitMark); it never reaches apply.
)

// record is one journal entry; unused fields are left out. The JSON keys
// are short because ballots make up most of the journal, and they are the
// file format: renaming a Go field is free, changing a tag breaks every
// journal on disk (TestJournalFormat replays one written with them).
type record struct {
	Type    string        `json:"t"` // one of the rec* constants
	EventID string        `json:"e,omitempty"`
	Event   *voting.Event `json:"ev,omitempty"` // recCreate, recUpdate
	Stage   *voting.Stage `json:"st,omitempty"` // recCreate, recStage

	// A ballot (recBallot) or a used ballot id (recID).
	BallotID    string             `json:"i,omitempty"`
	Voter       string             `json:"v,omitempty"` // also recClaim
	Contestant  string             `json:"c,omitempty"` // also recReset
	Panel       string             `json:"p,omitempty"`
	Score       float64            `json:"s,omitempty"`  // Ballot.Score
	Scores      map[string]float64 `json:"ss,omitempty"` // Ballot.Scores
	Units       int64              `json:"u,omitempty"`  // CountedBallot.Units
	At          int64              `json:"a,omitempty"`  // CountedBallot.At; the time of a reset or claim
	Replaced    bool               `json:"x,omitempty"`  // the receipt's Replaced
	Fingerprint string             `json:"f,omitempty"`  // recID: CountedBallot.Fingerprint
	// AuditHash is the audit hash of a ballot or reset written by a call:
	// apply appends the audit entry and checks that its hash is this, so
	// an edited journal does not replay. Snapshots write live ballots
	// without it and the audit log as recAudit records.
	AuditHash string `json:"h,omitempty"`
	// Code is a ticket's code (recClaim, recRevoke) or, in a recID, the
	// ballot's receipt code: one key, two record types.
	Code    string             `json:"k,omitempty"`
	Tickets []voting.Ticket    `json:"tk,omitempty"` // recTicket
	Audit   *voting.AuditEntry `json:"au,omitempty"` // recAudit

	// sealed is the audit entry seal made for this record (not journaled).
	sealed *voting.AuditEntry
}

func ballotRecord(b *voting.CountedBallot, replaced bool) *record {
	return &record{Type: recBallot, EventID: b.Event, BallotID: b.ID, Voter: b.Voter, Contestant: b.Contestant, Panel: b.Panel,
		Score: b.Score, Scores: b.Scores, Units: b.Units, At: b.At, Replaced: replaced}
}

func (r *record) ballot() *voting.CountedBallot {
	return &voting.CountedBallot{
		Ballot: voting.Ballot{ID: r.BallotID, Event: r.EventID, Voter: r.Voter, Contestant: r.Contestant, Panel: r.Panel, Score: r.Score, Scores: r.Scores},
		Units:  r.Units, At: r.At,
	}
}
