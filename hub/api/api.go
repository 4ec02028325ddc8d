// Package api is leitai's HTTP API above the live side (hub) and the
// domain (voting): events and host commands, results and exports, tickets,
// the audit log, the leader's comment, voter credentials and the hall code,
// and the host key's rotation. A change it stores reaches the rooms through
// the hub (Publish, MarkDirty); who may do what is hub/access's.
//
// Files: api.go events, the stage and ballots; results.go results and
// exports; tickets.go tickets and the audit log; present.go the leader's
// comment; voter.go voter credentials and the hall code; hostkey.go the
// host key's rotation.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/voting"
)

// Config configures an API. Zero values take the defaults.
type Config struct {
	Service *voting.Service
	Hub     *hub.Hub
	Access  *access.Guard
	Logger  *slog.Logger
	// Now is the clock of the reports (default time.Now).
	Now func() time.Time
	// BallotRate and BallotBurst pace one voter's HTTP ballots like a
	// socket's messages (defaults 10 per second, burst 30).
	BallotRate  float64
	BallotBurst int
}

// API serves the HTTP API.
type API struct {
	service *voting.Service
	hub     *hub.Hub
	access  *access.Guard
	creds   *access.Credentials
	log     *slog.Logger
	now     func() time.Time
	// httpBallots paces HTTP ballots per voter: each replaced ballot stays
	// in the audit log.
	httpBallots *access.Limiter
}

// New returns the API of cfg.
func New(cfg Config) (*API, error) {
	if cfg.Service == nil || cfg.Hub == nil || cfg.Access == nil {
		return nil, errors.New("api: Service, Hub and Access are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BallotRate <= 0 {
		cfg.BallotRate = 10
	}
	if cfg.BallotBurst <= 0 {
		cfg.BallotBurst = 30
	}
	return &API{
		service: cfg.Service, hub: cfg.Hub, access: cfg.Access, creds: cfg.Access.Credentials(),
		log: cfg.Logger, now: cfg.Now,
		httpBallots: access.NewLimiter(rate.Limit(cfg.BallotRate), cfg.BallotBurst),
	}, nil
}

// Routes registers the HTTP API on mux.
func (a *API) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events", a.host(a.listEvents))
	mux.HandleFunc("POST /api/events", a.host(a.createEvent))
	mux.HandleFunc("GET /api/events/{event}", a.getEvent)
	mux.HandleFunc("PUT /api/events/{event}", a.host(a.updateEvent))
	mux.HandleFunc("DELETE /api/events/{event}", a.host(a.deleteEvent))
	mux.HandleFunc("GET /api/events/{event}/stage", a.getStage)
	mux.HandleFunc("POST /api/events/{event}/stage", a.host(a.command))
	mux.HandleFunc("GET /api/events/{event}/standings", a.host(a.getStandings))
	mux.HandleFunc("POST /api/events/{event}/contestants/{contestant}/reset", a.host(a.resetContestant))
	mux.HandleFunc("POST /api/voter", a.issueVoter)
	mux.HandleFunc("GET /api/events/{event}/hall-code", a.getHallCode)
	mux.HandleFunc("POST /api/events/{event}/ballots", a.postBallot)
	mux.HandleFunc("GET /api/events/{event}/ballots", a.voter(a.getVoterBallots))
	a.resultsRoutes(mux)   // results, exports, clone, publish: results.go
	a.integrityRoutes(mux) // tickets, audit log, host key: tickets.go
	a.presentRoutes(mux)   // the leader's comment: present.go
	a.seriesRoutes(mux)    // series and the season table: series.go
	a.seatRoutes(mux)      // judges' seats and 亮分: seats.go
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		access.WriteError(w, voting.Errorf(voting.CodeNotFound, "no such API endpoint: %s %s", r.Method, voting.Excerpt(r.URL.Path, 80)))
	})
}

// Body limits: an event with 500 contestants fits in well under 1 MiB; a
// ballot in well under 4 KiB.
const (
	maxHostBody   = 1 << 20
	maxBallotBody = 4 << 10
)

// host wraps a handler that needs the host key.
func (a *API) host(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.access.AuthHost(r); err != nil {
			access.WriteError(w, err)
			return
		}
		next(w, r)
	}
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request) {
	evs, err := a.service.Events(r.Context())
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (a *API) createEvent(w http.ResponseWriter, r *http.Request) {
	var ev voting.Event
	if err := decodeBody(w, r, maxHostBody, &ev); err != nil {
		access.WriteError(w, err)
		return
	}
	created, err := a.service.CreateEvent(r.Context(), ev)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusCreated, created)
}

