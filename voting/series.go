package voting

import (
	"maps"
	"slices"
	"strings"
)

// A Series (赛季) groups events that are rounds of one season, e.g.
// 2020年度拱墅区大比武 with its 第一轮, 第二轮 …: each event names its series
// and its round (Event.Series, Event.Round). The season table combines the
// rounds' final scores by the series' rule (SeasonTable).
type Series struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Rule says how a unit's round finals combine into its season score.
	Rule SeasonRule `json:"rule"`
	// Weights, for the rule weighted, are the weights of the rounds:
	// Weights[0] is round 1's. A round beyond the list weighs 1.
	Weights []float64 `json:"weights,omitempty"`
	// Missed says what a round counts for a unit that has no final score
	// in it (it did not take part, or got no ballots).
	Missed MissedRound `json:"missed"`
	// Renamed maps a contestant id used in some round to the id the unit
	// has in the season, for a unit whose id changed between rounds.
	// Units are otherwise matched by their contestant id; a unit renamed
	// under the same id needs no entry (the table shows its latest name).
	Renamed map[string]string `json:"renamed,omitempty"`
	// Revision is set by the store and goes up with every change.
	Revision int64 `json:"revision"`
}

// SeasonRule says how a season combines the rounds' final scores.
type SeasonRule string

const (
	// RuleAverage (平均分): the mean of the rounds' finals.
	RuleAverage SeasonRule = "average"
	// RuleSum (总分): the sum of the rounds' finals.
	RuleSum SeasonRule = "sum"
	// RuleWeighted (加权): the mean of the rounds' finals weighted by
	// Series.Weights.
	RuleWeighted SeasonRule = "weighted"
)

// MissedRound says what a round a unit has no final in counts for.
type MissedRound string

const (
	// MissedSkip leaves the round out of the unit's score: its average is
	// over the rounds it has, as a panel without ballots is left out of a
	// final score (docs/scoring.md).
	MissedSkip MissedRound = "skip"
	// MissedZero counts the round as 0 points.
	MissedZero MissedRound = "zero"
)

// Limits of a series.
const (
	MaxRounds  = 99  // rounds in a series (第九十九轮)
	MaxRenamed = 500 // entries in Series.Renamed
)

// Normalize fills in the defaults (rule average, missed rounds left out)
// and trims the name. It is applied before Validate.
func (se *Series) Normalize() {
	se.ID = strings.TrimSpace(se.ID)
	se.Name = strings.TrimSpace(se.Name)
	if se.Rule == "" {
		se.Rule = RuleAverage
	}
	if se.Missed == "" {
		se.Missed = MissedSkip
	}
	if len(se.Renamed) == 0 {
		se.Renamed = nil
	}
	if len(se.Weights) == 0 {
		se.Weights = nil
	}
}

// Validate reports the first problem with the series as an invalid *Error.
func (se *Series) Validate() error {
	if !ValidID(se.ID) {
		return Errorf(CodeInvalid, "series id %q: use 1–63 lower-case letters, digits, '-' or '_'", Excerpt(se.ID, 40))
	}
	if err := validName("series name", se.Name, false); err != nil {
		return err
	}
	switch se.Rule {
	case RuleAverage, RuleSum:
		if len(se.Weights) > 0 {
			return Errorf(CodeInvalid, "round weights need the rule %q (the rule is %q)", RuleWeighted, se.Rule)
		}
	case RuleWeighted:
		if len(se.Weights) == 0 {
			return Errorf(CodeInvalid, "the rule %q needs the weights of the rounds", RuleWeighted)
		}
	default:
		return Errorf(CodeInvalid, "season rule %q: use %q, %q or %q", Excerpt(string(se.Rule), 20), RuleAverage, RuleSum, RuleWeighted)
	}
	if len(se.Weights) > MaxRounds {
		return Errorf(CodeInvalid, "at most %d round weights", MaxRounds)
	}
	for i, w := range se.Weights {
		if !finite(w) || w <= 0 || w > 1000 {
			return Errorf(CodeInvalid, "round %d: weight must be a number above 0 (and at most 1000)", i+1)
		}
	}
	switch se.Missed {
	case MissedSkip, MissedZero:
	default:
		return Errorf(CodeInvalid, "missed rounds %q: use %q or %q", Excerpt(string(se.Missed), 20), MissedSkip, MissedZero)
	}
	if len(se.Renamed) > MaxRenamed {
		return Errorf(CodeInvalid, "at most %d renamed units", MaxRenamed)
	}
	for _, from := range slices.Sorted(maps.Keys(se.Renamed)) {
		to := se.Renamed[from]
		if !ValidID(from) || !ValidID(to) {
			return Errorf(CodeInvalid, "renamed unit %q → %q: ids are lower-case letters, digits, '-' or '_'", Excerpt(from, 40), Excerpt(to, 40))
		}
		if from == to {
			return Errorf(CodeInvalid, "renamed unit %q maps to itself", from)
		}
		if _, chained := se.Renamed[to]; chained {
			return Errorf(CodeInvalid, "renamed unit %q → %q: %q is renamed too; map every old id straight to the season's id", from, to, to)
		}
	}
	return nil
}

