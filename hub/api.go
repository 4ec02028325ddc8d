package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"leitai/voting"
)

// Routes registers the WebSocket endpoint and the HTTP API on mux.
func (h *Hub) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /e/{event}/ws", h.ServeWS)

	mux.HandleFunc("GET /api/events", h.host(h.listEvents))
	mux.HandleFunc("POST /api/events", h.host(h.createEvent))
	mux.HandleFunc("GET /api/events/{event}", h.getEvent)
	mux.HandleFunc("PUT /api/events/{event}", h.host(h.updateEvent))
	mux.HandleFunc("DELETE /api/events/{event}", h.host(h.deleteEvent))
	mux.HandleFunc("GET /api/events/{event}/stage", h.getStage)
	mux.HandleFunc("POST /api/events/{event}/stage", h.host(h.command))
	mux.HandleFunc("GET /api/events/{event}/standings", h.host(h.getStandings))
	mux.HandleFunc("POST /api/events/{event}/contestants/{contestant}/reset", h.host(h.resetContestant))
	mux.HandleFunc("POST /api/voter", h.issueVoter)
	mux.HandleFunc("GET /api/events/{event}/hall-code", h.getHallCode)
	mux.HandleFunc("POST /api/events/{event}/ballots", h.postBallot)
	mux.HandleFunc("GET /api/events/{event}/ballots", h.voter(h.getVoterBallots))
	h.resultsRoutes(mux)   // results, exports, clone, publish: results.go
	h.integrityRoutes(mux) // tickets, audit log, host key: tickets.go
	h.presentRoutes(mux)   // the leader's comment: present.go
	h.seatRoutes(mux)      // judges' seats and 亮分: seats.go
	h.seriesRoutes(mux)    // series and the season table: series.go
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, voting.Errorf(voting.CodeNotFound, "no such API endpoint: %s %s", r.Method, clip(r.URL.Path, 80)))
	})
}

// Body limits: an event with 500 contestants fits in well under 1 MiB; a
// ballot in well under 4 KiB.
const (
	maxHostBody   = 1 << 20
	maxBallotBody = 4 << 10
)

// host wraps a handler that needs the host key.
func (h *Hub) host(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := h.authHost(r); err != nil {
			writeError(w, err)
			return
		}
		next(w, r)
	}
}

func (h *Hub) listEvents(w http.ResponseWriter, r *http.Request) {
	evs, err := h.service.Store().Events(r.Context())
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (h *Hub) createEvent(w http.ResponseWriter, r *http.Request) {
	var ev voting.Event
	if err := decodeBody(w, r, maxHostBody, &ev); err != nil {
		writeError(w, err)
		return
	}
	created, err := h.service.CreateEvent(r.Context(), ev)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, created)
}

// getEvent returns the public event; with the host key, the whole event.
func (h *Hub) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := h.service.Event(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	if !h.isHost(r) {
		ev = ev.Public()
	}
	writeJSON(w, http.StatusOK, ev)
}

func (h *Hub) updateEvent(w http.ResponseWriter, r *http.Request) {
	var ev voting.Event
	if err := decodeBody(w, r, maxHostBody, &ev); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("event")
	if ev.ID == "" {
		ev.ID = id
	}
	if ev.ID != id {
		writeError(w, voting.Errorf(voting.CodeInvalid, "the event id in the body (%q) differs from the URL", clip(ev.ID, 40)))
		return
	}
	updated, err := h.service.UpdateEvent(r.Context(), ev)
	if err != nil {
		writeError(w, err)
		return
	}
	pub := updated.Public()
	h.publish(r.Context(), id, Envelope{Kind: KindEvent, Event: &pub})
	h.markDirty(id) // contestant names or order may have changed
	writeJSON(w, http.StatusOK, updated)
}

func (h *Hub) deleteEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("event")
	if r.URL.Query().Get("confirm") != id {
		writeError(w, voting.Errorf(voting.CodeInvalid, "to delete, confirm with the event id: ?confirm=%s", id))
		return
	}
	if err := h.service.DeleteEvent(r.Context(), id); err != nil {
		writeError(w, err)
		return
	}
	h.publish(r.Context(), id, Envelope{Kind: KindDeleted})
	writeJSON(w, http.StatusOK, map[string]any{"deleted": id})
}

