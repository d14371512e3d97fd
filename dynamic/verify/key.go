// This file holds the key checks: its shape (the guide's Test 3) and, opt-in, a new version (Test 5).
package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

// KeySpec is what the stack's configuration asks of the key (hsm.key.*).
type KeySpec struct {
	Name       string
	Type       string
	Size       int
	Operations []string
}

// CheckKey passes when the key's latest version is enabled, of the configured type (RSA-HSM: HSM-backed), of
// the configured size, and allows at least the configured operations.
func CheckKey(ctx context.Context, c *azkeys.Client, spec KeySpec) Result {
	const guide = "Test 3"
	check := "key " + spec.Name
	resp, err := c.GetKey(ctx, spec.Name, "", nil)
	if err != nil {
		return failed(check, guide, "reading the key: %v", err)
	}
	if resp.Key == nil {
		return failed(check, guide, "the HSM answered without the key's material")
	}
	var problems []string
	if kty := keyType(resp.Key); !strings.EqualFold(kty, spec.Type) {
		problems = append(problems, fmt.Sprintf("type %s, want %s", kty, spec.Type))
	}
	if bits := len(resp.Key.N) * 8; bits != spec.Size {
		problems = append(problems, fmt.Sprintf("size %d bits, want %d", bits, spec.Size))
	}
	ops := keyOps(resp.Key)
	for _, want := range spec.Operations {
		if !slices.ContainsFunc(ops, func(op string) bool { return strings.EqualFold(op, want) }) {
			problems = append(problems, "operation "+want+" not allowed")
		}
	}
	if resp.Attributes != nil && resp.Attributes.Enabled != nil && !*resp.Attributes.Enabled {
		problems = append(problems, "disabled")
	}
	if len(problems) > 0 {
		return failed(check, guide, "%s", strings.Join(problems, "; "))
	}
	return passed(check, guide, "%s %d bits, version %s, operations %s", keyType(resp.Key), spec.Size,
		resp.Key.KID.Version(), strings.Join(ops, ", "))
}

// CheckRotation creates a new version of the key (RotateKey) and passes when the new version differs from the
// one before and keeps the key's type and size. It changes the key: the database keeps the version it was
// switched to until its key is switched again in OCI.
func CheckRotation(ctx context.Context, c *azkeys.Client, spec KeySpec, enabled bool) Result {
	const guide = "Test 5"
	check := "rotation " + spec.Name
	if !enabled {
		return skipped(check, guide, "opt-in (--rotate): it creates a new key version")
	}
	before, err := c.GetKey(ctx, spec.Name, "", nil)
	if err != nil {
		return failed(check, guide, "reading the key before rotating: %v", err)
	}
	after, err := c.RotateKey(ctx, spec.Name, nil)
	if err != nil {
		return failed(check, guide, "rotating: %v", err)
	}
	if before.Key == nil || after.Key == nil || after.Key.KID == nil || before.Key.KID == nil {
		return failed(check, guide, "the HSM answered without the key's identifier")
	}
	oldVersion, newVersion := before.Key.KID.Version(), after.Key.KID.Version()
	switch {
	case newVersion == "" || newVersion == oldVersion:
		return failed(check, guide, "the latest version is still %q after rotating", oldVersion)
	case !strings.EqualFold(keyType(after.Key), keyType(before.Key)) || len(after.Key.N) != len(before.Key.N):
		return failed(check, guide, "the new version %s is %s %d bits, the old one %s %d bits", newVersion,
			keyType(after.Key), len(after.Key.N)*8, keyType(before.Key), len(before.Key.N)*8)
	}
	return passed(check, guide, "new version %s (was %s); switch the database to it in OCI", newVersion,
		oldVersion)
}

func keyType(k *azkeys.JSONWebKey) string {
	if k.Kty == nil {
		return ""
	}
	return string(*k.Kty)
}

func keyOps(k *azkeys.JSONWebKey) []string {
	out := make([]string, 0, len(k.KeyOps))
	for _, op := range k.KeyOps {
		if op != nil {
			out = append(out, string(*op))
		}
	}
	return out
}
