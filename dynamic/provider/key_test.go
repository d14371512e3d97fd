// This file tests Key against the fake HSM: create and adoption, diff and in-place update, rotation policy,
// side-effect-free preview, validation, role propagation (field case 5), an inactive HSM (field case 1),
// throttling, and soft delete and purge.
package provider

import (
	"context"
	"log/slog"
	"math/big"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// keyDeployer is the principal that runs the provider in these tests.
const keyDeployer = "de000000-0000-4000-8000-000000000002"

var tdeOps = []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}

// keyFake is an activated fake HSM where the deployer holds the roles keys need: Crypto User to create and
// change them, Crypto Officer to purge them (neither role alone does both).
func keyFake(t *testing.T, opts ...fakehsm.Option) *fakehsm.Server {
	t.Helper()
	fake := fakehsm.New(t, append([]fakehsm.Option{fakehsm.WithActivated()}, opts...)...)
	fake.Assign(keyDeployer, fakehsm.RoleCryptoUser, "/keys")
	fake.Assign(keyDeployer, fakehsm.RoleCryptoOfficer, "/keys")
	return fake
}

func keyInputs(fake *fakehsm.Server, name string, size int, ops ...string) property.Map {
	values := make([]property.Value, len(ops))
	for i, op := range ops {
		values[i] = property.New(op)
	}
	return property.NewMap(map[string]property.Value{
		"hsmUri":     property.New(fake.URL()),
		"name":       property.New(name),
		"keyType":    property.New("RSA-HSM"),
		"keySize":    property.New(float64(size)),
		"operations": property.New(values),
	})
}

func withPolicy(in property.Map, fields map[string]string) property.Map {
	m := map[string]property.Value{}
	for k, v := range fields {
		m[k] = property.New(v)
	}
	return in.Set("rotationPolicy", property.New(m))
}

// keysClient is the test's own view of the fake, as the deployer.
func keysClient(t *testing.T, fake *fakehsm.Server) *azkeys.Client {
	t.Helper()
	c, err := hsm.NewKeysClient(fake.URL(), fake.Credential(keyDeployer), fakeClientOptions(fake))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func versionCount(t *testing.T, c *azkeys.Client, name string) int {
	t.Helper()
	n := 0
	pager := c.NewListKeyPropertiesVersionsPager(name, nil)
	for pager.More() {
		page, err := pager.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += len(page.Value)
	}
	return n
}

func opsOf(k *azkeys.JSONWebKey) []string {
	var out []string
	for _, op := range k.KeyOps {
		out = append(out, string(*op))
	}
	return out
}

func stringsOf(v property.Value) []string {
	var out []string
	for _, e := range v.AsArray().AsSlice() {
		out = append(out, e.AsString())
	}
	return out
}

func (c *logCapture) warned(parts ...string) bool {
	for _, l := range c.Lines() {
		if l.Level != slog.LevelWarn {
			continue
		}
		ok := true
		for _, s := range parts {
			ok = ok && strings.Contains(l.Msg, s)
		}
		if ok {
			return true
		}
	}
	return false
}

func TestKeyCreate(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)

	resp := env.mustCreate(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...))

	got, err := keysClient(t, fake).GetKey(context.Background(), "tde", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ops := opsOf(got.Key); !slices.Equal(ops, tdeOps) {
		t.Errorf("the HSM holds operations %v, want %v", ops, tdeOps)
	}
	if bits := new(big.Int).SetBytes(got.Key.N).BitLen(); bits != 2048 {
		t.Errorf("the HSM holds a %d-bit modulus", bits)
	}
	keyID, version := resp.Properties.Get("keyId").AsString(), resp.Properties.Get("version").AsString()
	if version == "" || !strings.HasPrefix(keyID, fake.URL()+"keys/tde/") || !strings.HasSuffix(keyID, "/"+version) {
		t.Errorf("keyId %q, version %q", keyID, version)
	}
	if keyID != string(*got.Key.KID) {
		t.Errorf("keyId %q is not the kid the HSM returns, %q", keyID, *got.Key.KID)
	}
	if resp.ID != fake.URL()+"keys/tde" {
		t.Errorf("ID %q", resp.ID)
	}
	if kty := resp.Properties.Get("keyType").AsString(); kty != "RSA-HSM" {
		t.Errorf("keyType %q", kty)
	}
	if size := resp.Properties.Get("keySize").AsNumber(); size != 2048 {
		t.Errorf("keySize %v", size)
	}
}

