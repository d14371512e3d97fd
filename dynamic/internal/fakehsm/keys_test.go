// This file tests the key endpoints through the real azkeys client: the key lifecycle with soft delete,
// purge and recover, rotation and its policy, genuine RSA round trips, and the refusals of key_ops and of
// operations the fake does not implement.

package fakehsm_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

// rsaKey is the create request of a 2048-bit RSA-HSM key with ops (the service default when ops is nil).
func rsaKey(ops ...azkeys.KeyOperation) azkeys.CreateKeyParameters {
	p := azkeys.CreateKeyParameters{Kty: to.Ptr(azkeys.KeyTypeRSAHSM), KeySize: to.Ptr[int32](2048)}
	if ops != nil {
		p.KeyOps = to.SliceOfPtrs(ops...)
	}
	return p
}

func opsOf(k *azkeys.JSONWebKey) []azkeys.KeyOperation {
	var out []azkeys.KeyOperation
	for _, op := range k.KeyOps {
		out = append(out, *op)
	}
	return out
}

func TestKeyLifecycle(t *testing.T) {
	fake := newActive(t)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	fake.Assign(cryptoOfficer, fakehsm.RoleCryptoOfficer, "/")
	user := keysClient(t, fake, cryptoUser)
	officer := keysClient(t, fake, cryptoOfficer)
	ctx := testCtx(t)

	params := rsaKey(azkeys.KeyOperationWrapKey, azkeys.KeyOperationUnwrapKey)
	params.Tags = map[string]*string{"env": to.Ptr("test")}
	created, err := user.CreateKey(ctx, "cmk", params, nil)
	require.NoError(t, err)
	kid := created.Key.KID
	v1 := kid.Version()
	assert.True(t, strings.HasPrefix(string(*kid), fake.URL()+"keys/cmk/"), "kid %s is under the HSM URI", *kid)
	assert.Equal(t, "cmk", kid.Name())
	assert.Len(t, v1, 32)
	assert.Equal(t, azkeys.KeyTypeRSAHSM, *created.Key.Kty)
	assert.Len(t, created.Key.N, 256, "a 2048-bit modulus")
	assert.Equal(t, []byte{1, 0, 1}, created.Key.E)
	assert.Equal(t, []azkeys.KeyOperation{azkeys.KeyOperationWrapKey, azkeys.KeyOperationUnwrapKey},
		opsOf(created.Key))
	assert.True(t, *created.Attributes.Enabled)
	assert.Equal(t, int32(fakehsm.DefaultRetentionDays), *created.Attributes.RecoverableDays)
	assert.Equal(t, "test", *created.Tags["env"])

	latest, err := user.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)
	assert.Equal(t, *kid, *latest.Key.KID)
	byVersion, err := user.GetKey(ctx, "cmk", v1, nil)
	require.NoError(t, err)
	assert.Equal(t, created.Key.N, byVersion.Key.N)

	updated, err := user.UpdateKey(ctx, "cmk", v1, azkeys.UpdateKeyParameters{KeyOps: to.SliceOfPtrs(
		azkeys.KeyOperationEncrypt, azkeys.KeyOperationDecrypt, azkeys.KeyOperationWrapKey,
		azkeys.KeyOperationUnwrapKey)}, nil)
	require.NoError(t, err)
	assert.Len(t, updated.Key.KeyOps, 4)
	again, err := user.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)
	assert.Contains(t, opsOf(again.Key), azkeys.KeyOperationEncrypt, "the update is kept")

	t.Run("rotation-policy", func(t *testing.T) {
		empty, err := user.GetKeyRotationPolicy(ctx, "cmk", nil)
		require.NoError(t, err)
		assert.Empty(t, empty.LifetimeActions)
		policy := azkeys.KeyRotationPolicy{
			LifetimeActions: []*azkeys.LifetimeAction{{
				Action:  &azkeys.LifetimeActionType{Type: to.Ptr(azkeys.KeyRotationPolicyActionRotate)},
				Trigger: &azkeys.LifetimeActionTrigger{TimeAfterCreate: to.Ptr("P90D")},
			}},
			Attributes: &azkeys.KeyRotationPolicyAttributes{ExpiryTime: to.Ptr("P1Y")},
		}
		_, err = user.UpdateKeyRotationPolicy(ctx, "cmk", policy, nil)
		require.NoError(t, err)
		got, err := user.GetKeyRotationPolicy(ctx, "cmk", nil)
		require.NoError(t, err)
		require.Len(t, got.LifetimeActions, 1)
		assert.Equal(t, azkeys.KeyRotationPolicyActionRotate, *got.LifetimeActions[0].Action.Type)
		assert.Equal(t, "P90D", *got.LifetimeActions[0].Trigger.TimeAfterCreate)
		assert.Equal(t, "P1Y", *got.Attributes.ExpiryTime)
		assert.Equal(t, fake.URL()+"keys/cmk/rotationpolicy", *got.ID)

		bad := policy
		bad.LifetimeActions = []*azkeys.LifetimeAction{{
			Action: &azkeys.LifetimeActionType{Type: to.Ptr(azkeys.KeyRotationPolicyActionRotate)},
			Trigger: &azkeys.LifetimeActionTrigger{TimeAfterCreate: to.Ptr("P90D"),
				TimeBeforeExpiry: to.Ptr("P30D")},
		}}
		_, err = user.UpdateKeyRotationPolicy(ctx, "cmk", bad, nil)
		serviceError(t, err, http.StatusBadRequest, fakehsm.CodeBadParameter)
	})

	rotated, err := user.RotateKey(ctx, "cmk", nil)
	require.NoError(t, err)
	v2 := rotated.Key.KID.Version()
	assert.NotEqual(t, v1, v2)
	assert.NotEqual(t, created.Key.N, rotated.Key.N, "a rotation makes new key material")
	assert.Equal(t, opsOf(updated.Key), opsOf(rotated.Key), "a rotation keeps the latest version's ops")
	assert.Equal(t, "test", *rotated.Tags["env"])

	var versions []string
	pager := user.NewListKeyPropertiesVersionsPager("cmk", nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, k := range page.Value {
			versions = append(versions, k.KID.Version())
		}
	}
	assert.ElementsMatch(t, []string{v1, v2}, versions)
	latest, err = user.GetKey(ctx, "cmk", "", nil)
	require.NoError(t, err)
	assert.Equal(t, v2, latest.Key.KID.Version())

	deleted, err := user.DeleteKey(ctx, "cmk", nil)
	require.NoError(t, err)
	assert.Equal(t, fake.URL()+"deletedkeys/cmk", *deleted.RecoveryID)
	assert.Equal(t, time.Duration(fakehsm.DefaultRetentionDays)*24*time.Hour,
		deleted.ScheduledPurgeDate.Sub(*deleted.DeletedDate))
	assert.Equal(t, []string{"cmk"}, fake.DeletedKeyNames())

	_, err = user.GetKey(ctx, "cmk", "", nil)
	serviceError(t, err, http.StatusNotFound, fakehsm.CodeKeyNotFound)
	_, err = user.CreateKey(ctx, "cmk", rsaKey(), nil)
	serviceError(t, err, http.StatusConflict, fakehsm.CodeConflict)
	gotDeleted, err := officer.GetDeletedKey(ctx, "cmk", nil)
	require.NoError(t, err)
	assert.Equal(t, v2, gotDeleted.Key.KID.Version())
	// Crypto User manages keys but may neither purge nor recover them; that is Crypto Officer's.
	_, err = user.PurgeDeletedKey(ctx, "cmk", nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)
	_, err = user.RecoverDeletedKey(ctx, "cmk", nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeAccessDenied)

	recovered, err := officer.RecoverDeletedKey(ctx, "cmk", nil)
	require.NoError(t, err)
	assert.Equal(t, v2, recovered.Key.KID.Version())
	_, err = user.GetKey(ctx, "cmk", v1, nil)
	require.NoError(t, err, "recovery brings back every version")
	assert.Empty(t, fake.DeletedKeyNames())

	_, err = user.DeleteKey(ctx, "cmk", nil)
	require.NoError(t, err)
	_, err = officer.PurgeDeletedKey(ctx, "cmk", nil)
	require.NoError(t, err)
	_, err = officer.GetDeletedKey(ctx, "cmk", nil)
	serviceError(t, err, http.StatusNotFound, fakehsm.CodeKeyNotFound)
	assert.Empty(t, fake.KeyNames())
	assert.Empty(t, fake.DeletedKeyNames())
	_, err = user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err, "a purged name is free again")
}

