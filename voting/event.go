package voting

import (
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// An Event (活动) is one competition: contestants in stage order, the panels
// that score them and the rules of scoring.
type Event struct {
	ID          string       `json:"id"`
	Title       string       `json:"title"`
	Contestants []Contestant `json:"contestants"`
	Panels      []Panel      `json:"panels"`
	Rules       Rules        `json:"rules"`
	// VotingScope says which contestants take ballots while voting is open:
	// only the one on stage (the default) or all of them at once.
	VotingScope VotingScope `json:"votingScope"`
	// PresentationSeconds (汇报时长) is the time each contestant has to
	// present: the presentation timer (Stage.Timer) is set to it whenever a
	// contestant comes on stage. 0: no timer unless the host sets one.
	PresentationSeconds int `json:"presentationSeconds,omitempty"`
	// Published makes the final results (the printable results page and
	// GET /api/events/{event}/results) readable without the host key. Only
	// Service.SetPublished changes it; UpdateEvent keeps the stored value.
	Published bool `json:"published,omitempty"`
	// Source is the event file the event was last set from (digest and the
	// revision that produced), for the host's eyes only: Public drops it.
	// Only Service.ApplyEventFile sets it; UpdateEvent keeps the stored
	// value and CreateEvent (and so CloneEvent) leaves it empty.
	Source EventSource `json:"source,omitzero"`
	// NoHallCode turns the rotating hall code (现场码) off: a new phone
	// then joins with the plain link, without the code that the big
	// screen's QR code carries (remote audiences). Off by default: the
	// code is what keeps a copied link from minting identities.
	NoHallCode bool `json:"noHallCode,omitempty"`
	// Series names the series (赛季) the event is a round of, and Round
	// which round (1: 第一轮); both empty for an event on its own.
	Series string `json:"series,omitempty"`
	Round  int    `json:"round,omitempty"`
	// Revision is set by the store and goes up with every change, so that a
	// server instance can tell that its cached copy is stale.
	Revision int64 `json:"revision"`
}

// VotingScope says which contestants take ballots while voting is open.
type VotingScope string

const (
	ScopeOnStage VotingScope = "stage" // only the contestant on stage
	ScopeAll     VotingScope = "all"   // every contestant at once
)

// A Contestant (参赛单位) presents on stage and is scored. Its order is its
// place in Event.Contestants.
type Contestant struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	// Theme (汇报主题) is the headline the contestant presents under, and
	// Presenter (汇报人) who presents; both optional, shown on the screen
	// and the phones while the contestant is on stage.
	Theme     string `json:"theme,omitempty"`
	Presenter string `json:"presenter,omitempty"`
	// Comment is the host's record of the leader's comment (区领导点评),
	// printed under the contestant in the results. Only Service.SetComment
	// changes it (also after the end); UpdateEvent keeps the stored one, and
	// Public copies leave it out: phones and the screen do not need it.
	Comment string `json:"comment,omitempty"`
}

// A Panel (评审组) is a set of voters whose averaged scores count with a weight.
type Panel struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	// Key, when set, must be presented to vote in this panel (judges). An
	// empty key means everyone with the event's link may vote in it.
	Key string `json:"key,omitempty"`
	// Tickets (一人一票), when set, lets only voters holding a ticket for
	// this panel vote in it: one printed, single-use code per person.
	Tickets bool `json:"tickets,omitempty"`
	// Mode is how the panel's ballots for a contestant become its result:
	// ModeTrimmed (also when empty), ModeAverage or ModeSum.
	Mode ScoringMode `json:"mode,omitempty"`
	// Trim, in ModeTrimmed, drops this many highest and lowest ballots
	// instead of the rules' Trim; 0: the rules' Trim.
	Trim int `json:"trim,omitempty"`
	// Seats (评委席), when named, make the panel a judges' bench: each seat
	// is one printed ticket that one device claims, its ballots count as
	// the seat's (whichever device holds it), and the big screen shows
	// each seat's score once voting closes (亮分). Seats imply Tickets.
	Seats []string `json:"seats,omitempty"`
}

