// This file tests connecting through the provider (field case 8): the ping before any statement, the wallet
// path, the missing client library, and connection failures that say what to fix without the password.
package provider

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// aliasWallet writes a wallet directory whose tnsnames.ora defines adbhsmdemo_high and whose sqlnet.ora says
// DIRECTORY=directory ("" for the wallet directory itself).
func aliasWallet(t *testing.T, directory string) string {
	t.Helper()
	dir := t.TempDir()
	if directory == "" {
		directory = dir
	}
	files := map[string]string{
		"tnsnames.ora": "adbhsmdemo_high = (description=(address=(protocol=tcps)(port=1522)" +
			"(host=adb.eastus.oraclecloud.com))(connect_data=(service_name=x_adbhsmdemo_high.adb.oraclecloud.com)))\n",
		"sqlnet.ora": `WALLET_LOCATION = (SOURCE = (METHOD = file) (METHOD_DATA = (DIRECTORY="` + directory +
			`")))` + "\nSSL_SERVER_DN_MATCH=yes\n",
		"cwallet.sso": "wallet",
	}
	for name, content := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600))
	}
	return dir
}

func aliasInputs(wallet string) property.Map {
	return keystoreInputs().Set("connectString", property.New("adbhsmdemo_high")).
		Set("walletDirectory", property.New(wallet))
}

func TestFieldCase8PingsBeforeAnyStatementAndNamesTheAlias(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	wallet := aliasWallet(t, "")
	// The alias is in tnsnames.ora, yet the client cannot resolve it; the session expects the ping and nothing
	// else, so a statement sent before it would fail the test.
	db.failPing(errors.New("ORA-12154: TNS:could not resolve the connect identifier specified"))

	_, err := env.create(odaa.KeystoreCheckType, aliasInputs(wallet), false)

	require.Error(t, err)
	assert.Contains(t, err.Error(), `"adbhsmdemo_high"`)
	assert.Contains(t, err.Error(), filepath.Join(wallet, "tnsnames.ora"))
	assert.NotContains(t, err.Error(), testAdminPassword)
	assert.NotContains(t, env.logs.All(), testAdminPassword)
	db.verify()
}

func TestFieldCase8OracleHomeWalletPathIsRejectedBeforeConnecting(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	wallet := aliasWallet(t, "?/network/admin")

	_, err := env.create(odaa.KeystoreCheckType, aliasInputs(wallet), false)

	require.Error(t, err)
	assert.Contains(t, err.Error(), `DIRECTORY="?/network/admin"`)
	assert.Contains(t, err.Error(), "edit "+filepath.Join(wallet, "sqlnet.ora")+` to say DIRECTORY="`+wallet+`"`)
	assert.Equal(t, 0, db.opened(), "the client was reached with a wallet that cannot work")
}

func TestFieldCase8MissingClientLibraryIsNamed(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	db.failPing(errors.New(`ORA-00000: DPI-1047: Cannot locate a 64-bit Oracle Client library: "libclntsh.so: ` +
		`cannot open shared object file: No such file or directory"`))

	_, err := env.create(odaa.KeystoreCheckType, keystoreInputs(), false)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "libclntsh")
	assert.Contains(t, err.Error(), "LD_LIBRARY_PATH")
	db.verify()
}

func TestConnectionFailuresSayWhatToFix(t *testing.T) {
	for _, tc := range []struct {
		name, err, want string
	}{
		{"wrong-password", "ORA-01017: invalid username/password; logon denied",
			"config key adminPasswords.adbhsmdemo "},
		{"private-endpoint-unreachable", "ORA-12170: TNS:Connect timeout occurred",
			"private endpoint is not reachable from here: `pulumi up` must run on a host that reaches it"},
		{"no-listener", "ORA-12541: TNS:no listener", "private endpoint"},
		{"host-unknown", "ORA-12545: Connect failed because target host or object does not exist",
			"private endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, db := newSQLEnv(t, nil)
			db.failPing(errors.New(tc.err))

			_, err := env.create(odaa.NetworkACLType, aclInputs("ADMIN", "connect"), false)

			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), testAdminPassword)
			db.verify()
		})
	}
}
