// This file tests each check against its stand-in, with a passing and a failing case (or several, where the
// check must tell causes apart): the fake resolver, sqlmock, the fake HSM and a downloaded security domain.

package verify_test

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/verify"
)

const (
	hsmHost = "hsm-odaa-demo-a1b2c3.managedhsm.azure.net"
	peIP    = "10.0.2.5"
)

func TestCheckDNS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		r      resolver
		status verify.Status
		reason string
	}{
		{"private-answer", resolver{hsmHost: {peIP}}, verify.Pass, "10.0.2.5, the private endpoint"},
		{"public-answer", resolver{hsmHost: {"20.42.1.7"}}, verify.Fail, "not the private endpoint 10.0.2.5"},
		{"no-answer", resolver{}, verify.Fail, "no such host"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := verify.CheckDNS(testCtx(t), tc.r, hsmHost, peIP)
			assert.Equal(t, tc.status, got.Status, got.Reason)
			assert.Contains(t, got.Reason, tc.reason)
			assert.Equal(t, "Test 1", got.Guide)
		})
	}
}

func TestCheckTablespaces(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rows   [][2]string
		status verify.Status
		reason string
	}{
		{"all-encrypted", [][2]string{{"DATA", "YES"}, {"DBFS_DATA", "YES"}}, verify.Pass,
			"all 2 user tablespaces encrypted: DATA, DBFS_DATA"},
		{"one-plain", [][2]string{{"DATA", "YES"}, {"USERS", "NO"}}, verify.Fail, "USERS (ENCRYPTED=NO)"},
		{"none", nil, verify.Fail, "lists no user tablespace"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, mock := mockDB(t)
			rows := sqlmock.NewRows([]string{"TABLESPACE_NAME", "ENCRYPTED"})
			for _, r := range tc.rows {
				rows.AddRow(r[0], r[1])
			}
			mock.ExpectQuery(selectTablespaces).WillReturnRows(rows)
			got := verify.CheckTablespaces(testCtx(t), executor(db), "adbhsmdemo")
			assert.Equal(t, tc.status, got.Status, got.Reason)
			assert.Contains(t, got.Reason, tc.reason)
		})
	}

	t.Run("query-fails", func(t *testing.T) {
		db, mock := mockDB(t)
		mock.ExpectQuery(selectTablespaces).WillReturnError(assert.AnError)
		got := verify.CheckTablespaces(testCtx(t), executor(db), "adbhsmdemo")
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "reading DBA_TABLESPACES")
	})
}

func TestCheckKeystore(t *testing.T) {
	for _, tc := range []struct {
		name, wrl, status string
		want              verify.Status
		reason            string
	}{
		{"key-vault-open", "AZURE_KEY_VAULT", "OPEN", verify.Pass, "WRL_TYPE=AZURE_KEY_VAULT"},
		{"managedhsm-open", "AZURE_MANAGEDHSM", "OPEN", verify.Pass, "STATUS=OPEN"},
		{"closed", "AZURE_KEY_VAULT", "CLOSED", verify.Fail, "STATUS=CLOSED"},
		{"oracle-managed", "FILE", "OPEN", verify.Fail, "WRL_TYPE=FILE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, mock := mockDB(t)
			mock.ExpectQuery(selectWallet).WillReturnRows(sqlmock.NewRows([]string{"WRL_TYPE", "WALLET_TYPE",
				"STATUS"}).AddRow(tc.wrl, "AUTOLOGIN", tc.status))
			got := verify.CheckKeystore(testCtx(t), executor(db), "adbhsmdemo")
			assert.Equal(t, tc.want, got.Status, got.Reason)
			assert.Contains(t, got.Reason, tc.reason)
		})
	}
}

func TestCheckKey(t *testing.T) {
	t.Run("as-configured", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, defaultOps...)
		got := verify.CheckKey(testCtx(t), keysClient(t, fake, operator), spec())
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
		assert.Contains(t, got.Reason, "RSA-HSM 2048 bits")
	})
	t.Run("wrong-size-and-operations", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 4096, "encrypt", "decrypt")
		got := verify.CheckKey(testCtx(t), keysClient(t, fake, operator), spec())
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "size 4096 bits, want 2048")
		assert.Contains(t, got.Reason, "operation wrapKey not allowed")
		assert.Contains(t, got.Reason, "operation unwrapKey not allowed")
	})
	t.Run("missing", func(t *testing.T) {
		fake := newFake(t)
		got := verify.CheckKey(testCtx(t), keysClient(t, fake, operator), spec())
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "KeyNotFound")
	})
}

