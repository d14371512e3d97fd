// This file tests RoleAssignment against the fake HSM: creation by role name and GUID at every scope kind, reruns,
// replacement, preview, input checks, propagation retries, the three IDs of an application, drift, adoption, and
// the network and activation refusals.
package provider

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// The three IDs of one application (field case 2): only the service principal's object ID is a principal.
const (
	raSPObjectID  = "5f0c3a1e-7b2d-4e8f-9a6c-1d2e3f4a5b6c"
	raAppClientID = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"
	raAppObjectID = "0a9b8c7d-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
)

const raType = odaa.RoleAssignmentType

func raInputs(fake *fakehsm.Server, role, scope, principal string) property.Map {
	return property.NewMap(map[string]property.Value{
		"hsmUri":      property.New(fake.URL()),
		"role":        property.New(role),
		"scope":       property.New(scope),
		"principalId": property.New(principal),
	})
}

// raGrants returns the fake's assignments of roleGUID at scope to principal.
func raGrants(fake *fakehsm.Server, roleGUID, scope, principal string) []fakehsm.RoleAssignment {
	var out []fakehsm.RoleAssignment
	for _, a := range fake.RoleAssignments() {
		if strings.EqualFold(a.RoleID, roleGUID) && strings.EqualFold(a.Scope, scope) &&
			strings.EqualFold(a.PrincipalID, principal) {
			out = append(out, a)
		}
	}
	return out
}

func raStatusLine(env *testEnv, part string) bool {
	for _, l := range env.logs.Lines() {
		if l.Status && strings.Contains(l.Msg, part) {
			return true
		}
	}
	return false
}

func raWarned(env *testEnv, part string) bool {
	for _, l := range env.logs.Lines() {
		if l.Level == slog.LevelWarn && strings.Contains(l.Msg, part) {
			return true
		}
	}
	return false
}

func TestRoleAssignmentCreate(t *testing.T) {
	for _, tc := range []struct {
		name, role, scope, roleGUID string
	}{
		{"by-name-at-keys", hsmrbac.CryptoUser, "/keys", fakehsm.RoleCryptoUser},
		{"by-guid-at-keys", fakehsm.RoleCryptoServiceEncryptionUser, "/keys", fakehsm.RoleCryptoServiceEncryptionUser},
		{"by-name-at-root", hsmrbac.CryptoOfficer, "/", fakehsm.RoleCryptoOfficer},
		{"by-guid-at-root", fakehsm.RoleCryptoUser, "/", fakehsm.RoleCryptoUser},
		{"by-name-at-one-key", hsmrbac.CryptoServiceEncryptionUser, "/keys/tde-key",
			fakehsm.RoleCryptoServiceEncryptionUser},
		{"by-upper-case-guid-at-one-key", strings.ToUpper(fakehsm.RoleCryptoUser), "/keys/tde-key",
			fakehsm.RoleCryptoUser},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakehsm.New(t, fakehsm.WithActivated())
			env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

			resp := env.mustCreate(raType, raInputs(fake, tc.role, tc.scope, raSPObjectID))

			grants := raGrants(fake, tc.roleGUID, tc.scope, raSPObjectID)
			if len(grants) != 1 {
				t.Fatalf("the HSM holds %d matching assignments, want 1: %+v", len(grants), fake.RoleAssignments())
			}
			name := resp.Properties.Get("assignmentName").AsString()
			if name != grants[0].Name || resp.ID != name || !hsmrbac.IsGUID(name) {
				t.Errorf("assignmentName %q, ID %q, the HSM's %q", name, resp.ID, grants[0].Name)
			}
			if got, want := resp.Properties.Get("roleDefinitionId").AsString(),
				hsmrbac.RoleDefinitionID(tc.roleGUID); got != want {
				t.Errorf("roleDefinitionId = %q, want %q", got, want)
			}
			if resp.Properties.Get("adopted").AsBool() {
				t.Error("a new assignment is marked adopted")
			}
		})
	}
}

