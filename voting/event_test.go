package voting

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// validEvent is a small valid event for table tests to break.
func validEvent() Event {
	return Event{
		ID:    "show",
		Title: "擂台赛",
		Contestants: []Contestant{
			{ID: "c1", Name: "一号单位", Group: "专项组牵头单位"},
			{ID: "c2", Name: "二号单位", Group: "街道和园区"},
			{ID: "c3", Name: "三号单位"},
		},
		Panels: []Panel{
			{ID: "audience", Name: "大众评审", Weight: 0.6},
			{ID: "judges", Name: "专家评委", Weight: 0.4, Key: "secret"},
		},
		Rules:       Rules{Min: 60, Max: 100, Step: 0.5, Trim: 1, Decimals: 2},
		VotingScope: ScopeOnStage,
	}
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	t.Run("defaults", func(t *testing.T) {
		ev := Event{
			ID:    "  show\t",
			Title: "  擂台赛 ",
			Contestants: []Contestant{
				{Name: " 甲 ", Group: " 专项组 "},
				{ID: "c1", Name: "乙"},
				{Name: "丙"},
				{ID: "c3", Name: "丁"},
				{Name: "戊"},
			},
		}
		ev.Normalize()
		if ev.ID != "show" || ev.Title != "擂台赛" {
			t.Errorf("id %q, title %q: want them trimmed", ev.ID, ev.Title)
		}
		// Missing ids are c1, c2, … skipping the ones in use.
		var ids []string
		for _, c := range ev.Contestants {
			ids = append(ids, c.ID)
		}
		if want := []string{"c2", "c1", "c4", "c3", "c5"}; !slices.Equal(ids, want) {
			t.Errorf("contestant ids %v, want %v", ids, want)
		}
		if c := ev.Contestants[0]; c.Name != "甲" || c.Group != "专项组" {
			t.Errorf("contestant %+v: want name and group trimmed", c)
		}
		if len(ev.Panels) != 1 || !reflect.DeepEqual(ev.Panels[0], DefaultPanel()) {
			t.Errorf("panels %+v, want the default panel", ev.Panels)
		}
		if !rulesEqual(ev.Rules, DefaultRules()) {
			t.Errorf("rules %+v, want the default rules", ev.Rules)
		}
		if ev.VotingScope != ScopeOnStage {
			t.Errorf("scope %q, want %q", ev.VotingScope, ScopeOnStage)
		}
		if err := ev.Validate(); err != nil {
			t.Errorf("normalized event is invalid: %v", err)
		}
	})
	t.Run("default range keeps criteria and trim", func(t *testing.T) {
		ev := Event{ID: "x", Rules: Rules{Trim: 2, Criteria: []Criterion{{ID: "a", Name: " 举措 ", Weight: 1}}}}
		ev.Normalize()
		r := ev.Rules
		if r.Min != 1 || r.Max != 10 || r.Step != 1 || r.Decimals != 2 || r.Trim != 2 || len(r.Criteria) != 1 || r.Criteria[0].Name != "举措" {
			t.Errorf("rules %+v: want the default range with trim 2 and the trimmed criterion", r)
		}
	})
	t.Run("given values stay", func(t *testing.T) {
		ev := validEvent()
		ev.Panels[0].Name = " 大众评审 "
		ev.VotingScope = ScopeAll
		want := validEvent()
		want.VotingScope = ScopeAll
		ev.Normalize()
		if ev.Panels[0].Name != "大众评审" || !rulesEqual(ev.Rules, want.Rules) || ev.VotingScope != ScopeAll ||
			!slices.Equal(ev.Contestants, want.Contestants) || !reflect.DeepEqual(ev.Panels[1], want.Panels[1]) {
			t.Errorf("normalized %+v, want %+v", ev, want)
		}
	})
}

