package api

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"testing"
	"unicode/utf8"

	"leitai/voting"
)

// FuzzDecodeBody: the HTTP API's decoder never panics on any body, and
// either fills the value or returns an invalid *voting.Error with a short,
// valid UTF-8 message. Every host and ballot endpoint reads through it.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range []string{
		`{"action":"next"}`, `{"action":"countdown","seconds":60}`, `{"action":"ranking","visible":false}`,
		`{"id":"0b6c7a52-3f7e-4a8e-9a55-5c1f4f1e2d01","credential":"v1.a.b","contestant":"c1","score":88.5}`,
		`{"id":"e","title":"t","contestants":[{"name":"甲","group":"一组"}],"rules":{"min":60,"max":100,"step":0.5}}`,
		`{"confirm":"c1"}`, `{}`, `[]`, `null`, `{"a":1}{"b":2}`, `{"score":1e400}`, "\xff\xfe", ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []func() any{
			func() any { return new(voting.Event) },
			func() any { return new(voting.Command) },
			func() any { return new(BallotRequest) },
			func() any { return new(struct{ Confirm string }) },
		}
		for _, newTarget := range targets {
			r := httptest.NewRequest("POST", "/api/x", bytes.NewReader(body))
			err := decodeBody(httptest.NewRecorder(), r, maxBallotBody, newTarget())
			if err == nil {
				continue
			}
			var ve *voting.Error
			if !errors.As(err, &ve) || ve.Code != voting.CodeInvalid {
				t.Fatalf("error %v is not an invalid *voting.Error", err)
			}
			if !utf8.ValidString(ve.Message) || len(ve.Message) > 300 {
				t.Fatalf("message %q", ve.Message)
			}
		}
	})
}
