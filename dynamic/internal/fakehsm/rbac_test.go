// This file tests local RBAC through the real azadmin rbac client: role assignments at every scope, the
// built-in role definitions, what each role may do with keys, and the simulated Entra ID and RBAC delays.

package fakehsm_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

// grant is the body of a role assignment PUT.
func grant(principal, role string) rbac.RoleAssignmentCreateParameters {
	return rbac.RoleAssignmentCreateParameters{Properties: &rbac.RoleAssignmentProperties{
		PrincipalID: to.Ptr(principal), RoleDefinitionID: to.Ptr(fakehsm.RoleDefinitionID(role))}}
}

// assignmentName returns the n-th GUID-shaped assignment name of a test.
func assignmentName(n int) string { return fmt.Sprintf("%08d-0000-4000-8000-00000000000a", n) }

// listAssignments returns the names of the assignments the list at scope answers.
func listAssignments(t *testing.T, c *rbac.Client, scope rbac.RoleScope, filter string) []string {
	t.Helper()
	var opts *rbac.ListRoleAssignmentsOptions
	if filter != "" {
		opts = &rbac.ListRoleAssignmentsOptions{Filter: to.Ptr(filter)}
	}
	var names []string
	pager := c.NewListRoleAssignmentsPager(scope, opts)
	for pager.More() {
		page, err := pager.NextPage(testCtx(t))
		require.NoError(t, err)
		for _, a := range page.Value {
			names = append(names, *a.Name)
		}
	}
	return names
}

