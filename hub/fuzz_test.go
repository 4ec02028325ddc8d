package hub_test

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"unicode/utf8"

	"leitai/hub"
	"leitai/voting"
)

// FuzzDecodeClientMessage: whatever a client sends, DecodeClientMessage
// does not panic and returns either a usable message or an invalid
// *voting.Error with a readable message. The seed corpus is in
// testdata/fuzz/FuzzDecodeClientMessage.
func FuzzDecodeClientMessage(f *testing.F) {
	for _, s := range []string{
		`{"type":"ballot","id":"0b6c7a52-3f7e-4a8e-9a55-5c1f4f1e2d01","contestant":"c3","score":88.5}`,
		`{"type":"ballot","id":"5d0c","contestant":"c3","scores":{"measures":90,"results":87.5}}`,
		`{"type":"resync"}`,
		`{"type":"vote"}`,
		`{"type":"ballot","id":"x","contestant":"c1","score":1e400}`,
		`{"type":"resync"} {"type":"resync"}`,
		`{"type":"ballot","unknown":1}`,
		`[]`,
		`null`,
		"\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := hub.DecodeClientMessage(data)
		if err != nil {
			var ve *voting.Error
			if !errors.As(err, &ve) || ve.Code != voting.CodeInvalid {
				t.Fatalf("DecodeClientMessage(%q) = %v, want an invalid *voting.Error", data, err)
			}
			if ve.Message == "" || !utf8.ValidString(ve.Message) || len(ve.Message) > 200 {
				t.Fatalf("DecodeClientMessage(%q): message %q is not a short readable text", data, ve.Message)
			}
			if m.Type != "" || m.ID != "" || m.Score != nil || m.Scores != nil {
				t.Fatalf("DecodeClientMessage(%q) refused but returned %+v", data, m)
			}
			return
		}
		switch m.Type {
		case "resync":
		case "ballot":
			// The content is the service's to check (voting.Event.Check);
			// JSON has no NaN or infinity to let through.
			if m.Score != nil && (math.IsNaN(*m.Score) || math.IsInf(*m.Score, 0)) {
				t.Fatalf("DecodeClientMessage(%q) accepted score %v", data, *m.Score)
			}
			req := m.CastRequest("e", "v", "audience", "k")
			if req.ID != m.ID || req.Contestant != m.Contestant || req.Score != m.Score || len(req.Scores) != len(m.Scores) || req.PanelKey != "k" {
				t.Fatalf("CastRequest() = %+v from %+v", req, m)
			}
		default:
			t.Fatalf("DecodeClientMessage(%q) accepted type %q", data, m.Type)
		}
		// An accepted message survives a round trip unchanged.
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", m, err)
		}
		m2, err := hub.DecodeClientMessage(again)
		if err != nil {
			t.Fatalf("DecodeClientMessage(%s) (re-encoded from %q) = %v", again, data, err)
		}
		if m2.Type != m.Type || m2.ID != m.ID || m2.Contestant != m.Contestant || (m.Score == nil) != (m2.Score == nil) || len(m2.Scores) != len(m.Scores) {
			t.Fatalf("round trip %+v -> %+v", m, m2)
		}
	})
}
