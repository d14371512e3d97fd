// This file tests KeystoreCheck through the in-process provider server against sqlmock.
package provider

import (
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

const testKeyID = "https://hsm-odaa-demo.managedhsm.azure.net/keys/odaa-hsm-encryption-key/0123456789abcdef"

func keystoreInputs() property.Map {
	return connectionInputs(map[string]property.Value{"keyId": property.New(testKeyID)})
}

func keystore(mock sqlmock.Sqlmock, wrlType, walletType, status string) {
	mock.ExpectQuery("SELECT WRL_TYPE, WALLET_TYPE, STATUS FROM V$ENCRYPTION_WALLET").WithoutArgs().
		WillReturnRows(sqlmock.NewRows([]string{"WRL_TYPE", "WALLET_TYPE", "STATUS"}).
			AddRow(wrlType, walletType, status))
}

func TestKeystoreCheckAcceptsOpenCloudKeystores(t *testing.T) {
	for name, wrl := range map[string]string{"key-vault": "AZURE_KEY_VAULT", "managed-hsm": "AZURE_MANAGEDHSM"} {
		t.Run(name, func(t *testing.T) {
			env, db := newSQLEnv(t, nil)
			keystore(db.expect(), wrl, "CLOUD", "OPEN")

			resp := env.mustCreate(odaa.KeystoreCheckType, keystoreInputs())

			assert.Equal(t, wrl, resp.Properties.Get("wrlType").AsString())
			assert.Equal(t, "OPEN", resp.Properties.Get("status").AsString())
			db.verify()
		})
	}
}

func TestKeystoreCheckRefusesWhatIsNotAnOpenCloudKeystore(t *testing.T) {
	for _, tc := range []struct {
		name, wrl, wallet, status string
	}{
		{"oracle-managed", "FILE", "AUTOLOGIN", "OPEN"},
		{"closed", "AZURE_KEY_VAULT", "CLOUD", "CLOSED"},
		{"not-available", "AZURE_MANAGEDHSM", "UNKNOWN", "NOT_AVAILABLE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, db := newSQLEnv(t, nil)
			keystore(db.expect(), tc.wrl, tc.wallet, tc.status)

			_, err := env.create(odaa.KeystoreCheckType, keystoreInputs(), false)

			require.Error(t, err)
			assert.Contains(t, err.Error(), "WRL_TYPE="+tc.wrl+" WALLET_TYPE="+tc.wallet+" STATUS="+tc.status)
			db.verify()
		})
	}
}

func TestKeystoreCheckDriftChecksAgain(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	keystore(db.expect(), "AZURE_KEY_VAULT", "CLOUD", "OPEN")
	in := keystoreInputs()
	resp := env.mustCreate(odaa.KeystoreCheckType, in)

	t.Run("second-run-reads-only", func(t *testing.T) {
		diff, err := env.diff(odaa.KeystoreCheckType, resp.ID, resp.Properties, in, in)
		require.NoError(t, err)
		assert.False(t, diff.HasChanges)
		keystore(db.expect(), "AZURE_KEY_VAULT", "CLOUD", "OPEN")
		read, err := env.read(odaa.KeystoreCheckType, resp.ID, resp.Properties, in)
		require.NoError(t, err)
		assert.Equal(t, "OPEN", read.Properties.Get("status").AsString())
	})

	// The key became unreachable: the read reports it without failing, and the next run checks again.
	keystore(db.expect(), "AZURE_KEY_VAULT", "CLOUD", "CLOSED")
	read, err := env.read(odaa.KeystoreCheckType, resp.ID, resp.Properties, in)
	require.NoError(t, err)
	assert.Equal(t, "CLOSED", read.Properties.Get("status").AsString())
	diff, err := env.diff(odaa.KeystoreCheckType, resp.ID, read.Properties, in, in)
	require.NoError(t, err)
	assert.True(t, diff.HasChanges)
	keystore(db.expect(), "AZURE_KEY_VAULT", "CLOUD", "CLOSED")
	_, err = env.update(odaa.KeystoreCheckType, resp.ID, read.Properties, in, in, false)
	assert.ErrorContains(t, err, "STATUS=CLOSED")

	opened := db.opened()
	require.NoError(t, env.delete(odaa.KeystoreCheckType, resp.ID, resp.Properties))
	assert.Equal(t, opened, db.opened(), "delete connected, though the check added nothing")
	db.verify()
}

func TestKeystoreCheckPreviewOpensNoConnection(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	_, err := env.create(odaa.KeystoreCheckType, keystoreInputs(), true)
	require.NoError(t, err)
	assert.Equal(t, 0, db.opened())
}

func TestKeystoreCheckRefusesAKeyIDThatIsNotOne(t *testing.T) {
	env, _ := newSQLEnv(t, nil)
	resp, err := env.check(odaa.KeystoreCheckType, property.Map{},
		keystoreInputs().Set("keyId", property.New("odaa-hsm-encryption-key")))
	require.NoError(t, err)
	require.Len(t, resp.Failures, 1)
	assert.Equal(t, "keyId", resp.Failures[0].Property)
}
