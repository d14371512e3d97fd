// This file tests Restore end to end against fake HSMs: a domain downloaded from one HSM restored into a new
// one with two of three keys, after which a key backed up from the old HSM decrypts there; and every way it
// refuses or fails: too few or wrong keys (before any upload), an HSM already active, an upload the HSM
// reports Failed, the named timeout; and the pace the HSM's Retry-After sets.

package recovery_test

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/recovery"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

const (
	admin      = fakehsm.DefaultAdministratorID
	cryptoUser = "c0000000-0000-4000-8000-000000000001"
)

var (
	pairsOnce sync.Once
	pairs     []securitydomain.KeyPair // three holders, then a stranger whose key opens nothing
	pairsErr  error
)

// holders returns three wrapping key pairs and a fourth that belongs to no domain, generated once.
func holders(t *testing.T) (holders []securitydomain.KeyPair, stranger securitydomain.KeyPair) {
	t.Helper()
	pairsOnce.Do(func() {
		for range 4 {
			certPEM, keyPEM, err := securitydomain.GenerateKeyPair(securitydomain.MinRSABits, "recovery test")
			if err != nil {
				pairsErr = err
				return
			}
			kp, err := securitydomain.LoadKeyPair(certPEM, keyPEM)
			if err != nil {
				pairsErr = err
				return
			}
			pairs = append(pairs, kp)
		}
	})
	require.NoError(t, pairsErr)
	return pairs[:3], pairs[3]
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// options point the clients at fake, its data plane and its ARM endpoint, with fast azcore retries.
func options(fake *fakehsm.Server) hsm.Options {
	return hsm.Options{
		ClientOptions: azcore.ClientOptions{Transport: fake.Client(),
			Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: "https://login.invalid/",
				Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
					cloud.ResourceManager: {Endpoint: fake.ARMEndpoint(), Audience: "https://management.azure.com"},
				}},
			Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond,
				MaxRetryDelay: 50 * time.Millisecond}},
		DisableChallengeResourceVerification: true,
	}
}

// download activates fake as the plugin does, wrapping its domain to the holders with quorum 2 of 3.
func download(t *testing.T, fake *fakehsm.Server) *securitydomain.File {
	t.Helper()
	ctx := testCtx(t)
	keys, _ := holders(t)
	certs := make([]*x509.Certificate, len(keys))
	for i, kp := range keys {
		certs[i] = kp.Cert
	}
	body, err := securitydomain.NewDownloadRequest(certs, 2)
	require.NoError(t, err)
	sd, err := hsm.NewSecurityDomainClient(fake.URL(), fake.Credential(admin), options(fake))
	require.NoError(t, err)
	raw, _, err := sd.Download(ctx, body)
	require.NoError(t, err)
	for range 10 {
		st, err := sd.DownloadStatus(ctx)
		require.NoError(t, err)
		if st.Done() {
			break
		}
	}
	require.True(t, fake.Activated())
	domain, err := securitydomain.Parse(raw)
	require.NoError(t, err)
	return domain
}

// run records what Restore reports and how long it would have slept, without sleeping.
type run struct {
	mu     sync.Mutex
	lines  []string
	sleeps []time.Duration
}

func (r *run) options(fake *fakehsm.Server) recovery.Options {
	return recovery.Options{
		HSM:     options(fake),
		Timeout: time.Minute,
		Progress: func(msg string) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.lines = append(r.lines, msg)
		},
		Sleep: func(d time.Duration) <-chan time.Time {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.sleeps = append(r.sleeps, d)
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		},
	}
}

func restore(t *testing.T, target *fakehsm.Server, domain *securitydomain.File, keys []securitydomain.KeyPair,
	r *run) (recovery.Result, error) {
	t.Helper()
	return recovery.Restore(testCtx(t), target.URL(), domain, keys, target.Credential(admin), r.options(target))
}

// securityDomainRequests counts the requests target got on every security-domain route.
func securityDomainRequests(target *fakehsm.Server) int {
	return target.Requests(fakehsm.RouteSecurityDomainTransferKey, fakehsm.RouteSecurityDomainUpload,
		fakehsm.RouteSecurityDomainUploadPending, fakehsm.RouteSecurityDomainDownload,
		fakehsm.RouteSecurityDomainDownloadPending)
}

