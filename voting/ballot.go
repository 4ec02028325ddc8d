package voting

import (
	"crypto/subtle"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// ScoreUnits is how many units make one point. A ballot's score is kept as a
// whole number of units (1/10000 of a point) so that sums are exact in every
// store and in Lua, and the standings come out the same everywhere.
const ScoreUnits = 10000

// A Ballot (选票) is one voter's score for one contestant in one panel. The
// client makes its ID (a UUID) so that a retried ballot counts once.
type Ballot struct {
	ID         string `json:"id"`
	Event      string `json:"event"`
	Voter      string `json:"voter"`
	Contestant string `json:"contestant"`
	Panel      string `json:"panel"`
	// Score is the score when the rules have no criteria.
	Score float64 `json:"score,omitempty"`
	// Scores holds one score per criterion id when the rules have criteria.
	Scores map[string]float64 `json:"scores,omitempty"`
}

// A CountedBallot is a ballot that passed validation: Units is the score that
// counts (the criteria's weighted average) in ScoreUnits, At the time it was
// cast in Unix milliseconds.
type CountedBallot struct {
	Ballot
	Units int64 `json:"units"`
	At    int64 `json:"at"`

	// Device, for a ballot of a judges' seat (Voter is SeatVoter), is the
	// voter id of the device that cast it: the store takes the ballot only
	// if that device holds the seat's ticket, in the same step. Not kept.
	Device string `json:"-"`
}

// Points returns the counted score in points.
func (b *CountedBallot) Points() float64 { return float64(b.Units) / ScoreUnits }

// MarshalJSON adds "counted", the score that counts in points (for a
// criteria ballot, their weighted average), so that a phone shows the
// server's figure and never converts units or weighs criteria itself.
func (b CountedBallot) MarshalJSON() ([]byte, error) {
	type plain CountedBallot // the fields, without this method
	return json.Marshal(struct {
		plain
		Counted float64 `json:"counted"`
	}{plain(b), b.Points()})
}

// Fingerprint identifies the content of a ballot, so that a retry of a ballot
// id with different content is told apart from an honest retry.
func (b *CountedBallot) Fingerprint() string {
	var sb strings.Builder
	sb.WriteString(b.Voter)
	sb.WriteByte('|')
	sb.WriteString(b.Contestant)
	sb.WriteByte('|')
	sb.WriteString(b.Panel)
	sb.WriteByte('|')
	sb.WriteString(strconv.FormatInt(b.Units, 10))
	keys := make([]string, 0, len(b.Scores))
	for k := range b.Scores {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		sb.WriteByte('|')
		sb.WriteString(k)
		sb.WriteByte('=')
		sb.WriteString(strconv.FormatFloat(b.Scores[k], 'g', -1, 64))
	}
	return sb.String()
}

// A Receipt is the store's answer to a ballot: the score that counts. A retry
// of the same ballot id gets the same receipt.
type Receipt struct {
	BallotID   string  `json:"id"`
	Contestant string  `json:"contestant"`
	Panel      string  `json:"panel"`
	Score      float64 `json:"score"`
	// Replaced says that the ballot replaced an earlier one of the same voter.
	Replaced bool  `json:"replaced"`
	At       int64 `json:"at"`
	// Code is the receipt code (回执码) of the ballot's audit entry.
	Code string `json:"code"`
}

// MaxVoterLength bounds voter ids, which are made by the server but arrive
// from the network.
const MaxVoterLength = 128

// ValidVoter reports whether s is a well-formed voter id: 1–128 printable
// ASCII characters without '|' or spaces.
func ValidVoter(s string) bool {
	if s == "" || len(s) > MaxVoterLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '|' {
			return false
		}
	}
	return true
}

// A CastRequest is a voter's ballot as it arrives, whatever the way in:
// the WebSocket message (hub's ClientMessage) and the HTTP ballot endpoint
// (for phones whose network blocks WebSockets) both fill one, with the
// voter the hub took from the credential, and Service.Cast checks all of
// it, once. The decoders check only that the input is JSON of the right
// shape.
type CastRequest struct {
	ID         string // the client's UUID, so that a retry counts once
	Event      string
	Voter      string
	Contestant string
	// Panel is the panel the voter votes in; "" is the event's first.
	Panel string
	// PanelKey is what the voter presented for a panel that needs a key.
	PanelKey string
	// Score (rules without criteria) or Scores (one per criterion id).
	Score  *float64
	Scores map[string]float64
}

