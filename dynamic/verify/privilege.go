// This file holds the least-privilege checks (the guide's Tests 4 and 6.3): as the guide's service principal,
// an encrypt/decrypt round trip succeeds, and creating a key or granting a role is refused. The refusals are
// proven by trying, not read off the role: an attempt that unexpectedly succeeds is undone and reported.
package verify

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
)

// ProbeKeyPrefix starts the name of the key the key-creation probe asks for; a random suffix keeps a probe that
// unexpectedly succeeded from colliding with the soft-deleted key of an earlier one.
const ProbeKeyPrefix = "odaa-verify-probe-"

// CheckRoundTrip encrypts random bytes with the key as the principal c authenticates as and decrypts them back
// (the scenario's Test 4), retrying while a fresh grant propagates. A key whose operations lack encrypt or
// decrypt is proven with wrapKey and unwrapKey instead, which is what the database itself does with it.
func CheckRoundTrip(ctx context.Context, c *azkeys.Client, keyName string, ops []string, principal string,
	retry hsm.Retry) Result {
	const guide = "Test 4"
	type op func(ctx context.Context, version string, value []byte) ([]byte, *azkeys.ID, error)
	alg := azkeys.EncryptionAlgorithmRSAOAEP256
	params := func(v []byte) azkeys.KeyOperationParameters {
		return azkeys.KeyOperationParameters{Algorithm: &alg, Value: v}
	}
	there, thereName := op(func(ctx context.Context, version string, v []byte) ([]byte, *azkeys.ID, error) {
		r, err := c.Encrypt(ctx, keyName, version, params(v), nil)
		return r.Result, r.KID, err
	}), "encrypt"
	back, backName := op(func(ctx context.Context, version string, v []byte) ([]byte, *azkeys.ID, error) {
		r, err := c.Decrypt(ctx, keyName, version, params(v), nil)
		return r.Result, r.KID, err
	}), "decrypt"
	if !slices.Contains(ops, "encrypt") || !slices.Contains(ops, "decrypt") {
		there, thereName = func(ctx context.Context, version string, v []byte) ([]byte, *azkeys.ID, error) {
			r, err := c.WrapKey(ctx, keyName, version, params(v), nil)
			return r.Result, r.KID, err
		}, "wrap"
		back, backName = func(ctx context.Context, version string, v []byte) ([]byte, *azkeys.ID, error) {
			r, err := c.UnwrapKey(ctx, keyName, version, params(v), nil)
			return r.Result, r.KID, err
		}, "unwrap"
	}
	check := thereName + "/" + backName + " as " + principal

	plain := make([]byte, 32)
	if _, err := rand.Read(plain); err != nil {
		return failed(check, guide, "drawing random plaintext: %v", err)
	}
	var sealed []byte
	var kid *azkeys.ID
	retry.What = fmt.Sprintf("%s with %s as %s", thereName, keyName, principal)
	err := retry.Do(ctx, func(ctx context.Context) error {
		var err error
		sealed, kid, err = there(ctx, "", plain)
		return err
	})
	if err != nil {
		return failed(check, guide, "%s with %s: %v", thereName, keyName, err)
	}
	if len(sealed) == 0 || bytes.Equal(sealed, plain) {
		return failed(check, guide, "%s with %s returned no ciphertext", thereName, keyName)
	}
	// Undo with the version that sealed, so that a rotation in between cannot fail the check.
	version := ""
	if kid != nil {
		version = kid.Version()
	}
	opened, _, err := back(ctx, version, sealed)
	if err != nil {
		return failed(check, guide, "%s with %s: %v", backName, keyName, err)
	}
	if !bytes.Equal(opened, plain) {
		return failed(check, guide, "%s with %s did not return the plaintext", backName, keyName)
	}
	return passed(check, guide, "%d bytes through %s and %s with %s (RSA-OAEP-256)", len(plain), thereName,
		backName, keyName)
}

