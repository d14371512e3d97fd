// This file tests authentication: the Key Vault challenge a token-less data-plane request gets, the ARM
// refusal, and the token requests the real SDK clients make after following the challenge.

package fakehsm_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

const customTenant = "33333333-3333-4333-8333-333333333333"

// rawGet sends a GET to fake with the given Authorization header ("" for none).
func rawGet(t *testing.T, fake *fakehsm.Server, path, authorization string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(testCtx(t), http.MethodGet, fake.URL()+path, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := fake.Client().Do(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestRequestsWithoutTokenAreChallenged(t *testing.T) {
	fake := newActive(t, fakehsm.WithTenant(customTenant))

	resp, body := rawGet(t, fake, "keys?api-version=7.5", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Equal(t, `Bearer authorization="https://login.microsoftonline.com/`+customTenant+`", `+
		`resource="https://managedhsm.azure.net"`, resp.Header.Get("WWW-Authenticate"))
	assert.Empty(t, body, "the token-less probe gets an empty body")

	resp, body = rawGet(t, fake, "keys?api-version=7.5", "Bearer not-issued-here")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, body, `"code":"Unauthorized"`)

	other := fakehsm.New(t)
	resp, _ = rawGet(t, fake, "keys?api-version=7.5", "Bearer "+other.Token(cryptoUser))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a token is valid only on the server issuing it")
	resp, _ = rawGet(t, fake, "keys?api-version=7.5", "Bearer "+fake.Token(stranger))
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "a valid token gets past authentication")

	resp, body = rawGet(t, fake, fake.ARMID()[1:]+"?api-version=2024-11-01", "")
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.Contains(t, resp.Header.Get("WWW-Authenticate"), customTenant)
	assert.Contains(t, body, `"code":"AuthenticationFailed"`)
	assert.Equal(t, 1, fake.Requests(fakehsm.RouteListKeys, fakehsm.RouteGetManagedHSM),
		"only the request with a valid token is counted")
}

func TestClientsFollowTheChallenge(t *testing.T) {
	fake := newActive(t, fakehsm.WithTenant(customTenant))
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	ctx := testCtx(t)

	pager := keysClient(t, fake, cryptoUser).NewListKeyPropertiesPager(nil)
	_, err := pager.NextPage(ctx)
	require.NoError(t, err)
	roles := rbacClient(t, fake, admin).NewListRoleDefinitionsPager(rbac.RoleScopeGlobal, nil)
	_, err = roles.NextPage(ctx)
	require.NoError(t, err)

	log := fake.RequestLog()
	require.Len(t, log, 4, "each SDK client probes once, then sends its token")
	for i, want := range []struct {
		principal string
		status    int
	}{
		{"", http.StatusUnauthorized}, {cryptoUser, http.StatusOK},
		{"", http.StatusUnauthorized}, {admin, http.StatusOK},
	} {
		assert.Equal(t, want.status, log[i].Status, "request %d", i)
		assert.Equal(t, want.principal, log[i].Principal, "request %d", i)
		assert.Equal(t, want.principal != "", log[i].Authenticated, "request %d", i)
	}

	tokens := fake.TokenRequests()
	require.Len(t, tokens, 2)
	for _, tr := range tokens {
		assert.Equal(t, []string{hsm.DataPlaneScope}, tr.Scopes, "token of %s", tr.Principal)
		assert.Equal(t, customTenant, tr.TenantID, "the tenant comes from the challenge")
	}

	_, err = sdClient(t, fake, admin).DownloadStatus(ctx)
	serviceError(t, err, http.StatusNotFound, fakehsm.CodeNotFound)
	_, err = mgmtClient(fake, admin).Get(ctx, fake.ARMID())
	require.NoError(t, err)
	tokens = fake.TokenRequests()
	require.Len(t, tokens, 4)
	assert.Equal(t, []string{hsm.DataPlaneScope}, tokens[2].Scopes, "our security domain client")
	assert.Equal(t, []string{armScope}, tokens[3].Scopes, "the ARM client")
}
