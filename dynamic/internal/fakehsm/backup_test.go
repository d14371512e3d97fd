// This file tests key backup and restore through the real azkeys client: a backup restores into an HSM that
// holds the same security domain, by download or by restore, with its versions, and nowhere else; and the
// security-domain upload that the fake is told to fail.

package fakehsm_test

import (
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// restoreDomain restores domain (downloaded with downloadKeys) into target by hand, polling until it is active.
func restoreDomain(t *testing.T, target *fakehsm.Server, domain *securitydomain.File) {
	t.Helper()
	ctx := testCtx(t)
	sd := sdClient(t, target, admin)
	raw, err := sd.TransferKey(ctx)
	require.NoError(t, err)
	transfer, err := securitydomain.ParseTransferKey(raw)
	require.NoError(t, err)
	blob, err := securitydomain.RestoreBlob(domain, downloadKeys(t)[:2], transfer)
	require.NoError(t, err)
	body, err := securitydomain.WrapValue(blob)
	require.NoError(t, err)
	_, err = sd.Upload(ctx, body)
	require.NoError(t, err)
	for range 10 {
		st, err := sd.UploadStatus(ctx)
		require.NoError(t, err)
		if st.Done() {
			break
		}
	}
	require.True(t, target.Activated())
}

func TestKeyBackupRestoresOnlyUnderTheSameSecurityDomain(t *testing.T) {
	source := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	domain := activate(t, source)
	source.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	ctx := testCtx(t)
	user := keysClient(t, source, cryptoUser)
	_, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)
	first, err := user.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)
	_, err = user.RotateKey(ctx, "cmk", nil)
	require.NoError(t, err)
	params := azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256),
		Value: []byte("sealed before the disaster")}
	sealed, err := user.Encrypt(ctx, "cmk", first.Key.KID.Version(), params, nil)
	require.NoError(t, err)
	backup, err := user.BackupKey(ctx, "cmk", nil)
	require.NoError(t, err)
	require.NotEmpty(t, backup.Value)
	restore := azkeys.RestoreKeyParameters{KeyBackup: backup.Value}

	t.Run("into-the-same-hsm-while-the-key-exists", func(t *testing.T) {
		_, err := user.RestoreKey(ctx, restore, nil)
		serviceError(t, err, http.StatusConflict, fakehsm.CodeConflict)
	})
	t.Run("into-another-domain", func(t *testing.T) {
		other := fakehsm.New(t, fakehsm.WithPendingPolls(0))
		activate(t, other) // the same wrapping keys, but a domain of its own
		other.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
		_, err := keysClient(t, other, cryptoUser).RestoreKey(ctx, restore, nil)
		body := serviceError(t, err, http.StatusBadRequest, fakehsm.CodeBadParameter)
		assert.Contains(t, body, "another security domain")
		assert.Empty(t, other.KeyNames())

		started := newActive(t)
		started.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
		_, err = keysClient(t, started, cryptoUser).RestoreKey(ctx, restore, nil)
		serviceError(t, err, http.StatusBadRequest, fakehsm.CodeBadParameter)
	})
	t.Run("tampered", func(t *testing.T) {
		target := fakehsm.New(t, fakehsm.WithPendingPolls(0))
		restoreDomain(t, target, domain)
		target.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
		bad := append([]byte(nil), backup.Value...)
		bad[len(bad)/2] ^= 0x01
		_, err := keysClient(t, target, cryptoUser).RestoreKey(ctx, azkeys.RestoreKeyParameters{KeyBackup: bad},
			nil)
		serviceError(t, err, http.StatusBadRequest, fakehsm.CodeBadParameter)
		assert.Empty(t, target.KeyNames())
	})
	t.Run("needs-the-restore-action", func(t *testing.T) {
		target := fakehsm.New(t, fakehsm.WithPendingPolls(0))
		restoreDomain(t, target, domain)
		target.Assign(cryptoUser, fakehsm.RoleCryptoAuditor, "/keys")
		_, err := keysClient(t, target, cryptoUser).RestoreKey(ctx, restore, nil)
		serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
	})

	target := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	restoreDomain(t, target, domain)
	target.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	restored := keysClient(t, target, cryptoUser)
	got, err := restored.RestoreKey(ctx, restore, nil)
	require.NoError(t, err)
	latest, err := user.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)
	assert.Equal(t, latest.Key.KID.Version(), got.Key.KID.Version(), "the latest version comes back as latest")
	assert.Equal(t, latest.Key.N, got.Key.N)
	opened, err := restored.Decrypt(ctx, "cmk", first.Key.KID.Version(), azkeys.KeyOperationParameters{
		Algorithm: params.Algorithm, Value: sealed.Result}, nil)
	require.NoError(t, err, "an older version restores too")
	assert.Equal(t, params.Value, opened.Result)
	assert.Equal(t, 1, target.Requests(fakehsm.RouteRestoreKey))
	assert.Equal(t, 1, source.Requests(fakehsm.RouteBackupKey))

	_, err = restored.RestoreKey(ctx, restore, nil)
	serviceError(t, err, http.StatusConflict, fakehsm.CodeConflict)
}

func TestKeyBackupOfAMissingKey(t *testing.T) {
	fake := newActive(t)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	_, err := keysClient(t, fake, cryptoUser).BackupKey(testCtx(t), "absent", nil)
	serviceError(t, err, http.StatusNotFound, fakehsm.CodeKeyNotFound)
}

func TestUploadFailureIsReportedAndRetryable(t *testing.T) {
	source := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	domain := activate(t, source)
	const details = "The security domain could not be restored: quorum check failed in the HSM."
	target := fakehsm.New(t, fakehsm.WithPendingPolls(1), fakehsm.WithUploadFailure(details))
	ctx := testCtx(t)
	sd := sdClient(t, target, admin)
	raw, err := sd.TransferKey(ctx)
	require.NoError(t, err)
	transfer, err := securitydomain.ParseTransferKey(raw)
	require.NoError(t, err)
	blob, err := securitydomain.RestoreBlob(domain, downloadKeys(t)[:2], transfer)
	require.NoError(t, err)
	body, err := securitydomain.WrapValue(blob)
	require.NoError(t, err)

	_, err = sd.Upload(ctx, body)
	require.NoError(t, err)
	st, err := sd.UploadStatus(ctx)
	require.NoError(t, err)
	assert.Equal(t, fakehsm.StatusInProgress, st.State)
	st, err = sd.UploadStatus(ctx)
	require.NoError(t, err)
	assert.True(t, st.Failed(), "status %q", st.State)
	assert.Equal(t, details, st.Details)
	assert.False(t, target.Activated())
	assert.Empty(t, target.Items())

	_, err = sd.Upload(ctx, body)
	require.NoError(t, err, "a failed upload may be tried again")
}