// CheckCannotCreateKey tries to create a key as the principal c authenticates as, and passes only when the HSM
// refuses for lack of permission (403 that is neither the firewall nor an inactive HSM). A key created anyway
// is deleted at once and the check fails, naming the role that allowed it. When the configured role and scope
// grant key creation by design (the scenario's Crypto User at /keys), no probe key is made: the check is
// skipped with that reason, since making keys in a production HSM to prove a known grant proves nothing new.
func CheckCannotCreateKey(ctx context.Context, c *azkeys.Client, principal, role, scope string) Result {
	const guide = "least privilege"
	check := "no key creation as " + principal
	if creates, known := hsmrbac.CreatesKeys(role); known && creates && (scope == "/" || scope == "/keys") {
		return skipped(check, guide, "its role %s at %s lets it create keys, as configured "+
			"(servicePrincipal.role and scope); scope the role to /keys/<key> for least privilege", role, scope)
	}
	name := ProbeKeyPrefix + randomHex(4)
	kty := azkeys.KeyTypeRSAHSM
	_, err := c.CreateKey(ctx, name, azkeys.CreateKeyParameters{Kty: &kty, KeySize: to.Ptr(int32(2048))}, nil)
	if err == nil {
		undo := "deleted again"
		if _, derr := c.DeleteKey(ctx, name, nil); derr != nil {
			undo = fmt.Sprintf("deleting it failed, delete it by hand: %v", derr)
		}
		return failed(check, guide, "created key %s (%s): %s", name, undo, grantsWhy(role))
	}
	return denial(check, guide, "creating a key", err)
}

// CheckCannotAssignRole tries, as the principal c authenticates as, to grant itself Managed HSM Administrator
// at "/", and passes only when the HSM refuses for lack of permission. An assignment made anyway is deleted at
// once and the check fails.
func CheckCannotAssignRole(ctx context.Context, c *rbac.Client, principal, objectID string) Result {
	const guide = "least privilege"
	check := "no role assignment as " + principal
	if objectID == "" {
		return failed(check, guide, "the stack outputs name no object ID for the principal")
	}
	roleID, err := hsmrbac.RoleID(hsmrbac.Administrator)
	if err != nil {
		return failed(check, guide, "%v", err)
	}
	name := randomGUID()
	body := rbac.RoleAssignmentCreateParameters{Properties: &rbac.RoleAssignmentProperties{
		PrincipalID: to.Ptr(objectID), RoleDefinitionID: to.Ptr(hsmrbac.RoleDefinitionID(roleID))}}
	_, err = c.CreateRoleAssignment(ctx, rbac.RoleScopeGlobal, name, body, nil)
	if err == nil {
		undo := "deleted again"
		if _, derr := c.DeleteRoleAssignment(ctx, rbac.RoleScopeGlobal, name, nil); derr != nil {
			undo = fmt.Sprintf("deleting it failed, delete assignment %s at / by hand: %v", name, derr)
		}
		return failed(check, guide, "granted itself %s at / (%s): the principal can manage roles",
			hsmrbac.Administrator, undo)
	}
	return denial(check, guide, "granting a role", err)
}

// denial turns the error of an attempt that should have been refused into a result: a permission refusal
// passes; a closed network, an inactive HSM or any other failure proves nothing and fails.
func denial(check, guide, what string, err error) Result {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return failed(check, guide, "%s did not reach the HSM, so nothing is proven: %v", what, err)
	}
	switch hsm.Classify(err) {
	case hsm.NetworkClosed:
		return failed(check, guide, "%s was refused by the HSM's network rules, not by RBAC, so nothing is "+
			"proven: run inside the VNet (%s)", what, re.ErrorCode)
	case hsm.NotActivated:
		return failed(check, guide, "%s was refused because the HSM is not activated", what)
	}
	if re.StatusCode != http.StatusForbidden {
		return failed(check, guide, "%s answered %d %s, not 403: the refusal is not a permission denial",
			what, re.StatusCode, re.ErrorCode)
	}
	return passed(check, guide, "%s refused: 403 %s", what, re.ErrorCode)
}

// grantsWhy explains a key creation that succeeded from the principal's configured role.
func grantsWhy(role string) string {
	if creates, known := hsmrbac.CreatesKeys(role); known && creates {
		return fmt.Sprintf("its role %s grants keys/create; give it a role without it (Managed HSM Crypto "+
			"Service Encryption User, or a custom role) for least privilege", role)
	}
	return fmt.Sprintf("some role assignment grants it keys/create (configured role: %s)", role)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return fmt.Sprintf("%x", b)
}

// randomGUID returns a random version-4 GUID, the form role assignment names take.
func randomGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