func TestValidate(t *testing.T) {
	t.Parallel()
	many := func(n int) []Contestant {
		cs := make([]Contestant, n)
		for i := range cs {
			cs[i] = Contestant{ID: "c" + strconv.Itoa(i+1), Name: "单位" + strconv.Itoa(i+1)}
		}
		return cs
	}
	panels := func(n int) []Panel {
		ps := make([]Panel, n)
		for i := range ps {
			ps[i] = Panel{ID: "p" + strconv.Itoa(i+1), Name: "组" + strconv.Itoa(i+1), Weight: 1}
		}
		return ps
	}
	criteria := func(n int) []Criterion {
		cs := make([]Criterion, n)
		for i := range cs {
			cs[i] = Criterion{ID: "k" + strconv.Itoa(i+1), Name: "项" + strconv.Itoa(i+1), Weight: 1}
		}
		return cs
	}
	cases := []struct {
		name   string
		change func(ev *Event)
		ok     bool
	}{
		{"valid", func(ev *Event) {}, true},
		// Ids.
		{"empty id", func(ev *Event) { ev.ID = "" }, false},
		{"upper-case id", func(ev *Event) { ev.ID = "Show" }, false},
		{"id starting with a dash", func(ev *Event) { ev.ID = "-show" }, false},
		{"id with a space", func(ev *Event) { ev.ID = "my show" }, false},
		{"id with a slash", func(ev *Event) { ev.ID = "a/b" }, false},
		{"chinese id", func(ev *Event) { ev.ID = "擂台" }, false},
		{"id of 63 characters", func(ev *Event) { ev.ID = strings.Repeat("a", 63) }, true},
		{"id of 64 characters", func(ev *Event) { ev.ID = strings.Repeat("a", 64) }, false},
		{"id with digits, dash and underscore", func(ev *Event) { ev.ID = "0-final_2024" }, true},
		{"bad contestant id", func(ev *Event) { ev.Contestants[1].ID = "C2" }, false},
		{"empty contestant id", func(ev *Event) { ev.Contestants[1].ID = "" }, false},
		{"duplicate contestant id", func(ev *Event) { ev.Contestants[1].ID = "c1" }, false},
		{"bad panel id", func(ev *Event) { ev.Panels[0].ID = "大众" }, false},
		{"duplicate panel id", func(ev *Event) { ev.Panels[1].ID = "audience" }, false},
		// Names.
		{"empty title", func(ev *Event) { ev.Title = "" }, true},
		{"title with a newline", func(ev *Event) { ev.Title = "擂台\n赛" }, false},
		{"title with NUL", func(ev *Event) { ev.Title = "擂台\x00" }, false},
		{"title with a tab", func(ev *Event) { ev.Title = "擂台\t赛" }, false},
		{"title with DEL", func(ev *Event) { ev.Title = "擂台\x7f" }, false},
		{"title with a C1 control (NEL)", func(ev *Event) { ev.Title = "擂台\u0085赛" }, false},
		{"title of invalid UTF-8", func(ev *Event) { ev.Title = "擂台\xff" }, false},
		{"title of 100 characters", func(ev *Event) { ev.Title = strings.Repeat("擂", 100) }, true},
		{"title of 101 characters", func(ev *Event) { ev.Title = strings.Repeat("擂", 101) }, false},
		{"empty contestant name", func(ev *Event) { ev.Contestants[0].Name = "" }, false},
		{"contestant name with a newline", func(ev *Event) { ev.Contestants[0].Name = "一号\r\n单位" }, false},
		{"contestant name of 101 characters", func(ev *Event) { ev.Contestants[0].Name = strings.Repeat("a", 101) }, false},
		{"group with an escape", func(ev *Event) { ev.Contestants[0].Group = "\x1b[31m专项组" }, false},
		{"empty panel name", func(ev *Event) { ev.Panels[0].Name = "" }, false},
		{"empty criterion name", func(ev *Event) { ev.Rules.Criteria = []Criterion{{ID: "a", Weight: 1}} }, false},
		// Sizes.
		{"no contestants", func(ev *Event) { ev.Contestants = nil }, true},
		{"500 contestants", func(ev *Event) { ev.Contestants = many(MaxContestants) }, true},
		{"501 contestants", func(ev *Event) { ev.Contestants = many(MaxContestants + 1) }, false},
		{"no panels", func(ev *Event) { ev.Panels = nil }, false},
		{"8 panels", func(ev *Event) { ev.Panels = panels(MaxPanels) }, true},
		{"9 panels", func(ev *Event) { ev.Panels = panels(MaxPanels + 1) }, false},
		{"10 criteria", func(ev *Event) { ev.Rules.Criteria = criteria(MaxCriteria) }, true},
		{"11 criteria", func(ev *Event) { ev.Rules.Criteria = criteria(MaxCriteria + 1) }, false},
		{"panel key of 200 bytes", func(ev *Event) { ev.Panels[1].Key = strings.Repeat("k", 200) }, true},
		{"panel key of 201 bytes", func(ev *Event) { ev.Panels[1].Key = strings.Repeat("k", 201) }, false},
		// Weights.
		{"panel weight 0", func(ev *Event) { ev.Panels[0].Weight = 0 }, false},
		{"negative panel weight", func(ev *Event) { ev.Panels[0].Weight = -0.6 }, false},
		{"NaN panel weight", func(ev *Event) { ev.Panels[0].Weight = math.NaN() }, false},
		{"infinite panel weight", func(ev *Event) { ev.Panels[0].Weight = math.Inf(1) }, false},
		{"panel weight 1000", func(ev *Event) { ev.Panels[0].Weight = 1000 }, true},
		{"panel weight above 1000", func(ev *Event) { ev.Panels[0].Weight = 1000.5 }, false},
		{"tiny panel weight", func(ev *Event) { ev.Panels[0].Weight = 1e-9 }, true},
		{"criterion weight 0", func(ev *Event) {
			ev.Rules.Criteria = []Criterion{{ID: "a", Name: "举措", Weight: 0}}
		}, false},
		{"NaN criterion weight", func(ev *Event) {
			ev.Rules.Criteria = []Criterion{{ID: "a", Name: "举措", Weight: math.NaN()}}
		}, false},
		{"negative criterion weight", func(ev *Event) {
			ev.Rules.Criteria = []Criterion{{ID: "a", Name: "举措", Weight: -1}}
		}, false},
		{"bad criterion id", func(ev *Event) {
			ev.Rules.Criteria = []Criterion{{ID: "A", Name: "举措", Weight: 1}}
		}, false},
		{"duplicate criterion id", func(ev *Event) {
			ev.Rules.Criteria = []Criterion{{ID: "a", Name: "举措", Weight: 1}, {ID: "a", Name: "成绩", Weight: 1}}
		}, false},
		// Scope.
		{"scope all", func(ev *Event) { ev.VotingScope = ScopeAll }, true},
		{"unknown scope", func(ev *Event) { ev.VotingScope = "everyone" }, false},
		{"empty scope", func(ev *Event) { ev.VotingScope = "" }, false},
		// Rules.
		{"1–10 step 1", func(ev *Event) { ev.Rules = Rules{Min: 1, Max: 10, Step: 1} }, true},
		{"0–100 step 0.01", func(ev *Event) { ev.Rules = Rules{Min: 0, Max: 100, Step: 0.01, Decimals: 4} }, true},
		{"NaN min", func(ev *Event) { ev.Rules.Min = math.NaN() }, false},
		{"infinite max", func(ev *Event) { ev.Rules.Max = math.Inf(1) }, false},
		{"NaN step", func(ev *Event) { ev.Rules.Step = math.NaN() }, false},
		{"negative min", func(ev *Event) { ev.Rules.Min = -10 }, false},
		{"max above 10000", func(ev *Event) { ev.Rules.Max = 10000.5 }, false},
		{"min equal to max", func(ev *Event) { ev.Rules.Min = 100 }, false},
		{"min above max", func(ev *Event) { ev.Rules.Min, ev.Rules.Max = 100, 60 }, false},
		{"step 0", func(ev *Event) { ev.Rules.Step = 0 }, false},
		{"negative step", func(ev *Event) { ev.Rules.Step = -0.5 }, false},
		{"step that does not divide the range", func(ev *Event) { ev.Rules.Step = 0.3 }, false},
		{"step 3 on 60–100", func(ev *Event) { ev.Rules.Step = 3 }, false},
		{"step larger than the range", func(ev *Event) { ev.Rules.Step = 80 }, false},
		{"step equal to the range", func(ev *Event) { ev.Rules.Step = 40 }, true},
		{"too many steps", func(ev *Event) { ev.Rules = Rules{Min: 0, Max: 10000, Step: 0.01} }, false},
		{"5 decimal places", func(ev *Event) { ev.Rules = Rules{Min: 1.00005, Max: 2.00005, Step: 0.5} }, false},
		{"step of 5 decimal places", func(ev *Event) { ev.Rules = Rules{Min: 0, Max: 0.5, Step: 0.00005} }, false},
		{"trim -1", func(ev *Event) { ev.Rules.Trim = -1 }, false},
		{"trim 0", func(ev *Event) { ev.Rules.Trim = 0 }, true},
		{"trim 100", func(ev *Event) { ev.Rules.Trim = 100 }, true},
		{"trim 101", func(ev *Event) { ev.Rules.Trim = 101 }, false},
		{"decimals -1", func(ev *Event) { ev.Rules.Decimals = -1 }, false},
		{"decimals 0", func(ev *Event) { ev.Rules.Decimals = 0 }, true},
		{"decimals 4", func(ev *Event) { ev.Rules.Decimals = 4 }, true},
		{"decimals 5", func(ev *Event) { ev.Rules.Decimals = 5 }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent()
			tc.change(&ev)
			err := ev.Validate()
			switch {
			case tc.ok && err != nil:
				t.Fatalf("Validate: %v, want ok", err)
			case !tc.ok && err == nil:
				t.Fatalf("Validate: ok, want an invalid error")
			case !tc.ok && ErrorCode(err) != CodeInvalid:
				t.Fatalf("Validate: %v, want code %q", err, CodeInvalid)
			case !tc.ok && (ErrorMessage(err) == "" || !utf8Valid(ErrorMessage(err))):
				t.Fatalf("Validate: message %q", ErrorMessage(err))
			}
		})
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "?") == s }