func TestKeyCheckNormalisesRSA(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)

	in := keyInputs(fake, "tde", 2048, tdeOps...).Set("keyType", property.New("RSA"))
	checked, err := env.check(odaa.KeyType, property.Map{}, in)
	if err != nil || len(checked.Failures) > 0 {
		t.Fatalf("check: %v %v", err, checked.Failures)
	}
	if kty := checked.Inputs.Get("keyType").AsString(); kty != "RSA-HSM" {
		t.Errorf("keyType checked as %q, want RSA-HSM", kty)
	}
}

func TestKeySecondRunChangesNothing(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	in := keyInputs(fake, "tde", 2048, tdeOps...)
	first := env.mustCreate(odaa.KeyType, in)

	t.Run("diff-with-same-inputs", func(t *testing.T) {
		reordered := keyInputs(fake, "tde", 2048, "unwrapKey", "wrapKey", "decrypt", "encrypt")
		d, err := env.diff(odaa.KeyType, first.ID, first.Properties, in, reordered)
		if err != nil {
			t.Fatal(err)
		}
		if d.HasChanges {
			t.Errorf("changes planned: %v", d.DetailedDiff)
		}
	})
	t.Run("create-again-adopts", func(t *testing.T) {
		again := env.mustCreate(odaa.KeyType, in)
		if n := versionCount(t, keysClient(t, fake), "tde"); n != 1 {
			t.Errorf("%d versions after a second create, want 1", n)
		}
		if again.Properties.Get("keyId").AsString() != first.Properties.Get("keyId").AsString() {
			t.Errorf("adopted keyId %v, created %v", again.Properties.Get("keyId"), first.Properties.Get("keyId"))
		}
		if !env.logs.warned("already exists", "adopting") {
			t.Errorf("no adoption warning in:\n%s", env.logs.All())
		}
	})
}