func TestKeyCryptoRoundTrips(t *testing.T) {
	fake := newActive(t)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	user := keysClient(t, fake, cryptoUser)
	ctx := testCtx(t)
	created, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)
	version := created.Key.KID.Version()
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(created.Key.N), E: int(new(big.Int).SetBytes(created.Key.E).Int64())}

	for _, alg := range []azkeys.EncryptionAlgorithm{azkeys.EncryptionAlgorithmRSAOAEP,
		azkeys.EncryptionAlgorithmRSAOAEP256} {
		t.Run(string(alg), func(t *testing.T) {
			secret := make([]byte, 32)
			_, err := rand.Read(secret)
			require.NoError(t, err)
			params := azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg), Value: secret}

			enc, err := user.Encrypt(ctx, "cmk", "", params, nil)
			require.NoError(t, err)
			assert.Len(t, enc.Result, 256)
			assert.Equal(t, version, enc.KID.Version(), "the latest version encrypts")
			dec, err := user.Decrypt(ctx, "cmk", version, azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg),
				Value: enc.Result}, nil)
			require.NoError(t, err)
			assert.Equal(t, secret, dec.Result)

			wrapped, err := user.WrapKey(ctx, "cmk", version, params, nil)
			require.NoError(t, err)
			assert.NotEqual(t, enc.Result, wrapped.Result, "OAEP is randomized")
			unwrapped, err := user.UnwrapKey(ctx, "cmk", "", azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg),
				Value: wrapped.Result}, nil)
			require.NoError(t, err)
			assert.Equal(t, secret, unwrapped.Result)

			_, err = user.Decrypt(ctx, "cmk", version, azkeys.KeyOperationParameters{Algorithm: to.Ptr(alg),
				Value: slices.Concat(enc.Result[:255], []byte{enc.Result[255] ^ 1})}, nil)
			serviceError(t, err, http.StatusBadRequest, fakehsm.CodeBadParameter)
		})
	}

	t.Run("local-encrypt-remote-unwrap", func(t *testing.T) {
		// A client wrapping locally to the published public key must be able to unwrap through the HSM: the
		// key the fake answers with is the one it holds.
		secret := []byte("thirty-two bytes of key material")
		local, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, secret, nil)
		require.NoError(t, err)
		unwrapped, err := user.UnwrapKey(ctx, "cmk", version, azkeys.KeyOperationParameters{
			Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256), Value: local}, nil)
		require.NoError(t, err)
		assert.Equal(t, secret, unwrapped.Result)
	})
}

