package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"leitai/voting"
	"leitai/voting/votingtest"
)

func TestParseExampleEventFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../examples/gongshu-2020.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ParseEventFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "gongshu-2020" || len(ev.Contestants) != 16 {
		t.Fatalf("id %q with %d contestants, want gongshu-2020 with 16", ev.ID, len(ev.Contestants))
	}
	if g := ev.Groups(); len(g) != 2 || g[0] != "专项组牵头单位" || g[1] != "街道和园区" {
		t.Fatalf("groups %q", g)
	}
	if ev.Contestants[0].Name != "区发改经信局" || ev.Contestants[15].Name != "区科技园区管委会" {
		t.Fatalf("order: first %q, last %q", ev.Contestants[0].Name, ev.Contestants[15].Name)
	}
	r := ev.Rules
	if r.Min != 60 || r.Max != 100 || r.Step != 0.5 || r.Trim != 1 || r.Decimals != 2 {
		t.Fatalf("rules %+v", r)
	}
	if len(ev.Panels) != 2 || ev.Panels[0].Key != "" || ev.Panels[1].Key == "" || ev.Panels[0].Weight != 60 || ev.Panels[1].Weight != 40 {
		t.Fatalf("panels %+v", ev.Panels)
	}
	if ev.VotingScope != voting.ScopeOnStage {
		t.Fatalf("scope %q", ev.VotingScope)
	}
	// The example is round 1 of a season; the tests' copy of the example
	// event is the file's event apart from that (most tests create it
	// where the series does not exist).
	if ev.Series != "gongshu-2020-season" || ev.Round != 1 {
		t.Fatalf("series %q round %d, want gongshu-2020-season round 1", ev.Series, ev.Round)
	}
	ev.Series, ev.Round = "", 0
	if want := votingtest.Example(); !reflect.DeepEqual(ev, want) {
		t.Fatalf("votingtest.Example() differs from examples/gongshu-2020.yaml:\n file %+v\n copy %+v", ev, want)
	}
}

func TestParseEventFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "id: a\ntitle: t\nrulez: {}\n", "rulez"},
		{"bad id", "id: A B\ntitle: t\n", "event id"},
		{"bad step", "id: a\ntitle: t\nrules: {min: 60, max: 100, step: 0.3}\n", "step"},
		{"zero weight", "id: a\ntitle: t\npanels: [{id: p, name: P, weight: 0}]\n", "weight"},
		{"not yaml", "id: [\n", "event file"},
		{"empty contestant name", "id: a\ntitle: t\ncontestants: [{name: ''}]\n", "contestant name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEventFile([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseEventFileDefaults(t *testing.T) {
	t.Parallel()
	ev, err := ParseEventFile([]byte("id: quick\ntitle: 快速\ncontestants: [{name: 甲}, {name: 乙}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Rules.Min != 1 || ev.Rules.Max != 10 || ev.Rules.Step != 1 || ev.Rules.Decimals != 2 {
		t.Fatalf("default rules %+v", ev.Rules)
	}
	if len(ev.Panels) != 1 || ev.Panels[0].ID != "audience" {
		t.Fatalf("default panels %+v", ev.Panels)
	}
	if ev.Contestants[0].ID != "c1" || ev.Contestants[1].ID != "c2" {
		t.Fatalf("default ids %+v", ev.Contestants)
	}
}

// TestParseEventFileJudges: scoring modes, a panel's own trim, seats as a
// count or as names, and tie-breaks.
func TestParseEventFileJudges(t *testing.T) {
	ev, err := ParseEventFile([]byte(`id: judged
title: 评委打分
rules: {min: 60, max: 100, step: 0.5, trim: 1, tie_breaks: [unrounded, panel:judges, top]}
panels:
  - {id: audience, name: 大众评审, weight: 60, mode: average}
  - {id: judges, name: 专家评委, weight: 40, mode: trimmed, trim: 2, seats: 5}
  - {id: guests, name: 嘉宾, weight: 10, mode: sum, seats: [张评委, 李评委]}
contestants: [{name: 甲}]
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := ev.Rules.TieBreaks; len(got) != 3 || got[1] != "panel:judges" {
		t.Fatalf("tie-breaks %v", got)
	}
	a, j, g := ev.Panels[0], ev.Panels[1], ev.Panels[2]
	if a.Mode != voting.ModeAverage || j.Mode != voting.ModeTrimmed || j.Trim != 2 || g.Mode != voting.ModeSum {
		t.Fatalf("modes %+v", ev.Panels)
	}
	if len(j.Seats) != 5 || j.Seats[0] != "评委一" || j.Seats[4] != "评委五" || !j.Tickets {
		t.Fatalf("judges' seats %q (tickets %v)", j.Seats, j.Tickets)
	}
	if len(g.Seats) != 2 || g.Seats[1] != "李评委" {
		t.Fatalf("guests' seats %q", g.Seats)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"panels: [{id: p, name: P, weight: 1, seats: -1}]", "seats"},
		{"panels: [{id: p, name: P, weight: 1, seats: {a: 1}}]", "seats"},
		{"panels: [{id: p, name: P, weight: 1, mode: median}]", "scoring mode"},
		{"rules: {min: 1, max: 10, step: 1, tie_breaks: [coin]}", "tie-break"},
	} {
		_, err := ParseEventFile([]byte("id: a\ntitle: t\n" + bad.yaml + "\n"))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: err = %v, want one mentioning %q", bad.yaml, err, bad.want)
		}
	}
}

// TestParseSeasonExample: the two example rounds name one series, rounds
// 1 and 2, with the same units.
func TestParseSeasonExample(t *testing.T) {
	var evs [2]voting.Event
	for i, name := range []string{"gongshu-2020.yaml", "gongshu-2020-r2.yaml"} {
		data, err := os.ReadFile("../../examples/" + name)
		if err != nil {
			t.Fatal(err)
		}
		ev, se, err := parseEventFile(data)
		if err != nil {
			t.Fatal(err)
		}
		if se == nil || se.ID != "gongshu-2020-season" || se.Rule != voting.RuleAverage || se.Missed != voting.MissedSkip || ev.Series != se.ID || ev.Round != i+1 {
			t.Fatalf("%s: series %+v, event in %q round %d", name, se, ev.Series, ev.Round)
		}
		evs[i] = ev
	}
	if len(evs[1].Contestants) != 16 || evs[1].Title != voting.RoundTitle(evs[0].Title, 1, 2) {
		t.Fatalf("round 2: %d units, title %q", len(evs[1].Contestants), evs[1].Title)
	}
}

func TestParseEventFileSeries(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"round without series", "id: a\ntitle: t\nround: 2\n", "needs a series"},
		{"series without round", "id: a\ntitle: t\nseries: s\n", "give the event's round"},
		{"unknown series key", "id: a\ntitle: t\nround: 1\nseries: {id: s, name: S, rules: sum}\n", "rules"},
		{"bad rule", "id: a\ntitle: t\nround: 1\nseries: {id: s, name: S, rule: best}\n", "season rule"},
		{"weights without weighted", "id: a\ntitle: t\nround: 1\nseries: {id: s, name: S, weights: [1, 2]}\n", "weighted"},
		{"series list", "id: a\ntitle: t\nround: 1\nseries: [s]\n", "series is an id or a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEventFile([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	ev, se, err := parseEventFile([]byte("id: a\ntitle: t\nround: 3\nseries: s\n"))
	if err != nil || se != nil || ev.Series != "s" || ev.Round != 3 {
		t.Fatalf("series by id: %+v %+v %v", ev, se, err)
	}
}