// Check validates a cast request against the event: everything Count
// checks, plus that it carries a score or scores and, for a panel with a
// key, the key. It is the one check of a ballot on its way in; the store
// adds only what must be atomic with recording (stage, revision, ticket,
// ballot id).
func (e *Event) Check(r CastRequest) (CountedBallot, error) {
	if r.Score == nil && len(r.Scores) == 0 {
		return CountedBallot{}, Errorf(CodeInvalid, "a ballot needs a score or scores")
	}
	if r.Panel == "" && len(e.Panels) > 0 {
		r.Panel = e.Panels[0].ID
	}
	b := Ballot{ID: r.ID, Event: r.Event, Voter: r.Voter, Contestant: r.Contestant, Panel: r.Panel, Scores: r.Scores}
	if r.Score != nil {
		b.Score = *r.Score
	}
	cb, err := e.Count(b)
	if err != nil {
		return CountedBallot{}, err
	}
	// The key is checked here, per ballot, rather than when a socket
	// connects: the HTTP fallback has no connection, and a key the host
	// changed stops the next ballot of a phone that connected with the
	// old one.
	if p, _ := e.Panel(b.Panel); p.Key != "" && subtle.ConstantTimeCompare([]byte(p.Key), []byte(r.PanelKey)) != 1 {
		return CountedBallot{}, Errorf(CodeForbidden, "the panel %q needs its key", p.Name)
	}
	return cb, nil
}

// Count validates b against the event (contestant, panel, scores on the
// scale and step) and returns it with the score that counts. It does not
// check the stage; the store does that atomically with recording.
func (e *Event) Count(b Ballot) (CountedBallot, error) {
	if _, err := uuid.Parse(b.ID); err != nil || len(b.ID) != 36 {
		return CountedBallot{}, Errorf(CodeInvalid, "ballot id must be a UUID")
	}
	b.ID = strings.ToLower(b.ID)
	if b.Event != e.ID {
		return CountedBallot{}, Errorf(CodeInvalid, "ballot is for another event")
	}
	if !ValidVoter(b.Voter) {
		return CountedBallot{}, Errorf(CodeInvalid, "voter id is malformed")
	}
	if _, _, ok := e.Contestant(b.Contestant); !ok {
		return CountedBallot{}, Errorf(CodeNotFound, "no contestant %q in this event", Excerpt(b.Contestant, 40))
	}
	if _, ok := e.Panel(b.Panel); !ok {
		return CountedBallot{}, Errorf(CodeNotFound, "no panel %q in this event", Excerpt(b.Panel, 40))
	}
	units, err := e.Rules.units(b)
	if err != nil {
		return CountedBallot{}, err
	}
	return CountedBallot{Ballot: b, Units: units}, nil
}

func (r *Rules) units(b Ballot) (int64, error) {
	if len(r.Criteria) == 0 {
		if len(b.Scores) != 0 {
			return 0, Errorf(CodeInvalid, "this event scores one number, not criteria")
		}
		if err := r.checkScore("score", b.Score); err != nil {
			return 0, err
		}
		return int64(math.Round(b.Score * ScoreUnits)), nil
	}
	if b.Score != 0 {
		return 0, Errorf(CodeInvalid, "this event scores each criterion; send scores, not score")
	}
	if len(b.Scores) != len(r.Criteria) {
		return 0, Errorf(CodeInvalid, "score every criterion (%d), nothing else", len(r.Criteria))
	}
	var sum, weights float64
	for _, c := range r.Criteria {
		s, ok := b.Scores[c.ID]
		if !ok {
			return 0, Errorf(CodeInvalid, "criterion %q has no score", Excerpt(c.Name, 30))
		}
		if err := r.checkScore(c.Name, s); err != nil {
			return 0, err
		}
		sum += float64(c.Weight * s) // no fused multiply-add: every build and Lua must agree
		weights += c.Weight
	}
	return int64(math.Round(sum / weights * ScoreUnits)), nil
}

func (r *Rules) checkScore(what string, s float64) error {
	if !finite(s) {
		return Errorf(CodeInvalid, "%s is not a number", what)
	}
	if s < r.Min-1e-9 || s > r.Max+1e-9 {
		return Errorf(CodeInvalid, "%s %g is out of range: give %g to %g", what, s, r.Min, r.Max)
	}
	if !onGrid(s-r.Min, r.Step) {
		return Errorf(CodeInvalid, "%s %g is not on the scale: steps of %g from %g", what, s, r.Step, r.Min)
	}
	return nil
}