func TestRoleAssignmentsAtEveryScope(t *testing.T) {
	fake := newActive(t)
	c := rbacClient(t, fake, admin)
	ctx := testCtx(t)
	adminAssignment := fake.RoleAssignments()[0].Name
	scopes := []rbac.RoleScope{rbac.RoleScopeGlobal, rbac.RoleScopeKeys, "/keys/cmk"}

	for i, scope := range scopes {
		name := assignmentName(i + 1)
		created, err := c.CreateRoleAssignment(ctx, scope, name, grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
		require.NoError(t, err, "creating at %s", scope)
		assert.Equal(t, name, *created.Name)
		assert.Equal(t, scope, *created.Properties.Scope)
		assert.Equal(t, cryptoUser, *created.Properties.PrincipalID)
		assert.Equal(t, fakehsm.RoleDefinitionID(fakehsm.RoleCryptoUser), *created.Properties.RoleDefinitionID)

		got, err := c.GetRoleAssignment(ctx, scope, name, nil)
		require.NoError(t, err)
		assert.Equal(t, *created.ID, *got.ID)
	}

	// A list answers the assignments at, above and below its scope; atScope() only those at it.
	assert.ElementsMatch(t, []string{adminAssignment, assignmentName(1), assignmentName(2), assignmentName(3)},
		listAssignments(t, c, rbac.RoleScopeGlobal, ""))
	assert.ElementsMatch(t, []string{adminAssignment, assignmentName(1), assignmentName(2), assignmentName(3)},
		listAssignments(t, c, "/keys/cmk", ""))
	assert.ElementsMatch(t, []string{adminAssignment, assignmentName(1), assignmentName(2)},
		listAssignments(t, c, "/keys/other", ""))
	assert.ElementsMatch(t, []string{assignmentName(2)}, listAssignments(t, c, rbac.RoleScopeKeys, "atScope()"))
	assert.ElementsMatch(t, []string{assignmentName(1), assignmentName(2), assignmentName(3)},
		listAssignments(t, c, rbac.RoleScopeGlobal, fmt.Sprintf("principalId eq '%s'", cryptoUser)))

	for i, scope := range scopes {
		deleted, err := c.DeleteRoleAssignment(ctx, scope, assignmentName(i+1), nil)
		require.NoError(t, err)
		assert.Equal(t, assignmentName(i+1), *deleted.Name)
		_, err = c.GetRoleAssignment(ctx, scope, assignmentName(i+1), nil)
		serviceError(t, err, http.StatusNotFound, fakehsm.CodeRoleAssignmentNotFound)
	}
	require.Len(t, fake.RoleAssignments(), 1)
	assert.Equal(t, admin, fake.RoleAssignments()[0].PrincipalID)
	_, err := c.DeleteRoleAssignment(ctx, rbac.RoleScopeGlobal, assignmentName(1), nil)
	serviceError(t, err, http.StatusNotFound, fakehsm.CodeRoleAssignmentNotFound)
}

func TestRoleDefinitions(t *testing.T) {
	fake := newActive(t)
	c := rbacClient(t, fake, admin)
	ctx := testCtx(t)

	byName := map[string]*rbac.RoleDefinition{}
	pager := c.NewListRoleDefinitionsPager(rbac.RoleScopeGlobal, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, d := range page.Value {
			byName[*d.Name] = d
		}
	}
	for _, guid := range []string{fakehsm.RoleAdministrator, fakehsm.RoleCryptoOfficer, fakehsm.RoleCryptoUser,
		fakehsm.RolePolicyAdministrator, fakehsm.RoleCryptoServiceEncryptionUser} {
		require.Contains(t, byName, guid)
		assert.Equal(t, fakehsm.RoleDefinitionID(guid), *byName[guid].ID)
	}

	user, err := c.GetRoleDefinition(ctx, rbac.RoleScopeGlobal, fakehsm.RoleCryptoUser, nil)
	require.NoError(t, err)
	assert.Equal(t, "Managed HSM Crypto User", *user.Properties.RoleName)
	assert.Equal(t, rbac.RoleTypeBuiltInRole, *user.Properties.RoleType)
	require.Len(t, user.Properties.Permissions, 1)
	var actions []rbac.DataAction
	for _, a := range user.Properties.Permissions[0].DataActions {
		actions = append(actions, *a)
	}
	assert.Contains(t, actions, rbac.DataActionEncryptHsmKey)
	assert.Contains(t, actions, rbac.DataActionCreateHsmKey)
	assert.NotContains(t, actions, rbac.DataActionPurgeDeletedHsmKey, "purge is Crypto Officer's")

	_, err = c.GetRoleDefinition(ctx, rbac.RoleScopeGlobal, "00000000-0000-4000-8000-000000000000", nil)
	serviceError(t, err, http.StatusNotFound, fakehsm.CodeRoleDefinitionNotFound)
}

// TestRolesDecideKeyAccess follows the built-in roles as Microsoft documents them: Crypto User uses and
// creates keys; Crypto Officer manages roles and deleted keys but creates no keys; Administrator touches no
// keys; Crypto Service Encryption User only reads, wraps and unwraps.
func TestRolesDecideKeyAccess(t *testing.T) {
	fake := newActive(t)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	fake.Assign(cryptoOfficer, fakehsm.RoleCryptoOfficer, "/")
	fake.Assign(serviceUser, fakehsm.RoleCryptoServiceEncryptionUser, "/keys/cmk")
	ctx := testCtx(t)
	user := keysClient(t, fake, cryptoUser)
	oaep := azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256),
		Value: []byte("secret")}

	_, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err, "Crypto User creates keys")
	_, err = user.Encrypt(ctx, "cmk", "", oaep, nil)
	require.NoError(t, err, "Crypto User encrypts")
	_, err = user.CreateKey(ctx, "other", rsaKey(), nil)
	require.NoError(t, err)

	for _, principal := range []string{stranger, admin, cryptoOfficer, serviceUser} {
		_, err := keysClient(t, fake, principal).CreateKey(ctx, "denied", rsaKey(), nil)
		body := serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
		assert.Contains(t, body, "Not authorized to access Microsoft.KeyVault/managedHsm/keys/create on /keys",
			"principal %s", principal)
	}
	_, err = keysClient(t, fake, stranger).GetKey(ctx, "cmk", "", nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
	_, err = keysClient(t, fake, admin).Encrypt(ctx, "cmk", "", oaep, nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)

	service := keysClient(t, fake, serviceUser)
	_, err = service.WrapKey(ctx, "cmk", "", oaep, nil)
	require.NoError(t, err, "the service user wraps with the key it is assigned to")
	_, err = service.Encrypt(ctx, "cmk", "", oaep, nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
	_, err = service.WrapKey(ctx, "other", "", oaep, nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
	assert.Equal(t, []string{"cmk", "other"}, fake.KeyNames(), "no refused create made a key")
}

func TestPrincipalNotFound(t *testing.T) {
	ctx := testCtx(t)

	t.Run("propagation", func(t *testing.T) {
		fake := newActive(t, fakehsm.WithPrincipalPropagation(2, cryptoUser))
		c := rbacClient(t, fake, admin)
		for attempt := 1; attempt <= 2; attempt++ {
			_, err := c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
				grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
			body := serviceError(t, err, http.StatusBadRequest, fakehsm.CodePrincipalNotFound)
			assert.Contains(t, body, "replication delay", "attempt %d", attempt)
			assert.Equal(t, hsm.NotYetPropagated, hsm.Classify(err))
		}
		_, err := c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(2),
			grant(serviceUser, fakehsm.RoleCryptoUser), nil)
		require.NoError(t, err, "other principals are replicated already")
		_, err = c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
			grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
		require.NoError(t, err, "the third attempt finds the principal")
	})

	t.Run("known-principals", func(t *testing.T) {
		fake := newActive(t, fakehsm.WithKnownPrincipals(cryptoUser))
		c := rbacClient(t, fake, admin)
		_, err := c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
			grant(stranger, fakehsm.RoleCryptoUser), nil)
		serviceError(t, err, http.StatusBadRequest, fakehsm.CodePrincipalNotFound)
		_, err = c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(2),
			grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
		require.NoError(t, err)

		fake.AddKnownPrincipals(stranger)
		_, err = c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
			grant(stranger, fakehsm.RoleCryptoUser), nil)
		require.NoError(t, err)
		assert.Len(t, fake.RoleAssignments(), 3)
	})
}

