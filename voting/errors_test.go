package voting

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrors(t *testing.T) {
	t.Parallel()
	closed := Errorf(CodeClosed, "voting for %s is closed", "c1")
	if !errors.Is(closed, ErrClosed) || errors.Is(closed, ErrConflict) {
		t.Errorf("errors.Is(closed): sentinel matching is by code")
	}
	wrapped := fmt.Errorf("cast: %w", closed)
	if !errors.Is(wrapped, ErrClosed) || ErrorCode(wrapped) != CodeClosed || ErrorMessage(wrapped) != "voting for c1 is closed" {
		t.Errorf("wrapped: code %q, message %q", ErrorCode(wrapped), ErrorMessage(wrapped))
	}
	if got := closed.Error(); got != "closed: voting for c1 is closed" {
		t.Errorf("Error() = %q", got)
	}

	cause := Wrap(CodeUnavailable, io.ErrUnexpectedEOF, "the store cannot be reached")
	if !errors.Is(cause, ErrUnavailable) || !errors.Is(cause, io.ErrUnexpectedEOF) {
		t.Errorf("Wrap: want both the code and the cause to match")
	}
	if ErrorMessage(cause) != "the store cannot be reached" {
		t.Errorf("ErrorMessage(Wrap) = %q: the cause must not leak", ErrorMessage(cause))
	}

	// ErrStaleRevision is a conflict, but not every conflict is stale.
	if !errors.Is(ErrStaleRevision, ErrConflict) {
		t.Errorf("ErrStaleRevision is not a conflict")
	}
	if errors.Is(Errorf(CodeConflict, "the ballot id was used"), ErrStaleRevision) {
		t.Errorf("a plain conflict matches ErrStaleRevision")
	}
	if !errors.Is(fmt.Errorf("store: %w", ErrStaleRevision), ErrStaleRevision) ||
		!errors.Is(Wrap(CodeConflict, ErrStaleRevision, "event changed"), ErrStaleRevision) {
		t.Errorf("a wrapped ErrStaleRevision does not match")
	}

	if ErrorCode(nil) != "" || ErrorMessage(nil) != "" {
		t.Errorf("nil error: code %q, message %q", ErrorCode(nil), ErrorMessage(nil))
	}
	plain := errors.New("dial tcp 10.0.0.1:6379: secret detail")
	if ErrorCode(plain) != CodeInternal || ErrorMessage(plain) != "internal error" {
		t.Errorf("plain error: code %q, message %q", ErrorCode(plain), ErrorMessage(plain))
	}
	if ErrorMessage(&Error{Code: CodeInternal}) != "internal error" {
		t.Errorf("an *Error without a message must still say something")
	}
}
