package hub

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"
	_ "time/tzdata" // ?tz=Asia/Shanghai works on machines (and images) without a zoneinfo database

	"leitai/voting"
	"leitai/voting/report"
)

// resultsRoutes registers what a host takes home after the event: the
// results as JSON (public once published), the Excel and CSV exports, and
// the clone and publish actions.
func (h *Hub) resultsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{event}/results", h.getResults)
	mux.HandleFunc("GET /api/events/{event}/export.xlsx", h.host(h.exportXLSX))
	mux.HandleFunc("GET /api/events/{event}/export.csv", h.host(h.exportCSV))
	mux.HandleFunc("POST /api/events/{event}/clone", h.host(h.cloneEvent))
	mux.HandleFunc("POST /api/events/{event}/publish", h.host(h.publishResults))
}

// storedEvent reads the event from the store, not from the service's
// cache: another instance may have published or renamed it, and reports
// are not a hot path.
func (h *Hub) storedEvent(ctx context.Context, id string) (voting.Event, error) {
	if !voting.ValidID(id) {
		return voting.Event{}, voting.Errorf(voting.CodeNotFound, "no event %q", clip(id, 40))
	}
	return h.service.Store().Event(ctx, id)
}

// buildReport reads the event, its stage and its live ballots and makes
// the report, with times in the zone the request names (?tz=Asia/Shanghai;
// the server's zone by default).
func (h *Hub) buildReport(ctx context.Context, r *http.Request, ev voting.Event) (*report.Report, error) {
	loc := time.Local
	if tz := r.URL.Query().Get("tz"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
			return nil, voting.Errorf(voting.CodeInvalid, "unknown time zone %q: use a name like Asia/Shanghai", clip(tz, 40))
		}
		loc = l
	}
	st, err := h.service.Stage(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	ballots, err := h.service.Store().Ballots(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	head, err := h.service.AuditHead(ctx, ev.ID)
	if err != nil {
		return nil, err
	}
	rep := report.Build(&ev, st, ballots, h.now(), loc)
	rep.SetAuditHead(head)
	if ev.HasSeats() {
		tickets, err := h.service.Tickets(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		rep.AddSeatSheets(&ev, ballots, tickets)
	}
	if err := h.addSeason(ctx, rep, &ev, &st); err != nil {
		return nil, err
	}
	return rep, nil
}

// getResults answers GET /api/events/{event}/results: the report as JSON.
// The host gets it always (with ?detail=1 also every ballot, voters
// anonymised); anyone else once the host has published the results.
func (h *Hub) getResults(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ev, err := h.storedEvent(ctx, r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	isHost := h.isHost(r)
	if !isHost && !ev.Published {
		writeError(w, voting.Errorf(voting.CodeForbidden, "the results have not been published; the host key is needed to see them"))
		return
	}
	rep, err := h.buildReport(ctx, r, ev)
	if err != nil {
		writeError(w, err)
		return
	}
	sheets := rep.SeatSheets
	if !isHost || r.URL.Query().Get("detail") != "1" {
		rep = rep.Public()
	}
	if isHost {
		rep.SeatSheets = sheets // the host prints the 评委评分表; the public never sees a seat's score
	}
	writeJSON(w, http.StatusOK, rep)
}

// eventReport builds the report of the request's event, read from the
// store (not the cache) so that every instance exports the same.
func (h *Hub) eventReport(ctx context.Context, r *http.Request) (*report.Report, error) {
	ev, err := h.storedEvent(ctx, r.PathValue("event"))
	if err != nil {
		return nil, err
	}
	return h.buildReport(ctx, r, ev)
}

// exportXLSX answers GET /api/events/{event}/export.xlsx: the workbook with
// the sheets 排名, 明细 and 规则, named after the event and its date.
func (h *Hub) exportXLSX(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rep, err := h.eventReport(ctx, r)
	if err != nil {
		writeError(w, err)
		return
	}
	var buf bytes.Buffer
	if err := rep.WriteXLSX(&buf); err != nil {
		writeError(w, voting.Wrap(voting.CodeInternal, err, "the workbook could not be made"))
		return
	}
	name, ascii := rep.FileName("", "", "xlsx")
	writeDownload(w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name, ascii, buf.Bytes())
}

// exportCSV answers GET /api/events/{event}/export.csv?table=ranking|ballots|rules:
// one table as CSV, UTF-8 with a byte-order mark so that Excel shows
// Chinese text.
func (h *Hub) exportCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	slug := r.URL.Query().Get("table")
	if slug == "" {
		slug = report.TableRanking
	}
	rep, err := h.eventReport(ctx, r)
	if err != nil {
		writeError(w, err)
		return
	}
	t, ok := rep.Table(slug)
	if !ok {
		writeError(w, voting.Errorf(voting.CodeInvalid, "unknown table %q: use ranking, ballots, rules or (in a counted round of a series) season", clip(slug, 30)))
		return
	}
	var buf bytes.Buffer
	if err := t.WriteCSV(&buf); err != nil {
		writeError(w, voting.Wrap(voting.CodeInternal, err, "the CSV file could not be made"))
		return
	}
	name, ascii := rep.FileName(t.Name, t.Slug, "csv")
	writeDownload(w, "text/csv; charset=utf-8", name, ascii, buf.Bytes())
}

// writeDownload sends a file to save, named name (UTF-8, RFC 5987) with
// ascii for clients that cannot read that.
func writeDownload(w http.ResponseWriter, contentType, name, ascii string, body []byte) {
	hd := w.Header()
	hd.Set("Content-Type", contentType)
	hd.Set("Content-Disposition", ContentDisposition(name, ascii))
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// ContentDisposition makes an attachment header with an ASCII file name
// and the real one in UTF-8 (RFC 6266, RFC 5987), which every current
// browser prefers.
func ContentDisposition(name, ascii string) string {
	var b strings.Builder
	b.WriteString(`attachment; filename="`)
	for _, c := range []byte(ascii) {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			c = '_'
		}
		b.WriteByte(c)
	}
	b.WriteString(`"; filename*=UTF-8''`)
	const hex = "0123456789ABCDEF"
	for _, c := range []byte(name) {
		if attrChar(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// attrChar reports whether c may appear unencoded in an RFC 5987 value.
func attrChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", c) >= 0
}

// CloneRequest is the body of POST /api/events/{event}/clone.
type CloneRequest struct {
	ID    string `json:"id"`
	Title string `json:"title,omitempty"` // empty: the old title
}

// cloneEvent answers POST /api/events/{event}/clone: a new event with the
// same contestants, panels (and keys) and rules, no ballots, a fresh stage.
func (h *Hub) cloneEvent(w http.ResponseWriter, r *http.Request) {
	var req CloneRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.ID == "" {
		writeError(w, voting.Errorf(voting.CodeInvalid, "give the new event an id: {\"id\": \"...\"}"))
		return
	}
	created, err := h.service.CloneEvent(r.Context(), r.PathValue("event"), req.ID, req.Title)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, created)
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
func (h *Hub) publishResults(w http.ResponseWriter, r *http.Request) {
	var req PublishRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Published == nil {
		writeError(w, voting.Errorf(voting.CodeInvalid, "say whether the results are published: {\"published\": true}"))
		return
	}
	id := r.PathValue("event")
	updated, err := h.service.SetPublished(r.Context(), id, *req.Published, req.Confirm)
	if err != nil {
		writeError(w, err)
		return
	}
	pub := updated.Public()
	h.publish(r.Context(), id, Envelope{Kind: KindEvent, Event: &pub})
	writeJSON(w, http.StatusOK, updated)
}
