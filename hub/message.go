package hub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"leitai/hub/access"
	"leitai/voting"
)

// Role is what a WebSocket client is: it decides which frames it gets.
type Role string

const (
	RoleVoter  Role = "voter"
	RoleScreen Role = "screen"
	RoleHost   Role = "host"
)

// audience is who a client of the role is to the rule of what the
// standings show (voting.ViewOf).
func (r Role) audience() voting.Audience {
	switch r {
	case RoleVoter:
		return voting.AudiencePhone
	case RoleScreen:
		return voting.AudienceScreen
	}
	return voting.AudienceHost
}

// Turnout is how many voters are connected and how many have voted for the
// contestant on stage.
type Turnout struct {
	Voters     int    `json:"voters"`
	Contestant string `json:"contestant,omitempty"`
	Voted      int    `json:"voted"`
}

// Outgoing frames. Each has "type" and, for event messages, "seq".
type (
	snapshotFrame struct {
		Type      string                  `json:"type"` // "snapshot"
		Seq       int64                   `json:"seq"`
		Role      Role                    `json:"role"`
		Now       int64                   `json:"now"`
		Event     voting.Event            `json:"event"`
		Stage     voting.Stage            `json:"stage"`
		Standings *voting.Standings       `json:"standings,omitempty"`
		Ranking   []voting.RankingRow     `json:"ranking,omitzero"` // nil: not for the audience now; empty: nobody ranked yet
		Turnout   Turnout                 `json:"turnout"`
		Ballots   *[]voting.CountedBallot `json:"ballots,omitempty"`
		Voter     string                  `json:"voter,omitempty"`
		Panel     string                  `json:"panel,omitempty"`
	}
	stageFrame struct {
		Type  string       `json:"type"` // "stage"
		Seq   int64        `json:"seq"`
		Now   int64        `json:"now"`
		Stage voting.Stage `json:"stage"`
	}
	eventFrame struct {
		Type  string       `json:"type"` // "event"
		Seq   int64        `json:"seq"`
		Event voting.Event `json:"event"`
	}
	standingsFrame struct {
		Type      string              `json:"type"` // "standings"
		Seq       int64               `json:"seq"`
		Turnout   Turnout             `json:"turnout"`
		Standings *voting.Standings   `json:"standings,omitempty"`
		Ranking   []voting.RankingRow `json:"ranking,omitzero"` // as in snapshotFrame
	}
	resetFrame struct {
		Type       string `json:"type"` // "reset"
		Seq        int64  `json:"seq"`
		Contestant string `json:"contestant"`
	}
	deletedFrame struct {
		Type string `json:"type"` // "deleted"
		Seq  int64  `json:"seq"`
	}
	ackFrame struct {
		Type    string            `json:"type"` // "ack"
		ID      string            `json:"id"`
		OK      bool              `json:"ok"`
		Receipt *voting.Receipt   `json:"receipt,omitempty"`
		Error   *access.ErrorBody `json:"error,omitempty"`
	}
	errorFrame struct {
		Type  string            `json:"type"` // "error"
		Error *access.ErrorBody `json:"error"`
	}
)

// Incoming frames from clients.

// ClientMessage is any message a client sends. Type selects the fields that
// matter: "ballot" (ID, Contestant, Score or Scores) or "resync".
type ClientMessage struct {
	Type       string             `json:"type"`
	ID         string             `json:"id,omitempty"`
	Contestant string             `json:"contestant,omitempty"`
	Score      *float64           `json:"score,omitempty"`
	Scores     map[string]float64 `json:"scores,omitempty"`
}

// DecodeClientMessage parses one frame from a client. It refuses unknown
// fields, trailing data and unknown types, with a message a person can read.
func DecodeClientMessage(data []byte) (ClientMessage, error) {
	var m ClientMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return ClientMessage{}, voting.Errorf(voting.CodeInvalid, "malformed message: %s", JSONProblem(err))
	}
	if dec.More() {
		return ClientMessage{}, voting.Errorf(voting.CodeInvalid, "malformed message: one JSON object per frame")
	}
	switch m.Type {
	case "ballot", "resync":
		// A ballot's content is checked by voting.Service.Cast, the same
		// for this message and the HTTP ballot endpoint.
	case "":
		return ClientMessage{}, voting.Errorf(voting.CodeInvalid, "message has no type")
	default:
		return ClientMessage{}, voting.Errorf(voting.CodeInvalid, "unknown message type %q", voting.Excerpt(m.Type, 30))
	}
	return m, nil
}

// JSONProblem says what is wrong with a JSON body or frame, for a person:
// where it stops being JSON, or which field is unknown or of the wrong type.
func JSONProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("not valid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return "expected a JSON object"
		}
		return fmt.Sprintf("field %q has the wrong type", voting.Excerpt(te.Field, 40))
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		if name, uerr := strconv.Unquote(f); uerr == nil {
			return fmt.Sprintf("unknown field %q", voting.Excerpt(name, 40))
		}
	}
	return voting.Excerpt(msg, 80)
}

// CastRequest turns a ballot message from a voter connection into the
// service's request: the voter, panel and panel key are the connection's.
func (m *ClientMessage) CastRequest(event, voter, panel, panelKey string) voting.CastRequest {
	return voting.CastRequest{ID: m.ID, Event: event, Voter: voter, Contestant: m.Contestant,
		Panel: panel, PanelKey: panelKey, Score: m.Score, Scores: m.Scores}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own frame types are encoded here; failure is a bug.
		panic(fmt.Sprintf("hub: encode %T: %v", v, err))
	}
	return b
}