// SeasonID is the id a round's contestant has in the season.
func (se *Series) SeasonID(contestant string) string {
	if to, ok := se.Renamed[contestant]; ok {
		return to
	}
	return contestant
}

// RoundWeight is the weight of round n (from 1) under the series' rule:
// 1 unless the rule is weighted and Weights names it.
func (se *Series) RoundWeight(n int) float64 {
	if se.Rule == RuleWeighted && n >= 1 && n <= len(se.Weights) {
		return se.Weights[n-1]
	}
	return 1
}

// RoundCounts reports whether a round with this stage takes part in the
// season table: once its reveal has begun its finals no longer change
// (voting cannot reopen), so the table takes it from then on.
func RoundCounts(st *Stage) bool {
	return st.Phase == PhaseReveal || st.Phase == PhaseEnded
}

var cnDigits = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

// RoundName is the Chinese name of round n: 第一轮, 第二轮 … 第十一轮 … 第九十九轮.
func RoundName(n int) string {
	if n < 1 || n > MaxRounds {
		return ""
	}
	var b strings.Builder
	b.WriteString("第")
	tens, ones := n/10, n%10
	switch {
	case tens == 0:
	case tens == 1:
		b.WriteString("十")
	default:
		b.WriteString(cnDigits[tens] + "十")
	}
	if ones > 0 || tens == 0 {
		b.WriteString(cnDigits[ones])
	}
	b.WriteString("轮")
	return b.String()
}

// RoundTitle is the title of round next made from the title of round
// prev: 第一轮 in it becomes 第二轮; a title that does not name its round
// gets the round's name added.
func RoundTitle(title string, prev, next int) string {
	if old := RoundName(prev); old != "" && strings.Contains(title, old) {
		return strings.Replace(title, old, RoundName(next), 1)
	}
	name := RoundName(next)
	if name == "" || strings.Contains(title, name) {
		return title
	}
	// Stay within the title's length limit.
	r := []rune(title)
	if len(r)+len([]rune(name))+2 > MaxNameLength {
		r = r[:MaxNameLength-len([]rune(name))-2]
	}
	return string(r) + "（" + name + "）"
}

// validRound checks an event's series and round: a round needs a series,
// and a series' rounds are numbered from 1 (0: the next free number, which
// the Service gives it).
func (e *Event) validRound() error {
	if e.Series == "" {
		if e.Round != 0 {
			return Errorf(CodeInvalid, "round %d: an event has a round only in a series", e.Round)
		}
		return nil
	}
	if !ValidID(e.Series) {
		return Errorf(CodeInvalid, "series id %q: use lower-case letters, digits, '-' or '_'", Excerpt(e.Series, 40))
	}
	if e.Round < 0 || e.Round > MaxRounds {
		return Errorf(CodeInvalid, "round %d: rounds are numbered 1 to %d", e.Round, MaxRounds)
	}
	return nil
}

// applySeason checks a season command: showing the season table needs an
// event in a series whose reveal has shown every place; hiding it is
// always allowed.
func (s Stage) applySeason(ev *Event, cmd Command, revealSteps int) error {
	if cmd.Visible == nil {
		return Errorf(CodeInvalid, "say whether the season table is visible")
	}
	if !*cmd.Visible {
		return nil
	}
	if ev.Series == "" {
		return Errorf(CodeInvalid, "this event is not a round of a series: there is no season table")
	}
	if s.Phase != PhaseReveal || s.Revealed < revealSteps {
		return Errorf(CodeInvalid, "reveal every place of this round first; then show the season table")
	}
	return nil
}