func TestRestoreIntoANewHSMThenRestoreAKeyBackup(t *testing.T) {
	keys, _ := holders(t)
	source := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	domain := download(t, source)
	ctx := testCtx(t)

	// Before the disaster: a key on the old HSM seals a secret, and the key is backed up.
	source.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	oldKeys, err := hsm.NewKeysClient(source.URL(), source.Credential(cryptoUser), options(source))
	require.NoError(t, err)
	_, err = oldKeys.CreateKey(ctx, "cmk", azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSAHSM),
		KeySize: to.Ptr[int32](2048)}, nil)
	require.NoError(t, err)
	params := azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256),
		Value: []byte("TDE master key material, sealed on the old HSM")}
	sealed, err := oldKeys.Encrypt(ctx, "cmk", "", params, nil)
	require.NoError(t, err)
	backup, err := oldKeys.BackupKey(ctx, "cmk", nil)
	require.NoError(t, err)

	target := fakehsm.New(t, fakehsm.WithPendingPolls(2), fakehsm.WithRetryAfter("7"))
	target.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	newKeys, err := hsm.NewKeysClient(target.URL(), target.Credential(cryptoUser), options(target))
	require.NoError(t, err)
	_, err = newKeys.RestoreKey(ctx, azkeys.RestoreKeyParameters{KeyBackup: backup.Value}, nil)
	require.Error(t, err, "a key backup cannot restore before the domain is there")

	var r run
	res, err := restore(t, target, domain, []securitydomain.KeyPair{keys[2], {Key: keys[0].Key}}, &r)
	require.NoError(t, err)

	assert.True(t, target.Activated())
	assert.Equal(t, source.Items(), target.Items(), "the new HSM holds the old HSM's domain")
	held, ok := target.TransferKey()
	require.True(t, ok)
	assert.Equal(t, recovery.Result{HSM: strings.TrimSuffix(strings.TrimPrefix(target.URL(), "https://"), "/"),
		Items: len(domain.EncData.Data), Required: 2, Shares: 3, KeysGiven: 2,
		TransferKey: securitydomain.Thumbprint(held.Cert), Elapsed: res.Elapsed}, res)
	assert.Equal(t, 1, target.Requests(fakehsm.RouteSecurityDomainUpload))
	assert.Equal(t, 3, target.Requests(fakehsm.RouteSecurityDomainUploadPending), "two InProgress, one Success")
	assert.Equal(t, []time.Duration{7 * time.Second, 7 * time.Second, 7 * time.Second}, r.sleeps,
		"the upload's Retry-After, then each InProgress poll's")
	joined := strings.Join(r.lines, "\n")
	assert.Contains(t, joined, "uploading the security domain (3 items)")
	assert.Contains(t, joined, "waiting for restore of the security domain into managed HSM")
	assert.Contains(t, joined, "is active with the restored security domain")
	assert.NotContains(t, joined, "PRIVATE KEY")

	// After: the key backup restores into the new HSM, and what the old HSM sealed opens there.
	_, err = newKeys.RestoreKey(ctx, azkeys.RestoreKeyParameters{KeyBackup: backup.Value}, nil)
	require.NoError(t, err)
	opened, err := newKeys.Decrypt(ctx, "cmk", "", azkeys.KeyOperationParameters{Algorithm: params.Algorithm,
		Value: sealed.Result}, nil)
	require.NoError(t, err)
	assert.Equal(t, params.Value, opened.Result)
}