func TestValidID(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"a": true, "0": true, "c-1_x": true, strings.Repeat("z", 63): true,
		"": false, "_a": false, "-a": false, "A": false, "a.b": false, "a b": false, strings.Repeat("z", 64): false, "é": false,
	} {
		if got := ValidID(s); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestScoringUnchanged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		change func(ev *Event)
		want   bool
	}{
		{"nothing", func(ev *Event) {}, true},
		{"title", func(ev *Event) { ev.Title = "决赛" }, true},
		{"contestant name", func(ev *Event) { ev.Contestants[0].Name = "新名字" }, true},
		{"contestant group", func(ev *Event) { ev.Contestants[0].Group = "街道和园区" }, true},
		{"contestant added", func(ev *Event) { ev.Contestants = append(ev.Contestants, Contestant{ID: "c4", Name: "四"}) }, true},
		{"contestants reordered", func(ev *Event) { slices.Reverse(ev.Contestants) }, true},
		{"panel name", func(ev *Event) { ev.Panels[0].Name = "观众" }, true},
		{"panel key", func(ev *Event) { ev.Panels[1].Key = "other" }, true},
		{"criterion name", func(ev *Event) { ev.Rules.Criteria[0].Name = "措施" }, true},
		{"contestant removed", func(ev *Event) { ev.Contestants = ev.Contestants[:2] }, false},
		{"contestant renamed by id", func(ev *Event) { ev.Contestants[2].ID = "c9" }, false},
		{"panel weight", func(ev *Event) { ev.Panels[0].Weight = 0.7 }, false},
		{"panel added", func(ev *Event) { ev.Panels = append(ev.Panels, Panel{ID: "g", Name: "嘉宾", Weight: 1}) }, false},
		{"panel removed", func(ev *Event) { ev.Panels = ev.Panels[:1] }, false},
		{"panels reordered", func(ev *Event) { slices.Reverse(ev.Panels) }, false},
		{"panel id", func(ev *Event) { ev.Panels[0].ID = "public" }, false},
		{"min", func(ev *Event) { ev.Rules.Min = 50 }, false},
		{"max", func(ev *Event) { ev.Rules.Max = 99 }, false},
		{"step", func(ev *Event) { ev.Rules.Step = 1 }, false},
		{"trim", func(ev *Event) { ev.Rules.Trim = 2 }, false},
		{"decimals", func(ev *Event) { ev.Rules.Decimals = 1 }, false},
		{"criterion weight", func(ev *Event) { ev.Rules.Criteria[1].Weight = 2 }, false},
		{"criterion added", func(ev *Event) {
			ev.Rules.Criteria = append(ev.Rules.Criteria, Criterion{ID: "c", Name: "创新", Weight: 1})
		}, false},
		{"criteria removed", func(ev *Event) { ev.Rules.Criteria = nil }, false},
		{"scope", func(ev *Event) { ev.VotingScope = ScopeAll }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := validEvent()
			ev.Rules.Criteria = []Criterion{{ID: "a", Name: "举措", Weight: 0.6}, {ID: "b", Name: "成绩", Weight: 0.4}}
			next := ev
			next.Contestants = slices.Clone(ev.Contestants)
			next.Panels = slices.Clone(ev.Panels)
			next.Rules.Criteria = slices.Clone(ev.Rules.Criteria)
			tc.change(&next)
			if got := ev.ScoringUnchanged(&next); got != tc.want {
				t.Fatalf("ScoringUnchanged = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestPublic(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	pub := ev.Public()
	if pub.Panels[0].Key != "" || pub.Panels[1].Key != KeyRequired {
		t.Errorf("public panels %+v: want no key and %q", pub.Panels, KeyRequired)
	}
	if ev.Panels[1].Key != "secret" {
		t.Errorf("Public changed the original's key to %q", ev.Panels[1].Key)
	}
	pub.Contestants[0].Name = "changed"
	if ev.Contestants[0].Name != "一号单位" {
		t.Errorf("Public shares the contestants with the original")
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	ev := validEvent()
	if c, i, ok := ev.Contestant("c2"); !ok || i != 1 || c.Name != "二号单位" {
		t.Errorf("Contestant(c2) = %+v, %d, %v", c, i, ok)
	}
	if _, i, ok := ev.Contestant("c9"); ok || i != -1 {
		t.Errorf("Contestant(c9) = %d, %v; want -1, false", i, ok)
	}
	if p, ok := ev.Panel("judges"); !ok || p.Weight != 0.4 {
		t.Errorf("Panel(judges) = %+v, %v", p, ok)
	}
	if _, ok := ev.Panel("nobody"); ok {
		t.Errorf("Panel(nobody) found")
	}
	ev.Contestants = append(ev.Contestants, Contestant{ID: "c4", Name: "四", Group: "专项组牵头单位"})
	if got, want := ev.Groups(), []string{"专项组牵头单位", "街道和园区"}; !slices.Equal(got, want) {
		t.Errorf("Groups = %v, want %v", got, want)
	}
}
