package hub

import (
	"net/http"
	"strconv"

	"leitai/voting"
)

func (h *Hub) integrityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{event}/tickets", h.host(h.listTickets))
	mux.HandleFunc("POST /api/events/{event}/tickets", h.host(h.issueTickets))
	mux.HandleFunc("POST /api/events/{event}/tickets/{code}/revoke", h.host(h.revokeTicket))
	mux.HandleFunc("POST /api/events/{event}/tickets/{code}/claim", h.voter(h.claimTicket))
	mux.HandleFunc("GET /api/events/{event}/tickets/mine", h.voter(h.voterTickets))
	mux.HandleFunc("GET /api/events/{event}/audit", h.host(h.getAudit))
	mux.HandleFunc("GET /api/events/{event}/audit/head", h.host(h.getAuditHead))
	mux.HandleFunc("POST /api/host-key", h.rotateHostKey)
}

// IssueRequest is the body of POST /api/events/{event}/tickets.
type IssueRequest struct {
	Panel string `json:"panel"`
	Count int    `json:"count"`
}

// TicketView is a ticket as the host's pages show it: the voter id (a
// bearer of the phone's identity) is left out; Claimed says it is bound.
type TicketView struct {
	Code    string `json:"code"`
	Panel   string `json:"panel"`
	Issued  int64  `json:"issued"`
	Claimed int64  `json:"claimed,omitempty"`
	Revoked bool   `json:"revoked,omitempty"`
	// Holder is the voter's audit digest, to match with the audit log.
	Holder string `json:"holder,omitempty"`
	// Seat is the judges' seat the ticket is for (1-based; 0: none).
	Seat int `json:"seat,omitempty"`
}

func ticketView(t voting.Ticket) TicketView {
	v := TicketView{Code: t.Code, Panel: t.Panel, Issued: t.Issued, Claimed: t.Claimed, Revoked: t.Revoked, Seat: t.Seat}
	if t.Voter != "" {
		v.Holder = voting.VoterDigest(t.Voter)
	}
	return v
}

func ticketViews(ts []voting.Ticket) []TicketView {
	out := make([]TicketView, len(ts))
	for i, t := range ts {
		out[i] = ticketView(t)
	}
	return out
}

func (h *Hub) listTickets(w http.ResponseWriter, r *http.Request) {
	ts, err := h.service.Tickets(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": ticketViews(ts)})
}

func (h *Hub) issueTickets(w http.ResponseWriter, r *http.Request) {
	var req IssueRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		writeError(w, err)
		return
	}
	ts, err := h.service.IssueTickets(r.Context(), r.PathValue("event"), req.Panel, req.Count)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"tickets": ticketViews(ts)})
}

func (h *Hub) revokeTicket(w http.ResponseWriter, r *http.Request) {
	t, err := h.service.RevokeTicket(r.Context(), r.PathValue("event"), r.PathValue("code"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ticketView(t))
}

// claimTicket binds a ticket to the phone's voter credential. Claims are
// rate-limited per address like credentials, so codes cannot be guessed
// at speed.
func (h *Hub) claimTicket(w http.ResponseWriter, r *http.Request, voter string) {
	if !h.cfg.Credentials.AllowClaim(r) {
		writeTooMany(w, "too many tickets tried from this address; try again in a moment")
		return
	}
	t, err := h.service.ClaimTicket(r.Context(), r.PathValue("event"), r.PathValue("code"), voter)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, ticketView(t))
}

func (h *Hub) voterTickets(w http.ResponseWriter, r *http.Request, voter string) {
	ts, err := h.service.VoterTickets(r.Context(), r.PathValue("event"), voter)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tickets": ticketViews(ts)})
}

// getAudit answers GET /api/events/{event}/audit?after=N&limit=M with a
// page of the audit log; "more" says whether to ask again from the last
// entry's number.
func (h *Hub) getAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := int64(0), voting.MaxAuditPage
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, voting.Errorf(voting.CodeInvalid, "after must be an entry number"))
			return
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, voting.Errorf(voting.CodeInvalid, "limit must be a positive number"))
			return
		}
		limit = min(n, voting.MaxAuditPage)
	}
	entries, err := h.service.Audit(r.Context(), r.PathValue("event"), after, limit)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": entries, "more": len(entries) == limit})
}

// getAuditHead answers GET /api/events/{event}/audit/head: the head of the
// audit chain (count, hash and "head": N:HASH), which the control page
// shows when voting closes so that it can be noted.
func (h *Hub) getAuditHead(w http.ResponseWriter, r *http.Request) {
	head, err := h.service.AuditHead(r.Context(), r.PathValue("event"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"count": head.Count, "hash": head.Hash, "head": head.String()})
}