func TestKeyOperationOutsideKeyOpsIsRefused(t *testing.T) {
	fake := newActive(t)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	user := keysClient(t, fake, cryptoUser)
	ctx := testCtx(t)
	_, err := user.CreateKey(ctx, "wrap-only", rsaKey(azkeys.KeyOperationWrapKey, azkeys.KeyOperationUnwrapKey), nil)
	require.NoError(t, err)
	params := azkeys.KeyOperationParameters{Algorithm: to.Ptr(azkeys.EncryptionAlgorithmRSAOAEP256),
		Value: []byte("secret")}

	_, err = user.Encrypt(ctx, "wrap-only", "", params, nil)
	body := serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
	assert.Contains(t, body, "Operation encrypt is not permitted on this key.")
	assert.Contains(t, body, `"innererror":{"code":"KeyOperationForbidden"}`)
	_, err = user.WrapKey(ctx, "wrap-only", "", params, nil)
	require.NoError(t, err)

	_, err = user.UpdateKey(ctx, "wrap-only", "", azkeys.UpdateKeyParameters{KeyOps: to.SliceOfPtrs(
		azkeys.KeyOperationEncrypt)}, nil)
	require.NoError(t, err)
	_, err = user.Encrypt(ctx, "wrap-only", "", params, nil)
	require.NoError(t, err, "encrypt is allowed once key_ops lists it")
	_, err = user.WrapKey(ctx, "wrap-only", "", params, nil)
	serviceError(t, err, http.StatusForbidden, fakehsm.CodeForbidden)
}

func TestUnsupportedKeyOperationAnswers501(t *testing.T) {
	fake := newActive(t)
	fake.Assign(cryptoUser, fakehsm.RoleCryptoUser, "/keys")
	user := keysClient(t, fake, cryptoUser)
	ctx := testCtx(t)
	_, err := user.CreateKey(ctx, "cmk", rsaKey(), nil)
	require.NoError(t, err)
	digest := sha256.Sum256([]byte("message"))

	_, err = user.Sign(ctx, "cmk", "", azkeys.SignParameters{Algorithm: to.Ptr(azkeys.SignatureAlgorithmRS256),
		Value: digest[:]}, nil)
	serviceError(t, err, http.StatusNotImplemented, fakehsm.CodeNotImplemented)
	_, err = user.GetRandomBytes(ctx, azkeys.GetRandomBytesParameters{Count: to.Ptr[int32](16)}, nil)
	serviceError(t, err, http.StatusNotImplemented, fakehsm.CodeNotImplemented)
	assert.Equal(t, 2, fake.Requests(fakehsm.RouteUnsupportedKeyOperation), "azcore does not retry a 501")
}
