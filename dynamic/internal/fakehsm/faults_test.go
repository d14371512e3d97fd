// This file tests fault injection and the request log: each fault fires exactly its Times, changes no state
// and is absorbed by azcore's retry policy; retry hints in milliseconds are honoured; bodies never reach the
// log.

package fakehsm_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// versionCount lists the versions of a key.
func versionCount(t *testing.T, c *azkeys.Client, name string) int {
	t.Helper()
	n := 0
	pager := c.NewListKeyPropertiesVersionsPager(name, nil)
	for pager.More() {
		page, err := pager.NextPage(testCtx(t))
		require.NoError(t, err)
		n += len(page.Value)
	}
	return n
}

func TestFaultsFireExactlyTheirTimes(t *testing.T) {
	cases := []struct {
		name    string
		fault   fakehsm.Fault
		status  int
		code    string
		message string
	}{
		{"throttle", fakehsm.Throttle(fakehsm.RouteCreateKey, 2, "0"), http.StatusTooManyRequests,
			fakehsm.CodeThrottled, "too many requests"},
		{"unavailable", fakehsm.Unavailable(fakehsm.RouteCreateKey, 2), http.StatusServiceUnavailable,
			fakehsm.CodeServiceUnavailable, "temporarily unavailable"},
		{"pool-creation-disabled", fakehsm.PoolCreationDisabled(fakehsm.RouteCreateKey, 2),
			http.StatusServiceUnavailable, fakehsm.CodeServiceUnavailable, fakehsm.PoolCreationDisabledMessage},
		{"internal-error", fakehsm.InternalError(fakehsm.RouteCreateKey, 2), http.StatusInternalServerError,
			fakehsm.CodeInternalServerError, "unexpected error"},
		{"every-route", fakehsm.Fault{Status: http.StatusBadGateway, Times: 2}, http.StatusBadGateway,
			"BadGateway", "Bad Gateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake := newActive(t, fakehsm.WithFaults(tc.fault))
			fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
			ctx := testCtx(t)
			assert.Equal(t, 2, fake.PendingFaults())

			rec := newRecorder(fake.Client())
			once := keysClient(t, fake, cryptoUser, withRetries(-1), withTransport(rec))
			_, err := once.CreateKey(ctx, "cmk", rsaKey(), nil)
			body := serviceError(t, err, tc.status, tc.code)
			assert.Contains(t, body, tc.message)
			if tc.fault.RetryAfter != "" {
				assert.Equal(t, tc.fault.RetryAfter, rec.last(t).Header.Get("Retry-After"))
			}
			assert.Equal(t, 1, fake.PendingFaults())
			assert.Empty(t, fake.KeyNames(), "a faulted request changes nothing")

			user := keysClient(t, fake, cryptoUser)
			_, err = user.CreateKey(ctx, "cmk", rsaKey(), nil)
			require.NoError(t, err, "azcore retries past the last fault")
			assert.Equal(t, 0, fake.PendingFaults())
			assert.Equal(t, 3, fake.Requests(fakehsm.RouteCreateKey), "two faulted, one served")
			assert.Equal(t, 1, versionCount(t, user, "cmk"), "only the served create made a version")

			_, err = once.CreateKey(ctx, "cmk", rsaKey(), nil)
			require.NoError(t, err, "the fault is spent")
			assert.Equal(t, 2, versionCount(t, user, "cmk"))
		})
	}
}

func TestFaultsLeaveOtherRoutesAlone(t *testing.T) {
	fake := newActive(t, fakehsm.WithFaults(fakehsm.Unavailable(fakehsm.RouteEncrypt, 1)))
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	once := keysClient(t, fake, cryptoUser, withRetries(-1))
	ctx := testCtx(t)

	_, err := once.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)
	_, err = once.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)
	assert.Equal(t, 1, fake.PendingFaults())
	params := azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256),
		Value: []byte("x")}
	_, err = once.Encrypt(ctx, "cmk", "", params, nil)
	serviceError(t, err, http.StatusServiceUnavailable, fakehsm.CodeServiceUnavailable)
	_, err = once.Encrypt(ctx, "cmk", "", params, nil)
	require.NoError(t, err)

	fake.AddFault(fakehsm.PoolCreationDisabled(fakehsm.RouteGetManagedHSM, 1))
	assert.Equal(t, 1, fake.PendingFaults())
	_, err = mgmtClient(fake, admin, withRetries(-1)).Get(ctx, fake.ARMID())
	serviceError(t, err, http.StatusServiceUnavailable, fakehsm.CodeServiceUnavailable)
	assert.Equal(t, hsm.RegionCapacity, hsm.Classify(err))
	_, err = mgmtClient(fake, admin, withRetries(-1)).Get(ctx, fake.ARMID())
	require.NoError(t, err)
}

