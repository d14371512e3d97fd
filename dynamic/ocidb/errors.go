// This file holds the error classes of OCI's answers: the short APIError that replaces the SDK's long service
// error text, the key-switch limit that must never be retried, the 409 of a busy database, and the transient
// answers the retry policy repeats.
package ocidb

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/oracle/oci-go-sdk/v65/common"
)

// ErrKeySwitchLimit is wrapped by the error of a key switch that OCI refused because the database changed its
// key too often: field reports give at most 2 switches per database in 24 hours. It is never retried.
var ErrKeySwitchLimit = errors.New("the database has reached OCI's limit of encryption key switches")

// APIError is an error answer of OCI, reduced to what helps a reader: status, code, message and request ID.
// It wraps the SDK's error.
type APIError struct {
	Status    int
	Code      string
	Message   string
	RequestID string
	err       error
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("OCI answered %d %s: %s", e.Status, e.Code, e.Message)
	if e.RequestID != "" {
		msg += " (opc-request-id " + e.RequestID + ")"
	}
	return msg
}

func (e *APIError) Unwrap() error { return e.err }

// StatusOf returns the HTTP status of an OCI error answer in err's chain, 0 when there is none.
func StatusOf(err error) int {
	var se common.ServiceError
	if errors.As(err, &se) {
		return se.GetHTTPStatusCode()
	}
	return 0
}

// IsNotFound reports whether OCI answered 404: the database does not exist or the caller may not see it.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// explain turns an SDK service error into an APIError, and a key-switch limit into ErrKeySwitchLimit with what
// to do. Other errors pass unchanged.
func explain(err error) error {
	var se common.ServiceError
	if !errors.As(err, &se) {
		return err
	}
	ae := &APIError{Status: se.GetHTTPStatusCode(), Code: se.GetCode(), Message: se.GetMessage(),
		RequestID: se.GetOpcRequestID(), err: err}
	if isKeySwitchLimit(se) {
		return fmt.Errorf("%w (field reports: 2 per database in 24 hours); nothing was changed: run again once "+
			"the day has passed: %w", ErrKeySwitchLimit, ae)
	}
	if ae.Status == http.StatusUnauthorized {
		return fmt.Errorf("OCI refused the request signature: check the user, fingerprint and private key of "+
			"the OCI configuration, and the clock of this host: %w", ae)
	}
	return ae
}

// isKeySwitchLimit recognises OCI's refusal of one more key switch. No code is documented for it; the answers
// seen are 429 or 409 whose message speaks of the key and of a limit over a day, which a throttling 429
// ("User-rate limit exceeded") or a busy database's 409 never does.
func isKeySwitchLimit(se common.ServiceError) bool {
	switch se.GetHTTPStatusCode() {
	case http.StatusTooManyRequests, http.StatusConflict, http.StatusBadRequest:
	default:
		return false
	}
	msg := strings.ToLower(se.GetMessage())
	if !strings.Contains(msg, "key") {
		return false
	}
	for _, s := range []string{"24 hours", "per day", "a day", "maximum", "limit", "too many"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// isBusy reports whether OCI refused a change because the database is in the middle of another one
// (409 IncorrectState), which is worth sending again once the database is AVAILABLE.
func isBusy(err error) bool {
	var se common.ServiceError
	return errors.As(err, &se) && se.GetHTTPStatusCode() == http.StatusConflict && se.GetCode() == "IncorrectState" &&
		!isKeySwitchLimit(se)
}

// transient reports whether an answer is worth another attempt of a read: throttling (but never the
// key-switch limit), a server error other than 501, or a network failure.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var se common.ServiceError
	if errors.As(err, &se) {
		status := se.GetHTTPStatusCode()
		switch status {
		case http.StatusTooManyRequests:
			return !isKeySwitchLimit(se)
		case http.StatusNotImplemented:
			return false
		}
		return status >= 500 && status < 600
	}
	return common.IsNetworkError(err)
}

// unanswered reports whether a change may have been applied although its answer was an error: a server error
// other than 503 (which says the request was not served) or a network failure. Such a change is not sent again
// blindly: the database is read first, since a key switch made twice costs one of the day's few.
func unanswered(err error) bool {
	return transient(err) && StatusOf(err) != http.StatusTooManyRequests &&
		StatusOf(err) != http.StatusServiceUnavailable
}

// describe names a failed attempt in a status line: "429 TooManyRequests", or the error for network failures.
func describe(err error) string {
	var se common.ServiceError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d %s", se.GetHTTPStatusCode(), se.GetCode())
	}
	return err.Error()
}
