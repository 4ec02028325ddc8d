package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"leitai/voting"
)

// A series is a small record that changes rarely (its rule, its renamed
// units), so like the host keys it is a file beside the journal,
// series-<id>.json, replaced whole and durably; the journal stays the
// record of events and ballots. The events name their series.
const seriesPrefix, seriesSuffix = "series-", ".json"

func (s *Store) seriesPath(id string) string {
	return filepath.Join(s.dir, seriesPrefix+id+seriesSuffix)
}

// CreateSeries implements voting.Store.
func (s *Store) CreateSeries(_ context.Context, se voting.Series) (voting.Series, error) {
	if err := se.Validate(); err != nil {
		return voting.Series{}, err
	}
	s.seriesMu.Lock()
	defer s.seriesMu.Unlock()
	if _, err := s.readSeries(se.ID); err == nil {
		return voting.Series{}, voting.Errorf(voting.CodeConflict, "a series with id %q already exists", se.ID)
	} else if !errors.Is(err, voting.ErrNotFound) {
		return voting.Series{}, err
	}
	se.Revision = 1
	return se, s.writeSeries(&se)
}

// UpdateSeries implements voting.Store.
func (s *Store) UpdateSeries(_ context.Context, se voting.Series) (voting.Series, error) {
	if err := se.Validate(); err != nil {
		return voting.Series{}, err
	}
	s.seriesMu.Lock()
	defer s.seriesMu.Unlock()
	cur, err := s.readSeries(se.ID)
	if err != nil {
		return voting.Series{}, err
	}
	if cur.Revision != se.Revision {
		return voting.Series{}, voting.Errorf(voting.CodeConflict,
			"the series was changed meanwhile (revision %d, not %d); reload it and try again", cur.Revision, se.Revision)
	}
	se.Revision++
	return se, s.writeSeries(&se)
}

// Series implements voting.Store.
func (s *Store) Series(_ context.Context, id string) (voting.Series, error) {
	if !voting.ValidID(id) {
		return voting.Series{}, voting.Errorf(voting.CodeNotFound, "no such series")
	}
	s.seriesMu.Lock()
	defer s.seriesMu.Unlock()
	return s.readSeries(id)
}

// SeriesList implements voting.Store.
func (s *Store) SeriesList(context.Context) ([]voting.Series, error) {
	s.seriesMu.Lock()
	defer s.seriesMu.Unlock()
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, voting.Wrap(voting.CodeUnavailable, err, "could not read the data directory")
	}
	var ids []string
	for _, e := range entries {
		id, ok := strings.CutPrefix(e.Name(), seriesPrefix)
		if id, ok2 := strings.CutSuffix(id, seriesSuffix); ok && ok2 && voting.ValidID(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	out := make([]voting.Series, 0, len(ids))
	for _, id := range ids {
		se, err := s.readSeries(id)
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, nil
}

func (s *Store) readSeries(id string) (voting.Series, error) {
	var se voting.Series
	b, err := os.ReadFile(s.seriesPath(id))
	if errors.Is(err, fs.ErrNotExist) {
		return se, voting.Errorf(voting.CodeNotFound, "no series %q", id)
	}
	if err != nil {
		return se, voting.Wrap(voting.CodeUnavailable, err, "could not read a series")
	}
	if err := json.Unmarshal(b, &se); err != nil || se.ID != id {
		return se, voting.Errorf(voting.CodeInternal, "the file of series %q is damaged", id)
	}
	return se, nil
}

func (s *Store) writeSeries(se *voting.Series) error {
	data, err := json.Marshal(se)
	if err != nil {
		return voting.Wrap(voting.CodeInternal, err, "could not encode the series")
	}
	if err := writeReplacing(s.seriesPath(se.ID), data); err != nil {
		return voting.Wrap(voting.CodeUnavailable, err, "could not store the series")
	}
	return nil
}
