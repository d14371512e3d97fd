// This file tests what `pulumi destroy` may do to the HSM under the mock engine: retained unless deleting is
// allowed, the name guard before the HSM (and so deleted after it), the purge opt-in, and the security domain's
// backup check ordered before the HSM's delete.
package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// teardownRun runs the dev stack with the hsm fields given and returns what it registered.
func teardownRun(t *testing.T, hsm map[string]any) *result {
	t.Helper()
	cfg := devConfig(t)
	cfg.patch(t, "hsm", hsm)
	cloud := mockcloud.New()
	require.NoError(t, cfg.run(t, cloud))
	return newResult(cloud)
}

func TestTeardownKeepsTheHsmByDefault(t *testing.T) {
	r := deployed(t)
	h := r.get(t, "hsm-hsm")
	assert.True(t, h.Retain, "destroy must leave the HSM in Azure unless hsm.allowDelete is set")
	assert.True(t, h.Protect, "hsm.protect stays on by default")

	guard := r.get(t, "hsm-name-guard")
	assert.False(t, in(guard, "purgeOnDelete").BoolValue(), "no purge without the opt-in")
	assert.False(t, in(r.get(t, "hsm-security-domain"), "requireBackupOnDelete").BoolValue(),
		"a retained HSM does not make a missing backup block the destroy")
}

// A kept HSM keeps its key, its grants and its closed network as they are: deleting the key or reopening public
// access on the way out would leave the databases' key gone or the HSM reachable from the internet. Its
// resource group stays too: Azure deletes a group with everything in it, the kept HSM included.
var keptWithHsm = []string{"network-rg", "hsm-key", "hsm-deployer-crypto-role", "hsm-network-lock",
	"service-principal-hsm-role", "cmek-adbhsmdemo-key-role"}

func TestTeardownKeepsTheHsmsDataPlaneWithIt(t *testing.T) {
	kept := deployed(t)
	deletable := teardownRun(t, map[string]any{"allowDelete": true, "protect": false})
	for _, name := range keptWithHsm {
		assert.Truef(t, kept.get(t, name).Retain, "%s is kept with a kept HSM", name)
		assert.Falsef(t, deletable.get(t, name).Retain, "%s goes with an HSM that may be deleted", name)
	}
}

func TestTeardownWhenDeletingIsAllowed(t *testing.T) {
	r := teardownRun(t, map[string]any{"allowDelete": true, "protect": false})
	h := r.get(t, "hsm-hsm")
	assert.False(t, h.Retain, "hsm.allowDelete lets destroy delete the HSM")
	assert.False(t, h.Protect)
	assert.True(t, in(r.get(t, "hsm-security-domain"), "requireBackupOnDelete").BoolValue(),
		"an HSM that can be deleted needs its security domain backed up first")
	assert.False(t, in(r.get(t, "hsm-name-guard"), "purgeOnDelete").BoolValue(), "deleting is not purging")
}

func TestTeardownPurgeOptIn(t *testing.T) {
	r := teardownRun(t, map[string]any{"allowDelete": true, "protect": false, "purgeOnDelete": true})
	guard := r.get(t, "hsm-name-guard")
	assert.True(t, in(guard, "purgeOnDelete").BoolValue())
	assert.False(t, in(guard, "purgeProtection").BoolValue(), "the dev stack has purge protection off")
	assert.False(t, r.get(t, "hsm-hsm").Retain)
}

func TestTeardownRefusesContradictoryKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		hsm  map[string]any
		want []string
	}{
		{"allow-delete-while-protected", map[string]any{"allowDelete": true}, []string{"hsm.allowDelete",
			"hsm.protect"}},
		{"purge-with-purge-protection", map[string]any{"allowDelete": true, "protect": false,
			"purgeOnDelete": true, "purgeProtection": true}, []string{"hsm.purgeOnDelete", "hsm.purgeProtection"}},
		{"purge-of-a-retained-hsm", map[string]any{"purgeOnDelete": true}, []string{"hsm.purgeOnDelete",
			"hsm.allowDelete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := devConfig(t)
			cfg.patch(t, "hsm", tc.hsm)
			cloud := mockcloud.New()
			err := cfg.run(t, cloud)
			require.Error(t, err)
			for _, key := range tc.want {
				assert.Contains(t, err.Error(), key)
			}
			assert.Empty(t, cloud.Registrations(), "nothing is registered before the configuration is valid")
		})
	}
}

// The engine creates dependencies first and deletes dependents first. These edges are what order the
// teardown: the guard before the HSM (so its purge follows the HSM's delete), and the security domain after
// the HSM (so its backup check precedes the HSM's delete).
func TestTeardownOrdering(t *testing.T) {
	r := deployed(t)
	assert.Contains(t, r.get(t, "hsm-hsm").DependsOn, "hsm-name-guard",
		"the name is checked before the HSM is created, and purged after the HSM is deleted")
	assert.True(t, r.dependsOn("hsm-security-domain", "hsm-hsm"),
		"the security domain's delete, which checks the backup, runs before the HSM's")
	assert.False(t, r.dependsOn("hsm-name-guard", "hsm-hsm"), "the guard must not wait for the HSM it guards")

	guard := r.get(t, "hsm-name-guard")
	assert.Equal(t, odaa.NameGuardType, guard.Type)
	assert.Equal(t, mockcloud.SubscriptionID, str(in(guard, "subscriptionId")))
	assert.Equal(t, "eastus", str(in(guard, "location")))
	assert.Equal(t, str(in(r.get(t, "hsm-hsm"), "name")), str(in(guard, "name")))
	assert.Equal(t, "hsm", guard.Parent)
}
