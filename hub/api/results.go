package api

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"strings"
	"time"
	_ "time/tzdata" // ?tz=Asia/Shanghai works on machines (and images) without a zoneinfo database

	"leitai/hub"
	"leitai/hub/access"
	"leitai/voting"
	"leitai/voting/report"
)

// resultsRoutes registers what a host takes home after the event: the
// results as JSON (public once published), the Excel and CSV exports, and
// the clone and publish actions.
func (a *API) resultsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{event}/results", a.getResults)
	mux.HandleFunc("GET /api/events/{event}/export.xlsx", a.host(a.exportXLSX))
	mux.HandleFunc("GET /api/events/{event}/export.csv", a.host(a.exportCSV))
	mux.HandleFunc("POST /api/events/{event}/clone", a.host(a.cloneEvent))
	mux.HandleFunc("POST /api/events/{event}/publish", a.host(a.publishResults))
}

// buildReport reads the event, its stage and its live ballots and makes
// the report, with times in the zone the request names (?tz=Asia/Shanghai;
// the server's zone by default).
func (a *API) buildReport(ctx context.Context, r *http.Request, ev voting.Event) (*report.Report, error) {
	loc := time.Local
	if tz := r.URL.Query().Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
			return nil, voting.Errorf(voting.CodeInvalid, "unknown time zone %q: use a name like Asia/Shanghai", voting.Excerpt(tz, 40))
		}
		loc = l
	}
	st, err := a.service.Stage(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	ballots, err := a.service.Ballots(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	head, err := a.service.AuditHead(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	rep := report.Build(&ev, st, ballots, a.now(), loc)
	rep.SetAuditHead(head)
	if ev.HasSeats() {
		tickets, err := a.service.Tickets(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		rep.AddSeatSheets(&ev, ballots, tickets)
	}
	if err := a.addSeason(ctx, rep, &ev, &st); err != nil {
		return nil, err
	}
	return rep, nil
}

// getResults answers GET /api/events/{event}/results: the report as JSON.
// The host gets it always (with ?detail=1 also every ballot, voters
// anonymised); anyone else once the host has published the results.
func (a *API) getResults(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := a.service.StoredEvent(ctx, r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	isHost := a.access.IsHost(r)
	if !isHost && !ev.Published {
		access.WriteError(w, voting.Errorf(voting.CodeForbidden, "the results have not been published; the host key is needed to see them"))
		return
	}
	rep, err := a.buildReport(ctx, r, ev)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	sheets := rep.SeatSheets
	if !isHost || r.URL.Query().Get("detail") != "1" {
		rep = rep.Public()
	}
	if isHost {
		rep.SeatSheets = sheets // the host prints the 评委评分表; the public never sees a seat's score
	}
	access.WriteJSON(w, http.StatusOK, rep)
}

// eventReport builds the report of the request's event, read from the
// store (not the cache) so that every instance exports the same.
func (a *API) eventReport(ctx context.Context, r *http.Request) (*report.Report, error) {
	ev, err := a.service.StoredEvent(ctx, r.PathValue("event"))
	if err != nil {
		return nil, err
	}
	return a.buildReport(ctx, r, ev)
}

// exportXLSX answers GET /api/events/{event}/export.xlsx: the workbook with
// the sheets 排名, 明细 and 规则, named after the event and its date.
func (a *API) exportXLSX(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rep, err := a.eventReport(ctx, r)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := rep.WriteXLSX(&buf); err != nil {
		access.WriteError(w, voting.Wrap(voting.CodeInternal, err, "the workbook could not be made"))
		return
	}
	name, _ := rep.FileName("", "", "xlsx")
	writeDownload(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name, buf.Bytes())
}

// exportCSV answers GET /api/events/{event}/export.csv?table=ranking|ballots|rules:
// one table as CSV, UTF-8 with a byte-order mark so that Excel shows
// Chinese text.
func (a *API) exportCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug := r.URL.Query().Get("table")
	if slug == "" {
		slug = report.TableRanking
	}
	rep, err := a.eventReport(ctx, r)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	t, ok := rep.Table(slug)
	if !ok {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, "unknown table %q: use ranking, ballots, rules or (in a counted round of a series) season", voting.Excerpt(slug, 30)))
		return
	}
	var buf bytes.Buffer
	if err := t.WriteCSV(&buf); err != nil {
		access.WriteError(w, voting.Wrap(voting.CodeInternal, err, "the CSV file could not be made"))
		return
	}
	name, _ := rep.FileName(t.Name, t.Slug, "csv")
	writeDownload(w, "text/csv; charset=utf-8", name, buf.Bytes())
}

// writeDownload sends a file to save, named name (RFC 6266; a name that is
// not ASCII goes as RFC 2231's filename*, which every current browser
// reads).
func writeDownload(w http.ResponseWriter, contentType, name string, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// CloneRequest is the body of POST /api/events/{event}/clone.
type CloneRequest struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"` // empty: the old title
}

// cloneEvent answers POST /api/events/{event}/clone: a new event with the
// same contestants, panels (and keys) and rules, no ballots, a fresh stage.
func (a *API) cloneEvent(w http.ResponseWriter, r *http.Request) {
	var req CloneRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	if req.ID == "" {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, "give the new event an id: {\"id\": \"...\"}"))
		return
	}
	created, err := a.service.CloneEvent(r.Context(), r.PathValue("event"), req.ID, req.Title)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusCreated, created)
}

// PublishRequest is the body of POST /api/events/{event}/publish.
type PublishRequest struct {
	Published *bool `json:"published"`
	// Confirm publishes even while the reveal is under way (otherwise
	// refused with the code confirm).
	Confirm bool `json:"confirm,omitempty"`
}

// publishResults answers POST /api/events/{event}/publish: whether the
// results page and GET .../results are open to everyone. It works after
// the event has ended; during the reveal it needs confirm.
func (a *API) publishResults(w http.ResponseWriter, r *http.Request) {
	var req PublishRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	if req.Published == nil {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, "say whether the results are published: {\"published\": true}"))
		return
	}
	id := r.PathValue("event")
	updated, err := a.service.SetPublished(r.Context(), id, *req.Published, req.Confirm)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	pub := updated.Public()
	a.hub.Publish(r.Context(), id, hub.Envelope{Kind: hub.KindEvent, Event: &pub})
	access.WriteJSON(w, http.StatusOK, updated)
}
