package voting

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an Error so that callers (the hub, the HTTP API, the pages)
// can react without parsing messages.
type Code string

// The error codes. They are part of the wire protocol: keep them stable.
const (
	CodeInvalid     Code = "invalid"     // the input is malformed or breaks a rule
	CodeNotFound    Code = "not_found"   // no such event, contestant or panel
	CodeConflict    Code = "conflict"    // a concurrent change won, or the change clashes with what exists
	CodeClosed      Code = "closed"      // voting is not open for that contestant
	CodeForbidden   Code = "forbidden"   // the caller lacks the key or credential
	CodeConfirm     Code = "confirm"     // the action needs the host's confirmation: repeat it with confirm
	CodeHallCode    Code = "hall_code"   // a new phone needs the hall code (现场码) from the big screen's QR code, or it expired
	CodeUnavailable Code = "unavailable" // the store cannot be reached right now; try again
	CodeInternal    Code = "internal"    // a bug or an unexpected failure
)

// Error is the one error type of the domain. Message is written for a person
// (a host or an attendee) and never contains secrets.
type Error struct {
	Code    Code
	Message string
	Err     error // the underlying cause, if any; not shown to users
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code and message that wraps err.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, voting.ErrClosed) matches any closed error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Err == nil && t.Code == e.Code
}

// Sentinels for errors.Is; they match any *Error with the same code.
var (
	ErrInvalid     = &Error{Code: CodeInvalid}
	ErrNotFound    = &Error{Code: CodeNotFound}
	ErrConflict    = &Error{Code: CodeConflict}
	ErrClosed      = &Error{Code: CodeClosed}
	ErrForbidden   = &Error{Code: CodeForbidden}
	ErrConfirm     = &Error{Code: CodeConfirm}
	ErrHallCode    = &Error{Code: CodeHallCode}
	ErrUnavailable = &Error{Code: CodeUnavailable}
	ErrInternal    = &Error{Code: CodeInternal}
)

// ErrorCode returns the code of err, CodeInternal for errors that are not an
// *Error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorMessage returns the person-readable message of err. Errors that are not
// an *Error get a generic message so that internals never leak to users.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return "internal error"
}

// Excerpt is at most n runes of s, as valid UTF-8, with "…" when cut: how
// input from a client (which may be anything, and long) is quoted in a
// message.
func Excerpt(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	for i := range s {
		if n == 0 {
			return s[:i] + "…"
		}
		n--
	}
	return s
}