// Rules (评分规则) say what a valid score is and how scores are combined.
type Rules struct {
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Step float64 `json:"step"`
	// Criteria, when present, are scored separately on the same scale; a
	// ballot's score is their weighted average.
	Criteria []Criterion `json:"criteria,omitempty"`
	// Trim drops the Trim highest and Trim lowest ballots of a panel when
	// that panel has more than 2×Trim ballots for a contestant.
	Trim int `json:"trim"`
	// Decimals is the precision of the final score as shown and as ranked:
	// equal scores at this precision share a rank.
	Decimals int `json:"decimals"`
	// TieBreaks order contestants whose final scores are equal at Decimals,
	// step by step (see TieBreak); contestants equal in every step share a
	// place. Empty: equal final scores share a place.
	TieBreaks []TieBreak `json:"tieBreaks,omitempty"`
}

// A Criterion (评分项) is one scored aspect of a presentation, e.g. 举措 or 成绩.
type Criterion struct {
	ID     string  `json:"id"`
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// Limits that keep an event a size a hall and a screen can handle, and keep
// hostile input from costing memory.
const (
	MaxContestants = 500
	MaxPanels      = 8
	MaxCriteria    = 10
	MaxNameLength  = 100 // characters
	MaxScoreSteps  = 100000
)

var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ValidID reports whether s is usable as the id of an event, contestant,
// panel or criterion: lower-case ASCII letters, digits, '-' and '_', at most
// 63 characters. Ids appear in URLs and Redis keys.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// DefaultPanel is the panel of an event that names none: everyone with the
// link, full weight.
func DefaultPanel() Panel { return Panel{ID: "audience", Name: "大众评审", Weight: 1} }

// DefaultRules are the rules of an event that names none.
func DefaultRules() Rules { return Rules{Min: 1, Max: 10, Step: 1, Decimals: 2} }

// Normalize fills in defaults (panel, rules, scope, contestant ids) and trims
// names. It is applied before Validate when an event is created or updated.
func (e *Event) Normalize() {
	e.ID = strings.TrimSpace(e.ID)
	e.Title = strings.TrimSpace(e.Title)
	if len(e.Panels) == 0 {
		e.Panels = []Panel{DefaultPanel()}
	}
	if e.Rules.Step == 0 && e.Rules.Min == 0 && e.Rules.Max == 0 {
		d := DefaultRules()
		d.Criteria, d.Trim = e.Rules.Criteria, e.Rules.Trim
		e.Rules = d
	}
	if e.VotingScope == "" {
		e.VotingScope = ScopeOnStage
	}
	used := make(map[string]bool, len(e.Contestants))
	for _, c := range e.Contestants {
		used[c.ID] = true
	}
	next := 1
	for i := range e.Contestants {
		c := &e.Contestants[i]
		c.Name = strings.TrimSpace(c.Name)
		c.Group = strings.TrimSpace(c.Group)
		c.Theme = strings.TrimSpace(c.Theme)
		c.Presenter = strings.TrimSpace(c.Presenter)
		c.Comment = strings.TrimSpace(c.Comment)
		if c.ID == "" {
			for used["c"+strconv.Itoa(next)] {
				next++
			}
			c.ID = "c" + strconv.Itoa(next)
			used[c.ID] = true
		}
	}
	for i := range e.Panels {
		p := &e.Panels[i]
		p.Name = strings.TrimSpace(p.Name)
		for j := range p.Seats {
			p.Seats[j] = strings.TrimSpace(p.Seats[j])
		}
		if len(p.Seats) > 0 {
			p.Tickets = true // a seat is a ticket
		}
	}
	for i := range e.Rules.Criteria {
		e.Rules.Criteria[i].Name = strings.TrimSpace(e.Rules.Criteria[i].Name)
	}
}

// Validate reports the first problem with the event as an invalid *Error.
func (e *Event) Validate() error {
	if !ValidID(e.ID) {
		return Errorf(CodeInvalid, "event id %q: use 1–63 lower-case letters, digits, '-' or '_'", e.ID)
	}
	if err := validName("event title", e.Title, true); err != nil {
		return err
	}
	if len(e.Contestants) > MaxContestants {
		return Errorf(CodeInvalid, "an event has at most %d contestants", MaxContestants)
	}
	ids := make(map[string]bool)
	for i, c := range e.Contestants {
		if !ValidID(c.ID) {
			return Errorf(CodeInvalid, "contestant %d: id %q: use lower-case letters, digits, '-' or '_'", i+1, c.ID)
		}
		if ids[c.ID] {
			return Errorf(CodeInvalid, "contestant id %q appears twice", c.ID)
		}
		ids[c.ID] = true
		if err := validName("contestant name", c.Name, false); err != nil {
			return err
		}
		if err := validName("group name", c.Group, true); err != nil {
			return err
		}
		if err := c.validPresentation(); err != nil {
			return err
		}
	}
	if e.PresentationSeconds < 0 || e.PresentationSeconds > MaxCountdown {
		return Errorf(CodeInvalid, "presentation time: 0 to %d seconds", MaxCountdown)
	}
	if len(e.Panels) == 0 || len(e.Panels) > MaxPanels {
		return Errorf(CodeInvalid, "an event has 1 to %d panels", MaxPanels)
	}
	ids = make(map[string]bool)
	for _, p := range e.Panels {
		if !ValidID(p.ID) {
			return Errorf(CodeInvalid, "panel id %q: use lower-case letters, digits, '-' or '_'", p.ID)
		}
		if ids[p.ID] {
			return Errorf(CodeInvalid, "panel id %q appears twice", p.ID)
		}
		ids[p.ID] = true
		if err := validName("panel name", p.Name, false); err != nil {
			return err
		}
		if !finite(p.Weight) || p.Weight <= 0 || p.Weight > 1000 {
			return Errorf(CodeInvalid, "panel %q: weight must be a number above 0 (and at most 1000)", p.ID)
		}
		if len(p.Key) > 200 {
			return Errorf(CodeInvalid, "panel %q: key is too long", p.ID)
		}
		if err := p.validScoring(); err != nil {
			return err
		}
	}
	if err := e.validTieBreaks(); err != nil {
		return err
	}
	if err := e.validRound(); err != nil {
		return err
	}
	switch e.VotingScope {
	case ScopeOnStage, ScopeAll:
	default:
		return Errorf(CodeInvalid, "voting scope %q: use %q or %q", e.VotingScope, ScopeOnStage, ScopeAll)
	}
	return e.Rules.Validate()
}

// Validate reports the first problem with the rules as an invalid *Error.
func (r *Rules) Validate() error {
	if !finite(r.Min) || !finite(r.Max) || !finite(r.Step) {
		return Errorf(CodeInvalid, "score range and step must be numbers")
	}
	if r.Min < 0 || r.Max > 10000 || r.Min >= r.Max {
		return Errorf(CodeInvalid, "score range %g–%g: the lowest must be below the highest, both within 0–10000", r.Min, r.Max)
	}
	if r.Step <= 0 {
		return Errorf(CodeInvalid, "score step must be above 0")
	}
	steps := (r.Max - r.Min) / r.Step
	if math.Abs(steps-math.Round(steps)) > 1e-9 || steps > MaxScoreSteps {
		return Errorf(CodeInvalid, "score step %g does not divide the range %g–%g", r.Step, r.Min, r.Max)
	}
	if !onGrid(r.Min, 1.0/ScoreUnits) || !onGrid(r.Step, 1.0/ScoreUnits) {
		return Errorf(CodeInvalid, "scores have at most 4 decimal places")
	}
	if r.Trim < 0 || r.Trim > 100 {
		return Errorf(CodeInvalid, "trim must be between 0 and 100")
	}
	if r.Decimals < 0 || r.Decimals > 4 {
		return Errorf(CodeInvalid, "decimals must be between 0 and 4")
	}
	if len(r.Criteria) > MaxCriteria {
		return Errorf(CodeInvalid, "at most %d criteria", MaxCriteria)
	}
	ids := make(map[string]bool)
	for _, c := range r.Criteria {
		if !ValidID(c.ID) {
			return Errorf(CodeInvalid, "criterion id %q: use lower-case letters, digits, '-' or '_'", c.ID)
		}
		if ids[c.ID] {
			return Errorf(CodeInvalid, "criterion id %q appears twice", c.ID)
		}
		ids[c.ID] = true
		if err := validName("criterion name", c.Name, false); err != nil {
			return err
		}
		if !finite(c.Weight) || c.Weight <= 0 || c.Weight > 1000 {
			return Errorf(CodeInvalid, "criterion %q: weight must be a number above 0 (and at most 1000)", c.ID)
		}
	}
	return nil
}

// Contestant returns the contestant with the given id and its index.
func (e *Event) Contestant(id string) (Contestant, int, bool) {
	for i, c := range e.Contestants {
		if c.ID == id {
			return c, i, true
		}
	}
	return Contestant{}, -1, false
}

// Panel returns the panel with the given id.
func (e *Event) Panel(id string) (Panel, bool) {
	for _, p := range e.Panels {
		if p.ID == id {
			return p, true
		}
	}
	return Panel{}, false
}

// Groups returns the contestants' groups in order of first appearance.
func (e *Event) Groups() []string {
	var groups []string
	seen := make(map[string]bool)
	for _, c := range e.Contestants {
		if c.Group != "" && !seen[c.Group] {
			seen[c.Group] = true
			groups = append(groups, c.Group)
		}
	}
	return groups
}

// Public returns a copy of the event without secrets (panel keys) and
// without its Source, fit to send to any client. HasKey tells a page that a
// panel needs one.
func (e Event) Public() Event {
	e.Source = EventSource{}
	e.Contestants = append([]Contestant(nil), e.Contestants...)
	for i := range e.Contestants {
		e.Contestants[i].Comment = ""
	}
	e.Rules.Criteria = append([]Criterion(nil), e.Rules.Criteria...)
	panels := make([]Panel, len(e.Panels))
	for i, p := range e.Panels {
		if p.Key != "" {
			p.Key = KeyRequired
		}
		panels[i] = p
	}
	e.Panels = panels
	return e
}

// KeyRequired replaces a panel's key in Public copies of an event.
const KeyRequired = "required"

// ScoringUnchanged reports whether next scores ballots exactly as e does:
// same rules, same panels and weights, no contestant removed. Once ballots
// exist only such updates are allowed, so that no counted ballot changes
// meaning.
func (e *Event) ScoringUnchanged(next *Event) bool {
	if !rulesEqual(e.Rules, next.Rules) || len(e.Panels) != len(next.Panels) || e.VotingScope != next.VotingScope {
		return false
	}
	for i, p := range e.Panels {
		q := next.Panels[i]
		if p.ID != q.ID || p.Weight != q.Weight || e.PanelRule(i) != next.PanelRule(i) {
			return false
		}
	}
	for _, c := range e.Contestants {
		if _, _, ok := next.Contestant(c.ID); !ok {
			return false
		}
	}
	return true
}

func rulesEqual(a, b Rules) bool {
	if a.Min != b.Min || a.Max != b.Max || a.Step != b.Step || a.Trim != b.Trim || a.Decimals != b.Decimals || len(a.Criteria) != len(b.Criteria) {
		return false
	}
	if !slices.Equal(a.TieBreaks, b.TieBreaks) {
		return false
	}
	for i := range a.Criteria {
		if a.Criteria[i].ID != b.Criteria[i].ID || a.Criteria[i].Weight != b.Criteria[i].Weight {
			return false
		}
	}
	return true
}

func validName(what, s string, mayBeEmpty bool) error {
	return validText(what, s, MaxNameLength, mayBeEmpty)
}

// validText checks one line of text a person typed: valid UTF-8, at most
// limit characters, no control characters.
func validText(what, s string, limit int, mayBeEmpty bool) error {
	if s == "" && !mayBeEmpty {
		return Errorf(CodeInvalid, "%s is empty", what)
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > limit {
		return Errorf(CodeInvalid, "%s %q: at most %d characters of valid text", what, Excerpt(s, 20), limit)
	}
	for _, r := range s {
		if unicode.IsControl(r) { // C0, DEL and C1 (e.g. U+0085, a line break to some renderers)
			return Errorf(CodeInvalid, "%s %q contains control characters", what, Excerpt(s, 20))
		}
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func onGrid(x, step float64) bool {
	q := x / step
	return math.Abs(q-math.Round(q)) < 1e-6
}