func (h *Hub) getStage(w http.ResponseWriter, r *http.Request) {
	st, err := h.service.Stage(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// command applies a host command and broadcasts the new stage.
func (h *Hub) command(w http.ResponseWriter, r *http.Request) {
	var cmd voting.Command
	if err := decodeBody(w, r, maxHostBody, &cmd); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("event")
	st, err := h.service.Command(r.Context(), id, cmd)
	if err != nil {
		writeError(w, err)
		return
	}
	h.publish(r.Context(), id, Envelope{Kind: KindStage, Stage: &st})
	writeJSON(w, http.StatusOK, st)
}

func (h *Hub) getStandings(w http.ResponseWriter, r *http.Request) {
	sd, err := h.service.Standings(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sd)
}

func (h *Hub) resetContestant(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Confirm string `json:"confirm"`
	}
	if err := decodeBody(w, r, maxHostBody, &body); err != nil {
		writeError(w, err)
		return
	}
	id, contestant := r.PathValue("event"), r.PathValue("contestant")
	n, err := h.service.ResetContestant(r.Context(), id, contestant, body.Confirm)
	if err != nil {
		writeError(w, err)
		return
	}
	h.publish(r.Context(), id, Envelope{Kind: KindReset, Contestant: contestant})
	h.markDirty(id)
	writeJSON(w, http.StatusOK, map[string]any{"contestant": contestant, "removed": n})
}

// BallotRequest is the body of POST /api/events/{event}/ballots, which the
// vote page uses instead of its WebSocket when the phone's network blocks
// WebSockets (static/assets/vote-ballots.js).
type BallotRequest struct {
	ID string `json:"id"`
	// Credential is the voter's credential, for phones that lost the
	// cookie; the cookie or the X-Leitai-Credential header also do.
	Credential string             `json:"credential,omitempty"`
	Contestant string             `json:"contestant"`
	Panel      string             `json:"panel,omitempty"`
	PanelKey   string             `json:"panelKey,omitempty"`
	Score      *float64           `json:"score,omitempty"`
	Scores     map[string]float64 `json:"scores,omitempty"`
}

// CastRequest is the service's request for this body, from voter.
func (req *BallotRequest) CastRequest(event, voter string) voting.CastRequest {
	return voting.CastRequest{ID: req.ID, Event: event, Voter: voter, Contestant: req.Contestant,
		Panel: req.Panel, PanelKey: req.PanelKey, Score: req.Score, Scores: req.Scores}
}

func (h *Hub) postBallot(w http.ResponseWriter, r *http.Request) {
	var req BallotRequest
	if err := decodeBody(w, r, maxBallotBody, &req); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("event")
	ev, err := h.service.Event(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	if req.Panel == "" {
		req.Panel = ev.Panels[0].ID
	}
	voter, _, ok := h.cfg.Credentials.FromRequest(r, &ev, req.Panel)
	if !ok && req.Credential != "" {
		var s Scope
		voter, s, ok = h.cfg.Credentials.Check(req.Credential)
		ok = ok && s.Admits(&ev, req.Panel)
	}
	if !ok {
		writeError(w, h.noCredential(&ev))
		return
	}
	// One voter's ballots over HTTP are paced like a socket's messages:
	// each replaced ballot stays in the audit log.
	if !h.httpBallots.allow(voter) {
		writeTooMany(w, "too many ballots from this phone; try again in a moment")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	rec, err := h.cast(ctx, req.CastRequest(id, voter))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// voter wraps a handler that needs a voter credential for the request's
// event (cookie or header) and passes it the voter.
func (h *Hub) voter(next func(w http.ResponseWriter, r *http.Request, voter string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ev, err := h.service.Event(r.Context(), r.PathValue("event"))
		if err != nil {
			writeError(w, err)
			return
		}
		voter, _, ok := h.cfg.Credentials.FromRequest(r, &ev, "")
		if !ok {
			writeError(w, h.noCredential(&ev))
			return
		}
		next(w, r, voter)
	}
}

func (h *Hub) getVoterBallots(w http.ResponseWriter, r *http.Request, voter string) {
	bs, err := h.service.VoterBallots(r.Context(), r.PathValue("event"), voter)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ballots": bs})
}

// decodeBody reads one JSON object of at most limit bytes, refusing unknown
// fields so that a typo is an error rather than silently ignored.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err == nil {
		// The body is in: lift Protect's deadline, which would otherwise
		// end a slow handler's context. (After a failed read it stays,
		// so that the server gives up on the rest of the body.)
		_ = http.NewResponseController(w).SetReadDeadline(time.Time{})
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return voting.Errorf(voting.CodeInvalid, "the request body is larger than %d bytes", limit)
		}
		return voting.Errorf(voting.CodeInvalid, "could not read the request body")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return voting.Errorf(voting.CodeInvalid, "malformed JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return voting.Errorf(voting.CodeInvalid, "malformed JSON: one object expected")
	}
	return nil
}

// HTTPStatus maps an error code to its HTTP status.
func HTTPStatus(code voting.Code) int {
	switch code {
	case voting.CodeInvalid:
		return http.StatusBadRequest
	case voting.CodeNotFound:
		return http.StatusNotFound
	case voting.CodeConflict, voting.CodeClosed, voting.CodeConfirm:
		return http.StatusConflict
	case voting.CodeForbidden, voting.CodeHallCode:
		return http.StatusForbidden
	case voting.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

func writeError(w http.ResponseWriter, err error) {
	if errors.Is(err, errHostKeyLimited) || errors.Is(err, errTooManyScreens) {
		w.Header().Set("Retry-After", strconv.Itoa(int(HostKeyFailureEvery.Seconds())))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"error": errorBody(err)})
		return
	}
	code := voting.ErrorCode(err)
	if code == voting.CodeUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, HTTPStatus(code), map[string]any{"error": errorBody(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
