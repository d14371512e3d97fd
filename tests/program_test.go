package tests

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/components"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// The dev stack registers exactly the scenario's resources, no more and no fewer.
func TestDevStackRegistersTheScenario(t *testing.T) {
	r := deployed(t)

	want := map[string]string{
		"network":                        "odaa:components:Network",
		"network-rg":                     "azure-native:resources:ResourceGroup",
		"network-vnet":                   "azure-native:network:VirtualNetwork",
		"network-nsg-oracle":             "azure-native:network:NetworkSecurityGroup",
		"network-nsg-pe":                 "azure-native:network:NetworkSecurityGroup",
		"network-subnet-oracle":          "azure-native:network:Subnet",
		"network-subnet-pe":              "azure-native:network:Subnet",
		"hsm":                            "odaa:components:ManagedHsm",
		"hsm-hsm":                        "azure-native:keyvault:ManagedHsm",
		"hsm-pe":                         "azure-native:network:PrivateEndpoint",
		"hsm-zone":                       "azure-native:network:PrivateZone",
		"hsm-zone-link":                  "azure-native:network:VirtualNetworkLink",
		"hsm-zone-group":                 "azure-native:network:PrivateDnsZoneGroup",
		"hsm-security-domain":            odaa.SecurityDomainType,
		"hsm-name-guard":                 odaa.NameGuardType,
		"hsm-deployer-crypto-role":       odaa.RoleAssignmentType,
		"hsm-key":                        odaa.KeyType,
		"hsm-network-lock":               odaa.NetworkLockType,
		"service-principal":              "odaa:components:ServicePrincipal",
		"service-principal-app":          "azuread:index/application:Application",
		"service-principal-sp":           "azuread:index/servicePrincipal:ServicePrincipal",
		"service-principal-secret-a":     "azuread:index/applicationPassword:ApplicationPassword",
		"service-principal-secret-b":     "azuread:index/applicationPassword:ApplicationPassword",
		"service-principal-hsm-role":     odaa.RoleAssignmentType,
		"adb-adbhsmdemo":                 "odaa:components:AutonomousDatabase",
		"adb-adbhsmdemo-adb":             "azure-native:resources:Resource",
		"oci-dns":                        "odaa:components:PrivateDnsPair",
		"oci-dns-zone-privatelink":       "oci:Dns/zone:Zone",
		"oci-dns-zone-public-name":       "oci:Dns/zone:Zone",
		"oci-dns-a-privatelink":          "oci:Dns/rrset:Rrset",
		"oci-dns-a-public-name":          "oci:Dns/rrset:Rrset",
		"cmek-adbhsmdemo":                "odaa:components:AdbsCmek",
		"cmek-adbhsmdemo-acl-hsm":        odaa.NetworkACLType,
		"cmek-adbhsmdemo-acl-login":      odaa.NetworkACLType,
		"cmek-adbhsmdemo-route-outbound": odaa.DatabasePropertyType,
		"cmek-adbhsmdemo-principal-auth": odaa.PrincipalAuthType,
		"cmek-adbhsmdemo-consent":        "azuread:index/servicePrincipal:ServicePrincipal",
		"cmek-adbhsmdemo-key-role":       odaa.RoleAssignmentType,
		"cmek-adbhsmdemo-encryption-key": odaa.EncryptionKeyType,
		"cmek-adbhsmdemo-keystore-check": odaa.KeystoreCheckType,
		"audit":                          components.AuditType,
		"audit-workspace":                "azure-native:operationalinsights:Workspace",
		"audit-hsm-diagnostics":          "azure-native:insights:DiagnosticSetting",
		"audit-failed-key-operations":    "azure-native:insights/v20231201:ScheduledQueryRule",
		"odaa-adbs-hsm-dev":              "pulumi:pulumi:Stack",
	}
	got := map[string]string{}
	for _, reg := range r.regs {
		_, dup := got[reg.Name]
		assert.Falsef(t, dup, "%s registered twice", reg.Name)
		got[reg.Name] = reg.Type
	}
	delete(want, "odaa-adbs-hsm-dev")
	delete(got, "odaa-adbs-hsm-dev")
	assert.Equal(t, want, got)
}

