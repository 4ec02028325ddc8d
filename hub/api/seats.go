package api

import (
	"crypto/subtle"
	"net/http"

	"leitai/hub/access"
	"leitai/voting"
)

// Judges' seats (评委席) and the 亮分 (spotlight). The host issues one
// ticket per seat, sees which seats have scored, and releases a seat to
// another device; the big screen reads the spotlight once voting has
// closed for the contestant (voting.Service.Spotlight refuses before).
func (a *API) seatRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{event}/seats", a.host(a.listSeats))
	mux.HandleFunc("POST /api/events/{event}/seats", a.host(a.issueSeats))
	mux.HandleFunc("POST /api/events/{event}/tickets/{code}/release", a.host(a.releaseTicket))
	mux.HandleFunc("GET /api/events/{event}/spotlight", a.getSpotlight)
}

// SeatsRequest is the body of POST /api/events/{event}/seats.
type SeatsRequest struct {
	Panel string `json:"panel"`
}

func (a *API) listSeats(w http.ResponseWriter, r *http.Request) {
	seats, err := a.service.Seats(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	if seats == nil {
		seats = []voting.SeatStatus{}
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"seats": seats})
}

func (a *API) issueSeats(w http.ResponseWriter, r *http.Request) {
	var req SeatsRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	ts, err := a.service.IssueSeats(r.Context(), r.PathValue("event"), req.Panel)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusCreated, map[string]any{"tickets": ticketViews(ts)})
}

func (a *API) releaseTicket(w http.ResponseWriter, r *http.Request) {
	t, err := a.service.ReleaseTicket(r.Context(), r.PathValue("event"), r.PathValue("code"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, ticketView(t))
}

// getSpotlight answers GET /api/events/{event}/spotlight[?contestant=ID]
// for the big screen (screen key) and the host (host key): the seats'
// scores of the stage's spotlighted contestant (or the one named), refused
// with "closed" while voting is open for it.
func (a *API) getSpotlight(w http.ResponseWriter, r *http.Request) {
	ev, err := a.service.Event(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	if access.HostKeyFrom(r) != "" {
		if _, err := a.access.AuthHost(r); err != nil {
			access.WriteError(w, err)
			return
		}
	} else if sk := r.Header.Get(ScreenKeyHeader); subtle.ConstantTimeCompare([]byte(sk), []byte(a.creds.ScreenKey(ev.ID))) != 1 {
		access.WriteError(w, errScreenKey)
		return
	}
	sp, err := a.service.Spotlight(r.Context(), ev.ID, r.URL.Query().Get("contestant"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, sp)
}
