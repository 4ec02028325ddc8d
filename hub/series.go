package hub

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"leitai/voting"
	"leitai/voting/report"
)

// seriesRoutes registers the series (赛季) endpoints: the series with the
// host key, the season table (public once every counted round is
// published), its exports, and an event's season table for the screen.
func (h *Hub) seriesRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/series", h.host(h.listSeries))
	mux.HandleFunc("POST /api/series", h.host(h.createSeries))
	mux.HandleFunc("GET /api/series/{series}", h.host(h.getSeries))
	mux.HandleFunc("PUT /api/series/{series}", h.host(h.updateSeries))
	mux.HandleFunc("GET /api/series/{series}/season", h.getSeason)
	mux.HandleFunc("GET /api/series/{series}/export.xlsx", h.host(h.exportSeasonXLSX))
	mux.HandleFunc("GET /api/series/{series}/export.csv", h.host(h.exportSeasonCSV))
	mux.HandleFunc("GET /api/events/{event}/season", h.getEventSeason)
}

// SeriesInfo is a series with its rounds (GET /api/series/{series}).
type SeriesInfo struct {
	voting.Series
	Rounds []voting.RoundEvent `json:"rounds"`
}

func (h *Hub) listSeries(w http.ResponseWriter, r *http.Request) {
	list, err := h.service.SeriesList(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"series": list})
}

func (h *Hub) createSeries(w http.ResponseWriter, r *http.Request) {
	var se voting.Series
	if err := decodeBody(w, r, maxHostBody, &se); err != nil {
		writeError(w, err)
		return
	}
	created, err := h.service.CreateSeries(r.Context(), se)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

func (h *Hub) getSeries(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	se, err := h.service.Series(ctx, r.PathValue("series"))
	if err != nil {
		writeError(w, err)
		return
	}
	rounds, err := h.service.Rounds(ctx, se.ID)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, SeriesInfo{Series: se, Rounds: rounds})
}

func (h *Hub) updateSeries(w http.ResponseWriter, r *http.Request) {
	var se voting.Series
	if err := decodeBody(w, r, maxHostBody, &se); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("series")
	if se.ID == "" {
		se.ID = id
	}
	if se.ID != id {
		writeError(w, voting.Errorf(voting.CodeInvalid, "the series id in the body (%q) differs from the URL", clip(se.ID, 40)))
		return
	}
	updated, err := h.service.UpdateSeries(r.Context(), se)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

// seasonFor answers the season table of the request's series, up to
// ?round=N when given. The host reads it always; anyone else once every
// round in the table is published (the table shows their finals).
func (h *Hub) seasonFor(ctx context.Context, r *http.Request) (voting.Season, error) {
	upTo := 0
	if q := r.URL.Query().Get("round"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil || n < 1 || n > voting.MaxRounds {
			return voting.Season{}, voting.Errorf(voting.CodeInvalid, "round %q: a number from 1 to %d", clip(q, 10), voting.MaxRounds)
		}
		upTo = n
	}
	id := r.PathValue("series")
	if !h.isHost(r) {
		if err := h.seasonPublished(ctx, id, upTo); err != nil {
			return voting.Season{}, err
		}
	}
	return h.service.SeasonTable(ctx, id, upTo)
}

// seasonPublished refuses (forbidden) a season table with an unpublished
// round in it, and one without any round.
func (h *Hub) seasonPublished(ctx context.Context, series string, upTo int) error {
	rounds, err := h.service.Rounds(ctx, series)
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
		if _, err := h.service.Series(ctx, series); err != nil {
			return err
		}
		return voting.Errorf(voting.CodeForbidden, "no round of this season has been published yet")
	}
	return nil
}

// getSeason answers GET /api/series/{series}/season: the season table.
func (h *Hub) getSeason(w http.ResponseWriter, r *http.Request) {
	season, err := h.seasonFor(r.Context(), r)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, season)
}

// exportSeasonXLSX answers GET /api/series/{series}/export.xlsx: the
// sheets 累计 and 规则.
func (h *Hub) exportSeasonXLSX(w http.ResponseWriter, r *http.Request) {
	season, err := h.seasonFor(r.Context(), r)
	if err != nil {
		writeError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := report.WriteSeasonXLSX(&buf, &season, h.now()); err != nil {
		writeError(w, voting.Wrap(voting.CodeInternal, err, "the workbook could not be made"))
		return
	}
	name := season.Name + "-年度累计排名.xlsx"
	writeDownload(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name, season.Series+"-season.xlsx", buf.Bytes())
}

// exportSeasonCSV answers GET /api/series/{series}/export.csv: 累计 as CSV.
func (h *Hub) exportSeasonCSV(w http.ResponseWriter, r *http.Request) {
	season, err := h.seasonFor(r.Context(), r)
	if err != nil {
		writeError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := report.SeasonTable(&season).WriteCSV(&buf); err != nil {
		writeError(w, voting.Wrap(voting.CodeInternal, err, "the CSV file could not be made"))
		return
	}
	name := season.Name + "-年度累计排名.csv"
	writeDownload(w, "text/csv; charset=utf-8", name, season.Series+"-season.csv", buf.Bytes())
}

// getEventSeason answers GET /api/events/{event}/season: the season table
// of the event's series up to the event's round, for the big screen. The
// host reads it always; anyone else while the screen shows it
// (Stage.Season) or once the event's results are published.
func (h *Hub) getEventSeason(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := h.storedEvent(ctx, r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	if ev.Series == "" {
		writeError(w, voting.Errorf(voting.CodeNotFound, "the event %q is not a round of a series", ev.ID))
		return
	}
	if !h.isHost(r) && !ev.Published {
		st, err := h.service.Stage(ctx, ev.ID)
		if err != nil {
			writeError(w, err)
			return
		}
		if !st.Season {
			writeError(w, voting.Errorf(voting.CodeForbidden, "the season table is not on the screen; the host key is needed to see it"))
			return
		}
	}
	season, err := h.service.SeasonTable(ctx, ev.Series, ev.Round)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, season)
}

// addSeason gives the report of a counted round of a series the season
// table up to that round (the 累计 sheet and CSV, the JSON's season).
func (h *Hub) addSeason(ctx context.Context, rep *report.Report, ev *voting.Event, st *voting.Stage) error {
	if ev.Series == "" || !voting.RoundCounts(st) {
		return nil
	}
	season, err := h.service.SeasonTable(ctx, ev.Series, ev.Round)
	if err != nil {
		return err
	}
	rep.SetSeason(&season)
	return nil
}