func TestGuideValues(t *testing.T) {
	r := deployed(t)

	t.Run("network", func(t *testing.T) {
		rg := r.get(t, "network-rg")
		assert.Equal(t, "rg-odaa-managedhsm-demo", str(in(rg, "resourceGroupName")))
		assert.Equal(t, "eastus", str(in(rg, "location")))
		vnet := r.get(t, "network-vnet")
		assert.Equal(t, "vnet-odaa-hsm", str(in(vnet, "virtualNetworkName")))
		assert.Equal(t, []string{"10.0.0.0/16"}, strs(in(vnet, "addressSpace.addressPrefixes")))
		del := r.get(t, "network-subnet-oracle")
		assert.Equal(t, "subnet-oracle-delegated", str(in(del, "subnetName")))
		assert.Equal(t, "10.0.1.0/24", str(in(del, "addressPrefix")))
		dels := plain(in(del, "delegations")).ArrayValue()
		require.Len(t, dels, 1)
		assert.Equal(t, "Oracle.Database/networkAttachments", str(field(dels[0], "serviceName")))
		pe := r.get(t, "network-subnet-pe")
		assert.Equal(t, "subnet-private-endpoints", str(in(pe, "subnetName")))
		assert.Equal(t, "10.0.2.0/24", str(in(pe, "addressPrefix")))
		assert.NotEmpty(t, str(in(del, "networkSecurityGroup.id")), "delegated subnet has an NSG")
		assert.NotEmpty(t, str(in(pe, "networkSecurityGroup.id")), "private endpoint subnet has an NSG")
		assert.Equal(t, "Enabled", str(in(pe, "privateEndpointNetworkPolicies")), "the NSG applies to the endpoint")
		peRules := plain(in(r.get(t, "network-nsg-pe"), "securityRules")).ArrayValue()
		require.NotEmpty(t, peRules)
		assert.Equal(t, "443", str(field(peRules[0], "destinationPortRange")), "only HTTPS reaches the HSM endpoint")
		assert.Equal(t, "Allow", str(field(peRules[0], "access")))
	})

	t.Run("managed-hsm", func(t *testing.T) {
		hsm := r.get(t, "hsm-hsm")
		assert.Regexp(t, regexp.MustCompile(`^hsm-odaa-demo-[0-9a-f]{6}$`), str(in(hsm, "name")))
		assert.Equal(t, "eastus", str(in(hsm, "location")))
		assert.Equal(t, "Standard_B1", str(in(hsm, "sku.name")))
		assert.Equal(t, float64(7), num(in(hsm, "properties.softDeleteRetentionInDays")))
		assert.Equal(t, []string{mockcloud.DeployerObjectID}, strs(in(hsm, "properties.initialAdminObjectIds")))
		assert.Equal(t, mockcloud.TenantID, str(in(hsm, "properties.tenantId")))
		assert.True(t, plain(in(hsm, "properties.enableSoftDelete")).BoolValue())
		assert.False(t, plain(in(hsm, "properties.enablePurgeProtection")).BoolValue(), "dev sets it off")
		assert.True(t, hsm.Protect, "the HSM is protected from deletion and replacement")
		assert.Equal(t, "90m", hsm.Timeouts.Create)
		assert.Equal(t, "60m", hsm.Timeouts.Update)
	})

	t.Run("private-endpoint-and-zone", func(t *testing.T) {
		pe := r.get(t, "hsm-pe")
		conns := plain(in(pe, "privateLinkServiceConnections")).ArrayValue()
		require.Len(t, conns, 1)
		assert.Equal(t, []string{"managedhsm"}, strs(field(conns[0], "groupIds")))
		assert.Contains(t, str(field(conns[0], "privateLinkServiceId")), "/managedHSMs/hsm-odaa-demo-")
		assert.Contains(t, str(in(pe, "subnet.id")), "/subnets/subnet-private-endpoints")
	})

	t.Run("security-domain", func(t *testing.T) {
		sd := r.get(t, "hsm-security-domain")
		assert.Equal(t, float64(3), num(in(sd, "certificateCount")))
		assert.Equal(t, float64(2), num(in(sd, "quorum")))
		hsmName := str(in(r.get(t, "hsm-hsm"), "name"))
		assert.Equal(t, ".secrets/"+hsmName+"-sd.json", str(in(sd, "outputPath")))
		assert.Equal(t, "https://"+hsmName+".managedhsm.azure.net/", str(in(sd, "hsmUri")))
	})

	t.Run("key", func(t *testing.T) {
		key := r.get(t, "hsm-key")
		assert.Equal(t, "odaa-hsm-encryption-key", str(in(key, "name")))
		assert.Equal(t, "RSA-HSM", str(in(key, "keyType")))
		assert.Equal(t, float64(2048), num(in(key, "keySize")))
		assert.Equal(t, []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}, strs(in(key, "operations")))
		assert.Regexp(t, `^https://hsm-odaa-demo-[0-9a-f]{6}\.managedhsm\.azure\.net/keys/odaa-hsm-encryption-key/\w+$`,
			str(out(key, "keyId")))
	})

	t.Run("roles", func(t *testing.T) {
		deployer := r.get(t, "hsm-deployer-crypto-role")
		assert.Equal(t, hsmrbac.CryptoUser, str(in(deployer, "role")))
		assert.Equal(t, "/keys", str(in(deployer, "scope")))
		assert.Equal(t, mockcloud.DeployerObjectID, str(in(deployer, "principalId")))
		sp := r.get(t, "service-principal-hsm-role")
		assert.Equal(t, hsmrbac.CryptoUser, str(in(sp, "role")))
		assert.Equal(t, "/keys", str(in(sp, "scope")))
		assert.Equal(t, "sp-odaa-managedhsm", str(in(r.get(t, "service-principal-app"), "displayName")))
	})

	t.Run("autonomous-database", func(t *testing.T) {
		db := r.get(t, "adb-adbhsmdemo-adb")
		assert.Equal(t, "Oracle.Database", str(in(db, "resourceProviderNamespace")))
		assert.Equal(t, "autonomousDatabases", str(in(db, "resourceType")))
		assert.Equal(t, "2025-09-01", str(in(db, "apiVersion")))
		assert.Equal(t, "adbhsmdemo", str(in(db, "resourceName")))
		assert.Equal(t, "OLTP", str(in(db, "properties.dbWorkload")))
		assert.Equal(t, "Regular", str(in(db, "properties.dataBaseType")))
		assert.Equal(t, "ECPU", str(in(db, "properties.computeModel")))
		assert.Equal(t, float64(2), num(in(db, "properties.computeCount")))
		assert.False(t, plain(in(db, "properties.isMtlsConnectionRequired")).BoolValue())
		assert.Contains(t, str(in(db, "properties.subnetId")), "/subnets/subnet-oracle-delegated")
		assert.Contains(t, str(in(db, "properties.vnetId")), "/virtualNetworks/vnet-odaa-hsm")
		assert.True(t, in(db, "properties.adminPassword").IsSecret(), "the ADMIN password is a secret")
		for k := range plain(in(db, "properties")).ObjectValue() {
			assert.NotContains(t, strings.ToLower(string(k)), "key", "created with Oracle-managed keys")
		}
		assert.Equal(t, "90m", db.Timeouts.Create, "database creation gets a long timeout")
		assert.Contains(t, db.IgnoreChanges, "properties.adminPassword", "a password change must not PUT the database")
	})

	t.Run("oci-dns", func(t *testing.T) {
		hsmName := str(in(r.get(t, "hsm-hsm"), "name"))
		for label, zone := range map[string]string{
			"privatelink": "privatelink.managedhsm.azure.net", "public-name": "managedhsm.azure.net",
		} {
			z := r.get(t, "oci-dns-zone-"+label)
			assert.Equal(t, zone, str(in(z, "name")))
			assert.Equal(t, "PRIVATE", str(in(z, "scope")))
			assert.Equal(t, mockcloud.ResolverDefaultVew, str(in(z, "viewId")))
			assert.Equal(t, mockcloud.Compartment, str(in(z, "compartmentId")))
			rr := r.get(t, "oci-dns-a-"+label)
			assert.Equal(t, hsmName+"."+zone, str(in(rr, "domain")))
			assert.Equal(t, "A", str(in(rr, "rtype")))
			items := plain(in(rr, "items")).ArrayValue()
			require.Len(t, items, 1)
			assert.Equal(t, hsmName+"."+zone, str(field(items[0], "domain")))
			assert.Equal(t, mockcloud.PrivateEndpointIP, str(field(items[0], "rdata")))
			assert.Equal(t, float64(3600), num(field(items[0], "ttl")))
		}
	})

	t.Run("sql-and-key-switch", func(t *testing.T) {
		hsmName := str(in(r.get(t, "hsm-hsm"), "name"))
		acl := r.get(t, "cmek-adbhsmdemo-acl-hsm")
		assert.Equal(t, hsmName+".managedhsm.azure.net", str(in(acl, "host")))
		assert.Equal(t, float64(443), num(in(acl, "lowerPort")))
		assert.Equal(t, float64(443), num(in(acl, "upperPort")))
		assert.Equal(t, "ADMIN", str(in(acl, "principal")))
		assert.Contains(t, strs(in(acl, "privileges")), "connect")
		assert.Equal(t, "login.microsoftonline.com", str(in(r.get(t, "cmek-adbhsmdemo-acl-login"), "host")))
		assert.Contains(t, str(in(acl, "connectString")), "(protocol=tcps)", "one-way TLS descriptor")

		route := r.get(t, "cmek-adbhsmdemo-route-outbound")
		assert.Equal(t, "ROUTE_OUTBOUND_CONNECTIONS", str(in(route, "name")))
		assert.Equal(t, "PRIVATE_ENDPOINT", str(in(route, "value")))

		auth := r.get(t, "cmek-adbhsmdemo-principal-auth")
		assert.Equal(t, "AZURE", str(in(auth, "provider")))
		assert.Equal(t, mockcloud.TenantID, str(in(auth, "tenantId")))
		consent := r.get(t, "cmek-adbhsmdemo-consent")
		assert.Equal(t, str(out(auth, "appClientId")), str(in(consent, "clientId")))

		role := r.get(t, "cmek-adbhsmdemo-key-role")
		assert.Equal(t, hsmrbac.CryptoServiceEncryptionUser, str(in(role, "role")))
		assert.Equal(t, "/keys/odaa-hsm-encryption-key", str(in(role, "scope")))
		assert.Equal(t, str(out(consent, "objectId")), str(in(role, "principalId")))

		sw := r.get(t, "cmek-adbhsmdemo-encryption-key")
		assert.Equal(t, str(out(r.get(t, "adb-adbhsmdemo-adb"), "properties.ocid")), str(in(sw, "databaseOcid")))
		assert.Equal(t, "https://"+hsmName+".managedhsm.azure.net", str(in(sw, "vaultUri")), "no trailing slash")
		assert.Equal(t, "odaa-hsm-encryption-key", str(in(sw, "keyName")))
	})

	t.Run("network-lock", func(t *testing.T) {
		lock := r.get(t, "hsm-network-lock")
		assert.Equal(t, "Disabled", str(in(lock, "publicNetworkAccess")))
		assert.Equal(t, "Deny", str(in(lock, "defaultAction")))
		assert.Contains(t, str(in(lock, "hsmResourceId")), "/managedHSMs/")
	})
}

