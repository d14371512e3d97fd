package tests

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// Every setting reaches the resource input it governs: each row sets a non-default value and reads it back.
func TestEverySettingReachesItsResource(t *testing.T) {
	cfg := devConfig(t)
	cfg.set(t, project+":tags", map[string]string{"cost-center": "db-42"})
	cfg.set(t, project+":location", "westeurope")
	cfg.set(t, project+":resourceGroupName", "rg-other")
	cfg.patch(t, "hsm", map[string]any{
		"name": "hsm-explicit-01", "sku": "Custom_B6", "softDeleteRetentionDays": 30, "purgeProtection": true,
		"deployerRole": "Managed HSM Crypto User", "deployerRoleScope": "/",
		"dnsSuffix": "managedhsm.usgovcloudapi.net",
		"securityDomain": map[string]any{"certificateCount": 5, "quorum": 3, "keyDirectory": "/secure/keys",
			"outputPath": "/secure/sd.json"},
		"key": map[string]any{"name": "tde-master", "operations": []string{"wrapKey", "unwrapKey"}},
	})
	cfg.patch(t, "servicePrincipal", map[string]any{"displayName": "sp-x", "role": "Managed HSM Crypto Officer",
		"scope": "/keys/tde-master", "secretEndDate": "2027-06-01T00:00:00Z", "secretRotationDays": 0})
	cfg.patch(t, "ociDns", map[string]any{"viewId": "ocid1.dnsview.oc1.iad.chosenview",
		"compartmentId": "ocid1.compartment.oc1..chosen", "ttl": 600})
	cfg.patch(t, "cmek", map[string]any{"routeOutboundConnections": "ENFORCE_PRIVATE_ENDPOINT",
		"restartAfterRouting": true, "aclPrincipal": "admin", "aclPrivileges": []string{"connect", "http_proxy"},
		"loginHost": "login.microsoftonline.us", "oracleAppRole": "Managed HSM Crypto User",
		"revertKeyOnDelete": false})
	cfg.set(t, project+":databases", []map[string]any{{"name": "Sales01", "displayName": "Sales", "workload": "APEX",
		"computeCount": 4, "storageTbs": 2, "dbVersion": "23ai", "mtlsRequired": true, "walletDirectory": "/w",
		"licenseModel": "BringYourOwnLicense", "characterSet": "WE8ISO8859P1", "ncharacterSet": "UTF8"}})
	cfg.secret(t, "adminPasswords", map[string]string{"Sales01": testPassword})
	cloud := mockcloud.New()

	require.NoError(t, cfg.run(t, cloud))

	r := newResult(cloud)
	rows := []struct {
		resource, path string
		want           any
	}{
		{"network-rg", "resourceGroupName", "rg-other"},
		{"network-rg", "location", "westeurope"},
		{"network-rg", "tags.cost-center", "db-42"},
		{"network-vnet", "tags.cost-center", "db-42"},
		{"hsm-hsm", "tags.cost-center", "db-42"},
		{"hsm-pe", "tags.cost-center", "db-42"},
		{"adb-Sales01-adb", "tags.cost-center", "db-42"},
		{"hsm-hsm", "name", "hsm-explicit-01"},
		{"hsm-hsm", "location", "westeurope"},
		{"hsm-hsm", "sku.name", "Custom_B6"},
		{"hsm-hsm", "properties.softDeleteRetentionInDays", 30.0},
		{"hsm-hsm", "properties.enablePurgeProtection", true},
		{"hsm-deployer-crypto-role", "role", "Managed HSM Crypto User"},
		{"hsm-deployer-crypto-role", "scope", "/"},
		{"hsm-zone", "privateZoneName", "privatelink.managedhsm.usgovcloudapi.net"},
		{"hsm-security-domain", "certificateCount", 5.0},
		{"hsm-security-domain", "quorum", 3.0},
		{"hsm-security-domain", "keyDirectory", "/secure/keys"},
		{"hsm-security-domain", "outputPath", "/secure/sd.json"},
		{"hsm-key", "name", "tde-master"},
		{"hsm-key", "operations", []string{"wrapKey", "unwrapKey"}},
		{"service-principal-app", "displayName", "sp-x"},
		{"service-principal-secret", "endDate", "2027-06-01T00:00:00Z"},
		{"service-principal-hsm-role", "role", "Managed HSM Crypto Officer"},
		{"service-principal-hsm-role", "scope", "/keys/tde-master"},
		{"oci-dns-zone-privatelink", "viewId", "ocid1.dnsview.oc1.iad.chosenview"},
		{"oci-dns-zone-privatelink", "compartmentId", "ocid1.compartment.oc1..chosen"},
		{"oci-dns-zone-public-name", "name", "managedhsm.usgovcloudapi.net"},
		{"oci-dns-a-privatelink", "domain", "hsm-explicit-01.privatelink.managedhsm.usgovcloudapi.net"},
		{"cmek-Sales01-acl-hsm", "host", "hsm-explicit-01.managedhsm.usgovcloudapi.net"},
		{"cmek-Sales01-acl-hsm", "principal", "ADMIN"},
		{"cmek-Sales01-acl-hsm", "privileges", []string{"connect", "http_proxy"}},
		{"cmek-Sales01-acl-login", "host", "login.microsoftonline.us"},
		{"cmek-Sales01-acl-hsm", "walletDirectory", "/w"},
		{"cmek-Sales01-acl-hsm", "connectString", "sales01_high"},
		{"cmek-Sales01-route-outbound", "value", "ENFORCE_PRIVATE_ENDPOINT"},
		{"cmek-Sales01-route-outbound", "restartOnChange", true},
		{"cmek-Sales01-key-role", "role", "Managed HSM Crypto User"},
		{"cmek-Sales01-key-role", "scope", "/keys/tde-master"},
		{"cmek-Sales01-encryption-key", "keyName", "tde-master"},
		{"cmek-Sales01-encryption-key", "revertOnDelete", false},
		{"adb-Sales01-adb", "resourceName", "Sales01"},
		{"adb-Sales01-adb", "properties.displayName", "Sales"},
		{"adb-Sales01-adb", "properties.dbWorkload", "APEX"},
		{"adb-Sales01-adb", "properties.computeCount", 4.0},
		{"adb-Sales01-adb", "properties.dataStorageSizeInTbs", 2.0},
		{"adb-Sales01-adb", "properties.dbVersion", "23ai"},
		{"adb-Sales01-adb", "properties.isMtlsConnectionRequired", true},
		{"adb-Sales01-adb", "properties.licenseModel", "BringYourOwnLicense"},
		{"adb-Sales01-adb", "properties.characterSet", "WE8ISO8859P1"},
		{"adb-Sales01-adb", "properties.ncharacterSet", "UTF8"},
	}
	for _, row := range rows {
		v := plain(in(r.get(t, row.resource), row.path))
		var got any
		switch want := row.want.(type) {
		case string:
			got = str(v)
		case float64:
			got = num(v)
		case bool:
			got = v.IsBool() && v.BoolValue()
			if !want {
				assert.Truef(t, v.IsBool(), "%s %s is not set", row.resource, row.path)
			}
		case []string:
			got = strs(v)
		}
		assert.Equalf(t, row.want, got, "%s input %s", row.resource, row.path)
	}
	for _, inv := range cloud.Invokes() {
		assert.NotContains(t, inv.Token, "oci:", "a configured view and compartment need no OCI look-up")
	}
}

// The HSM keeps what is fixed at creation out of its diffs, and the tenant-wide consent outlives any one stack.
func TestCreateOnlyAndSharedResources(t *testing.T) {
	r := deployed(t)
	assert.Subset(t, r.get(t, "hsm-hsm").IgnoreChanges,
		[]string{"properties.tenantId", "properties.initialAdminObjectIds"})
	assert.True(t, r.get(t, "cmek-adbhsmdemo-consent").Retain, "consent is shared; destroy must not delete it")
	assert.True(t, r.dependsOn("cmek-adbhsmdemo-key-role", "hsm-key"), "a role scoped to the key waits for it")
}

// The deployer given again among the administrators is listed once.
func TestInitialAdministratorsAreUnique(t *testing.T) {
	cfg := devConfig(t)
	cfg.patch(t, "hsm", map[string]any{"administrators": []string{mockcloud.DeployerObjectID}})
	cloud := mockcloud.New()

	require.NoError(t, cfg.run(t, cloud))

	admins := strs(in(newResult(cloud).get(t, "hsm-hsm"), "properties.initialAdminObjectIds"))
	assert.Equal(t, []string{mockcloud.DeployerObjectID}, admins)
}
