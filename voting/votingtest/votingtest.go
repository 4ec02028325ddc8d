// Package votingtest holds the events and ballots that tests of leitai
// share, so that every test means the same thing by "the small event" or
// "the example event" (they had drifted apart: weights 60/40 here, 0.6/0.4
// there). It is for tests only; nothing in the product imports it.
//
// Event is the small event most tests need; Example is the example event
// of examples/gongshu-2020.yaml (cmd/leitai's tests check that the file and
// Example agree). Options change either before it is normalized and
// validated; a test that needs an exact number writes it as an option, so
// that the number is visible where the test depends on it.
package votingtest

import (
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/google/uuid"

	"leitai/voting"
)

// The ids and keys of the shared events.
const (
	Audience  = "audience"  // the panel of everyone with the link
	Judges    = "judges"    // the judges' panel, opened with JudgesKey
	JudgesKey = "judge-key" // the judges' panel key of Event
	Measures  = "measures"  // the first criterion of Criteria (举措)
	Results   = "results"   // the second criterion of Criteria (成绩)

	GroupLead   = "专项组牵头单位" // the first group of the example event
	GroupStreet = "街道和园区"   // the second group of the example event
)

// Option changes an event before it is normalized and validated.
type Option func(*voting.Event)

// Event returns a normalized, valid small event: four contestants c1–c4,
// c1 and c2 in GroupLead, c3 and c4 in GroupStreet; the panels Audience
// (大众评审, weight 60) and Judges (专家评委, weight 40, key JudgesKey);
// scores 60–100 in steps of 0.5, the highest and lowest ballot of a panel
// dropped (trim 1), 2 decimals; voting for the contestant on stage. It
// panics when the options make it invalid: a test's fixture is wrong then.
func Event(id string, opts ...Option) voting.Event {
	ev := voting.Event{
		ID:    id,
		Title: "擂台赛 " + id,
		Contestants: []voting.Contestant{
			{ID: "c1", Name: "一号单位", Group: GroupLead},
			{ID: "c2", Name: "二号单位", Group: GroupLead},
			{ID: "c3", Name: "三号单位", Group: GroupStreet},
			{ID: "c4", Name: "四号单位", Group: GroupStreet},
		},
		Panels: []voting.Panel{
			{ID: Audience, Name: "大众评审", Weight: 60},
			{ID: Judges, Name: "专家评委", Weight: 40, Key: JudgesKey},
		},
		Rules:       voting.Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2},
		VotingScope: voting.ScopeOnStage,
	}
	return build(ev, opts)
}

// ExampleID is the id of the example event.
const ExampleID = "gongshu-2020"

// Example returns the example event, as examples/gongshu-2020.yaml has it:
// the 16 units u01–u16 with their groups and themes, the panels Audience
// (60) and Judges (40, key "judges-change-me"), 60–100 step 0.5, trim 1,
// 2 decimals, voting for the unit on stage, the hall code on, five minutes
// per presentation.
func Example(opts ...Option) voting.Event {
	ev := voting.Event{
		ID:    ExampleID,
		Title: "2020年度拱墅区第一轮“战疫情促发展”大比武擂台赛",
		Panels: []voting.Panel{
			{ID: Audience, Name: "大众评审", Weight: 60},
			{ID: Judges, Name: "专家评委", Weight: 40, Key: "judges-change-me"},
		},
		Rules:               voting.Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2},
		VotingScope:         voting.ScopeOnStage,
		PresentationSeconds: 300,
	}
	for i, u := range exampleUnits {
		ev.Contestants = append(ev.Contestants, voting.Contestant{
			ID: fmt.Sprintf("u%02d", i+1), Name: u.name, Group: u.group, Theme: u.theme,
		})
	}
	return build(ev, opts)
}

// exampleUnits are the units of the example event in stage order
// (/work/shared/example-contestants.csv, with the themes of the write-up).
var exampleUnits = []struct{ name, group, theme string }{
	{"区发改经信局", GroupLead, "扬优势 补短板 推进各项经济指标争先创优"},
	{"区商务局", GroupLead, "促消费稳外贸 推动商贸经济稳步增长"},
	{"区住建局", GroupLead, "狠抓四个坚持全力 推进建筑业房地产发展"},
	{"区财政局", GroupLead, "咬定目标 迎难而上 为两战全胜作好保障"},
	{"区投促局", GroupLead, "咬定目标 实干争先 全力打好四上企业及外资招引攻坚战"},
	{"上塘街道", GroupStreet, "全力攻坚 为拱墅经济高质量发展贡献上塘力量"},
	{"祥符街道", GroupStreet, "善谋善为善作善成 全力打好“战疫情促发展”攻坚硬仗"},
	{"康桥街道", GroupStreet, "穷尽一切办法 困境中找出路"},
	{"半山街道", GroupStreet, "突出四个抓 全力精准攻 努力为全区争先进位促发展作出贡献"},
	{"米市巷街道", GroupStreet, "不遗余力促增收"},
	{"湖墅街道", GroupStreet, "奋力夺取疫情防控和经济发展“双胜利”"},
	{"小河街道", GroupStreet, "唯实补短 数字赋能 以更精准的服务推动区域经济发展"},
	{"拱宸桥街道", GroupStreet, "提高站位抓攻坚 赋能增效促发展"},
	{"和睦街道", GroupStreet, "紧盯目标 精准攻坚 奋力推进指标任务提前突破"},
	{"大关街道", GroupStreet, "优存量 挖增量 控变量 统筹推进“战疫情促发展”两场战役"},
	{"区科技园区管委会", GroupStreet, "克难攻坚挑重担 真抓实干勇担当 以现代化管理服务促经济平稳向好运行"},
}

