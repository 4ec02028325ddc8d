package api

import (
	"net/http"
	"strconv"

	"leitai/hub/access"
	"leitai/voting"
)

func (a *API) integrityRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/events/{event}/tickets", a.host(a.listTickets))
	mux.HandleFunc("POST /api/events/{event}/tickets", a.host(a.issueTickets))
	mux.HandleFunc("POST /api/events/{event}/tickets/{code}/revoke", a.host(a.revokeTicket))
	mux.HandleFunc("POST /api/events/{event}/tickets/{code}/claim", a.voter(a.claimTicket))
	mux.HandleFunc("GET /api/events/{event}/tickets/mine", a.voter(a.voterTickets))
	mux.HandleFunc("GET /api/events/{event}/audit", a.host(a.getAudit))
	mux.HandleFunc("GET /api/events/{event}/audit/head", a.host(a.getAuditHead))
	mux.HandleFunc("POST /api/host-key", a.rotateHostKey)
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

func (a *API) listTickets(w http.ResponseWriter, r *http.Request) {
	ts, err := a.service.Tickets(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"tickets": ticketViews(ts)})
}

func (a *API) issueTickets(w http.ResponseWriter, r *http.Request) {
	var req IssueRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	ts, err := a.service.IssueTickets(r.Context(), r.PathValue("event"), req.Panel, req.Count)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusCreated, map[string]any{"tickets": ticketViews(ts)})
}

func (a *API) revokeTicket(w http.ResponseWriter, r *http.Request) {
	t, err := a.service.RevokeTicket(r.Context(), r.PathValue("event"), r.PathValue("code"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, ticketView(t))
}

// claimTicket binds a ticket to the phone's voter credential. Claims are
// rate-limited per address like credentials, so codes cannot be guessed
// at speed.
func (a *API) claimTicket(w http.ResponseWriter, r *http.Request, voter string) {
	if !a.creds.AllowClaim(r) {
		access.WriteTooMany(w, "too many tickets tried from this address; try again in a moment")
		return
	}
	t, err := a.service.ClaimTicket(r.Context(), r.PathValue("event"), r.PathValue("code"), voter)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, ticketView(t))
}

func (a *API) voterTickets(w http.ResponseWriter, r *http.Request, voter string) {
	ts, err := a.service.VoterTickets(r.Context(), r.PathValue("event"), voter)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"tickets": ticketViews(ts)})
}

// getAudit answers GET /api/events/{event}/audit?after=N&limit=M with a
// page of the audit log; "more" says whether to ask again from the last
// entry's number.
func (a *API) getAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	after, limit := int64(0), voting.MaxAuditPage
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			access.WriteError(w, voting.Errorf(voting.CodeInvalid, "after must be an entry number"))
			return
		}
		after = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			access.WriteError(w, voting.Errorf(voting.CodeInvalid, "limit must be a positive number"))
			return
		}
		limit = min(n, voting.MaxAuditPage)
	}
	entries, err := a.service.Audit(r.Context(), r.PathValue("event"), after, limit)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"entries": entries, "more": len(entries) == limit})
}

// getAuditHead answers GET /api/events/{event}/audit/head: the head of the
// audit chain (count, hash and "head": N:HASH), which the control page
// shows when voting closes so that it can be noted.
func (a *API) getAuditHead(w http.ResponseWriter, r *http.Request) {
	head, err := a.service.AuditHead(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	access.WriteJSON(w, http.StatusOK, map[string]any{"count": head.Count, "hash": head.Hash, "head": head.String()})
}