func TestCheckRotation(t *testing.T) {
	t.Run("opt-in", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, defaultOps...)
		got := verify.CheckRotation(testCtx(t), keysClient(t, fake, operator), spec(), false)
		assert.Equal(t, verify.Skip, got.Status)
		assert.Zero(t, fake.Requests(fakehsm.RouteRotateKey))
	})
	t.Run("new-version", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, defaultOps...)
		c := keysClient(t, fake, operator)
		before, err := c.GetKey(testCtx(t), keyName, "", nil)
		require.NoError(t, err)
		got := verify.CheckRotation(testCtx(t), c, spec(), true)
		require.Equal(t, verify.Pass, got.Status, got.Reason)
		after, err := c.GetKey(testCtx(t), keyName, "", nil)
		require.NoError(t, err)
		assert.NotEqual(t, before.Key.KID.Version(), after.Key.KID.Version())
		assert.Contains(t, got.Reason, "new version "+after.Key.KID.Version())
	})
	t.Run("refused", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, defaultOps...)
		// The service encryption role reads and wraps but may not rotate.
		fake.Assign(principal, fakehsm.RoleCryptoServiceEncryptionUser, "/keys/"+keyName)
		got := verify.CheckRotation(testCtx(t), keysClient(t, fake, principal), spec(), true)
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "rotating")
		assert.Contains(t, got.Reason, fakehsm.CodeAccessDenied)
	})
}

func rbacClient(t *testing.T, fake *fakehsm.Server, who string) *rbac.Client {
	t.Helper()
	c, err := hsm.NewRBACClient(fake.URL(), fake.Credential(who), options(fake))
	require.NoError(t, err)
	return c
}

func TestCheckRoundTrip(t *testing.T) {
	t.Run("granted", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, defaultOps...)
		fake.Assign(principal, fakehsm.RoleCryptoUser, "/keys/"+keyName)
		got := verify.CheckRoundTrip(testCtx(t), keysClient(t, fake, principal), keyName, defaultOps, "sp",
			hsm.Retry{})
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
		assert.Equal(t, 1, fake.Requests(fakehsm.RouteEncrypt))
		assert.Equal(t, 1, fake.Requests(fakehsm.RouteDecrypt))
	})
	t.Run("grant-propagating", func(t *testing.T) {
		fake := newFake(t, fakehsm.WithRoleAssignmentDelay(2))
		createKey(t, fake, 2048, defaultOps...)
		_, err := rbacClient(t, fake, fakehsm.DefaultAdministratorID).CreateRoleAssignment(testCtx(t),
			rbac.RoleScopeKeys, "00000001-0000-4000-8000-00000000000a", rbac.RoleAssignmentCreateParameters{
				Properties: &rbac.RoleAssignmentProperties{PrincipalID: to.Ptr(principal),
					RoleDefinitionID: to.Ptr(fakehsm.RoleDefinitionID(fakehsm.RoleCryptoUser))}}, nil)
		require.NoError(t, err)
		var lines []string
		retry := hsm.Retry{Attempts: 3, Initial: time.Second, Sleep: noSleep,
			Progress: func(msg string) { lines = append(lines, msg) }}
		got := verify.CheckRoundTrip(testCtx(t), keysClient(t, fake, principal), keyName, defaultOps, "sp", retry)
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
		require.Len(t, lines, 2)
		assert.Contains(t, lines[0], "encrypt with "+keyName+" as sp: attempt 1 of 3")
	})
	t.Run("no-role", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, defaultOps...)
		retry := hsm.Retry{Attempts: 3, Sleep: noSleep}
		got := verify.CheckRoundTrip(testCtx(t), keysClient(t, fake, principal), keyName, defaultOps, "sp", retry)
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "still failing after 3 attempts")
	})
	t.Run("key-forbids-encrypt", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, "wrapKey", "unwrapKey")
		fake.Assign(principal, fakehsm.RoleCryptoUser, "/keys/"+keyName)
		got := verify.CheckRoundTrip(testCtx(t), keysClient(t, fake, principal), keyName, defaultOps, "sp",
			hsm.Retry{})
		assert.Equal(t, verify.Fail, got.Status)
	})
	t.Run("wrap-only-key-is-proven-by-wrapping", func(t *testing.T) {
		fake := newFake(t)
		ops := []string{"wrapKey", "unwrapKey"}
		createKey(t, fake, 2048, ops...)
		fake.Assign(principal, fakehsm.RoleCryptoUser, "/keys/"+keyName)
		got := verify.CheckRoundTrip(testCtx(t), keysClient(t, fake, principal), keyName, ops, "sp", hsm.Retry{})
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
		assert.Contains(t, got.Check, "wrap/unwrap")
		assert.Equal(t, 1, fake.Requests(fakehsm.RouteWrapKey))
		assert.Equal(t, 1, fake.Requests(fakehsm.RouteUnwrapKey))
		assert.Zero(t, fake.Requests(fakehsm.RouteEncrypt))
	})
}