func TestRoleAssignmentDelay(t *testing.T) {
	fake := newActive(t, fakehsm.WithRoleAssignmentDelay(2))
	c := rbacClient(t, fake, admin)
	ctx := testCtx(t)
	_, err := c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
		grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
	require.NoError(t, err)

	user := keysClient(t, fake, cryptoUser)
	for check := 1; check <= 2; check++ {
		_, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
		serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
		assert.Equal(t, hsm.NotYetPropagated, hsm.Classify(err), "check %d", check)
	}
	_, err = user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err, "the assignment takes effect after two denials")
	_, err = user.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)

	// Assign models an assignment made before the test: it is effective at once.
	fake.Assign(cryptoOfficer, fakehsm.RoleCryptoUser, "/keys")
	_, err = keysClient(t, fake, cryptoOfficer).GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)
}

func TestRoleAssignmentPutIsIdempotent(t *testing.T) {
	fake := newActive(t)
	c := rbacClient(t, fake, admin)
	ctx := testCtx(t)
	first, err := c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
		grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
	require.NoError(t, err)

	again, err := c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
		grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
	require.NoError(t, err, "the same grant under the same name is accepted again")
	assert.Equal(t, first.RoleAssignment, again.RoleAssignment)
	assert.Len(t, fake.RoleAssignments(), 2)

	_, err = c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
		grant(cryptoUser, fakehsm.RoleCryptoOfficer), nil)
	serviceError(t, err, http.StatusConflict, fakehsm.CodeRoleAssignmentUpdateNotPermitted)
	_, err = c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
		grant(serviceUser, fakehsm.RoleCryptoUser), nil)
	serviceError(t, err, http.StatusConflict, fakehsm.CodeRoleAssignmentUpdateNotPermitted)
	_, err = c.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(2),
		grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
	serviceError(t, err, http.StatusConflict, fakehsm.CodeRoleAssignmentExists)
	assert.Len(t, fake.RoleAssignments(), 2, "no refused PUT changed the assignments")
	assert.Equal(t, fakehsm.RoleCryptoUser, fake.RoleAssignments()[1].RoleID)
}