func TestKeyCreateRefusesADifferentKey(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	size := int32(3072)
	_, err := keysClient(t, fake).CreateKey(context.Background(), "tde", azkeys.CreateKeyParameters{
		Kty: new(azkeys.KeyTypeRSAHSM), KeySize: &size, KeyOps: []*azkeys.KeyOperation{new(azkeys.KeyOperationSign)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}

	_, err = env.create(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...), false)

	if err == nil {
		t.Fatal("create adopted a key of another size and operations")
	}
	for _, want := range []string{"keySize 3072 (not 2048)", "operations [sign]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if n := versionCount(t, keysClient(t, fake), "tde"); n != 1 {
		t.Errorf("%d versions, want the original only", n)
	}
}

func TestKeyDiffAndUpdate(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	in := keyInputs(fake, "tde", 2048, tdeOps...)
	created := env.mustCreate(odaa.KeyType, in)

	t.Run("operations-change-in-place", func(t *testing.T) {
		news := keyInputs(fake, "tde", 2048, "wrapKey", "unwrapKey")
		d, err := env.diff(odaa.KeyType, created.ID, created.Properties, in, news)
		if err != nil {
			t.Fatal(err)
		}
		if !d.HasChanges || d.DetailedDiff["operations"].Kind != p.Update || d.DeleteBeforeReplace {
			t.Fatalf("diff %+v", d)
		}
		upd, err := env.update(odaa.KeyType, created.ID, created.Properties, in, news, false)
		if err != nil {
			t.Fatal(err)
		}
		got, err := keysClient(t, fake).GetKey(context.Background(), "tde", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		if ops := opsOf(got.Key); !slices.Equal(ops, []string{"wrapKey", "unwrapKey"}) {
			t.Errorf("the HSM holds operations %v after the update", ops)
		}
		if ops := stringsOf(upd.Properties.Get("operations")); !slices.Equal(ops, []string{"wrapKey", "unwrapKey"}) {
			t.Errorf("state operations %v", ops)
		}
		if n := versionCount(t, keysClient(t, fake), "tde"); n != 1 {
			t.Errorf("%d versions after an in-place update", n)
		}
	})

	replacements := []struct {
		name, property      string
		news                property.Map
		deleteBeforeReplace bool
	}{
		{"key-size", "keySize", keyInputs(fake, "tde", 4096, tdeOps...), true},
		{"key-type", "keyType", in.Set("keyType", property.New("EC-HSM")), true},
		{"name", "name", keyInputs(fake, "tde2", 2048, tdeOps...), false},
	}
	for _, tc := range replacements {
		t.Run(tc.name+"-replaces", func(t *testing.T) {
			d, err := env.diff(odaa.KeyType, created.ID, created.Properties, in, tc.news)
			if err != nil {
				t.Fatal(err)
			}
			if d.DetailedDiff[tc.property].Kind != p.UpdateReplace {
				t.Errorf("%s: diff %+v, want a replacement", tc.property, d.DetailedDiff)
			}
			if d.DeleteBeforeReplace != tc.deleteBeforeReplace {
				t.Errorf("deleteBeforeReplace %v, want %v", d.DeleteBeforeReplace, tc.deleteBeforeReplace)
			}
		})
	}

	t.Run("purge-on-delete-changes-only-state", func(t *testing.T) {
		news := in.Set("purgeOnDelete", property.New(true))
		d, err := env.diff(odaa.KeyType, created.ID, created.Properties, in, news)
		if err != nil {
			t.Fatal(err)
		}
		if d.DetailedDiff["purgeOnDelete"].Kind != p.Update || len(d.DetailedDiff) != 1 {
			t.Fatalf("diff %+v", d.DetailedDiff)
		}
		before := len(fake.RequestLog())
		upd, err := env.update(odaa.KeyType, created.ID, created.Properties, in, news, false)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(fake.RequestLog()) - before; n != 0 {
			t.Errorf("%d requests for a state-only change", n)
		}
		if !upd.Properties.Get("purgeOnDelete").AsBool() {
			t.Error("purgeOnDelete not in the new state")
		}
	})
}

func TestKeyRotationPolicy(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	client := keysClient(t, fake)
	policy := func() azkeys.KeyRotationPolicy {
		t.Helper()
		resp, err := client.GetKeyRotationPolicy(context.Background(), "tde", nil)
		if err != nil {
			t.Fatal(err)
		}
		return resp.KeyRotationPolicy
	}
	in := withPolicy(keyInputs(fake, "tde", 2048, tdeOps...),
		map[string]string{"expiryTime": "P1Y", "rotateBeforeExpiry": "P30D"})

	created := env.mustCreate(odaa.KeyType, in)

	got := policy()
	if got.Attributes == nil || *got.Attributes.ExpiryTime != "P1Y" || len(got.LifetimeActions) != 1 ||
		*got.LifetimeActions[0].Trigger.TimeBeforeExpiry != "P30D" ||
		*got.LifetimeActions[0].Action.Type != azkeys.KeyRotationPolicyActionRotate {
		t.Fatalf("policy after create: %+v", got)
	}

	news := withPolicy(keyInputs(fake, "tde", 2048, tdeOps...),
		map[string]string{"expiryTime": "P2Y", "rotateAfterCreate": "P180D"})
	d, err := env.diff(odaa.KeyType, created.ID, created.Properties, in, news)
	if err != nil {
		t.Fatal(err)
	}
	if d.DetailedDiff["rotationPolicy"].Kind != p.Update || len(d.DetailedDiff) != 1 {
		t.Fatalf("diff %+v", d.DetailedDiff)
	}
	upd, err := env.update(odaa.KeyType, created.ID, created.Properties, in, news, false)
	if err != nil {
		t.Fatal(err)
	}
	got = policy()
	if *got.Attributes.ExpiryTime != "P2Y" || len(got.LifetimeActions) != 1 ||
		deref(got.LifetimeActions[0].Trigger.TimeAfterCreate) != "P180D" ||
		got.LifetimeActions[0].Trigger.TimeBeforeExpiry != nil {
		t.Fatalf("policy after update: %+v", got)
	}

	// A policy changed outside Pulumi reads as drift.
	expiry, after := "P3Y", "P1Y"
	_, err = client.UpdateKeyRotationPolicy(context.Background(), "tde", azkeys.KeyRotationPolicy{
		Attributes: &azkeys.KeyRotationPolicyAttributes{ExpiryTime: &expiry},
		LifetimeActions: []*azkeys.LifetimeAction{{Trigger: &azkeys.LifetimeActionTrigger{TimeAfterCreate: &after},
			Action: &azkeys.LifetimeActionType{Type: new(azkeys.KeyRotationPolicyActionRotate)}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	read, err := env.read(odaa.KeyType, created.ID, upd.Properties, news)
	if err != nil {
		t.Fatal(err)
	}
	if rp := read.Properties.Get("rotationPolicy").AsMap(); rp.Get("expiryTime").AsString() != "P3Y" ||
		rp.Get("rotateAfterCreate").AsString() != "P1Y" {
		t.Errorf("read policy %v", rp)
	}

	// Removing the policy from the inputs clears it on the key.
	plain := keyInputs(fake, "tde", 2048, tdeOps...)
	if _, err := env.update(odaa.KeyType, created.ID, upd.Properties, news, plain, false); err != nil {
		t.Fatal(err)
	}
	if got = policy(); len(got.LifetimeActions) != 0 || got.Attributes.ExpiryTime != nil {
		t.Errorf("policy after removal: %+v", got)
	}
}

func TestKeyPreviewMakesNoRequest(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	in := withPolicy(keyInputs(fake, "tde", 2048, tdeOps...), map[string]string{"expiryTime": "P1Y"})

	resp, err := env.create(odaa.KeyType, in, true)

	if err != nil {
		t.Fatal(err)
	}
	if log := fake.RequestLog(); len(log) != 0 {
		t.Fatalf("a create preview sent %d requests: %v", len(log), log)
	}
	if !resp.Properties.Get("keyId").IsComputed() {
		t.Errorf("keyId in preview is %v, want unknown", resp.Properties.Get("keyId"))
	}

	created := env.mustCreate(odaa.KeyType, in)
	before := len(fake.RequestLog())
	news := keyInputs(fake, "tde", 2048, "wrapKey", "unwrapKey")
	if _, err := env.update(odaa.KeyType, created.ID, created.Properties, in, news, true); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.RequestLog()) - before; n != 0 {
		t.Errorf("an update preview sent %d requests", n)
	}
}

func TestKeyCheckFailures(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	base := keyInputs(fake, "tde", 2048, tdeOps...)
	policy := func(fields map[string]string) property.Map { return withPolicy(base, fields) }
	cases := []struct {
		name     string
		inputs   property.Map
		property string
	}{
		{"key-size-1024", base.Set("keySize", property.New(1024.0)), "keySize"},
		{"key-size-missing", base.Delete("keySize"), "keySize"},
		{"key-type-oct", base.Set("keyType", property.New("oct")), "keyType"},
		{"unknown-operation", keyInputs(fake, "tde", 2048, "encrypt", "export"), "operations[1]"},
		{"operation-case", keyInputs(fake, "tde", 2048, "wrapkey"), "operations[0]"},
		{"duplicate-operation", keyInputs(fake, "tde", 2048, "wrapKey", "wrapKey"), "operations[1]"},
		{"no-operations", keyInputs(fake, "tde", 2048), "operations"},
		{"bad-key-name", base.Set("name", property.New("tde_key")), "name"},
		{"http-uri", base.Set("hsmUri", property.New("http://hsm.managedhsm.azure.net/")), "hsmUri"},
		{"key-vault-uri", base.Set("hsmUri", property.New("https://kv.vault.azure.net/")), "hsmUri"},
		{"policy-bad-duration", policy(map[string]string{"expiryTime": "90 days"}), "rotationPolicy.expiryTime"},
		{"policy-empty", policy(map[string]string{}), "rotationPolicy"},
		{"policy-short-expiry", policy(map[string]string{"expiryTime": "P20D"}), "rotationPolicy.expiryTime"},
		{"policy-two-triggers", policy(map[string]string{"expiryTime": "P1Y", "rotateAfterCreate": "P90D",
			"rotateBeforeExpiry": "P30D"}), "rotationPolicy.rotateBeforeExpiry"},
		{"policy-before-without-expiry", policy(map[string]string{"rotateBeforeExpiry": "P30D"}),
			"rotationPolicy.rotateBeforeExpiry"},
		{"policy-rotates-after-expiry", policy(map[string]string{"expiryTime": "P90D", "rotateAfterCreate": "P1Y"}),
			"rotationPolicy.rotateAfterCreate"},
		{"policy-rotates-too-early", policy(map[string]string{"expiryTime": "P30D", "rotateBeforeExpiry": "P28D"}),
			"rotationPolicy.rotateBeforeExpiry"},
		{"policy-bare-t", policy(map[string]string{"expiryTime": "P1YT"}), "rotationPolicy.expiryTime"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := env.check(odaa.KeyType, property.Map{}, tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			var props []string
			for _, f := range resp.Failures {
				props = append(props, f.Property)
			}
			if !slices.Contains(props, tc.property) {
				t.Errorf("failures %v do not name %s", resp.Failures, tc.property)
			}
		})
	}

	t.Run("valid-inputs-pass", func(t *testing.T) {
		for _, in := range []property.Map{base, policy(map[string]string{"expiryTime": "P1Y",
			"rotateBeforeExpiry": "P30D"}), policy(map[string]string{"rotateAfterCreate": "P90D"})} {
			resp, err := env.check(odaa.KeyType, property.Map{}, in)
			if err != nil || len(resp.Failures) > 0 {
				t.Errorf("check %v: %v %v", in, err, resp.Failures)
			}
		}
	})
	t.Run("unknown-uri-in-preview-passes", func(t *testing.T) {
		resp, err := env.check(odaa.KeyType, property.Map{}, base.Set("hsmUri", property.New(property.Computed)))
		if err != nil || len(resp.Failures) > 0 {
			t.Errorf("check: %v %v", err, resp.Failures)
		}
	})
	if n := len(fake.RequestLog()); n != 0 {
		t.Errorf("check sent %d requests", n)
	}
}

// Field case 5: the deployer's crypto role was just granted through the RBAC API and RBAC has not caught up.
func TestKeyRetriesWhileRolePropagates(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated(), fakehsm.WithRoleAssignmentDelay(2))
	admin, err := hsm.NewRBACClient(fake.URL(), fake.Credential(fakehsm.DefaultAdministratorID),
		fakeClientOptions(fake))
	if err != nil {
		t.Fatal(err)
	}
	_, err = admin.CreateRoleAssignment(context.Background(), rbac.RoleScopeKeys,
		"9a3c5b1e-0000-4000-8000-000000000005", rbac.RoleAssignmentCreateParameters{
			Properties: &rbac.RoleAssignmentProperties{PrincipalID: new(keyDeployer),
				RoleDefinitionID: new(hsmrbac.RoleDefinitionID(fakehsm.RoleCryptoUser))},
		}, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := newTestEnv(t, fake, keyDeployer)

	env.mustCreate(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...))

	if names := fake.KeyNames(); !slices.Equal(names, []string{"tde"}) {
		t.Errorf("keys %v", names)
	}
	var status []string
	for _, l := range env.logs.Lines() {
		if l.Status {
			status = append(status, l.Msg)
		}
	}
	joined := strings.Join(status, "\n")
	if !strings.Contains(joined, "attempt 1 of 8") || !strings.Contains(joined, "attempt 2 of 8") ||
		strings.Contains(joined, "attempt 3 of 8") {
		t.Errorf("status lines:\n%s", joined)
	}
	if n := len(env.Pauses()); n != 2 {
		t.Errorf("%d pauses, want one per refused attempt", n)
	}
}

func TestKeyForbiddenIsBounded(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, keyDeployer)

	_, err := env.create(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...), false)

	if err == nil {
		t.Fatal("create succeeded without a crypto role")
	}
	for _, want := range []string{"still failing after 8 attempts", "AccessDenied", "Crypto User"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q: %v", want, err)
		}
	}
	if n := fake.Requests(fakehsm.KeyRoutes()...); n != 8 {
		t.Errorf("%d key requests, want 8", n)
	}
	if n := fake.Requests(fakehsm.RouteCreateKey); n != 0 {
		t.Errorf("%d create requests", n)
	}
}

// Field case 1: the HSM is provisioned but not activated.
func TestKeyNotActivated(t *testing.T) {
	fake := fakehsm.New(t)
	fake.Assign(keyDeployer, fakehsm.RoleCryptoUser, "/keys")
	env := newTestEnv(t, fake, keyDeployer)

	_, err := env.create(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...), false)

	// The fake's own message says "The managed HSM is not activated"; the provider's names the HSM.
	if want := "managed HSM " + keyHSMName(fake.URL()) + " is not activated"; err == nil ||
		!strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one saying %q", err, want)
	}
	if n := fake.Requests(fakehsm.KeyRoutes()...); n != 1 {
		t.Errorf("%d key requests, want exactly one refused", n)
	}
	if len(env.Pauses()) != 0 || env.logs.Contains("attempt") {
		t.Errorf("retried: pauses %v, logs:\n%s", env.Pauses(), env.logs.All())
	}
}

