package access

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"leitai/voting"
)

// TestWriteErrorRetryAfter: unavailable answers carry Retry-After.
func TestWriteErrorRetryAfter(t *testing.T) {
	t.Parallel()
	for code, retry := range map[voting.Code]string{voting.CodeUnavailable: "1", voting.CodeClosed: "", voting.CodeInternal: ""} {
		w := httptest.NewRecorder()
		WriteError(w, voting.Errorf(code, "x"))
		if got := w.Header().Get("Retry-After"); got != retry {
			t.Errorf("%s: Retry-After %q, want %q", code, got, retry)
		}
		if w.Code != HTTPStatus(code) {
			t.Errorf("%s: status %d", code, w.Code)
		}
	}
	// Errors that are not *voting.Error say nothing of their insides.
	w := httptest.NewRecorder()
	WriteError(w, fmt.Errorf("dial tcp 10.0.0.1:6379: secret detail"))
	if w.Code != 500 || strings.Contains(w.Body.String(), "secret") || !strings.Contains(w.Body.String(), `"code":"internal"`) {
		t.Errorf("internal error answered %d %s", w.Code, w.Body.String())
	}
}
