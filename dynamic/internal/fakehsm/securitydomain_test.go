// This file tests the security domain endpoints through our hsm.SecurityDomainClient and the real crypto of
// package securitydomain: activation by download, its pending status and its effect on ARM and on the data
// plane, and disaster recovery into a second HSM.

package fakehsm_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// activationStatus reads properties.securityDomainProperties.activationStatus and hsmUri through armkeyvault.
func activationStatus(t *testing.T, c *armkeyvault.ManagedHsmsClient) (armkeyvault.ActivationStatus, string) {
	t.Helper()
	resp, err := c.Get(testCtx(t), fakehsm.DefaultResourceGroup, fakehsm.DefaultName, nil)
	require.NoError(t, err)
	p := resp.Properties
	return *p.SecurityDomainProperties.ActivationStatus, *p.HsmURI
}

func TestSecurityDomainDownloadActivates(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithPendingPolls(2), fakehsm.WithRetryAfter("3"), fakehsm.WithRetryAfterMs(15))
	rec := newRecorder(fake.Client())
	sd := sdClient(t, fake, admin, withTransport(rec))
	arm := hsmsClient(t, fake, admin)
	ctx := testCtx(t)
	keys := downloadKeys(t)

	status, uri := activationStatus(t, arm)
	assert.Equal(t, armkeyvault.ActivationStatusNotActivated, status)
	assert.Equal(t, fake.URL(), uri)

	body, err := securitydomain.NewDownloadRequest(certificatesOf(keys), 2)
	require.NoError(t, err)
	data, st, err := sd.Download(ctx, body)
	require.NoError(t, err)
	answer := rec.last(t)
	assert.Equal(t, http.StatusAccepted, answer.Status)
	assert.Equal(t, "3", answer.Header.Get("Retry-After"))
	assert.Equal(t, "15", answer.Header.Get(fakehsm.HeaderRetryAfterMs))
	assert.Equal(t, fake.URL()+"securitydomain/download/pending?api-version=7.5",
		answer.Header.Get("Azure-AsyncOperation"))
	assert.Equal(t, 15*time.Millisecond, st.RetryAfter, "our client prefers retry-after-ms, as azcore does")

	file, err := securitydomain.Parse(data)
	require.NoError(t, err)
	assert.Equal(t, 2, file.SharedKeys.Required)
	assert.Len(t, file.SharedKeys.EncShares, 3)
	for _, quorum := range [][]securitydomain.KeyPair{keys[:2], keys[1:], {keys[0], keys[2]}} {
		proof, err := securitydomain.Prove(file, quorum)
		require.NoError(t, err)
		assert.Equal(t, 2, proof.SharesOpened)
		assert.Equal(t, len(fake.Items()), proof.ItemsDecrypted)
	}
	_, err = securitydomain.Prove(file, keys[:1])
	require.ErrorIs(t, err, securitydomain.ErrInsufficientShares)
	items, err := securitydomain.DecryptItems(file, keys[:2])
	require.NoError(t, err)
	assert.Equal(t, fake.Items(), items, "the answer carries the HSM's own domain")

	for poll := 1; poll <= 2; poll++ {
		st, err := sd.DownloadStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, fakehsm.StatusInProgress, st.State, "poll %d", poll)
		assert.Equal(t, 15*time.Millisecond, st.RetryAfter, "an in-progress poll says when to come back")
		assert.False(t, fake.Activated())
		status, _ := activationStatus(t, arm)
		assert.Equal(t, armkeyvault.ActivationStatusNotActivated, status, "poll %d", poll)
	}
	st, err = sd.DownloadStatus(ctx)
	require.NoError(t, err)
	assert.True(t, st.Done(), "status %q", st.State)
	assert.True(t, fake.Activated())
	status, uri = activationStatus(t, arm)
	assert.Equal(t, armkeyvault.ActivationStatusActive, status)
	assert.Equal(t, fake.URL(), uri)
	res, err := mgmtClient(fake, admin).Get(ctx, fake.ARMID())
	require.NoError(t, err)
	assert.True(t, res.Active())

	_, _, err = sd.Download(ctx, body)
	serviceError(t, err, http.StatusConflict, fakehsm.CodeConflict)
	assert.Equal(t, items, fake.Items(), "a refused download keeps the domain")
}

func TestSecurityDomainDownloadNeedsAdministrator(t *testing.T) {
	fake := fakehsm.New(t)
	fake.Assign(cryptoOfficer, fakehsm.RoleCryptoOfficer, "/")
	body, err := securitydomain.NewDownloadRequest(certificatesOf(downloadKeys(t)), 2)
	require.NoError(t, err)

	_, _, err = sdClient(t, fake, cryptoOfficer).Download(testCtx(t), body)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
	assert.False(t, fake.Activated())
	assert.Nil(t, fake.Domain())
}

func TestDataPlaneClosedUntilActivation(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	user := keysClient(t, fake, cryptoUser)
	roles := rbacClient(t, fake, admin)
	ctx := testCtx(t)

	_, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
	body := serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
	assert.Contains(t, body, fakehsm.NotActivatedMessage)
	assert.Equal(t, hsm.NotActivated, hsm.Classify(err))
	pager := roles.NewListRoleAssignmentsPager(rbac.RoleScopeGlobal, nil)
	_, err = pager.NextPage(ctx)
	body = serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
	assert.Contains(t, body, fakehsm.NotActivatedMessage)
	_, err = roles.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
		grant(cryptoUser, fakehsm.RoleCryptoUser), nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
	assert.Empty(t, fake.KeyNames())
	assert.Len(t, fake.RoleAssignments(), 2, "no refused call changed the assignments")

	activate(t, fake)
	_, err = user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)
	_, err = roles.CreateRoleAssignment(ctx, rbac.RoleScopeKeys, assignmentName(1),
		grant(cryptoOfficer, fakehsm.RoleCryptoUser), nil)
	require.NoError(t, err)
}