func TestRoleAssignmentSecondRunChangesNothing(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	in := raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID)
	first := env.mustCreate(raType, in)

	t.Run("diff-identical-inputs", func(t *testing.T) {
		d, err := env.diff(raType, first.ID, first.Properties, in, in)
		if err != nil {
			t.Fatal(err)
		}
		if d.HasChanges || len(d.DetailedDiff) > 0 {
			t.Errorf("diff of identical inputs: %+v", d)
		}
	})
	t.Run("diff-role-guid-for-its-name", func(t *testing.T) {
		news := in.Set("role", property.New(fakehsm.RoleCryptoUser))
		d, err := env.diff(raType, first.ID, first.Properties, in, news)
		if err != nil {
			t.Fatal(err)
		}
		if d.HasChanges {
			t.Errorf("the role's GUID for its name is a change: %+v", d)
		}
	})
	t.Run("create-again-after-state-loss", func(t *testing.T) {
		before := len(fake.RoleAssignments())
		again := env.mustCreate(raType, in)
		if again.ID != first.ID || again.Properties.Get("adopted").AsBool() {
			t.Errorf("second create: ID %q adopted %v, first ID %q", again.ID,
				again.Properties.Get("adopted").AsBool(), first.ID)
		}
		if n := len(raGrants(fake, fakehsm.RoleCryptoUser, "/keys", raSPObjectID)); n != 1 {
			t.Errorf("%d matching assignments after a rerun, want 1", n)
		}
		if after := len(fake.RoleAssignments()); after != before {
			t.Errorf("%d assignments before the rerun, %d after", before, after)
		}
	})
}

func TestRoleAssignmentDiffReplaces(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	in := raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID)
	resp := env.mustCreate(raType, in)

	for _, tc := range []struct {
		name, key string
		value     string
	}{
		{"principal", "principalId", raAppObjectID},
		{"scope", "scope", "/keys/tde-key"},
		{"role-name", "role", hsmrbac.CryptoOfficer},
		{"role-guid", "role", fakehsm.RoleCryptoServiceEncryptionUser},
		{"hsm", "hsmUri", "https://other.managedhsm.azure.net/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := env.diff(raType, resp.ID, resp.Properties, in, in.Set(tc.key, property.New(tc.value)))
			if err != nil {
				t.Fatal(err)
			}
			if !d.HasChanges || d.DetailedDiff[tc.key].Kind != p.UpdateReplace || len(d.DetailedDiff) != 1 {
				t.Errorf("diff = %+v, want only %s replaced", d, tc.key)
			}
		})
	}
}

func TestRoleAssignmentPreviewMakesNoRequest(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	before := len(fake.RoleAssignments())

	if _, err := env.create(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID), true); err != nil {
		t.Fatal(err)
	}
	if n := fake.Requests(fakehsm.RoleRoutes()...); n != 0 {
		t.Errorf("preview made %d RBAC requests", n)
	}
	if after := len(fake.RoleAssignments()); after != before {
		t.Errorf("preview changed the assignments: %d before, %d after", before, after)
	}
}

func TestRoleAssignmentCheck(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	valid := raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID)

	for _, tc := range []struct {
		name     string
		inputs   property.Map
		property string // "" when the inputs are valid
		reason   string
	}{
		{"valid", valid, "", ""},
		{"unknown-hsm-and-principal-in-preview", valid.Set("hsmUri", property.New(property.Computed)).
			Set("principalId", property.New(property.Computed)), "", ""},
		{"scope-without-slash", valid.Set("scope", property.New("keys")), "scope", `"keys"`},
		{"scope-of-other-things", valid.Set("scope", property.New("/secrets")), "scope", "/keys/<key name>"},
		{"unknown-role", valid.Set("role", property.New("Managed HSM Crypto Wizard")), "role", "unknown"},
		{"principal-not-a-guid", valid.Set("principalId", property.New("my-app")), "principalId", "object ID"},
		{"hsm-uri-http", valid.Set("hsmUri", property.New("http://x.managedhsm.azure.net/")), "hsmUri", "https"},
		{"hsm-uri-empty", valid.Set("hsmUri", property.New("")), "hsmUri", "empty"},
		{"hsm-uri-of-key-vault", valid.Set("hsmUri", property.New("https://x.vault.azure.net/")), "hsmUri",
			"Key Vault"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := env.check(raType, property.Map{}, tc.inputs)
			if err != nil {
				t.Fatal(err)
			}
			if tc.property == "" {
				if len(resp.Failures) > 0 {
					t.Errorf("failures for valid inputs: %+v", resp.Failures)
				}
				return
			}
			if len(resp.Failures) != 1 || resp.Failures[0].Property != tc.property ||
				!strings.Contains(resp.Failures[0].Reason, tc.reason) {
				t.Errorf("failures = %+v, want one on %s mentioning %q", resp.Failures, tc.property, tc.reason)
			}
		})
	}
}

