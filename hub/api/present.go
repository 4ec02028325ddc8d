package api

import (
	"net/http"

	"leitai/hub"
	"leitai/hub/access"
	"leitai/voting"
)

// presentRoutes registers what the host records about a presentation:
// the leader's comment (区领导点评) on a contestant.
func (a *API) presentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /api/events/{event}/contestants/{contestant}/comment", a.host(a.putComment))
}

// CommentRequest is the body of PUT /api/events/{event}/contestants/{contestant}/comment.
type CommentRequest struct {
	Comment *string `json:"comment"`
}

// putComment records (or, with "", removes) the leader's comment on a
// contestant. It works after the event has ended, as publishing does.
func (a *API) putComment(w http.ResponseWriter, r *http.Request) {
	var req CommentRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	if req.Comment == nil {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, `give the comment: {"comment": "…"} ("" removes it)`))
		return
	}
	id := r.PathValue("event")
	updated, err := a.service.SetComment(r.Context(), id, r.PathValue("contestant"), *req.Comment)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	// Other instances drop their cached copy; clients get the public copy,
	// which has no comments.
	pub := updated.Public()
	a.hub.Publish(r.Context(), id, hub.Envelope{Kind: hub.KindEvent, Event: &pub})
	access.WriteJSON(w, http.StatusOK, updated)
}
