// This file holds authentication: the bearer tokens the server issues per principal, the azcore credential
// handing them out, and the Key Vault challenge and ARM refusal for requests that carry no valid token.

package fakehsm

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// DataPlaneResource is the resource the Managed HSM challenge names; clients ask for "<resource>/.default".
const DataPlaneResource = "https://managedhsm.azure.net"

// tokenLifetime is how long an issued token claims to be valid; the fake never expires tokens.
const tokenLifetime = time.Hour

// TokenRequest is one GetToken call on a Credential: which principal asked, for which scopes and tenant.
// The scopes and tenant are what the client's challenge policy derived from the server's challenge.
type TokenRequest struct {
	Principal string
	Scopes    []string
	TenantID  string
}

// Token returns the bearer token the server accepts as principalID. The same principal always gets the same
// token, and the token is only valid on this server.
func (s *Server) Token(principalID string) string {
	tok := fmt.Sprintf("fakehsm.%s.%s", s.instance, principalID)
	s.mu.Lock()
	s.tokens[tok] = principalID
	s.mu.Unlock()
	return tok
}

// Credential returns an azcore.TokenCredential whose tokens authenticate as principalID on this server.
func (s *Server) Credential(principalID string) azcore.TokenCredential {
	return &credential{srv: s, principal: principalID}
}

// TokenRequests returns the GetToken calls made on this server's credentials, oldest first.
func (s *Server) TokenRequests() []TokenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TokenRequest, len(s.tokenRequests))
	for i, tr := range s.tokenRequests {
		out[i] = TokenRequest{Principal: tr.Principal, Scopes: append([]string(nil), tr.Scopes...),
			TenantID: tr.TenantID}
	}
	return out
}

// credential is the azcore.TokenCredential of one principal.
type credential struct {
	srv       *Server
	principal string
}

// GetToken records the request and issues the principal's token.
func (c *credential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if len(opts.Scopes) == 0 {
		return azcore.AccessToken{}, fmt.Errorf("fakehsm credential for %s: no scopes requested", c.principal)
	}
	c.srv.mu.Lock()
	c.srv.tokenRequests = append(c.srv.tokenRequests, TokenRequest{Principal: c.principal,
		Scopes: append([]string(nil), opts.Scopes...), TenantID: opts.TenantID})
	c.srv.mu.Unlock()
	return azcore.AccessToken{Token: c.srv.Token(c.principal), ExpiresOn: c.srv.now().Add(tokenLifetime)}, nil
}

// authenticate returns the principal of the request's bearer token, or "" and false when there is no valid one.
func (s *Server) authenticate(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.tokens[strings.TrimSpace(tok)]
	return p, ok
}

// challenge answers a data-plane request without a valid token the way Managed HSM does: 401 with the
// challenge the Key Vault SDKs parse for the tenant and the resource to ask a token for.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="https://login.microsoftonline.com/%s", `+
		`resource="%s"`, s.cfg.tenant, DataPlaneResource))
	if r.Header.Get("Authorization") == "" {
		// The real service answers the token-less probe with an empty body.
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: serviceError{Code: CodeUnauthorized,
		Message: "The bearer token is not valid for this managed HSM."}})
}

// refuseARM answers a management-plane request without a valid token as Azure Resource Manager does.
func (s *Server) refuseARM(w http.ResponseWriter, r *http.Request) {
	reason := "The access token is invalid."
	if r.Header.Get("Authorization") == "" {
		reason = "The authentication failed because of missing 'Authorization' header."
	}
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="https://login.microsoftonline.com/%s", `+
		`error="invalid_token", error_description="%s"`, s.cfg.tenant, reason))
	writeJSON(w, http.StatusUnauthorized, errorBody{Error: serviceError{Code: CodeAuthenticationFailed,
		Message: "Authentication failed. " + reason}})
}
