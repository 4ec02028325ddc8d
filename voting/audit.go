package voting

import (
	"crypto/sha1" // matches redis.sha1hex, the only hash Redis scripts have
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// AuditKind says what an audit entry records.
type AuditKind string

const (
	// AuditBallot is an accepted ballot: a new one, or one that replaced
	// the voter's earlier ballot for the same contestant and panel.
	AuditBallot AuditKind = "ballot"
	// AuditReset is a host's reset of one contestant's ballots.
	AuditReset AuditKind = "reset"
)

// An AuditEntry is one line of an event's append-only audit log (审计日志).
// Every accepted ballot and every reset is written in the same atomic step
// that changes the standings, chained to the entry before it by hash, so
// that a changed, removed or inserted entry breaks the chain. The voter is
// kept as a digest: the log can be handed to an auditor without the ids
// that phones hold.
type AuditEntry struct {
	Seq        int64     `json:"seq"` // 1, 2, 3, … with no gaps
	At         int64     `json:"at"`  // Unix milliseconds
	Kind       AuditKind `json:"kind"`
	Ballot     string    `json:"ballot,omitempty"` // ballot id
	Voter      string    `json:"voter,omitempty"`  // VoterDigest of the voter
	Contestant string    `json:"contestant"`
	Panel      string    `json:"panel,omitempty"`
	Units      int64     `json:"units,omitempty"` // the score that counts, in ScoreUnits
	Prev       string    `json:"prev"`            // Hash of the entry before ("" for the first)
	Hash       string    `json:"hash"`            // AuditHash of this entry
}

// AuditHash is the hash that chains entry e of event's log: SHA-1 (hex) of
// the fields joined by '|', ending with the previous entry's hash. The
// Redis store computes the same text in Lua with redis.sha1hex; SHA-1 is
// what Redis offers, and the chain's job is to make edits show, with the
// head kept apart from the entries.
func AuditHash(event string, e *AuditEntry) string {
	sum := sha1.Sum([]byte(AuditText(event, e)))
	return hex.EncodeToString(sum[:])
}

// AuditText is the text that AuditHash hashes.
func AuditText(event string, e *AuditEntry) string {
	var b strings.Builder
	for i, f := range []string{
		event, strconv.FormatInt(e.Seq, 10), strconv.FormatInt(e.At, 10), string(e.Kind),
		e.Ballot, e.Voter, e.Contestant, e.Panel, strconv.FormatInt(e.Units, 10), e.Prev,
	} {
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(f)
	}
	return b.String()
}

// VoterDigest is how a voter appears in the audit log: enough to tell
// voters apart (64 bits), not the id itself.
func VoterDigest(voter string) string {
	sum := sha256.Sum256([]byte("leitai voter\x00" + voter))
	return hex.EncodeToString(sum[:8])
}

// ReceiptCodeLength is the number of hex digits of a receipt code.
const ReceiptCodeLength = 8

// ReceiptCode is the short code a voter is shown for a ballot (回执码): the
// start of its audit entry's hash, upper case. An auditor finds the entry
// with `leitai audit verify --receipt CODE`.
func ReceiptCode(hash string) string {
	if len(hash) < ReceiptCodeLength {
		return ""
	}
	return strings.ToUpper(hash[:ReceiptCodeLength])
}

// An AuditReport is what VerifyAudit found in a log.
type AuditReport struct {
	Entries  int // entries read
	Ballots  int // ballot entries (including replacements)
	Replaced int // ballot entries that replaced a live ballot
	Resets   int // reset entries
	Head     string
	// Standings recomputed with Tally from the ballots the log leaves live.
	Standings Standings
}

// AuditError says where a log first fails to verify.
type AuditError struct {
	Seq    int64
	Reason string
}

func (e *AuditError) Error() string { return fmt.Sprintf("audit entry %d: %s", e.Seq, e.Reason) }

// VerifyAudit checks that entries form one unbroken chain for the event
// from its first entry (numbers, links, hashes, contestants and panels of
// the event) and recomputes the standings from them: the last ballot of
// every voter, contestant and panel counts, unless a reset of the
// contestant came after it. It returns an *AuditError for a broken chain.
func VerifyAudit(ev *Event, entries []AuditEntry) (AuditReport, error) {
	type key struct{ voter, contestant, panel string }
	live := make(map[key]CountedBallot)
	rep := AuditReport{}
	prev := ""
	for i := range entries {
		e := &entries[i]
		fail := func(format string, args ...any) (AuditReport, error) {
			return rep, &AuditError{Seq: e.Seq, Reason: fmt.Sprintf(format, args...)}
		}
		if e.Seq != int64(i)+1 {
			return fail("expected number %d: an entry is missing or out of place", i+1)
		}
		if e.Prev != prev {
			return fail("does not link to the entry before it")
		}
		if h := AuditHash(ev.ID, e); h != e.Hash {
			return fail("hash %s does not match its content (expected %s): the entry was changed", e.Hash, h)
		}
		prev = e.Hash
		rep.Entries++
		if _, _, ok := ev.Contestant(e.Contestant); !ok {
			return fail("contestant %q is not in the event", e.Contestant)
		}
		switch e.Kind {
		case AuditBallot:
			if _, ok := ev.Panel(e.Panel); !ok {
				return fail("panel %q is not in the event", e.Panel)
			}
			if e.Voter == "" || e.Ballot == "" {
				return fail("ballot entry without a voter or ballot id")
			}
			k := key{e.Voter, e.Contestant, e.Panel}
			if _, ok := live[k]; ok {
				rep.Replaced++
			}
			live[k] = CountedBallot{Ballot: Ballot{ID: e.Ballot, Event: ev.ID, Voter: e.Voter, Contestant: e.Contestant, Panel: e.Panel}, Units: e.Units, At: e.At}
			rep.Ballots++
		case AuditReset:
			for k := range live {
				if k.contestant == e.Contestant {
					delete(live, k)
				}
			}
			rep.Resets++
		default:
			return fail("unknown kind %q", e.Kind)
		}
	}
	rep.Head = prev
	ballots := make([]CountedBallot, 0, len(live))
	for _, b := range live {
		ballots = append(ballots, b)
	}
	rep.Standings = Tally(ev, ballots)
	return rep, nil
}

// StandingsDiff returns "" when a and b are the same standings, else where
// they first differ, for a person to read.
func StandingsDiff(a, b Standings) string {
	if a.Ballots != b.Ballots {
		return fmt.Sprintf("%d ballots against %d", a.Ballots, b.Ballots)
	}
	if len(a.Rows) != len(b.Rows) {
		return fmt.Sprintf("%d contestants against %d", len(a.Rows), len(b.Rows))
	}
	for i := range a.Rows {
		if !reflect.DeepEqual(a.Rows[i], b.Rows[i]) {
			return fmt.Sprintf("row %d: %+v against %+v", i+1, a.Rows[i], b.Rows[i])
		}
	}
	return ""
}