func TestCheckCannotCreateKey(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		fake := newFake(t)
		createKey(t, fake, 2048, defaultOps...)
		// Crypto User on the one key: it encrypts with it, but creating keys needs a role at /keys.
		fake.Assign(principal, fakehsm.RoleCryptoUser, "/keys/"+keyName)
		got := verify.CheckCannotCreateKey(testCtx(t), keysClient(t, fake, principal), "sp", hsmrbac.CryptoUser,
			"/keys/"+keyName)
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
		assert.Contains(t, got.Reason, "403 "+fakehsm.CodeAccessDenied)
		assert.Equal(t, []string{keyName}, fake.KeyNames())
	})
	t.Run("allowed-is-undone", func(t *testing.T) {
		fake := newFake(t)
		fake.Assign(principal, fakehsm.RoleCryptoUser, "/keys")
		// Configured for one key, granted more at /keys: the probe, not the config, finds out.
		got := verify.CheckCannotCreateKey(testCtx(t), keysClient(t, fake, principal), "sp", hsmrbac.CryptoUser,
			"/keys/"+keyName)
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "deleted again")
		assert.Contains(t, got.Reason, "its role Managed HSM Crypto User grants keys/create")
		assert.Empty(t, fake.KeyNames())
		require.Len(t, fake.DeletedKeyNames(), 1)
		assert.True(t, strings.HasPrefix(fake.DeletedKeyNames()[0], verify.ProbeKeyPrefix))
	})
	t.Run("firewall-proves-nothing", func(t *testing.T) {
		fake := newFake(t, fakehsm.WithNetwork(fakehsm.Network{PublicNetworkAccess: fakehsm.AccessDisabled,
			DefaultAction: fakehsm.ActionDeny}))
		got := verify.CheckCannotCreateKey(testCtx(t), keysClient(t, fake, principal), "sp", hsmrbac.CryptoUser,
			"/keys/"+keyName)
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "network rules, not by RBAC")
	})
	t.Run("other-errors-prove-nothing", func(t *testing.T) {
		// A 400 is a refusal, but not for lack of permission: it must not count as proof.
		fake := newFake(t, fakehsm.WithFaults(fakehsm.Fault{Route: fakehsm.RouteCreateKey, Times: 1,
			Status: 400, Code: "BadParameter", Message: "unsupported"}))
		got := verify.CheckCannotCreateKey(testCtx(t), keysClient(t, fake, principal), "sp", hsmrbac.CryptoUser,
			"/keys/"+keyName)
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "not 403")
	})
	t.Run("configured-to-create-keys-makes-no-probe", func(t *testing.T) {
		fake := newFake(t)
		fake.Assign(principal, fakehsm.RoleCryptoUser, "/keys")
		got := verify.CheckCannotCreateKey(testCtx(t), keysClient(t, fake, principal), "sp", hsmrbac.CryptoUser,
			"/keys")
		assert.Equal(t, verify.Skip, got.Status)
		assert.Contains(t, got.Reason, "scope the role to /keys/<key>")
		assert.Empty(t, fake.KeyNames())
		assert.Empty(t, fake.DeletedKeyNames())
	})
}

