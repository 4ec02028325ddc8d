package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"

	"go.yaml.in/yaml/v3"

	"leitai/voting"
)

// SeriesFile is the series section of an event file: either the series'
// id alone (series: gongshu-2020, a series that exists already) or the
// series itself, created at start when it does not exist yet:
//
//	series:
//	  id: gongshu-2020
//	  name: 2020年度拱墅区大比武
//	  rule: average        # average | sum | weighted
//	  weights: [1, 1, 2]   # weighted: one per round
//	  missed: skip         # skip (left out) | zero
//	  renamed: {xiaohe: u12}
//	round: 1
type SeriesFile struct {
	ID      string            `yaml:"id"`
	Name    string            `yaml:"name"`
	Rule    string            `yaml:"rule"`
	Weights []float64         `yaml:"weights"`
	Missed  string            `yaml:"missed"`
	Renamed map[string]string `yaml:"renamed"`
	idOnly  bool
}

// UnmarshalYAML reads the id alone or the whole series.
func (sf *SeriesFile) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		sf.ID, sf.idOnly = n.Value, true
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: series is an id or a mapping (id, name, rule, weights, missed, renamed)", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch k := n.Content[i]; k.Value {
		case "id", "name", "rule", "weights", "missed", "renamed":
		default:
			return fmt.Errorf("line %d: field %s not found in series (id, name, rule, weights, missed, renamed)", k.Line, k.Value)
		}
	}
	type plain SeriesFile
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*sf = SeriesFile(p)
	return nil
}

// series sets ev's series and round from the file and returns the series
// the file defines (nil when it names none, or only its id).
func (f *EventFile) series(ev *voting.Event) (*voting.Series, error) {
	if f.Series == nil {
		if f.Round != 0 {
			return nil, fmt.Errorf("round %d: a round needs a series (series: <id>)", f.Round)
		}
		return nil, nil
	}
	if f.Round < 1 {
		return nil, fmt.Errorf("series %q: give the event's round (round: 1 for 第一轮)", f.Series.ID)
	}
	ev.Series, ev.Round = f.Series.ID, f.Round
	if f.Series.idOnly {
		return nil, nil
	}
	sf := f.Series
	se := voting.Series{ID: sf.ID, Name: sf.Name, Rule: voting.SeasonRule(sf.Rule), Weights: sf.Weights,
		Missed: voting.MissedRound(sf.Missed), Renamed: sf.Renamed}
	se.Normalize()
	if err := se.Validate(); err != nil {
		return nil, err
	}
	return &se, nil
}

// loadSeries creates the series an event file defines when it does not
// exist yet. A stored series wins over the file, as a stored event does:
// a difference is logged, not applied (change it through the API).
func loadSeries(ctx context.Context, svc *voting.Service, se *voting.Series, path string, log *slog.Logger) error {
	if se == nil {
		return nil
	}
	stored, err := svc.Series(ctx, se.ID)
	if errors.Is(err, voting.ErrNotFound) {
		created, cerr := svc.CreateSeries(ctx, *se)
		if cerr == nil {
			log.Info("created series from event file", "series", se.ID, "file", path, "revision", created.Revision)
			return nil
		}
		if !errors.Is(cerr, voting.ErrConflict) {
			return fmt.Errorf("%s: create series: %w", path, cerr)
		}
		stored, err = svc.Series(ctx, se.ID) // another instance or file made it
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	want := *se
	want.Revision = stored.Revision
	if !reflect.DeepEqual(stored, want) {
		log.Warn("the event file's series differs from the stored series; keeping the stored series",
			"series", se.ID, "file", path, "how_to_apply", "PUT /api/series/"+se.ID)
	}
	return nil
}