// getEvent returns the public event; with the host key, the whole event.
func (a *API) getEvent(w http.ResponseWriter, r *http.Request) {
	ev, err := a.service.Event(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	if !a.access.IsHost(r) {
		ev = ev.Public()
	}
	access.WriteJSON(w, http.StatusOK, ev)
}

func (a *API) updateEvent(w http.ResponseWriter, r *http.Request) {
	var ev voting.Event
	if err := decodeBody(w, r, maxHostBody, &ev); err != nil {
		access.WriteError(w, err)
		return
	}
	id := r.PathValue("event")
	if ev.ID == "" {
		ev.ID = id
	}
	if ev.ID != id {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, "the event id in the body (%q) differs from the URL", voting.Excerpt(ev.ID, 40)))
		return
	}
	updated, err := a.service.UpdateEvent(r.Context(), ev)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	pub := updated.Public()
	a.hub.Publish(r.Context(), id, hub.Envelope{Kind: hub.KindEvent, Event: &pub})
	a.hub.MarkDirty(id) // contestant names or order may have changed
	access.WriteJSON(w, http.StatusOK, updated)
}

func (a *API) deleteEvent(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("event")
	if r.URL.Query().Get("confirm") != id {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, "to delete, confirm with the event id: ?confirm=%s", id))
		return
	}
	if err := a.service.DeleteEvent(r.Context(), id); err != nil {
		access.WriteError(w, err)
		return
	}
	a.hub.Publish(r.Context(), id, hub.Envelope{Kind: hub.KindDeleted})
	access.WriteJSON(w, http.StatusOK, map[string]any{"deleted": id})
}

func (a *API) getStage(w http.ResponseWriter, r *http.Request) {
	st, err := a.service.Stage(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, st)
}

// command applies a host command and broadcasts the new stage.
func (a *API) command(w http.ResponseWriter, r *http.Request) {
	var cmd voting.Command
	if err := decodeBody(w, r, maxHostBody, &cmd); err != nil {
		access.WriteError(w, err)
		return
	}
	id := r.PathValue("event")
	st, err := a.service.Command(r.Context(), id, cmd)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	a.hub.Publish(r.Context(), id, hub.Envelope{Kind: hub.KindStage, Stage: &st})
	access.WriteJSON(w, http.StatusOK, st)
}

func (a *API) getStandings(w http.ResponseWriter, r *http.Request) {
	sd, err := a.service.Standings(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, sd)
}

func (a *API) resetContestant(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Confirm string `json:"confirm"`
	}
	if err := decodeBody(w, r, maxHostBody, &body); err != nil {
		access.WriteError(w, err)
		return
	}
	id, contestant := r.PathValue("event"), r.PathValue("contestant")
	n, err := a.service.ResetContestant(r.Context(), id, contestant, body.Confirm)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	a.hub.Publish(r.Context(), id, hub.Envelope{Kind: hub.KindReset, Contestant: contestant})
	a.hub.MarkDirty(id)
	access.WriteJSON(w, http.StatusOK, map[string]any{"contestant": contestant, "removed": n})
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

func (a *API) postBallot(w http.ResponseWriter, r *http.Request) {
	var req BallotRequest
	if err := decodeBody(w, r, maxBallotBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	id := r.PathValue("event")
	ev, err := a.service.Event(r.Context(), id)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	if req.Panel == "" {
		req.Panel = ev.Panels[0].ID
	}
	voter, _, ok := a.creds.FromRequest(r, &ev, req.Panel)
	if !ok && req.Credential != "" {
		var s access.Scope
		voter, s, ok = a.creds.Check(req.Credential)
		ok = ok && s.Admits(&ev, req.Panel)
	}
	if !ok {
		access.WriteError(w, access.NoCredential(&ev))
		return
	}
	// One voter's ballots over HTTP are paced like a socket's messages:
	// each replaced ballot stays in the audit log.
	if !a.httpBallots.Allow(voter) {
		access.WriteTooMany(w, "too many ballots from this phone; try again in a moment")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	rec, err := a.hub.Cast(ctx, req.CastRequest(id, voter))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, rec)
}

// voter wraps a handler that needs a voter credential for the request's
// event (cookie or header) and passes it the voter.
func (a *API) voter(next func(w http.ResponseWriter, r *http.Request, voter string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ev, err := a.service.Event(r.Context(), r.PathValue("event"))
		if err != nil {
			access.WriteError(w, err)
			return
		}
		voter, _, ok := a.creds.FromRequest(r, &ev, "")
		if !ok {
			access.WriteError(w, access.NoCredential(&ev))
			return
		}
		next(w, r, voter)
	}
}

func (a *API) getVoterBallots(w http.ResponseWriter, r *http.Request, voter string) {
	bs, err := a.service.VoterBallots(r.Context(), r.PathValue("event"), voter)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"ballots": bs})
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
		return voting.Errorf(voting.CodeInvalid, "malformed JSON: %s", hub.JSONProblem(err))
	}
	if dec.More() {
		return voting.Errorf(voting.CodeInvalid, "malformed JSON: one object expected")
	}
	return nil
}
