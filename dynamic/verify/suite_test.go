// This file tests the whole run against the stand-ins (every check passing for a least-privileged principal,
// and the failures a broader role or an unreachable database cause) and reading a stack from the Pulumi CLI's
// JSON.

package verify_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
	"github.com/odaa-platform/adbs-hsm/dynamic/verify"
)

const descriptor = "(description=(retry_count=20)(address=(protocol=tcps)(port=1522)" +
	"(host=abc.adb.us-ashburn-1.oraclecloud.com))(connect_data=(service_name=x_adbhsmdemo_high." +
	"adb.oraclecloud.com))(security=(ssl_server_dn_match=yes)))"

// suiteFixture is a fake HSM with the key, a security domain on disk, and the Stack and Env that reach them.
func suiteFixture(t *testing.T, principalScope string, open oracle.Opener) (verify.Stack, verify.Env) {
	t.Helper()
	fake := newFake(t)
	createKey(t, fake, 2048, defaultOps...)
	fake.Assign(principal, fakehsm.RoleCryptoUser, principalScope)
	sdPath, keys := domainFixture(t)
	u, err := url.Parse(fake.URL())
	require.NoError(t, err)

	s := verify.Stack{
		HsmName: "hsm-test", HsmURI: fake.URL(), PrivateEndpointIP: peIP,
		SecurityDomainPath: sdPath, SecurityDomainKeys: keys[:2], Key: spec(),
		ServicePrincipal: verify.ServicePrincipal{ClientID: "app-1", ObjectID: principal,
			TenantID: fake.TenantID(), Secret: "s3cret-value", Role: hsmrbac.CryptoUser},
		Databases: []verify.Database{{Name: "adbhsmdemo", ConnectString: descriptor, Password: "Pa55word-long1"}},
	}
	env := verify.Env{
		Resolver: resolver{u.Hostname(): {peIP}},
		Operator: fake.Credential(operator),
		PrincipalCredential: func(sp verify.ServicePrincipal) (azcore.TokenCredential, error) {
			return fake.Credential(sp.ObjectID), nil
		},
		HSM:    options(fake),
		OpenDB: open,
		Rotate: true,
	}
	return s, env
}

// healthyDB answers the two database checks as a database with its key in the HSM does.
func healthyDB(t *testing.T) oracle.Opener {
	t.Helper()
	db, mock := mockDB(t)
	mock.ExpectQuery(selectTablespaces).WillReturnRows(sqlmock.NewRows([]string{"TABLESPACE_NAME",
		"ENCRYPTED"}).AddRow("DATA", "YES"))
	mock.ExpectQuery(selectWallet).WillReturnRows(sqlmock.NewRows([]string{"WRL_TYPE", "WALLET_TYPE",
		"STATUS"}).AddRow("AZURE_KEY_VAULT", "AUTOLOGIN", "OPEN"))
	mock.ExpectClose()
	return func(context.Context, oracle.Conn) (*sql.DB, error) { return db, nil }
}

func statuses(results []verify.Result) map[string]verify.Status {
	out := map[string]verify.Status{}
	for _, r := range results {
		name, _, _ := strings.Cut(r.Check, " as ")
		out[name] = r.Status
	}
	return out
}

func TestRunPassesForALeastPrivilegedStack(t *testing.T) {
	s, env := suiteFixture(t, "/keys/"+keyName, healthyDB(t))
	var progress []string
	env.Progress = func(msg string) { progress = append(progress, msg) }

	results := verify.Run(testCtx(t), s, env)
	for _, r := range results {
		assert.Equal(t, verify.Pass, r.Status, "%s: %s", r.Check, r.Reason)
		assert.NotContains(t, r.Reason, "s3cret-value")
		assert.NotContains(t, r.Reason, "Pa55word-long1")
	}
	assert.Len(t, results, 9)
	assert.False(t, verify.Failed(results))
	assert.Contains(t, progress, "checking dns")
}

func TestRunReportsABroadRoleAndAnUnreachableDatabase(t *testing.T) {
	unreachable := func(context.Context, oracle.Conn) (*sql.DB, error) {
		return nil, errors.New("ORA-12170: TNS:Connect timeout occurred")
	}
	s, env := suiteFixture(t, "/keys", unreachable)
	env.Rotate = false

	results := verify.Run(testCtx(t), s, env)
	assert.True(t, verify.Failed(results))
	assert.Equal(t, map[string]verify.Status{
		"dns " + s.HsmHost():                      verify.Pass,
		"tablespaces adbhsmdemo":                  verify.Fail,
		"keystore adbhsmdemo":                     verify.Fail,
		"key " + keyName:                          verify.Pass,
		"encrypt/decrypt":                         verify.Pass,
		"no key creation":                         verify.Fail,
		"no role assignment":                      verify.Pass,
		"rotation " + keyName:                     verify.Skip,
		"security domain " + s.SecurityDomainPath: verify.Pass,
	}, statuses(results))
}

func TestRunFailsThePrincipalsChecksWithoutACredential(t *testing.T) {
	s, env := suiteFixture(t, "/keys/"+keyName, healthyDB(t))
	env.PrincipalCredential = func(verify.ServicePrincipal) (azcore.TokenCredential, error) {
		return nil, errors.New("AADSTS7000215: invalid client secret")
	}
	got := statuses(verify.Run(testCtx(t), s, env))
	assert.Equal(t, verify.Fail, got["encrypt/decrypt"])
	assert.Equal(t, verify.Fail, got["no key creation"])
	assert.Equal(t, verify.Fail, got["no role assignment"])
}