func TestKeySurvivesThrottlingAndUnavailability(t *testing.T) {
	fake := keyFake(t, fakehsm.WithFaults(fakehsm.Throttle(fakehsm.RouteCreateKey, 1, "0"),
		fakehsm.Unavailable(fakehsm.RouteCreateKey, 1)))
	env := newTestEnv(t, fake, keyDeployer)

	env.mustCreate(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...))

	if n := fake.PendingFaults(); n != 0 {
		t.Errorf("%d faults never fired", n)
	}
	if n := fake.Requests(fakehsm.RouteCreateKey); n != 3 {
		t.Errorf("%d create requests, want 3 (429, 503, success)", n)
	}
	if n := versionCount(t, keysClient(t, fake), "tde"); n != 1 {
		t.Errorf("%d versions, want the key created once", n)
	}
}

func TestKeyDelete(t *testing.T) {
	t.Run("soft-deletes", func(t *testing.T) {
		fake := keyFake(t)
		env := newTestEnv(t, fake, keyDeployer)
		created := env.mustCreate(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...))

		if err := env.delete(odaa.KeyType, created.ID, created.Properties); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(fake.DeletedKeyNames(), "tde") || slices.Contains(fake.KeyNames(), "tde") {
			t.Errorf("keys %v, deleted keys %v", fake.KeyNames(), fake.DeletedKeyNames())
		}
		if !env.logs.warned("soft-deleted", "recoverable", "reserved") {
			t.Errorf("no soft-delete warning in:\n%s", env.logs.All())
		}
		if n := fake.Requests(fakehsm.RoutePurgeDeletedKey); n != 0 {
			t.Errorf("%d purges without purgeOnDelete", n)
		}
	})
	t.Run("purges-on-delete", func(t *testing.T) {
		fake := keyFake(t)
		env := newTestEnv(t, fake, keyDeployer)
		in := keyInputs(fake, "tde", 2048, tdeOps...).Set("purgeOnDelete", property.New(true))
		created := env.mustCreate(odaa.KeyType, in)

		if err := env.delete(odaa.KeyType, created.ID, created.Properties); err != nil {
			t.Fatal(err)
		}
		if slices.Contains(fake.DeletedKeyNames(), "tde") || slices.Contains(fake.KeyNames(), "tde") {
			t.Errorf("keys %v, deleted keys %v", fake.KeyNames(), fake.DeletedKeyNames())
		}
		// The name is free again.
		env.mustCreate(odaa.KeyType, in)
	})
	t.Run("already-gone-warns", func(t *testing.T) {
		fake := keyFake(t)
		env := newTestEnv(t, fake, keyDeployer)
		created := env.mustCreate(odaa.KeyType, keyInputs(fake, "tde", 2048, tdeOps...))
		if _, err := keysClient(t, fake).DeleteKey(context.Background(), "tde", nil); err != nil {
			t.Fatal(err)
		}

		if err := env.delete(odaa.KeyType, created.ID, created.Properties); err != nil {
			t.Fatalf("delete of a gone key: %v", err)
		}
		if !env.logs.warned("already gone") {
			t.Errorf("no warning in:\n%s", env.logs.All())
		}
	})
	t.Run("purge-finishes-an-earlier-soft-delete", func(t *testing.T) {
		fake := keyFake(t)
		env := newTestEnv(t, fake, keyDeployer)
		in := keyInputs(fake, "tde", 2048, tdeOps...).Set("purgeOnDelete", property.New(true))
		created := env.mustCreate(odaa.KeyType, in)
		if _, err := keysClient(t, fake).DeleteKey(context.Background(), "tde", nil); err != nil {
			t.Fatal(err)
		}

		if err := env.delete(odaa.KeyType, created.ID, created.Properties); err != nil {
			t.Fatal(err)
		}
		if len(fake.DeletedKeyNames()) != 0 {
			t.Errorf("deleted keys %v", fake.DeletedKeyNames())
		}
	})
}