func TestCheckCannotAssignRole(t *testing.T) {
	t.Run("refused", func(t *testing.T) {
		fake := newFake(t)
		fake.Assign(principal, fakehsm.RoleCryptoUser, "/keys")
		before := len(fake.RoleAssignments())
		got := verify.CheckCannotAssignRole(testCtx(t), rbacClient(t, fake, principal), "sp", principal)
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
		assert.Contains(t, got.Reason, "403")
		assert.Len(t, fake.RoleAssignments(), before)
	})
	t.Run("allowed-is-undone", func(t *testing.T) {
		fake := newFake(t)
		fake.Assign(principal, fakehsm.RoleCryptoOfficer, "/")
		before := len(fake.RoleAssignments())
		got := verify.CheckCannotAssignRole(testCtx(t), rbacClient(t, fake, principal), "sp", principal)
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "deleted again")
		assert.Len(t, fake.RoleAssignments(), before)
	})
	t.Run("no-object-id", func(t *testing.T) {
		fake := newFake(t)
		got := verify.CheckCannotAssignRole(testCtx(t), rbacClient(t, fake, principal), "sp", "")
		assert.Equal(t, verify.Fail, got.Status)
	})
}

func TestCheckSecurityDomain(t *testing.T) {
	path, keys := domainFixture(t)
	t.Run("quorum", func(t *testing.T) {
		got := verify.CheckSecurityDomain(path, keys[:2])
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
		assert.Contains(t, got.Reason, "mode 0600; 2 of 3 shares opened (quorum 2)")
	})
	t.Run("all-three", func(t *testing.T) {
		got := verify.CheckSecurityDomain(path, keys[:3])
		assert.Equal(t, verify.Pass, got.Status, got.Reason)
	})
	t.Run("below-quorum", func(t *testing.T) {
		got := verify.CheckSecurityDomain(path, keys[:1])
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "1 keys given, 2 required")
	})
	t.Run("stranger-key", func(t *testing.T) {
		got := verify.CheckSecurityDomain(path, []string{keys[0], keys[3]})
		assert.Equal(t, verify.Fail, got.Status)
	})
	t.Run("no-keys", func(t *testing.T) {
		got := verify.CheckSecurityDomain(path, nil)
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "no private key files")
	})
	t.Run("readable-by-others", func(t *testing.T) {
		open := path + ".open"
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(open, data, 0o600))
		require.NoError(t, os.Chmod(open, 0o644))
		got := verify.CheckSecurityDomain(open, keys[:2])
		assert.Equal(t, verify.Fail, got.Status)
		assert.Contains(t, got.Reason, "-rw-r--r--")
	})
	t.Run("missing", func(t *testing.T) {
		got := verify.CheckSecurityDomain(path+".gone", keys[:2])
		assert.Equal(t, verify.Fail, got.Status)
	})
	t.Run("not-a-domain", func(t *testing.T) {
		other := path + ".txt"
		require.NoError(t, os.WriteFile(other, []byte("{}"), 0o600))
		got := verify.CheckSecurityDomain(other, keys[:2])
		assert.Equal(t, verify.Fail, got.Status)
	})
}

func TestWriteTable(t *testing.T) {
	results := []verify.Result{
		{Check: "dns h", Guide: "Test 1", Status: verify.Pass, Reason: "resolves"},
		{Check: "key k", Guide: "Test 3", Status: verify.Fail, Reason: "size\n4096"},
		{Check: "rotation k", Guide: "Test 5", Status: verify.Skip, Reason: "opt-in"},
	}
	var buf bytes.Buffer
	require.NoError(t, verify.WriteTable(&buf, results))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	require.Len(t, lines, 5)
	assert.Regexp(t, `^STATUS\s+GUIDE\s+CHECK\s+REASON$`, lines[0])
	assert.Regexp(t, `^FAIL\s+Test 3\s+key k\s+size 4096$`, lines[2])
	assert.Equal(t, "1 passed, 1 failed, 1 skipped", lines[4])
	assert.True(t, verify.Failed(results))
	assert.False(t, verify.Failed(results[:1]))
}
