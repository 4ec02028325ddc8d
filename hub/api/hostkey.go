package api

import (
	"net/http"

	"leitai/hub/access"
)

// RotateRequest is the body of POST /api/host-key.
type RotateRequest struct {
	// Key is the new key; empty asks the server to make one.
	Key string `json:"key,omitempty"`
}

// rotateHostKey answers POST /api/host-key: the new key replaces the one
// the request was authorised with, on every instance; host connections
// opened with the old key are closed.
func (a *API) rotateHostKey(w http.ResponseWriter, r *http.Request) {
	// The key first: nobody without it gets to send a body.
	presented, err := a.access.AuthHost(r)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	var req RotateRequest
	if err := decodeBody(w, r, maxBallotBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	next := req.Key
	if next == "" {
		next = access.NewHostKey()
	}
	if err := a.access.RotateHostKey(r.Context(), presented, next); err != nil {
		access.WriteError(w, err)
		return
	}
	a.log.Info("host key rotated; host connections with the old key are closed")
	a.hub.CloseStaleHosts()
	access.WriteJSON(w, http.StatusOK, map[string]string{"key": next})
}