func TestRestoreRefusesBeforeAnyUpload(t *testing.T) {
	keys, stranger := holders(t)
	source := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	domain := download(t, source)

	cases := []struct {
		name string
		keys []securitydomain.KeyPair
		want error
		text string
	}{
		{"one-of-three", keys[1:2], recovery.ErrTooFewKeys, "1 given, the domain needs 2 of its 3"},
		{"a-stranger-with-its-certificate", []securitydomain.KeyPair{keys[0], stranger}, recovery.ErrWrongKeys,
			"1 matched no share"},
		{"a-stranger-without-certificate", []securitydomain.KeyPair{keys[0], {Key: stranger.Key}},
			recovery.ErrWrongKeys, "1 failed to decrypt"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := fakehsm.New(t)
			var r run
			_, err := restore(t, target, domain, tc.keys, &r)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.text)
			assert.Contains(t, err.Error(), "restoring the security domain into managed HSM 127.0.0.1:")
			assert.Empty(t, target.RequestLog(), "nothing reached the HSM")
			assert.False(t, target.Activated())
		})
	}

	t.Run("an-active-hsm", func(t *testing.T) {
		for name, target := range map[string]*fakehsm.Server{"activated-by-download": source,
			"started-active": fakehsm.New(t, fakehsm.WithActivated())} {
			t.Run(name, func(t *testing.T) {
				items := target.Items()
				var r run
				_, err := restore(t, target, domain, keys[:2], &r)
				require.ErrorIs(t, err, recovery.ErrAlreadyActive)
				assert.Contains(t, err.Error(), "restore into a new HSM")
				assert.Zero(t, target.Requests(fakehsm.RouteSecurityDomainUpload,
					fakehsm.RouteSecurityDomainTransferKey))
				assert.Equal(t, items, target.Items())
			})
		}
	})
}

func TestRestoreReportsAnUploadTheHSMRefusesAsAlreadyActive(t *testing.T) {
	keys, _ := holders(t)
	domain := download(t, fakehsm.New(t, fakehsm.WithPendingPolls(0)))
	// Another operator's restore won the race between the activation check and this upload.
	target := fakehsm.New(t, fakehsm.WithFaults(fakehsm.Fault{Route: fakehsm.RouteSecurityDomainUpload,
		Status: http.StatusConflict, Times: 1, Code: fakehsm.CodeConflict,
		Message: "Security domain upload is not allowed: the managed HSM is already activated."}))
	var r run
	_, err := restore(t, target, domain, keys[:2], &r)
	require.ErrorIs(t, err, recovery.ErrAlreadyActive)
	assert.Contains(t, err.Error(), "refused the upload")
}

func TestRestoreReportsAFailedUploadWithItsDetails(t *testing.T) {
	keys, _ := holders(t)
	domain := download(t, fakehsm.New(t, fakehsm.WithPendingPolls(0)))
	const details = "Restoring the security domain failed: the HSM could not import the domain keys."
	target := fakehsm.New(t, fakehsm.WithPendingPolls(1), fakehsm.WithUploadFailure(details))
	var r run
	_, err := restore(t, target, domain, keys[:2], &r)
	require.ErrorIs(t, err, recovery.ErrUploadFailed)
	assert.Contains(t, err.Error(), details)
	assert.Contains(t, err.Error(), "restore of the security domain into managed HSM")
	assert.False(t, target.Activated())
	assert.Empty(t, target.Items())
}

func TestRestoreGivesUpAtItsNamedTimeout(t *testing.T) {
	keys, _ := holders(t)
	domain := download(t, fakehsm.New(t, fakehsm.WithPendingPolls(0)))
	target := fakehsm.New(t, fakehsm.WithPendingPolls(1000))
	var r run
	opts := r.options(target)
	opts.Timeout = 10 * time.Millisecond
	opts.Sleep = func(time.Duration) <-chan time.Time { return nil } // only the deadline ends the pause
	_, err := recovery.Restore(testCtx(t), target.URL(), domain, keys[:2], target.Credential(admin), opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "did not finish within its 10ms timeout")
	assert.False(t, target.Activated())
}

func TestRestoreNeedsADomain(t *testing.T) {
	keys, _ := holders(t)
	target := fakehsm.New(t)
	var r run
	_, err := restore(t, target, nil, keys, &r)
	require.Error(t, err)
	assert.Zero(t, securityDomainRequests(target))
}