func TestRoleAssignmentRetriesWhilePrincipalPropagates(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated(), fakehsm.WithPrincipalPropagation(2, raSPObjectID))
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	env.mustCreate(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID))

	if n := len(raGrants(fake, fakehsm.RoleCryptoUser, "/keys", raSPObjectID)); n != 1 {
		t.Errorf("%d matching assignments, want 1", n)
	}
	if n := fake.Requests(fakehsm.RouteCreateRoleAssignment); n != 3 {
		t.Errorf("%d PUTs, want 3", n)
	}
	for _, s := range []string{"attempt 1 of 8", "attempt 2 of 8"} {
		if !raStatusLine(env, s) {
			t.Errorf("no status line %q: %s", s, env.logs.All())
		}
	}
	if raStatusLine(env, "attempt 3 of 8") {
		t.Errorf("a third failed attempt reported: %s", env.logs.All())
	}
	pauses := env.Pauses()
	if len(pauses) != 2 || pauses[0] <= 0 || pauses[1] <= pauses[0] {
		t.Errorf("pauses = %v, want two growing ones", pauses)
	}
}

func TestRoleAssignmentGivesUpAfterTheBound(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated(), fakehsm.WithPrincipalPropagation(1000, raSPObjectID))
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	_, err := env.create(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID), false)

	if err == nil {
		t.Fatal("create succeeded against a principal that never propagates")
	}
	t.Logf("error: %v", err)
	for _, s := range []string{"8 attempts", "PrincipalNotFound"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error does not mention %q: %v", s, err)
		}
	}
	if n := fake.Requests(fakehsm.RouteCreateRoleAssignment); n != 8 {
		t.Errorf("%d PUTs, want 8", n)
	}
	if n := len(env.Pauses()); n != 7 {
		t.Errorf("%d pauses, want 7", n)
	}
	if n := len(raGrants(fake, fakehsm.RoleCryptoUser, "/keys", raSPObjectID)); n != 0 {
		t.Errorf("%d assignments after the failure", n)
	}
}

func TestRoleAssignmentTakesTheServicePrincipalObjectID(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated(), fakehsm.WithKnownPrincipals(raSPObjectID))
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	for _, wrong := range []string{raAppClientID, raAppObjectID} {
		puts := fake.Requests(fakehsm.RouteCreateRoleAssignment)
		_, err := env.create(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys", wrong), false)
		if err == nil {
			t.Fatalf("assigning to the application's %s succeeded", wrong)
		}
		for _, s := range []string{"PrincipalNotFound", "service principal's object ID"} {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("error for %s does not mention %q: %v", wrong, s, err)
			}
		}
		if n := fake.Requests(fakehsm.RouteCreateRoleAssignment) - puts; n != 8 {
			t.Errorf("%d PUTs for %s, want 8", n, wrong)
		}
	}

	env.mustCreate(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID))
	if n := len(raGrants(fake, fakehsm.RoleCryptoUser, "/keys", raSPObjectID)); n != 1 {
		t.Errorf("%d assignments to the service principal, want 1", n)
	}
}

