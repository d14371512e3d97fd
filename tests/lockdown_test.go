// This file checks the scenario guide's "Security Best Practices", network security: public access disabled
// after configuration, NSGs on the subnets, and the database's outbound traffic routed through the private
// endpoint, as the program declares them under the mock engine.
package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

func TestSecurityBestPracticeNetworkLockdown(t *testing.T) {
	r := deployed(t)

	t.Run("public-access-disabled-after-configuration", func(t *testing.T) {
		lock := r.get(t, "hsm-network-lock")
		assert.Equal(t, "Disabled", str(in(lock, "publicNetworkAccess")))
		assert.Equal(t, "Deny", str(in(lock, "defaultAction")))
		assert.Equal(t, "AzureServices", str(in(lock, "bypass")))
		assert.True(t, r.dependsOn("hsm-network-lock", "hsm-hsm"), "the lock is applied to this stack's HSM")
		// It is the last word on the HSM's network: every data plane resource comes first, and the HSM never
		// plans to reopen what the lock closed.
		for _, dep := range []string{"hsm-security-domain", "hsm-key", "hsm-deployer-crypto-role",
			"service-principal-hsm-role", "cmek-adbhsmdemo-key-role"} {
			assert.Truef(t, r.dependsOn("hsm-network-lock", dep), "the lock waits for %s", dep)
		}
		assert.Subset(t, r.get(t, "hsm-hsm").IgnoreChanges,
			[]string{"properties.publicNetworkAccess", "properties.networkAcls"})
		assert.Len(t, r.ofType("odaa:hsm:NetworkLock"), 1)
	})

	t.Run("nsgs-on-both-subnets", func(t *testing.T) {
		for subnet, nsg := range map[string]string{"network-subnet-oracle": "network-nsg-oracle",
			"network-subnet-pe": "network-nsg-pe"} {
			reg := r.get(t, subnet)
			assert.NotEmptyf(t, str(in(reg, "networkSecurityGroup.id")), "%s has an NSG", subnet)
			assert.Truef(t, r.dependsOn(subnet, nsg), "%s takes the ID of %s", subnet, nsg)
			allows := 0
			for _, rule := range plain(in(r.get(t, nsg), "securityRules")).ArrayValue() {
				if str(field(rule, "direction")) == "Inbound" && str(field(rule, "access")) == "Allow" {
					allows++
					assert.Equalf(t, "VirtualNetwork", str(field(rule, "sourceAddressPrefix")),
						"%s admits only the VNet", nsg)
				}
			}
			assert.Positivef(t, allows, "%s admits its service from the VNet", nsg)
		}
	})

	t.Run("database-outbound-through-the-private-endpoint", func(t *testing.T) {
		route := r.get(t, "cmek-adbhsmdemo-route-outbound")
		assert.Equal(t, "ROUTE_OUTBOUND_CONNECTIONS", str(in(route, "name")))
		assert.Equal(t, "PRIVATE_ENDPOINT", str(in(route, "value")))
		assert.True(t, r.dependsOn("cmek-adbhsmdemo-encryption-key", "cmek-adbhsmdemo-route-outbound"),
			"the key switch happens only once traffic is routed privately")
	})

	t.Run("enforce-private-endpoint", func(t *testing.T) {
		cfg := devConfig(t)
		cfg.patch(t, "cmek", map[string]any{"routeOutboundConnections": "ENFORCE_PRIVATE_ENDPOINT"})
		cloud := mockcloud.New()
		require.NoError(t, cfg.run(t, cloud))
		enforced := newResult(cloud)
		assert.Equal(t, "ENFORCE_PRIVATE_ENDPOINT", str(in(enforced.get(t, "cmek-adbhsmdemo-route-outbound"),
			"value")))
	})
}