func TestFaultedDownloadDoesNotActivate(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithFaults(fakehsm.Unavailable(fakehsm.RouteSecurityDomainDownload, 1)))
	body, err := securitydomain.NewDownloadRequest(certificatesOf(downloadKeys(t)), 2)
	require.NoError(t, err)
	ctx := testCtx(t)

	_, _, err = sdClient(t, fake, admin, withRetries(-1)).Download(ctx, body)
	serviceError(t, err, http.StatusServiceUnavailable, fakehsm.CodeServiceUnavailable)
	assert.Nil(t, fake.Domain())
	assert.Empty(t, fake.Items())

	_, _, err = sdClient(t, fake, admin).Download(ctx, body)
	require.NoError(t, err, "the retry after the outage downloads")
	assert.NotNil(t, fake.Domain())
}

func TestRetryAfterMsIsHonouredBeforeRetryAfter(t *testing.T) {
	ctx := testCtx(t)
	setup := func(t *testing.T, f fakehsm.Fault) (*fakehsm.Server, *azkeys.Client, *recorder) {
		fake := newActive(t)
		fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
		rec := newRecorder(fake.Client())
		user := keysClient(t, fake, cryptoUser, withTransport(rec))
		_, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
		require.NoError(t, err)
		fake.AddFault(f)
		return fake, user, rec
	}

	t.Run("seconds-only", func(t *testing.T) {
		// A whole-second hint exceeds the tests' 50 ms MaxRetryDelay, so azcore gives up instead of waiting.
		fake, user, _ := setup(t, fakehsm.Throttle(fakehsm.RouteGetKey, 1, "1"))
		start := time.Now()
		_, err := user.GetKey(ctx, "cmk", "", nil)
		serviceError(t, err, http.StatusTooManyRequests, fakehsm.CodeThrottled)
		assert.Less(t, time.Since(start), time.Second)
		assert.Equal(t, 1, fake.Requests(fakehsm.RouteGetKey))
	})

	t.Run("milliseconds", func(t *testing.T) {
		fake, user, rec := setup(t, fakehsm.Throttle(fakehsm.RouteGetKey, 1, "1").WithRetryAfterMs(30))
		start := time.Now()
		_, err := user.GetKey(ctx, "cmk", "", nil)
		require.NoError(t, err)
		elapsed := time.Since(start)
		assert.GreaterOrEqual(t, elapsed, 30*time.Millisecond, "azcore waited the millisecond hint")
		assert.Less(t, elapsed, time.Second, "and not the Retry-After seconds")
		assert.Equal(t, 2, fake.Requests(fakehsm.RouteGetKey))
		answers := rec.all()
		require.GreaterOrEqual(t, len(answers), 2)
		throttled := answers[len(answers)-2]
		assert.Equal(t, http.StatusTooManyRequests, throttled.Status)
		assert.Equal(t, "30", throttled.Header.Get(fakehsm.HeaderRetryAfterMs))
		assert.Equal(t, "1", throttled.Header.Get("Retry-After"))
	})
}

func TestRequestLogHoldsNoBodies(t *testing.T) {
	for i := range reflect.TypeFor[fakehsm.Request]().NumField() {
		f := reflect.TypeFor[fakehsm.Request]().Field(i)
		assert.Contains(t, []reflect.Kind{reflect.String, reflect.Int, reflect.Bool}, f.Type.Kind(),
			"field %s of a logged request could carry a body", f.Name)
	}

	fake := fakehsm.New(t, fakehsm.WithPendingPolls(0))
	domain := activate(t, fake)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	user := keysClient(t, fake, cryptoUser)
	ctx := testCtx(t)
	_, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)
	secret := []byte("plaintext-that-must-not-be-logged")
	enc, err := user.Encrypt(ctx, "cmk", "", azkeys.KeyOperationParameters{
		Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: secret}, nil)
	require.NoError(t, err)

	log := fake.RequestLog()
	text := fmt.Sprintf("%#v", log)
	for _, leak := range []string{string(secret), base64.RawURLEncoding.EncodeToString(secret),
		base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(enc.Result),
		domain.SharedKeys.EncShares[0].EncKey, domain.EncData.Data[0].CompactJWE, "EncData",
		base64.StdEncoding.EncodeToString(downloadKeys(t)[0].Cert.Raw)[:64]} {
		assert.NotContains(t, text, leak[:min(len(leak), 64)])
	}
	var encrypts []fakehsm.Request
	for _, r := range log {
		if r.Route == fakehsm.RouteEncrypt {
			encrypts = append(encrypts, r)
		}
	}
	require.Len(t, encrypts, 1, "the log does hold the encrypt call")
	assert.Equal(t, cryptoUser, encrypts[0].Principal)
	assert.Equal(t, http.StatusOK, encrypts[0].Status)
	assert.True(t, strings.HasSuffix(encrypts[0].Path, "/keys/cmk/encrypt"), "path %s", encrypts[0].Path)
}