// Every edge the clouds require holds, and no edge serialises work that does not depend on each other.
func TestOrdering(t *testing.T) {
	r := deployed(t)
	edges := []struct{ from, to, why string }{
		{"hsm-deployer-crypto-role", "hsm-security-domain", "the data plane opens at activation"},
		{"hsm-key", "hsm-security-domain", "the data plane opens at activation"},
		{"hsm-key", "hsm-deployer-crypto-role", "the Administrator role cannot create keys"},
		{"service-principal-hsm-role", "hsm-security-domain", "the data plane opens at activation"},
		{"cmek-adbhsmdemo-key-role", "hsm-security-domain", "the data plane opens at activation"},
		{"hsm-network-lock", "hsm-key", "public access closes after the key exists"},
		{"hsm-network-lock", "hsm-deployer-crypto-role", "public access closes after role assignments"},
		{"hsm-network-lock", "service-principal-hsm-role", "public access closes after role assignments"},
		{"hsm-network-lock", "cmek-adbhsmdemo-key-role", "public access closes after role assignments"},
		{"network-subnet-pe", "network-subnet-oracle", "Azure refuses concurrent subnet writes to one VNet"},
		{"hsm-pe", "hsm-hsm", "the endpoint connects to the HSM"},
		{"hsm-zone-group", "hsm-pe", "the group belongs to the endpoint"},
		{"oci-dns-a-privatelink", "hsm-pe", "the record holds the endpoint's IP"},
		{"oci-dns-zone-privatelink", "adb-adbhsmdemo-adb", "the view is found from the database"},
		{"cmek-adbhsmdemo-route-outbound", "cmek-adbhsmdemo-acl-hsm", "ACL, then routing"},
		{"cmek-adbhsmdemo-principal-auth", "cmek-adbhsmdemo-route-outbound", "routing, then principal auth"},
		{"cmek-adbhsmdemo-consent", "cmek-adbhsmdemo-principal-auth", "consent needs the app's client ID"},
		{"cmek-adbhsmdemo-key-role", "cmek-adbhsmdemo-consent", "the role takes the SP's object ID"},
		{"cmek-adbhsmdemo-encryption-key", "cmek-adbhsmdemo-key-role", "the database must reach the key"},
		{"cmek-adbhsmdemo-encryption-key", "hsm-key", "the key must exist"},
		{"cmek-adbhsmdemo-keystore-check", "cmek-adbhsmdemo-encryption-key", "the check follows the switch"},
	}
	for _, sql := range []string{"acl-hsm", "acl-login", "route-outbound", "principal-auth", "keystore-check"} {
		for _, dns := range []string{"hsm-zone-group", "hsm-zone-link", "oci-dns-a-privatelink",
			"oci-dns-a-public-name"} {
			edges = append(edges, struct{ from, to, why string }{"cmek-adbhsmdemo-" + sql, dns,
				"DNS on both sides precedes the SQL steps"})
		}
	}
	for _, e := range edges {
		assert.Truef(t, r.dependsOn(e.from, e.to), "%s must wait for %s: %s", e.from, e.to, e.why)
	}

	noEdges := []struct{ from, to string }{
		{"adb-adbhsmdemo-adb", "hsm-hsm"},
		{"hsm-hsm", "adb-adbhsmdemo-adb"},
		{"service-principal-app", "hsm-hsm"},
		{"service-principal-sp", "hsm-hsm"},
		{"service-principal-secret", "hsm-hsm"},
		{"oci-dns-a-privatelink", "hsm-key"},
		{"hsm-zone-group", "hsm-key"},
		{"hsm-security-domain", "hsm-pe"},
	}
	for _, e := range noEdges {
		assert.Falsef(t, r.dependsOn(e.from, e.to), "%s must not wait for %s", e.from, e.to)
	}
	for _, reg := range r.regs {
		assert.NotContainsf(t, reg.DependsOn, "hsm-network-lock", "%s must not wait for the lock", reg.Name)
	}

	// The lock waits directly for the HSM's own data plane, whatever the other edges are.
	lock := r.get(t, "hsm-network-lock")
	assert.Subset(t, lock.DependsOn, []string{"hsm-security-domain", "hsm-deployer-crypto-role", "hsm-key"})
	// Subnets are separate resources; the VNet must not plan their removal on every update.
	assert.Contains(t, r.get(t, "network-vnet").IgnoreChanges, "subnets")
}