func TestRestoreReadsActivationFromARMWhenGivenTheResourceID(t *testing.T) {
	keys, _ := holders(t)
	source := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	domain := download(t, source)
	withID := func(r *run, fake *fakehsm.Server, id string) recovery.Options {
		opts := r.options(fake)
		opts.ResourceID = id
		return opts
	}

	target := fakehsm.New(t, fakehsm.WithPendingPolls(1))
	var r run
	_, err := recovery.Restore(testCtx(t), target.URL(), domain, keys[:2], target.Credential(admin),
		withID(&r, target, target.ARMID()))
	require.NoError(t, err)
	assert.True(t, target.Activated())
	assert.Equal(t, source.Items(), target.Items())
	assert.Equal(t, 2, target.Requests(fakehsm.RouteGetManagedHSM), "once before the upload, once after")
	assert.Zero(t, target.Requests(fakehsm.RouteListRoleDefinitions), "ARM decides, not the data plane")

	t.Run("active", func(t *testing.T) {
		var r run
		_, err := recovery.Restore(testCtx(t), source.URL(), domain, keys[:2], source.Credential(admin),
			withID(&r, source, source.ARMID()))
		require.ErrorIs(t, err, recovery.ErrAlreadyActive)
		assert.Contains(t, err.Error(), "Azure Resource Manager reports its activationStatus Active")
		assert.Zero(t, source.Requests(fakehsm.RouteSecurityDomainUpload))
	})
	t.Run("unreadable", func(t *testing.T) {
		fresh := fakehsm.New(t)
		var r run
		other := strings.Replace(fresh.ARMID(), fakehsm.DefaultResourceGroup, "rg-elsewhere", 1)
		_, err := recovery.Restore(testCtx(t), fresh.URL(), domain, keys[:2], fresh.Credential(admin),
			withID(&r, fresh, other))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "reading managed HSM")
		assert.Zero(t, securityDomainRequests(fresh), "nothing uploaded to an HSM whose state is unknown")
	})
	t.Run("not-an-hsm-id", func(t *testing.T) {
		fresh := fakehsm.New(t)
		var r run
		_, err := recovery.Restore(testCtx(t), fresh.URL(), domain, keys[:2], fresh.Credential(admin),
			withID(&r, fresh, "/subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/z"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "not a Microsoft.KeyVault/managedHSMs")
		assert.Empty(t, fresh.RequestLog())
	})
}

func TestRestoreWaitsForTheDataPlaneToOpenAfterTheUpload(t *testing.T) {
	keys, _ := holders(t)
	domain := download(t, fakehsm.New(t, fakehsm.WithPendingPolls(0)))
	// The check before the upload and the first one after it are told the HSM is not activated yet.
	notYet := fakehsm.Fault{Route: fakehsm.RouteListRoleDefinitions, Status: http.StatusForbidden, Times: 2,
		Code: fakehsm.CodeForbidden, Message: fakehsm.NotActivatedMessage}
	target := fakehsm.New(t, fakehsm.WithPendingPolls(0), fakehsm.WithFaults(notYet))
	var r run
	opts := r.options(target)
	opts.Interval = 3 * time.Second
	_, err := recovery.Restore(testCtx(t), target.URL(), domain, keys[:2], target.Credential(admin), opts)
	require.NoError(t, err)
	assert.Zero(t, target.PendingFaults())
	assert.Equal(t, []time.Duration{3 * time.Second}, r.sleeps, "one pause of the interval, no Retry-After")
	assert.Equal(t, 3, target.Requests(fakehsm.RouteListRoleDefinitions))

	t.Run("until-the-timeout", func(t *testing.T) {
		never := notYet
		never.Times = 1000
		target := fakehsm.New(t, fakehsm.WithPendingPolls(0), fakehsm.WithFaults(never))
		var r run
		opts := r.options(target)
		opts.Timeout = 10 * time.Millisecond
		opts.Sleep = func(time.Duration) <-chan time.Time { return nil }
		_, err := recovery.Restore(testCtx(t), target.URL(), domain, keys[:2], target.Credential(admin), opts)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "did not finish within its 10ms timeout")
		assert.Contains(t, err.Error(), "the upload reported Success but the last activation check answered")
		assert.Contains(t, err.Error(), "not activated")
	})
}