func TestSecurityDomainRestore(t *testing.T) {
	source := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	domain := activate(t, source)
	target := fakehsm.New(t, fakehsm.WithPendingPolls(1))
	rec := newRecorder(target.Client())
	sd := sdClient(t, target, admin, withTransport(rec))
	ctx := testCtx(t)
	keys := downloadKeys(t)

	raw, err := sd.TransferKey(ctx)
	require.NoError(t, err)
	var shape struct {
		KeyFormat   string         `json:"key_format"`
		TransferKey map[string]any `json:"transfer_key"`
	}
	require.NoError(t, json.Unmarshal(raw, &shape), "API 7.5 answers transfer_key as a JWK object")
	assert.Equal(t, "jwk", shape.KeyFormat)
	assert.Equal(t, "RSA", shape.TransferKey["kty"])
	transfer, err := securitydomain.ParseTransferKey(raw)
	require.NoError(t, err)
	held, ok := target.TransferKey()
	require.True(t, ok)
	assert.Equal(t, securitydomain.Thumbprint(held.Cert), transfer.Thumbprint)

	t.Run("blob-for-another-hsm", func(t *testing.T) {
		other := fakehsm.New(t)
		otherRaw, err := sdClient(t, other, admin).TransferKey(ctx)
		require.NoError(t, err)
		otherKey, err := securitydomain.ParseTransferKey(otherRaw)
		require.NoError(t, err)
		blob, err := securitydomain.RestoreBlob(domain, keys[:2], otherKey)
		require.NoError(t, err)
		upload, err := securitydomain.WrapValue(blob)
		require.NoError(t, err)
		_, err = sd.Upload(ctx, upload)
		serviceError(t, err, http.StatusBadRequest, fakehsm.CodeBadParameter)
		assert.False(t, target.Activated())
		assert.Empty(t, target.Items())
	})

	blob, err := securitydomain.RestoreBlob(domain, keys[1:], transfer)
	require.NoError(t, err)
	upload, err := securitydomain.WrapValue(blob)
	require.NoError(t, err)
	_, err = sd.Upload(ctx, upload)
	require.NoError(t, err)
	answer := rec.last(t)
	assert.Equal(t, http.StatusAccepted, answer.Status)
	assert.Equal(t, target.URL()+"securitydomain/upload/pending?api-version=7.5",
		answer.Header.Get("Azure-AsyncOperation"))
	assert.False(t, target.Activated(), "the restore completes when its status says so")

	st, err := sd.UploadStatus(ctx)
	require.NoError(t, err)
	assert.Equal(t, fakehsm.StatusInProgress, st.State)
	st, err = sd.UploadStatus(ctx)
	require.NoError(t, err)
	assert.True(t, st.Done(), "status %q", st.State)
	assert.True(t, target.Activated())
	assert.Equal(t, source.Items(), target.Items())
	status, _ := activationStatus(t, hsmsClient(t, target, admin))
	assert.Equal(t, armkeyvault.ActivationStatusActive, status)

	_, err = sd.Upload(ctx, upload)
	serviceError(t, err, http.StatusConflict, fakehsm.CodeConflict)

	target.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	user := keysClient(t, target, cryptoUser)
	_, err = user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)
	params := azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256),
		Value: []byte("after restore")}
	enc, err := user.Encrypt(ctx, "cmk", "", params, nil)
	require.NoError(t, err)
	dec, err := user.Decrypt(ctx, "cmk", "", azkeys.KeyOperationParameters{Algorithm: params.Algorithm,
		Value: enc.Result}, nil)
	require.NoError(t, err)
	assert.Equal(t, params.Value, dec.Result)
}

// With a completion moment, the download stays in progress however often it is polled until the server's clock
// reaches that moment, and is done from then on.
func TestSecurityDomainDownloadCompletesAtAMoment(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	fake := fakehsm.New(t, fakehsm.WithClock(clock), fakehsm.WithCompletionAt(clock().Add(30*time.Second)))
	sd := sdClient(t, fake, admin)
	ctx := testCtx(t)
	body, err := securitydomain.NewDownloadRequest(certificatesOf(downloadKeys(t)), 2)
	require.NoError(t, err)
	_, _, err = sd.Download(ctx, body)
	require.NoError(t, err)

	for _, step := range []time.Duration{0, 0, 0, 10 * time.Second, 19 * time.Second} {
		advance(step)
		st, err := sd.DownloadStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, fakehsm.StatusInProgress, st.State, "at %s", clock().Format(time.TimeOnly))
		assert.False(t, fake.Activated())
	}
	advance(time.Second)
	st, err := sd.DownloadStatus(ctx)
	require.NoError(t, err)
	assert.True(t, st.Done(), "status %q at the completion moment", st.State)
	assert.True(t, fake.Activated())
	advance(time.Hour)
	st, err = sd.DownloadStatus(ctx)
	require.NoError(t, err)
	assert.True(t, st.Done(), "a finished download stays finished")
}
