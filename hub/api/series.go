package api

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"leitai/hub/access"
	"leitai/voting"
	"leitai/voting/report"
)

// seriesRoutes registers the series (赛季) endpoints: the series with the
// host key, the season table (public once every counted round is
// published), its exports, and an event's season table for the screen.
func (a *API) seriesRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/series", a.host(a.listSeries))
	mux.HandleFunc("POST /api/series", a.host(a.createSeries))
	mux.HandleFunc("GET /api/series/{series}", a.host(a.getSeries))
	mux.HandleFunc("PUT /api/series/{series}", a.host(a.updateSeries))
	mux.HandleFunc("GET /api/series/{series}/season", a.getSeason)
	mux.HandleFunc("GET /api/series/{series}/export.xlsx", a.host(a.exportSeasonXLSX))
	mux.HandleFunc("GET /api/series/{series}/export.csv", a.host(a.exportSeasonCSV))
	mux.HandleFunc("GET /api/events/{event}/season", a.getEventSeason)
}

// SeriesInfo is a series with its rounds (GET /api/series/{series}).
type SeriesInfo struct {
	voting.Series
	Rounds []voting.RoundEvent `json:"rounds"`
}

func (a *API) listSeries(w http.ResponseWriter, r *http.Request) {
	list, err := a.service.SeriesList(r.Context())
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"series": list})
}

func (a *API) createSeries(w http.ResponseWriter, r *http.Request) {
	var se voting.Series
	if err := decodeBody(w, r, maxHostBody, &se); err != nil {
		access.WriteError(w, err)
		return
	}
	created, err := a.service.CreateSeries(r.Context(), se)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusCreated, created)
}

func (a *API) getSeries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	se, err := a.service.Series(ctx, r.PathValue("series"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	rounds, err := a.service.Rounds(ctx, se.ID)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, SeriesInfo{Series: se, Rounds: rounds})
}

func (a *API) updateSeries(w http.ResponseWriter, r *http.Request) {
	var se voting.Series
	if err := decodeBody(w, r, maxHostBody, &se); err != nil {
		access.WriteError(w, err)
		return
	}
	id := r.PathValue("series")
	if se.ID == "" {
		se.ID = id
	}
	if se.ID != id {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, "the series id in the body (%q) differs from the URL", voting.Excerpt(se.ID, 40)))
		return
	}
	updated, err := a.service.UpdateSeries(r.Context(), se)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, updated)
}

// seasonFor answers the season table of the request's series, up to
// ?round=N when given. The host reads it always; anyone else once every
// round in the table is published (the table shows their finals).
func (a *API) seasonFor(ctx context.Context, r *http.Request) (voting.Season, error) {
	upTo := 0
	if q := r.URL.Query().Get("round"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > voting.MaxRounds {
			return voting.Season{}, voting.Errorf(voting.CodeInvalid, "round %q: a number from 1 to %d", voting.Excerpt(q, 10), voting.MaxRounds)
		}
		upTo = n
	}
	id := r.PathValue("series")
	if !a.access.IsHost(r) {
		if err := a.seasonPublished(ctx, id, upTo); err != nil {
			return voting.Season{}, err
		}
	}
	return a.service.SeasonTable(ctx, id, upTo)
}

// seasonPublished refuses (forbidden) a season table with an unpublished
// round in it, and one without any round.
func (a *API) seasonPublished(ctx context.Context, series string, upTo int) error {
	rounds, err := a.service.Rounds(ctx, series)
	if err != nil {
		return err
	}
	shown := 0
	for _, rd := range rounds {
		if !rd.Counts || (upTo > 0 && rd.Round > upTo) {
			continue
		}
		if !rd.Published {
			return voting.Errorf(voting.CodeForbidden, "%s (%s) has not been published; the host key is needed to see the season table", rd.Name, rd.Event)
		}
		shown++
	}
	if shown == 0 {
		if _, err := a.service.Series(ctx, series); err != nil {
			return err
		}
		return voting.Errorf(voting.CodeForbidden, "no round of this season has been published yet")
	}
	return nil
}

// getSeason answers GET /api/series/{series}/season: the season table.
func (a *API) getSeason(w http.ResponseWriter, r *http.Request) {
	season, err := a.seasonFor(r.Context(), r)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, season)
}

// exportSeasonXLSX answers GET /api/series/{series}/export.xlsx: the
// sheets 累计 and 规则.
func (a *API) exportSeasonXLSX(w http.ResponseWriter, r *http.Request) {
	season, err := a.seasonFor(r.Context(), r)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := report.WriteSeasonXLSX(&buf, &season, a.now()); err != nil {
		access.WriteError(w, voting.Wrap(voting.CodeInternal, err, "the workbook could not be made"))
		return
	}
	name := season.Name + "-年度累计排名.xlsx"
	writeDownload(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name, buf.Bytes())
}

// exportSeasonCSV answers GET /api/series/{series}/export.csv: 累计 as CSV.
func (a *API) exportSeasonCSV(w http.ResponseWriter, r *http.Request) {
	season, err := a.seasonFor(r.Context(), r)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := report.SeasonTable(&season).WriteCSV(&buf); err != nil {
		access.WriteError(w, voting.Wrap(voting.CodeInternal, err, "the CSV file could not be made"))
		return
	}
	name := season.Name + "-年度累计排名.csv"
	writeDownload(w, "text/csv; charset=utf-8", name, buf.Bytes())
}

// getEventSeason answers GET /api/events/{event}/season: the season table
// of the event's series up to the event's round, for the big screen. The
// host reads it always; anyone else while the screen shows it
// (Stage.Season) or once the event's results are published.
func (a *API) getEventSeason(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := a.service.StoredEvent(ctx, r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	if ev.Series == "" {
		access.WriteError(w, voting.Errorf(voting.CodeNotFound, "the event %q is not a round of a series", ev.ID))
		return
	}
	if !a.access.IsHost(r) && !ev.Published {
		st, err := a.service.Stage(ctx, ev.ID)
		if err != nil {
			access.WriteError(w, err)
			return
		}
		if !st.Season {
			access.WriteError(w, voting.Errorf(voting.CodeForbidden, "the season table is not on the screen; the host key is needed to see it"))
			return
		}
	}
	season, err := a.service.SeasonTable(ctx, ev.Series, ev.Round)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, season)
}

// addSeason gives the report of a counted round of a series the season
// table up to that round (the 累计 sheet and CSV, the JSON's season).
func (a *API) addSeason(ctx context.Context, rep *report.Report, ev *voting.Event, st *voting.Stage) error {
	if ev.Series == "" || !voting.RoundCounts(st) {
		return nil
	}
	season, err := a.service.SeasonTable(ctx, ev.Series, ev.Round)
	if err != nil {
		return err
	}
	rep.SetSeason(&season)
	return nil
}
