package hub

import (
	"crypto/subtle"
	"net/http"

	"leitai/voting"
)

// Judges' seats (评委席) and the 亮分 (spotlight). The host issues one
// ticket per seat, sees which seats have scored, and releases a seat to
// another device; the big screen reads the spotlight once voting has
// closed for the contestant (voting.Service.Spotlight refuses before).
func (h *Hub) seatRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{event}/seats", h.host(h.listSeats))
	mux.HandleFunc("POST /api/events/{event}/seats", h.host(h.issueSeats))
	mux.HandleFunc("POST /api/events/{event}/tickets/{code}/release", h.host(h.releaseTicket))
	mux.HandleFunc("GET /api/events/{event}/spotlight", h.getSpotlight)
}

// SeatsRequest is the body of POST /api/events/{event}/seats.
type SeatsRequest struct {
	Panel string `json:"panel"`
}

func (h *Hub) listSeats(w http.ResponseWriter, r *http.Request) {
	seats, err := h.service.Seats(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	if seats == nil {
		seats = []voting.SeatStatus{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"seats": seats})
}

func (h *Hub) issueSeats(w http.ResponseWriter, r *http.Request) {
	var req SeatsRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		writeError(w, err)
		return
	}
	ts, err := h.service.IssueSeats(r.Context(), r.PathValue("event"), req.Panel)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"tickets": ticketViews(ts)})
}

func (h *Hub) releaseTicket(w http.ResponseWriter, r *http.Request) {
	t, err := h.service.ReleaseTicket(r.Context(), r.PathValue("event"), r.PathValue("code"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ticketView(t))
}

// getSpotlight answers GET /api/events/{event}/spotlight[?contestant=ID]
// for the big screen (screen key) and the host (host key): the seats'
// scores of the stage's spotlighted contestant (or the one named), refused
// with "closed" while voting is open for it.
func (h *Hub) getSpotlight(w http.ResponseWriter, r *http.Request) {
	ev, err := h.service.Event(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	if hostKeyFrom(r) != "" {
		if _, err := h.authHost(r); err != nil {
			writeError(w, err)
			return
		}
	} else if sk := r.Header.Get(ScreenKeyHeader); subtle.ConstantTimeCompare([]byte(sk), []byte(h.cfg.Credentials.ScreenKey(ev.ID))) != 1 {
		writeError(w, errScreenKey)
		return
	}
	sp, err := h.service.Spotlight(r.Context(), ev.ID, r.URL.Query().Get("contestant"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, sp)
}
