package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"

	"leitai/voting"
)

// Series keys. A series is one hash on the slot of its own hash tag; the
// events of the series name it (Event.Series) and live on their own slots.
// The season table is read round by round (voting.Service.SeasonTable):
// one series read, the events, then each counted round's stage and
// standings, each read within its event's slot. No read spans slots, and
// none needs to: a round counts only once its reveal has begun, when its
// standings no longer change.
//
//	leitai:series:{s}   hash: json (the series), rev
//	leitai:series       set of series ids (not under a hash tag)
const seriesSetKey = "leitai:series"

func seriesKey(id string) string { return "leitai:series:{" + id + "}" }

//go:embed series.lua
var seriesSrc string

var seriesScript = redis.NewScript(seriesSrc)

// CreateSeries implements voting.Store. The id joins the set first, so a
// crash between the two steps leaves an id without a series, which
// SeriesList skips, never a series missing from the list.
func (s *Store) CreateSeries(ctx context.Context, se voting.Series) (voting.Series, error) {
	if err := se.Validate(); err != nil {
		return voting.Series{}, err
	}
	if err := s.client.SAdd(ctx, seriesSetKey, se.ID).Err(); err != nil {
		return voting.Series{}, s.fail(err)
	}
	return s.putSeries(ctx, se, 0)
}

// UpdateSeries implements voting.Store.
func (s *Store) UpdateSeries(ctx context.Context, se voting.Series) (voting.Series, error) {
	if err := se.Validate(); err != nil {
		return voting.Series{}, err
	}
	if se.Revision < 1 {
		return voting.Series{}, voting.Errorf(voting.CodeConflict, "the series was changed meanwhile (revision %d); reload it and try again", se.Revision)
	}
	return s.putSeries(ctx, se, se.Revision)
}

func (s *Store) putSeries(ctx context.Context, se voting.Series, rev int64) (voting.Series, error) {
	se.Revision = 0 // the hash's rev field is the truth
	data, err := json.Marshal(se)
	if err != nil {
		return voting.Series{}, voting.Wrap(voting.CodeInternal, err, "the series could not be encoded")
	}
	n, err := seriesScript.Run(ctx, s.client, []string{seriesKey(se.ID)}, rev, string(data)).Int64()
	if err != nil {
		return voting.Series{}, s.fail(err)
	}
	switch {
	case n == -1:
		return voting.Series{}, voting.Errorf(voting.CodeConflict, "a series with id %q already exists", se.ID)
	case n == -2:
		return voting.Series{}, voting.Errorf(voting.CodeNotFound, "no series %q", se.ID)
	case n < 0:
		return voting.Series{}, voting.Errorf(voting.CodeConflict,
			"the series was changed meanwhile (revision %d, not %d); reload it and try again", -n-3, rev)
	}
	se.Revision = n
	return se, nil
}

// Series implements voting.Store.
func (s *Store) Series(ctx context.Context, id string) (voting.Series, error) {
	if !voting.ValidID(id) {
		return voting.Series{}, voting.Errorf(voting.CodeNotFound, "no such series")
	}
	vals, err := s.client.HMGet(ctx, seriesKey(id), "json", "rev").Result()
	if err != nil {
		return voting.Series{}, s.fail(err)
	}
	return decodeSeries(id, vals)
}

func decodeSeries(id string, vals []any) (voting.Series, error) {
	data, ok := vals[0].(string)
	if !ok {
		return voting.Series{}, voting.Errorf(voting.CodeNotFound, "no series %q", id)
	}
	var se voting.Series
	if err := json.Unmarshal([]byte(data), &se); err != nil {
		return voting.Series{}, voting.Wrap(voting.CodeInternal, err, "a stored series could not be read")
	}
	revText, _ := vals[1].(string)
	rev, err := strconv.ParseInt(revText, 10, 64)
	if err != nil {
		return voting.Series{}, voting.Wrap(voting.CodeInternal, err, "a stored series has no revision")
	}
	se.Revision = rev
	return se, nil
}

// SeriesList implements voting.Store.
func (s *Store) SeriesList(ctx context.Context) ([]voting.Series, error) {
	ids, err := s.client.SMembers(ctx, seriesSetKey).Result()
	if err != nil {
		return nil, s.fail(err)
	}
	slices.Sort(ids)
	pipe := s.client.Pipeline() // a ClusterClient splits it per node
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HMGet(ctx, seriesKey(id), "json", "rev")
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, s.fail(err)
		}
	}
	out := make([]voting.Series, 0, len(ids))
	for i, id := range ids {
		if cmds[i].Val()[0] == nil {
			continue // a create that stopped halfway
		}
		se, err := decodeSeries(id, cmds[i].Val())
		if err != nil {
			return nil, err
		}
		out = append(out, se)
	}
	return out, nil
}
