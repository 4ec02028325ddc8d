package hub

import (
	"net/http"

	"leitai/hub/access"
	"leitai/voting"
)

// admission is what ServeWS learned about who opens a socket.
type admission struct {
	role  Role
	voter string // voters
	panel string // voters: the panel they vote in
	// key is the panel key a voter presented, or a host's key digest (so
	// that a rotation can close the socket).
	key string
	// release gives back what the socket holds of its address's cap
	// (screens); never nil.
	release func()
}

// admit checks a socket's role and proof. Query: role=voter|screen|host;
// voters bring their credential (cookie, the leitai-cred.<credential>
// subprotocol or the X-Leitai-Credential header) and optionally
// panel=<id>&panelKey=<key> (the key is for their ballots, checked with
// each); hosts bring the key (the leitai-key.<base64url>
// subprotocol or a header). Screens need nothing, but one address may hold
// only MaxScreensPerAddress of them on this instance.
func (h *Hub) admit(r *http.Request, ev *voting.Event) (admission, error) {
	q := r.URL.Query()
	a := admission{role: Role(q.Get("role")), release: func() {}}
	if a.role == "" {
		a.role = RoleVoter
	}
	switch a.role {
	case RoleHost:
		d, err := h.access.AuthHost(r)
		if err != nil {
			return a, err
		}
		a.key = d
	case RoleScreen:
		release, err := h.access.AdmitScreen(r)
		if err != nil {
			return a, err
		}
		a.release = release
	case RoleVoter:
		a.panel, a.key = q.Get("panel"), q.Get("panelKey")
		if a.panel == "" {
			a.panel = ev.Panels[0].ID
		}
		if _, ok := ev.Panel(a.panel); !ok {
			return a, voting.Errorf(voting.CodeNotFound, "no such panel in this event")
		}
		// The panel key is not checked here but with each ballot
		// (voting.Event.Check), where the HTTP fallback meets it too
		// and a key the host changed since the socket opened counts.
		var ok bool
		if a.voter, _, ok = h.access.Credentials().FromRequest(r, ev, a.panel); !ok {
			return a, access.NoCredential(ev)
		}
	default:
		return a, voting.Errorf(voting.CodeInvalid, "role must be voter, screen or host")
	}
	return a, nil
}