func build(ev voting.Event, opts []Option) voting.Event {
	for _, o := range opts {
		o(&ev)
	}
	ev.Normalize()
	if err := ev.Validate(); err != nil {
		panic(fmt.Sprintf("votingtest: the test event %q is invalid: %v", ev.ID, err))
	}
	return ev
}

// Title sets the title.
func Title(title string) Option { return func(ev *voting.Event) { ev.Title = title } }

// ScopeAll opens voting on all contestants at once instead of the one on stage.
func ScopeAll(ev *voting.Event) { ev.VotingScope = voting.ScopeAll }

// Contestants replaces the contestants.
func Contestants(cs ...voting.Contestant) Option {
	return func(ev *voting.Event) { ev.Contestants = slices.Clone(cs) }
}

// First keeps the first n contestants.
func First(n int) Option {
	return func(ev *voting.Event) { ev.Contestants = ev.Contestants[:n] }
}

// Numbered replaces the contestants with n of them, c1…cn, named name and
// a number, in group (which may be "").
func Numbered(n int, name, group string) Option {
	return func(ev *voting.Event) {
		ev.Contestants = nil
		for i := range n {
			ev.Contestants = append(ev.Contestants, voting.Contestant{
				ID: "c" + strconv.Itoa(i+1), Name: name + " " + strconv.Itoa(i+1), Group: group,
			})
		}
	}
}

// Weights sets the weights of the panels Audience and Judges.
func Weights(audience, judges float64) Option {
	return func(ev *voting.Event) {
		for i := range ev.Panels {
			switch ev.Panels[i].ID {
			case Audience:
				ev.Panels[i].Weight = audience
			case Judges:
				ev.Panels[i].Weight = judges
			}
		}
	}
}

// AudienceOnly leaves one panel, Audience with weight 1.
func AudienceOnly(ev *voting.Event) {
	ev.Panels = []voting.Panel{{ID: Audience, Name: "大众评审", Weight: 1}}
}

// Rules replaces the rules (criteria included).
func Rules(r voting.Rules) Option {
	return func(ev *voting.Event) {
		r.Criteria = slices.Clone(r.Criteria)
		ev.Rules = r
	}
}

// Criteria makes the event score two weighted criteria, Measures (举措) and
// Results (成绩), keeping the range.
func Criteria(measures, results float64) Option {
	return func(ev *voting.Event) {
		ev.Rules.Criteria = []voting.Criterion{
			{ID: Measures, Name: "举措", Weight: measures},
			{ID: Results, Name: "成绩", Weight: results},
		}
	}
}

// Clone copies an event deeply enough to change it without touching the
// original.
func Clone(ev voting.Event) voting.Event {
	ev.Contestants = slices.Clone(ev.Contestants)
	ev.Panels = slices.Clone(ev.Panels)
	ev.Rules.Criteria = slices.Clone(ev.Rules.Criteria)
	return ev
}

// Ballot returns a ballot with a fresh id (a UUID, as phones make them);
// with criteria, every criterion gets score.
func Ballot(ev *voting.Event, voter, contestant, panel string, score float64) voting.Ballot {
	b := voting.Ballot{ID: uuid.NewString(), Event: ev.ID, Voter: voter, Contestant: contestant, Panel: panel}
	if len(ev.Rules.Criteria) == 0 {
		b.Score = score
		return b
	}
	b.Scores = make(map[string]float64, len(ev.Rules.Criteria))
	for _, c := range ev.Rules.Criteria {
		b.Scores[c.ID] = score
	}
	return b
}

// Counted validates b against ev as the service does and stamps it with at
// (Unix milliseconds), as a store keeps it. It returns Count's error, so
// that goroutines, which must not call t.Fatal, can use it.
func Counted(ev *voting.Event, b voting.Ballot, at int64) (voting.CountedBallot, error) {
	cb, err := ev.Count(b)
	cb.At = at
	return cb, err
}

// MustCount is Counted for a test's own goroutine: an invalid ballot fails
// the test, for the fixture is wrong then.
func MustCount(tb testing.TB, ev *voting.Event, b voting.Ballot, at int64) voting.CountedBallot {
	tb.Helper()
	cb, err := Counted(ev, b, at)
	if err != nil {
		tb.Fatalf("votingtest: the test ballot %+v is invalid: %v", b, err)
	}
	return cb
}
