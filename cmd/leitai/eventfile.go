package main

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"leitai/voting"
)

// EventFile is the YAML form of an event (docs/event-file.md).
type EventFile struct {
	ID          string `yaml:"id"`
	Title       string `yaml:"title"`
	VotingScope string `yaml:"voting_scope"`
	// HallCode: new phones join only with the rotating code of the big
	// screen's QR code (现场码). On when absent; false for remote audiences.
	HallCode    *bool        `yaml:"hall_code"`
	Rules       RulesFile    `yaml:"rules"`
	Panels      []PanelFile  `yaml:"panels"`
	Contestants []Contestant `yaml:"contestants"`
	// PresentationTime is how long each contestant presents (汇报时长):
	// "8m", "5m30s", "90s" or a number of seconds.
	PresentationTime FileDuration `yaml:"presentation_time"`
	// Series names the season (赛季) the event is a round of, and Round
	// which round; see SeriesFile.
	Series *SeriesFile `yaml:"series"`
	Round  int         `yaml:"round"`
}

// FileDuration is a duration in an event file: a Go duration ("8m",
// "5m30s") or a whole number of seconds.
type FileDuration struct{ Seconds int }

// UnmarshalYAML reads "8m", "5m30s", "90s" or 480.
func (d *FileDuration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration is a value such as 8m, 5m30s or 480 (seconds)", n.Line)
	}
	if secs, err := strconv.Atoi(n.Value); err == nil {
		d.Seconds = secs
		return nil
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil || dur%time.Second != 0 {
		return fmt.Errorf("line %d: duration %q: use whole seconds, e.g. 8m, 5m30s or 480", n.Line, n.Value)
	}
	d.Seconds = int(dur / time.Second)
	return nil
}

// RulesFile is the rules section of an event file.
type RulesFile struct {
	Min      float64         `yaml:"min"`
	Max      float64         `yaml:"max"`
	Step     float64         `yaml:"step"`
	Trim     int             `yaml:"trim"`
	Decimals *int            `yaml:"decimals"`
	Criteria []CriterionFile `yaml:"criteria"`
	// TieBreaks order equal final scores: unrounded, panel:<id>, top,
	// top:<id> (voting.TieBreak).
	TieBreaks []string `yaml:"tie_breaks"`
}

// CriterionFile is one criterion in an event file.
type CriterionFile struct {
	ID     string  `yaml:"id"`
	Name   string  `yaml:"name"`
	Weight float64 `yaml:"weight"`
}

// PanelFile is one panel in an event file.
type PanelFile struct {
	ID     string  `yaml:"id"`
	Name   string  `yaml:"name"`
	Weight float64 `yaml:"weight"`
	Key    string  `yaml:"key"`
	// Tickets: only holders of a printed ticket vote in this panel.
	Tickets bool `yaml:"tickets"`
	// Mode: trimmed (the default), average or sum; Trim overrides the
	// rules' trim for this panel.
	Mode string `yaml:"mode"`
	Trim int    `yaml:"trim"`
	// Seats: named judges' seats (评委席), a count or a list of names.
	Seats FileSeats `yaml:"seats"`
}

// FileSeats is the seats of a panel in an event file: a number (seats
// named 评委一, 评委二, …) or a list of names.
type FileSeats struct{ Names []string }

// UnmarshalYAML reads 5 or [评委一, 评委二].
func (s *FileSeats) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		count, err := strconv.Atoi(n.Value)
		if err != nil || count < 0 || count > voting.MaxSeats {
			return fmt.Errorf("line %d: seats: a number from 0 to %d, or a list of names", n.Line, voting.MaxSeats)
		}
		s.Names = voting.SeatNames(count)
		return nil
	}
	if err := n.Decode(&s.Names); err != nil {
		return fmt.Errorf("line %d: seats: a number or a list of names", n.Line)
	}
	return nil
}

// Contestant is one contestant in an event file.
type Contestant struct {
	ID        string `yaml:"id"`
	Name      string `yaml:"name"`
	Group     string `yaml:"group"`
	Theme     string `yaml:"theme"`     // 汇报主题
	Presenter string `yaml:"presenter"` // 汇报人
}

// ParseEventFile decodes an event file strictly (unknown keys are errors)
// and returns the event, normalized and validated.
func ParseEventFile(data []byte) (voting.Event, error) {
	ev, _, err := parseEventFile(data)
	return ev, err
}

// parseEventFile is ParseEventFile that also returns the file's series
// (nil when it names none).
func parseEventFile(data []byte) (voting.Event, *voting.Series, error) {
	var f EventFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return voting.Event{}, nil, fmt.Errorf("event file: %w", err)
	}
	ev := voting.Event{ID: f.ID, Title: f.Title, VotingScope: voting.VotingScope(f.VotingScope), NoHallCode: f.HallCode != nil && !*f.HallCode,
		PresentationSeconds: f.PresentationTime.Seconds}
	ev.Rules = voting.Rules{Min: f.Rules.Min, Max: f.Rules.Max, Step: f.Rules.Step, Trim: f.Rules.Trim, Decimals: 2}
	if f.Rules.Decimals != nil {
		ev.Rules.Decimals = *f.Rules.Decimals
	}
	for _, c := range f.Rules.Criteria {
		ev.Rules.Criteria = append(ev.Rules.Criteria, voting.Criterion(c))
	}
	for _, tb := range f.Rules.TieBreaks {
		ev.Rules.TieBreaks = append(ev.Rules.TieBreaks, voting.TieBreak(tb))
	}
	for _, p := range f.Panels {
		ev.Panels = append(ev.Panels, voting.Panel{ID: p.ID, Name: p.Name, Weight: p.Weight, Key: p.Key, Tickets: p.Tickets,
			Mode: voting.ScoringMode(p.Mode), Trim: p.Trim, Seats: p.Seats.Names})
	}
	for _, c := range f.Contestants {
		ev.Contestants = append(ev.Contestants, voting.Contestant{ID: c.ID, Name: c.Name, Group: c.Group, Theme: c.Theme, Presenter: c.Presenter})
	}
	se, err := f.series(&ev)
	if err != nil {
		return voting.Event{}, nil, fmt.Errorf("event file: %w", err)
	}
	ev.Normalize()
	if err := ev.Validate(); err != nil {
		return voting.Event{}, nil, fmt.Errorf("event file: %w", err)
	}
	return ev, se, nil
}