func TestSecretsStaySecret(t *testing.T) {
	r := deployed(t)

	for _, name := range []string{"cmek-adbhsmdemo-acl-hsm", "cmek-adbhsmdemo-route-outbound",
		"cmek-adbhsmdemo-principal-auth", "cmek-adbhsmdemo-keystore-check"} {
		reg := r.get(t, name)
		assert.Truef(t, reg.Inputs["password"].IsSecret(), "%s: password must be secret", name)
		assert.Contains(t, reg.SecretOutputs, "password")
	}
	sd := r.get(t, "hsm-security-domain")
	assert.ElementsMatch(t, []string{"securityDomain", "privateKeys"}, sd.SecretOutputs)
	assert.True(t, r.get(t, "service-principal-secret-a").Outputs["value"].IsSecret())
	assert.True(t, r.get(t, "service-principal-secret-b").Outputs["value"].IsSecret())

	// The password appears nowhere but inside a secret.
	for _, reg := range r.regs {
		assert.Falsef(t, plainContains(reg.Inputs, testPassword), "%s holds the password in plain text", reg.Name)
	}
}

func TestServicePrincipalHasThreeDistinctIDs(t *testing.T) {
	r := deployed(t)
	app := r.get(t, "service-principal-app")
	sp := r.get(t, "service-principal-sp")
	ids := []string{str(out(app, "clientId")), str(out(app, "objectId")), str(out(sp, "objectId"))}
	sort.Strings(ids)
	assert.Len(t, uniq(ids), 3, "client ID, application object ID and SP object ID differ: %v", ids)

	role := r.get(t, "service-principal-hsm-role")
	assert.Equal(t, str(out(sp, "objectId")), str(in(role, "principalId")), "roles take the SP's object ID")
	assert.NotEqual(t, str(out(app, "clientId")), str(in(role, "principalId")))
	assert.NotEqual(t, str(out(app, "objectId")), str(in(role, "principalId")))
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, v := range s {
		m[v] = true
	}
	return m
}

// Every child is parented to a component and named from it, so two instances cannot collide.
func TestChildrenParentedAndNamedFromTheirComponent(t *testing.T) {
	r := deployed(t)
	for _, reg := range r.regs {
		if reg.Type == "pulumi:pulumi:Stack" || strings.HasPrefix(reg.Type, "odaa:components:") {
			continue
		}
		require.NotEmptyf(t, reg.Parent, "%s has no parent component", reg.Name)
		parent := r.get(t, reg.Parent)
		assert.Truef(t, strings.HasPrefix(parent.Type, "odaa:components:"), "%s's parent is not a component", reg.Name)
		assert.Truef(t, strings.HasPrefix(reg.Name, reg.Parent+"-"), "%s is not named from %s", reg.Name, reg.Parent)
	}
}
