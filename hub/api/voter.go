package api

import (
	"crypto/subtle"
	"net/http"
	"time"

	"leitai/hub/access"
	"leitai/voting"
)

// Voter credentials (POST /api/voter) and the hall code for the big screen
// (GET /api/events/{event}/hall-code); the rules are hub/access's.

// ScreenKeyHeader carries the screen key of GET /api/events/{event}/hall-code.
const ScreenKeyHeader = "X-Leitai-Screen"

var errScreenKey = voting.Errorf(voting.CodeForbidden, "this screen link lacks its key: open the big screen from the control page")

// VoterRequest is the body of POST /api/voter: the event the phone joins
// and its proof, when it has no credential for the event yet.
type VoterRequest struct {
	Event string `json:"event"`
	// HallCode is the code of the vote link the phone was opened with
	// (?j=…, from the big screen's QR code).
	HallCode string `json:"hallCode,omitempty"`
	// Panel and PanelKey: the panel the phone votes in (default: the
	// first) and its key, from a judge's link.
	Panel    string `json:"panel,omitempty"`
	PanelKey string `json:"panelKey,omitempty"`
	// Ticket says the phone brings a ticket (一人一票): it gets a
	// credential for the panels that take tickets, where the ticket is
	// the proof.
	Ticket bool `json:"ticket,omitempty"`
}

// issueVoter answers POST /api/voter: the caller's credential again when it
// presents one that admits it to the event and panel (cookie or header);
// else, rate-limited per address, a new credential for the event, if the
// request brings a proof: a current hall code, the panel's key, a ticket,
// or none when the event has the hall code off. The credential is set as
// an HttpOnly cookie and returned for the page's copy.
func (a *API) issueVoter(w http.ResponseWriter, r *http.Request) {
	var req VoterRequest
	if err := decodeBody(w, r, maxBallotBody, &req); err != nil {
		access.WriteError(w, err)
		return
	}
	if req.Event == "" {
		access.WriteError(w, voting.Errorf(voting.CodeInvalid, "name the event: {\"event\": \"…\"}"))
		return
	}
	ev, err := a.service.Event(r.Context(), req.Event)
	if err != nil {
		access.WriteError(w, err)
		return
	}
	if req.Panel == "" {
		req.Panel = ev.Panels[0].ID
	}
	p, ok := ev.Panel(req.Panel)
	if !ok {
		access.WriteError(w, voting.Errorf(voting.CodeNotFound, "no such panel in this event"))
		return
	}
	creds := a.creds
	if voter, cred, ok := creds.FromRequest(r, &ev, p.ID); ok {
		creds.SetCookie(w, ev.ID, cred)
		access.WriteJSON(w, http.StatusOK, map[string]string{"voter": voter, "credential": cred})
		return
	}
	addr := a.access.ClientAddress(r)
	if !creds.AllowIssue(addr) {
		a.access.Metrics().CredentialRefused("rate")
		access.WriteTooMany(w, "too many new voters from this address; try again in a moment")
		return
	}
	scope, proof, err := creds.AdmitNew(&ev, p, access.Proof{HallCode: req.HallCode, PanelKey: req.PanelKey, Ticket: req.Ticket})
	if err != nil {
		a.access.Metrics().CredentialRefused(string(voting.ErrorCode(err)))
		access.WriteError(w, err)
		return
	}
	cred, voter := creds.New(scope)
	a.countIssued(addr, proof)
	creds.SetCookie(w, ev.ID, cred)
	access.WriteJSON(w, http.StatusOK, map[string]string{"voter": voter, "credential": cred})
}

// countIssued counts a new credential in /metrics and logs an address that
// reaches the watch threshold within a minute.
func (a *API) countIssued(addr, proof string) {
	if reached, count := a.access.Metrics().CredentialIssued(addr, proof, time.Now()); reached {
		a.log.Warn("many new voter credentials from one address", "addr", addr, "count", count, "within", "1m")
	}
}

// HallCodeInfo is the answer of GET /api/events/{event}/hall-code.
type HallCodeInfo struct {
	// On: the event admits new phones only with the code.
	On bool `json:"on"`
	// Code is the current code; ExpiresIn (ms) how long it is shown;
	// Period (ms) how long each code is shown.
	Code      string `json:"code,omitempty"`
	ExpiresIn int64  `json:"expiresIn,omitempty"`
	Period    int64  `json:"period,omitempty"`
	// ScreenKey (hosts only) goes into the screen link's fragment.
	ScreenKey string `json:"screenKey,omitempty"`
}

// getHallCode answers GET /api/events/{event}/hall-code for the big screen
// (with the screen key) and the host (with the host key): the current
// code, for the QR code. Nobody else reads it: a copied vote link names
// the event, not the screen key.
func (a *API) getHallCode(w http.ResponseWriter, r *http.Request) {
	ev, err := a.service.Event(r.Context(), r.PathValue("event"))
	if err != nil {
		access.WriteError(w, err)
		return
	}
	creds := a.creds
	var info HallCodeInfo
	if access.HostKeyFrom(r) != "" {
		if _, err := a.access.AuthHost(r); err != nil {
			access.WriteError(w, err)
			return
		}
		info.ScreenKey = creds.ScreenKey(ev.ID)
	} else if !ev.NoHallCode {
		sk := r.Header.Get(ScreenKeyHeader)
		if subtle.ConstantTimeCompare([]byte(sk), []byte(creds.ScreenKey(ev.ID))) != 1 {
			access.WriteError(w, errScreenKey)
			return
		}
	}
	if !ev.NoHallCode {
		code, left := creds.CurrentHallCode(ev.ID)
		info = HallCodeInfo{On: true, Code: code, ExpiresIn: max(left.Milliseconds(), 1), Period: creds.HallPeriod().Milliseconds(), ScreenKey: info.ScreenKey}
	}
	access.WriteJSON(w, http.StatusOK, info)
}