func TestRoleAssignmentReadAndDeleteFollowTheHSM(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	in := raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID)
	resp := env.mustCreate(raType, in)

	t.Run("read-reports-the-hsm", func(t *testing.T) {
		// A stale state (another role and principal) is corrected from what the HSM holds.
		stale := resp.Properties.Set("role", property.New(hsmrbac.CryptoOfficer)).
			Set("principalId", property.New(raAppObjectID))
		got, err := env.read(raType, resp.ID, stale, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != resp.ID || got.Properties.Get("role").AsString() != fakehsm.RoleCryptoUser ||
			got.Properties.Get("principalId").AsString() != raSPObjectID {
			t.Errorf("read = %s %v", got.ID, got.Properties)
		}
		same, err := env.read(raType, resp.ID, resp.Properties, in)
		if err != nil {
			t.Fatal(err)
		}
		if same.Properties.Get("role").AsString() != hsmrbac.CryptoUser {
			t.Errorf("read rewrote a role name that matches: %v", same.Properties)
		}
	})

	t.Run("removed-behind-our-back", func(t *testing.T) {
		client, err := hsm.NewRBACClient(fake.URL(), fake.Credential(fakehsm.DefaultAdministratorID),
			fakeClientOptions(fake))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.DeleteRoleAssignment(context.Background(), rbac.RoleScopeKeys, resp.ID, nil); err != nil {
			t.Fatal(err)
		}

		got, err := env.read(raType, resp.ID, resp.Properties, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != "" {
			t.Errorf("read of a removed assignment: ID %q", got.ID)
		}
		if err := env.delete(raType, resp.ID, resp.Properties); err != nil {
			t.Fatalf("delete of a removed assignment: %v", err)
		}
		if !raWarned(env, "already gone") {
			t.Errorf("no warning that it was gone: %s", env.logs.All())
		}
	})
}

func TestRoleAssignmentDeleteRemoves(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	resp := env.mustCreate(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys/tde-key", raSPObjectID))

	if err := env.delete(raType, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}
	if n := len(raGrants(fake, fakehsm.RoleCryptoUser, "/keys/tde-key", raSPObjectID)); n != 0 {
		t.Errorf("%d assignments left after delete", n)
	}
	if raWarned(env, "gone") {
		t.Errorf("a warning for a normal delete: %s", env.logs.All())
	}
}

func TestRoleAssignmentAdoptsAnExistingGrant(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	existing := fake.Assign(raSPObjectID, fakehsm.RoleCryptoUser, "/keys") // as `az keyvault role assignment create`

	resp := env.mustCreate(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID))

	if got := resp.Properties.Get("assignmentName").AsString(); got != existing || resp.ID != existing {
		t.Errorf("assignmentName %q, ID %q, want the existing %q", got, resp.ID, existing)
	}
	if !resp.Properties.Get("adopted").AsBool() {
		t.Error("not marked adopted")
	}
	if n := len(raGrants(fake, fakehsm.RoleCryptoUser, "/keys", raSPObjectID)); n != 1 {
		t.Errorf("%d matching assignments, want 1", n)
	}
	if !raWarned(env, "adopted") {
		t.Errorf("no warning about the adoption: %s", env.logs.All())
	}

	if err := env.delete(raType, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}
	if g := raGrants(fake, fakehsm.RoleCryptoUser, "/keys", raSPObjectID); len(g) != 1 || g[0].Name != existing {
		t.Errorf("delete touched the adopted assignment: %+v", g)
	}
	if n := fake.Requests(fakehsm.RouteDeleteRoleAssignment); n != 0 {
		t.Errorf("%d DELETE requests for an adopted assignment", n)
	}
	if !raWarned(env, "left in place") {
		t.Errorf("no warning that it was left in place: %s", env.logs.All())
	}
}

func TestRoleAssignmentRefusalsAreExplainedNotRetried(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []fakehsm.Option
		want string
	}{
		{"public-access-disabled", []fakehsm.Option{fakehsm.WithActivated(), fakehsm.WithNetwork(fakehsm.Network{
			PublicNetworkAccess: fakehsm.AccessDisabled, DefaultAction: fakehsm.ActionDeny, Bypass: "None"})},
			"run from where its private endpoint resolves"},
		{"firewall-deny", []fakehsm.Option{fakehsm.WithActivated(), fakehsm.WithNetwork(fakehsm.Network{
			PublicNetworkAccess: fakehsm.AccessEnabled, DefaultAction: fakehsm.ActionDeny, Bypass: "None"})},
			"run from where its private endpoint resolves"},
		{"not-activated", nil, "is not activated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakehsm.New(t, tc.opts...)
			env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

			_, err := env.create(raType, raInputs(fake, hsmrbac.CryptoUser, "/keys", raSPObjectID), false)

			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want one saying %q", err, tc.want)
			}
			t.Logf("error: %v", err)
			if n := fake.Requests(fakehsm.RouteCreateRoleAssignment); n != 1 {
				t.Errorf("%d PUTs, want 1 (no retry)", n)
			}
			if pauses := env.Pauses(); len(pauses) != 0 {
				t.Errorf("paused %v before giving up", pauses)
			}
		})
	}
}

func TestRoleAssignmentName(t *testing.T) {
	base := []string{"myhsm.managedhsm.azure.net", "/keys", fakehsm.RoleCryptoUser, raSPObjectID}
	name := roleAssignmentName(base[0], base[1], base[2], base[3])
	if !hsmrbac.IsGUID(name) || name[14] != '8' || !strings.ContainsRune("89ab", rune(name[19])) {
		t.Fatalf("name %q is not a version-8 RFC 9562 UUID", name)
	}
	if again := roleAssignmentName(strings.ToUpper(base[0]), base[1], strings.ToUpper(base[2]),
		strings.ToUpper(base[3])); again != name {
		t.Errorf("case changes the name: %q, %q", name, again)
	}
	for i, other := range []string{"otherhsm.managedhsm.azure.net", "/keys/tde-key", fakehsm.RoleCryptoOfficer,
		raAppObjectID} {
		parts := append([]string(nil), base...)
		parts[i] = other
		if got := roleAssignmentName(parts[0], parts[1], parts[2], parts[3]); got == name {
			t.Errorf("changing part %d to %q keeps the name %q", i, other, got)
		}
	}
	// Parts are delimited: moving characters between them changes the name.
	if roleAssignmentName("a", "b/", "c", "d") == roleAssignmentName("a", "b", "/c", "d") {
		t.Error("parts run into each other")
	}
}