func TestKeySoftDeletedNameBlocksCreate(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	in := keyInputs(fake, "tde", 2048, tdeOps...)
	created := env.mustCreate(odaa.KeyType, in)
	if err := env.delete(odaa.KeyType, created.ID, created.Properties); err != nil {
		t.Fatal(err)
	}

	_, err := env.create(odaa.KeyType, in, false)

	if err == nil {
		t.Fatal("create over a soft-deleted key succeeded")
	}
	for _, want := range []string{"soft-deleted", "recover", "purge", "another name"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q: %v", want, err)
		}
	}
}

func TestKeyRead(t *testing.T) {
	fake := keyFake(t)
	env := newTestEnv(t, fake, keyDeployer)
	in := keyInputs(fake, "tde", 2048, tdeOps...)
	created := env.mustCreate(odaa.KeyType, in)
	client := keysClient(t, fake)

	t.Run("reports-changed-operations-and-version", func(t *testing.T) {
		_, err := client.UpdateKey(context.Background(), "tde", "", azkeys.UpdateKeyParameters{
			KeyOps: []*azkeys.KeyOperation{new(azkeys.KeyOperationSign)}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		rotated, err := client.RotateKey(context.Background(), "tde", nil)
		if err != nil {
			t.Fatal(err)
		}

		read, err := env.read(odaa.KeyType, created.ID, created.Properties, in)
		if err != nil {
			t.Fatal(err)
		}
		if ops := stringsOf(read.Properties.Get("operations")); !slices.Equal(ops, []string{"sign"}) {
			t.Errorf("read operations %v", ops)
		}
		if id := read.Properties.Get("keyId").AsString(); id != string(*rotated.Key.KID) {
			t.Errorf("read keyId %s, the latest version is %s", id, *rotated.Key.KID)
		}
		if size := read.Properties.Get("keySize").AsNumber(); size != 2048 {
			t.Errorf("read keySize %v", size)
		}
		d, err := env.diff(odaa.KeyType, created.ID, read.Properties, in, in)
		if err != nil {
			t.Fatal(err)
		}
		if d.DetailedDiff["operations"].Kind != p.Update {
			t.Errorf("drift not planned for repair: %+v", d.DetailedDiff)
		}
	})
	t.Run("operations-in-another-order-are-no-drift", func(t *testing.T) {
		reversed := slices.Clone(tdeOps)
		slices.Reverse(reversed)
		_, err := client.UpdateKey(context.Background(), "tde", "", azkeys.UpdateKeyParameters{
			KeyOps: operationsOf(reversed)}, nil)
		if err != nil {
			t.Fatal(err)
		}

		read, err := env.read(odaa.KeyType, created.ID, created.Properties, in)
		if err != nil {
			t.Fatal(err)
		}
		if ops := stringsOf(read.Properties.Get("operations")); !slices.Equal(ops, tdeOps) {
			t.Errorf("read operations %v, want the inputs' order %v", ops, tdeOps)
		}
	})
	t.Run("imports-from-id", func(t *testing.T) {
		read, err := env.read(odaa.KeyType, created.ID, property.Map{}, property.Map{})
		if err != nil {
			t.Fatal(err)
		}
		if read.ID != created.ID || read.Inputs.Get("name").AsString() != "tde" ||
			read.Inputs.Get("hsmUri").AsString() != fake.URL() {
			t.Errorf("import: ID %s, inputs %v", read.ID, read.Inputs)
		}
	})
	t.Run("gone-reads-empty", func(t *testing.T) {
		if _, err := client.DeleteKey(context.Background(), "tde", nil); err != nil {
			t.Fatal(err)
		}
		read, err := env.read(odaa.KeyType, created.ID, created.Properties, in)
		if err != nil {
			t.Fatal(err)
		}
		if read.ID != "" {
			t.Errorf("ID %q for a deleted key", read.ID)
		}
	})
}
