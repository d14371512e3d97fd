// This file holds the error answers of the fake: the Key Vault / ARM error envelope, the error codes the real
// service uses, and the JSON helpers every handler shares.

package fakehsm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes the fake answers with. Most are the codes the real service sends; see the package report for
// the ones that could not be confirmed against recorded traffic.
const (
	// CodeUnauthorized is the code of a 401 for a missing or unknown bearer token.
	CodeUnauthorized = "Unauthorized"
	// CodeAccessDenied is the code of a 403 for a principal without a role granting the data action.
	CodeAccessDenied = "AccessDenied"
	// CodeForbidden is the code of a 403 for network rules, an inactive HSM, or a disallowed key operation.
	CodeForbidden = "Forbidden"
	// CodeBadParameter is the code of a 400 for a malformed request.
	CodeBadParameter = "BadParameter"
	// CodeConflict is the code of a 409 for a state conflict (deleted key name reuse, repeated activation).
	CodeConflict = "Conflict"
	// CodeKeyNotFound is the code of a 404 for a missing key or deleted key.
	CodeKeyNotFound = "KeyNotFound"
	// CodeRoleAssignmentNotFound is the code of a 404 for a missing role assignment.
	CodeRoleAssignmentNotFound = "RoleAssignmentNotFound"
	// CodeRoleDefinitionNotFound is the code of a 404 for a missing role definition.
	CodeRoleDefinitionNotFound = "RoleDefinitionNotFound"
	// CodeRoleAssignmentExists is the code of a 409 for a second assignment of a role to a principal at a scope.
	CodeRoleAssignmentExists = "RoleAssignmentExists"
	// CodeRoleAssignmentUpdateNotPermitted is the code of a 409 for a PUT changing an existing assignment.
	CodeRoleAssignmentUpdateNotPermitted = "RoleAssignmentUpdateNotPermitted"
	// CodePrincipalNotFound is the code of a 400 for a principal the directory does not (yet) know.
	CodePrincipalNotFound = "PrincipalNotFound"
	// CodeThrottled is the code of an injected 429.
	CodeThrottled = "Throttled"
	// CodeServiceUnavailable is the code of an injected 503.
	CodeServiceUnavailable = "ServiceUnavailable"
	// CodeInternalServerError is the code of an injected 500.
	CodeInternalServerError = "InternalServerError"
	// CodeNotFound is the code of a 404 for a route the fake does not serve.
	CodeNotFound = "NotFound"
	// CodeNotImplemented is the code of a 501 for a real operation the fake does not implement.
	CodeNotImplemented = "NotImplemented"
	// CodeResourceNotFound is the ARM code of a 404 for another resource than the fake's managed HSM.
	CodeResourceNotFound = "ResourceNotFound"
	// CodeAuthenticationFailed is the ARM code of a 401.
	CodeAuthenticationFailed = "AuthenticationFailed"
	// CodeMissingAPIVersion is the code of a 400 for a request without api-version.
	CodeMissingAPIVersion = "MissingApiVersionParameter"
)

// Inner error codes of the Key Vault network rules and key operations.
const (
	// InnerCodeForbiddenByConnection is the inner code when public network access is disabled.
	InnerCodeForbiddenByConnection = "ForbiddenByConnection"
	// InnerCodeForbiddenByFirewall is the inner code when the network ACL default action is Deny.
	InnerCodeForbiddenByFirewall = "ForbiddenByFirewall"
	// InnerCodeKeyOperationForbidden is the inner code when the key's key_ops do not list the operation.
	InnerCodeKeyOperationForbidden = "KeyOperationForbidden"
)

// Messages of the real service reused by the fake.
const (
	// PoolCreationDisabledMessage is the message Azure answers a 503 with when a region has no HSM capacity.
	PoolCreationDisabledMessage = "Pool creation is disabled in this region"
	// PublicNetworkDisabledMessage is the Key Vault message for a public request to a private-only resource.
	PublicNetworkDisabledMessage = "Public network access is disabled and request is not from a trusted service " +
		"nor via an approved private link."
	// FirewallDeniedMessage is the Key Vault message for a request the network ACLs do not allow.
	FirewallDeniedMessage = "Client address is not authorized and caller is not a trusted service."
	// NotActivatedMessage is the fake's message for a key or role call before the security domain download.
	NotActivatedMessage = "The managed HSM is not activated: download its security domain to activate it before " +
		"performing this operation."
)

// serviceError is the error member of the Key Vault and ARM error envelope. The service's inner errors carry
// a code only, hence the omitted empty message.
type serviceError struct {
	Code       string        `json:"code"`
	Message    string        `json:"message,omitempty"`
	InnerError *serviceError `json:"innererror,omitempty"`
}

// errorBody is {"error": {...}}, the body of every error answer.
type errorBody struct {
	Error serviceError `json:"error"`
}

// apiError is an error answer a handler returns; it knows its status and body.
type apiError struct {
	status int
	body   serviceError
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%d %s: %s", e.status, e.body.Code, e.body.Message)
}

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, body: serviceError{Code: code, Message: message}}
}

func badParameter(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, CodeBadParameter, fmt.Sprintf(format, args...))
}

// writeJSON answers status with v encoded as JSON (no HTML escaping, as the service writes it).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, "encoding response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

// writeAPIError answers an error envelope, adding the activity ID to data-plane messages as the HSM does.
func writeAPIError(w http.ResponseWriter, e *apiError, activityID string) {
	body := e.body
	if activityID != "" {
		body.Message = fmt.Sprintf("%s (Activity ID: %s)", body.Message, activityID)
	}
	writeJSON(w, e.status, errorBody{Error: body})
}

// decodeJSON reads a JSON request body into v.
func decodeJSON(r *http.Request, v any) *apiError {
	if r.Body == nil {
		return badParameter("the request body is missing")
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBodyBytes))
	if err := dec.Decode(v); err != nil {
		return badParameter("the request body is not valid JSON: %v", err)
	}
	return nil
}

// maxBodyBytes bounds request bodies; a security domain upload is the largest and stays far below.
const maxBodyBytes = 4 << 20