const outputsJSON = `{
  "hsmName": "hsm-odaa-demo-a1b2c3",
  "hsmUri": "https://hsm-odaa-demo-a1b2c3.managedhsm.azure.net/",
  "keyId": "https://hsm-odaa-demo-a1b2c3.managedhsm.azure.net/keys/cmk/0123456789abcdef",
  "keyVersion": "0123456789abcdef",
  "privateEndpointIp": "10.0.2.5",
  "securityDomainPath": ".secrets/hsm-odaa-demo-a1b2c3-sd.json",
  "servicePrincipalClientId": "11111111-1111-4111-8111-111111111111",
  "servicePrincipalObjectId": "22222222-2222-4222-8222-222222222222",
  "servicePrincipalTenantId": "33333333-3333-4333-8333-333333333333",
  "servicePrincipalSecret": "sp-secret-value",
  "databases": {"adbhsmdemo": {"connectionStrings": {"high": "(description=(x))", "low": "(description=(y))"}}}
}`

const configJSON = `{
  "odaa-adbs-hsm:adminPasswords": {"value": "{\"adbhsmdemo\":\"Admin-Pass-123\"}",
    "objectValue": {"adbhsmdemo": "Admin-Pass-123"}, "secret": true},
  "odaa-adbs-hsm:hsm": {"value": "{\"key\":{\"size\":2048},\"securityDomain\":{\"keyDirectory\":\"keys\"}}",
    "objectValue": {"key": {"size": 2048}, "securityDomain": {"keyDirectory": "keys"}}, "secret": false},
  "oci:region": {"value": "us-ashburn-1", "secret": false}
}`

func TestParseStack(t *testing.T) {
	var globbed string
	glob := func(p string) ([]string, error) { globbed = p; return []string{"keys/k0.pem", "keys/k1.pem"}, nil }

	s, err := verify.ParseStack([]byte(outputsJSON), []byte(configJSON), nil, glob)
	require.NoError(t, err)
	assert.Equal(t, "hsm-odaa-demo-a1b2c3.managedhsm.azure.net", s.HsmHost())
	assert.Equal(t, "10.0.2.5", s.PrivateEndpointIP)
	assert.Equal(t, verify.KeySpec{Name: "cmk", Type: "RSA-HSM", Size: 2048,
		Operations: []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}}, s.Key)
	assert.Equal(t, hsmrbac.CryptoUser, s.ServicePrincipal.Role)
	assert.Equal(t, "sp-secret-value", string(s.ServicePrincipal.Secret))
	assert.Equal(t, filepath.Join("keys", "hsm-odaa-demo-a1b2c3-sd-key*.pem"), globbed)
	assert.Equal(t, []string{"keys/k0.pem", "keys/k1.pem"}, s.SecurityDomainKeys)
	require.Len(t, s.Databases, 1)
	assert.Equal(t, verify.Database{Name: "adbhsmdemo", ConnectString: "(description=(x))",
		Password: "Admin-Pass-123"}, s.Databases[0])

	// Secrets never print, whatever the verb.
	for _, text := range []string{fmtV(s), fmtSharpV(s)} {
		assert.NotContains(t, text, "sp-secret-value")
		assert.NotContains(t, text, "Admin-Pass-123")
	}

	t.Run("explicit-keys", func(t *testing.T) {
		s, err := verify.ParseStack([]byte(outputsJSON), []byte(configJSON), []string{"a.pem"}, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"a.pem"}, s.SecurityDomainKeys)
	})
	t.Run("outputs-without-secrets", func(t *testing.T) {
		hidden := strings.Replace(outputsJSON, `"sp-secret-value"`, `""`, 1)
		_, err := verify.ParseStack([]byte(hidden), []byte(configJSON), nil, glob)
		require.ErrorContains(t, err, "servicePrincipalSecret missing")
	})
	t.Run("bad-config", func(t *testing.T) {
		_, err := verify.ParseStack([]byte(outputsJSON), []byte(`{"odaa-adbs-hsm:hsm": {"value": "{\"nope\":1}"}}`),
			nil, glob)
		require.ErrorContains(t, err, "hsm")
	})
}

func TestLoadStackRunsThePulumiCLI(t *testing.T) {
	var calls []string
	run := func(_ context.Context, name string, args ...string) ([]byte, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		if args[0] == "stack" {
			return []byte(outputsJSON), nil
		}
		return []byte(configJSON), nil
	}
	s, err := verify.LoadStack(testCtx(t), run, "dev", []string{"k.pem"})
	require.NoError(t, err)
	assert.Equal(t, "hsm-odaa-demo-a1b2c3", s.HsmName)
	assert.Equal(t, []string{"pulumi stack output --json --show-secrets --stack dev",
		"pulumi config --json --show-secrets --stack dev"}, calls)

	failing := func(context.Context, string, ...string) ([]byte, error) { return nil, errors.New("no stack") }
	_, err = verify.LoadStack(testCtx(t), failing, "prod", nil)
	require.ErrorContains(t, err, "reading the outputs of stack prod: no stack")
}

func TestRunNamesAMissingPassword(t *testing.T) {
	opened := false
	open := func(context.Context, oracle.Conn) (*sql.DB, error) { opened = true; return nil, errors.New("no") }
	s, env := suiteFixture(t, "/keys/"+keyName, open)
	s.Databases[0].Password = ""
	for _, r := range verify.Run(testCtx(t), s, env) {
		if strings.HasPrefix(r.Check, "tablespaces") || strings.HasPrefix(r.Check, "keystore") {
			assert.Equal(t, verify.Fail, r.Status)
			assert.Equal(t, "adminPasswords.adbhsmdemo is not set in the stack's configuration", r.Reason)
		}
	}
	assert.False(t, opened, "a database without its password must not be dialled")
}
