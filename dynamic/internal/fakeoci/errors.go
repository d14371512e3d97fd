// This file holds OCI's error answers: the JSON body {"code", "message"} with the status and the codes OCI
// documents for the cases the fake serves.
package fakeoci

import (
	"encoding/json"
	"net/http"
)

// Error codes OCI documents (https://docs.oracle.com/iaas/Content/API/References/apierrors.htm).
const (
	CodeNotAuthenticated        = "NotAuthenticated"
	CodeNotAuthorizedOrNotFound = "NotAuthorizedOrNotFound"
	CodeNotFound                = "NotFound"
	CodeInvalidParameter        = "InvalidParameter"
	CodeMissingParameter        = "MissingParameter"
	CodeCannotParseRequest      = "CannotParseRequest"
	CodeIncorrectState          = "IncorrectState"
	CodeConflict                = "Conflict"
	CodeTooManyRequests         = "TooManyRequests"
	CodeInternalServerError     = "InternalServerError"
	CodeServiceUnavailable      = "ServiceUnavailable"
)

// apiError is an error answer.
type apiError struct {
	status  int
	code    string
	message string
	headers map[string]string
}

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// writeError writes err as OCI does: JSON body, the status, and any extra headers (a retry hint).
func writeError(w http.ResponseWriter, err *apiError) {
	for k, v := range err.headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(err.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": err.code, "message": err.message})
}

// writeJSON answers 200 with v as the body.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(v)
}
