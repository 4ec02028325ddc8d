package hub

import (
	"net/http"

	"leitai/voting"
)

// presentRoutes registers what the host records about a presentation:
// the leader's comment (区领导点评) on a contestant.
func (h *Hub) presentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("PUT /api/events/{event}/contestants/{contestant}/comment", h.host(h.putComment))
}

// CommentRequest is the body of PUT /api/events/{event}/contestants/{contestant}/comment.
type CommentRequest struct {
	Comment *string `json:"comment"`
}

// putComment records (or, with "", removes) the leader's comment on a
// contestant. It works after the event has ended, as publishing does.
func (h *Hub) putComment(w http.ResponseWriter, r *http.Request) {
	var req CommentRequest
	if err := decodeBody(w, r, maxHostBody, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Comment == nil {
		writeError(w, voting.Errorf(voting.CodeInvalid, `give the comment: {"comment": "…"} ("" removes it)`))
		return
	}
	id := r.PathValue("event")
	updated, err := h.service.SetComment(r.Context(), id, r.PathValue("contestant"), *req.Comment)
	if err != nil {
		writeError(w, err)
		return
	}
	// Other instances drop their cached copy; clients get the public copy,
	// which has no comments.
	pub := updated.Public()
	h.publish(r.Context(), id, Envelope{Kind: KindEvent, Event: &pub})
	writeJSON(w, http.StatusOK, updated)
}
