package access

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"leitai/voting"
)

// How an error reaches an HTTP client: one table from the domain's error
// codes to HTTP statuses, used by the API and by the socket handshake.

// ErrorBody is the error object of the protocol and the HTTP API.
type ErrorBody struct {
	Code    voting.Code `json:"code"`
	Message string      `json:"message"`
}

// ErrorBodyOf is the error object of err.
func ErrorBodyOf(err error) *ErrorBody {
	return &ErrorBody{Code: voting.ErrorCode(err), Message: voting.ErrorMessage(err)}
}

// HTTPStatus maps an error code to its HTTP status.
func HTTPStatus(code voting.Code) int {
	switch code {
	case voting.CodeInvalid:
		return http.StatusBadRequest
	case voting.CodeNotFound:
		return http.StatusNotFound
	case voting.CodeConflict, voting.CodeClosed, voting.CodeConfirm:
		return http.StatusConflict
	case voting.CodeForbidden, voting.CodeHallCode:
		return http.StatusForbidden
	case voting.CodeUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// WriteError answers with err as {"error": {...}} and its status; the
// refusals of a per-address limit are 429 with Retry-After.
func WriteError(w http.ResponseWriter, err error) {
	if errors.Is(err, ErrHostKeyLimited) || errors.Is(err, errTooManyScreens) {
		w.Header().Set("Retry-After", strconv.Itoa(int(HostKeyFailureEvery.Seconds())))
		WriteJSON(w, http.StatusTooManyRequests, map[string]any{"error": ErrorBodyOf(err)})
		return
	}
	code := voting.ErrorCode(err)
	if code == voting.CodeUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	WriteJSON(w, HTTPStatus(code), map[string]any{"error": ErrorBodyOf(err)})
}

// WriteJSON answers with v as JSON, never cached.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteTooMany answers a request over a per-address limit: 429, with the
// unavailable code so that pages retry.
func WriteTooMany(w http.ResponseWriter, message string) {
	w.Header().Set("Retry-After", "2")
	WriteJSON(w, http.StatusTooManyRequests, map[string]any{"error": &ErrorBody{Code: voting.CodeUnavailable, Message: message}})
}
