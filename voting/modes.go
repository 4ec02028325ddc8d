package voting

import (
	"math"
	"strings"
)

// A ScoringMode says how one panel's ballots for a contestant become the
// panel's result (评审组得分).
type ScoringMode string

const (
	// ModeTrimmed (去掉最高分和最低分后平均, the default): drop the N
	// highest and N lowest ballots when there are more than 2N, average
	// the rest. N is the panel's Trim, else the rules' Trim.
	ModeTrimmed ScoringMode = "trimmed"
	// ModeAverage (平均分): the average of every ballot.
	ModeAverage ScoringMode = "average"
	// ModeSum (总分): the sum of every ballot, e.g. a judges' panel whose
	// seats each give part of the marks.
	ModeSum ScoringMode = "sum"
)

// A PanelRule is one panel's scoring mode made concrete: how many ballots
// to drop at each end, and whether the kept ones are summed or averaged.
type PanelRule struct {
	Trim int
	Sum  bool
}

// PanelRule returns how panel i of the event scores.
func (e *Event) PanelRule(i int) PanelRule {
	p := e.Panels[i]
	switch p.Mode {
	case ModeAverage:
		return PanelRule{}
	case ModeSum:
		return PanelRule{Sum: true}
	}
	if p.Trim > 0 {
		return PanelRule{Trim: p.Trim}
	}
	return PanelRule{Trim: e.Rules.Trim}
}

// A TieBreak (同分比较) is one step of the ordered list that orders
// contestants whose final scores are equal at the shown precision. When
// every step of the list is equal too, they share a place (并列).
//
//   - "unrounded": the final score before rounding (more decimals)
//   - "panel:<id>": that panel's result (a panel without ballots is below
//     any result)
//   - "top": the number of ballots, in every panel, that gave the top of
//     the scale (满分个数); "top:<id>": the same within one panel
//
// Higher wins in every step.
type TieBreak string

// TieBreak kinds.
const (
	TieUnrounded = "unrounded"
	TiePanel     = "panel"
	TieTop       = "top"
)

// MaxTieBreaks bounds the list.
const MaxTieBreaks = 8

// Split returns the kind of the tie-break and the panel it names ("" for
// none).
func (tb TieBreak) Split() (kind, panel string) {
	k, p, _ := strings.Cut(string(tb), ":")
	return k, p
}

// validTieBreaks checks the event's tie-break list against its panels.
func (e *Event) validTieBreaks() error {
	if len(e.Rules.TieBreaks) > MaxTieBreaks {
		return Errorf(CodeInvalid, "at most %d tie-breaks", MaxTieBreaks)
	}
	seen := make(map[TieBreak]bool)
	for _, tb := range e.Rules.TieBreaks {
		kind, panel := tb.Split()
		switch {
		case seen[tb]:
			return Errorf(CodeInvalid, "tie-break %q appears twice", Excerpt(string(tb), 40))
		case kind == TieUnrounded && panel == "":
		case kind == TiePanel || kind == TieTop:
			if _, ok := e.Panel(panel); !ok && (kind == TiePanel || panel != "") {
				return Errorf(CodeInvalid, "tie-break %q: no panel %q in this event", Excerpt(string(tb), 40), Excerpt(panel, 40))
			}
		default:
			return Errorf(CodeInvalid, "tie-break %q: use unrounded, panel:<panel id>, top or top:<panel id>", Excerpt(string(tb), 40))
		}
		seen[tb] = true
	}
	return nil
}

// validScoring checks a panel's scoring mode and seats.
func (p *Panel) validScoring() error {
	switch p.Mode {
	case "", ModeTrimmed, ModeAverage, ModeSum:
	default:
		return Errorf(CodeInvalid, "panel %q: scoring mode %q: use %q, %q or %q", p.ID, Excerpt(string(p.Mode), 20), ModeTrimmed, ModeAverage, ModeSum)
	}
	if p.Trim < 0 || p.Trim > 100 {
		return Errorf(CodeInvalid, "panel %q: trim must be between 0 and 100", p.ID)
	}
	if p.Trim > 0 && p.Mode != "" && p.Mode != ModeTrimmed {
		return Errorf(CodeInvalid, "panel %q: trim applies to the trimmed mode only", p.ID)
	}
	return p.validSeats()
}

// TopUnits is the top of the scale in ScoreUnits: a ballot with these
// units counts for the "top" tie-break.
func TopUnits(r *Rules) int64 { return int64(math.Round(r.Max * ScoreUnits)) }
