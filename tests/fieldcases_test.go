package tests

import (
	"os"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
	"github.com/odaa-platform/adbs-hsm/internal/stack"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// Field case 1: an HSM that is not activated never gets a key or role call, and the error says why.
func TestFieldCase1DataPlaneBeforeActivation(t *testing.T) {
	cloud := mockcloud.New()
	cloud.ActivationStatus = "NotActivated"

	err := devConfig(t).run(t, cloud)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not activated")
	assert.Contains(t, err.Error(), `"NotActivated"`)
	r := newResult(cloud)
	assert.Empty(t, r.ofType(odaa.KeyType), "no key call against an inactive HSM")
	assert.Empty(t, r.ofType(odaa.RoleAssignmentType), "no role call against an inactive HSM")
	assert.Empty(t, r.ofType(odaa.NetworkLockType), "nothing closes an HSM that was never configured")
}

// Field case 1, second half: the key waits for a crypto role for the deployer, not the Administrator role.
func TestFieldCase1KeyWaitsForDeployerCryptoRole(t *testing.T) {
	r := deployed(t)
	role := r.get(t, "hsm-deployer-crypto-role")
	assert.NotEqual(t, "Managed HSM Administrator", str(in(role, "role")))
	assert.True(t, r.dependsOn("hsm-key", "hsm-deployer-crypto-role"))
}

// Field case 2: credentials without an object ID stop the run before the HSM exists, unless config gives one.
func TestFieldCase2CallerObjectID(t *testing.T) {
	t.Run("missing-fails-before-anything-is-created", func(t *testing.T) {
		cloud := mockcloud.New()
		cloud.CallerObjectID = ""

		err := devConfig(t).run(t, cloud)

		require.Error(t, err)
		assert.Contains(t, err.Error(), "hsm.deployerObjectId")
		assert.Empty(t, customResources(cloud), "nothing may be created")
	})
	t.Run("taken-from-config", func(t *testing.T) {
		cloud := mockcloud.New()
		cloud.CallerObjectID = ""
		cfg := devConfig(t)
		const fromConfig = "0a1b2c3d-0000-4000-8000-000000000001"
		cfg.patch(t, "hsm", map[string]any{"deployerObjectId": fromConfig})

		require.NoError(t, cfg.run(t, cloud))

		r := newResult(cloud)
		assert.Equal(t, []string{fromConfig}, strs(in(r.get(t, "hsm-hsm"), "properties.initialAdminObjectIds")))
		assert.Equal(t, fromConfig, str(in(r.get(t, "hsm-deployer-crypto-role"), "principalId")))
	})
	t.Run("extra-administrators-follow-the-deployer", func(t *testing.T) {
		cloud := mockcloud.New()
		cfg := devConfig(t)
		const other = "0a1b2c3d-0000-4000-8000-000000000002"
		cfg.patch(t, "hsm", map[string]any{"administrators": []string{other}})

		require.NoError(t, cfg.run(t, cloud))

		admins := strs(in(newResult(cloud).get(t, "hsm-hsm"), "properties.initialAdminObjectIds"))
		assert.Equal(t, []string{mockcloud.DeployerObjectID, other}, admins)
	})
}

// Field case 3: public access stays open until activation, key and roles are done, then closes in place.
func TestFieldCase3LockedTooEarly(t *testing.T) {
	t.Run("open-at-creation-closed-by-an-in-place-lock", func(t *testing.T) {
		r := deployed(t)
		hsm := r.get(t, "hsm-hsm")
		assert.Equal(t, "Enabled", str(in(hsm, "properties.publicNetworkAccess")))
		assert.Equal(t, "Allow", str(in(hsm, "properties.networkAcls.defaultAction")))
		// The lock owns these properties: the HSM resource never plans a change, let alone a replacement, for them.
		assert.Subset(t, hsm.IgnoreChanges, []string{"properties.publicNetworkAccess", "properties.networkAcls"})
		lock := r.get(t, "hsm-network-lock")
		assert.Equal(t, "hsm", lock.Parent)
		for _, dep := range []string{"hsm-security-domain", "hsm-key", "hsm-deployer-crypto-role",
			"service-principal-hsm-role", "cmek-adbhsmdemo-key-role"} {
			assert.Truef(t, r.dependsOn("hsm-network-lock", dep), "the lock waits for %s", dep)
		}
	})
	t.Run("runner-inside-vnet-creates-it-closed", func(t *testing.T) {
		cloud := mockcloud.New()
		cfg := devConfig(t)
		cfg.patch(t, "hsm", map[string]any{"runnerInsideVnet": true})

		require.NoError(t, cfg.run(t, cloud))

		r := newResult(cloud)
		hsm := r.get(t, "hsm-hsm")
		assert.Equal(t, "Disabled", str(in(hsm, "properties.publicNetworkAccess")))
		assert.Equal(t, "Deny", str(in(hsm, "properties.networkAcls.defaultAction")))
		// The lock stays declared, so that turning the setting on later never deletes it (which reopens access).
		lock := r.get(t, "hsm-network-lock")
		assert.Equal(t, "Disabled", str(in(lock, "publicNetworkAccess")))
		assert.True(t, r.dependsOn("hsm-security-domain", "hsm-zone-group"), "activation goes through private DNS")
		assert.True(t, r.dependsOn("hsm-security-domain", "hsm-zone-link"), "activation goes through private DNS")
	})
}

// Field case 4: a mock that only echoes inputs leaves computed values empty; the program stops instead of
// building URLs from them.
func TestFieldCase4MocksThatLie(t *testing.T) {
	cloud := mockcloud.New()
	cloud.EchoOnly = true

	err := devConfig(t).run(t, cloud)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "came back empty")
	for _, reg := range cloud.Registrations() {
		assert.Falsef(t, plainContains(reg.Inputs, "https:///"), "%s was built from an empty URI", reg.Name)
	}
	assert.Empty(t, newResult(cloud).ofType(odaa.KeyType))
}

// Field case 4, last part: a preview has no side effects; the program writes nothing, anywhere.
func TestPreviewHasNoSideEffects(t *testing.T) {
	cfg := devConfig(t)
	t.Chdir(t.TempDir())
	t.Setenv("PULUMI_DRY_RUN", "true")
	cloud := mockcloud.New()

	require.NoError(t, cfg.run(t, cloud))

	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	assert.Empty(t, entries, "a preview wrote files")
	assert.NotEmpty(t, newResult(cloud).ofType(odaa.SecurityDomainType), "the preview planned the whole stack")
}

// Field case 6: one zone group per endpoint, every config named, the privatelink zone in location global,
// linked to the VNet.
func TestFieldCase6PrivateDNSZoneGroup(t *testing.T) {
	r := deployed(t)

	groups := r.ofType("azure-native:network:PrivateDnsZoneGroup")
	require.Len(t, groups, 1, "one zone group per endpoint")
	configs := plain(in(groups[0], "privateDnsZoneConfigs")).ArrayValue()
	require.Len(t, configs, 1)
	assert.Equal(t, "privatelink-managedhsm-azure-net", str(field(configs[0], "name")))
	assert.Contains(t, str(field(configs[0], "privateDnsZoneId")), "/privateDnsZones/privatelink.managedhsm.azure.net")
	assert.Equal(t, str(out(r.get(t, "hsm-pe"), "name")), str(in(groups[0], "privateEndpointName")))

	zone := r.get(t, "hsm-zone")
	assert.Equal(t, "privatelink.managedhsm.azure.net", str(in(zone, "privateZoneName")))
	assert.Equal(t, "global", str(in(zone, "location")))
	link := r.get(t, "hsm-zone-link")
	assert.Equal(t, "global", str(in(link, "location")))
	assert.False(t, plain(in(link, "registrationEnabled")).BoolValue())
	assert.Contains(t, str(in(link, "virtualNetwork.id")), "/virtualNetworks/vnet-odaa-hsm")
}

// Field case 9: the singular delegation, a /28 and overlapping subnets fail validation before anything exists.
func TestFieldCase9DelegatedSubnetRejectedUpFront(t *testing.T) {
	cases := map[string]map[string]any{
		"singular-delegation": {"delegation": "Oracle.Database/networkAttachment"},
		"subnet-28":           {"delegatedSubnetPrefix": "10.0.1.0/28"},
		"overlapping-subnets": {"privateEndpointSubnetPrefix": "10.0.1.128/25"},
	}
	for name, patch := range cases {
		t.Run(name, func(t *testing.T) {
			cloud := mockcloud.New()
			cfg := devConfig(t)
			cfg.patch(t, "network", patch)

			err := cfg.run(t, cloud)

			require.Error(t, err)
			assert.Contains(t, err.Error(), "network.")
			assert.Contains(t, err.Error(), "nothing was created")
			assert.Empty(t, customResources(cloud), "validation runs before any resource")
			assert.Empty(t, cloud.Invokes(), "validation runs before any cloud call")
		})
	}
}

// Every configuration problem is reported in one run, and a plain-text password is refused unquoted.
func TestValidationReportsEverythingBeforeAnyResource(t *testing.T) {
	cloud := mockcloud.New()
	cfg := devConfig(t)
	cfg.patch(t, "hsm", map[string]any{"softDeleteRetentionDays": 3, "key": map[string]any{"size": 4096}})
	cfg.set(t, project+":adminPasswords", map[string]string{"adbhsmdemo": "short"})
	cfg.secrets = nil

	err := cfg.run(t, cloud)

	require.Error(t, err)
	for _, want := range []string{"hsm.softDeleteRetentionDays", "hsm.key.size", "adminPasswords.adbhsmdemo",
		"--secret"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.NotContains(t, err.Error(), "short\"")
	assert.Empty(t, customResources(cloud))
}

// Several databases share one HSM: one DNS pair, one chain of steps each, no waiting on each other, and the
// HSM closes only after every database's role exists.
func TestDatabasesShareOneHsm(t *testing.T) {
	cloud := mockcloud.New()
	cfg := devConfig(t)
	cfg.set(t, project+":databases", []map[string]any{{"name": "adbhsmdemo"}, {"name": "adbreports", "workload": "DW"}})
	cfg.secret(t, "adminPasswords", map[string]string{"adbhsmdemo": testPassword, "adbreports": "An0ther#Passw0rd"})

	require.NoError(t, cfg.run(t, cloud))

	r := newResult(cloud)
	assert.Len(t, r.ofType("azure-native:keyvault:ManagedHsm"), 1)
	assert.Len(t, r.ofType("azure-native:resources:Resource"), 2)
	assert.Len(t, r.ofType("oci:Dns/zone:Zone"), 2, "one VCN, one pair of zones")
	assert.Len(t, r.ofType(odaa.EncryptionKeyType), 2)
	assert.Equal(t, "DW", str(in(r.get(t, "adb-adbreports-adb"), "properties.dbWorkload")))
	for _, db := range []string{"adbhsmdemo", "adbreports"} {
		assert.True(t, r.dependsOn("hsm-network-lock", "cmek-"+db+"-key-role"))
	}
	for _, step := range []string{"acl-hsm", "route-outbound", "principal-auth", "encryption-key"} {
		assert.False(t, r.dependsOn("cmek-adbreports-"+step, "cmek-adbhsmdemo-"+step))
		assert.False(t, r.dependsOn("cmek-adbhsmdemo-"+step, "cmek-adbreports-"+step))
	}
	assert.NotEqual(t, str(out(r.get(t, "cmek-adbhsmdemo-principal-auth"), "appClientId")),
		str(out(r.get(t, "cmek-adbreports-principal-auth"), "appClientId")))
}

func customResources(cloud *mockcloud.Cloud) []string {
	var names []string
	for _, reg := range cloud.Registrations() {
		if reg.Custom {
			names = append(names, reg.Name)
		}
	}
	return names
}

// The stack exports what operators need, and the client secret only as a secret.
func TestStackOutputs(t *testing.T) {
	cfg := devConfig(t)
	var got map[string]any
	var secretIsSecret, keyIsSecret bool
	program := func(ctx *pulumi.Context) error {
		outputs, err := stack.Compose(ctx)
		if err != nil {
			return err
		}
		secretIsSecret = pulumi.IsSecret(outputs["servicePrincipalSecret"].(pulumi.StringOutput))
		keyIsSecret = pulumi.IsSecret(outputs["keyId"].(pulumi.StringOutput))
		outputs.ToMapOutput().ApplyT(func(m map[string]any) map[string]any {
			got = m
			return m
		})
		return nil
	}

	require.NoError(t, cfg.runProgram(t, mockcloud.New(), program))

	require.NotNil(t, got)
	assert.True(t, secretIsSecret, "the client secret is exported as a secret")
	assert.False(t, keyIsSecret)
	assert.Regexp(t, `^hsm-odaa-demo-[0-9a-f]{6}$`, got["hsmName"])
	assert.Regexp(t, `^https://hsm-odaa-demo-[0-9a-f]{6}\.managedhsm\.azure\.net$`, got["hsmUri"])
	assert.Regexp(t, `/keys/odaa-hsm-encryption-key/\w+$`, got["keyId"])
	assert.NotEmpty(t, got["keyVersion"])
	assert.Equal(t, mockcloud.PrivateEndpointIP, got["privateEndpointIp"])
	assert.Regexp(t, `^\.secrets/hsm-odaa-demo-[0-9a-f]{6}-sd\.json$`, got["securityDomainPath"])
	assert.NotEmpty(t, got["servicePrincipalClientId"])
	assert.NotEmpty(t, got["servicePrincipalObjectId"])
	assert.NotEqual(t, got["servicePrincipalClientId"], got["servicePrincipalObjectId"])
	assert.Equal(t, mockcloud.TenantID, got["servicePrincipalTenantId"])
	assert.NotEmpty(t, got["servicePrincipalSecretEndDate"])
	dbs, _ := got["databases"].(map[string]any)
	db, _ := dbs["adbhsmdemo"].(map[string]any)
	require.NotNil(t, db, "databases.adbhsmdemo is exported")
	assert.Regexp(t, `^ocid1\.autonomousdatabase\.`, db["ocid"])
	assert.Equal(t, mockcloud.DatabaseIP, db["privateEndpointIp"])
	cs, _ := db["connectionStrings"].(map[string]string)
	for _, service := range []string{"high", "medium", "low"} {
		assert.Containsf(t, cs[service], "(protocol=tcps)", "the %s connection string", service)
	}
}

// Field case 7, program side: the ACL principal is stored upper-case ('admin' fails with ORA-01435), and the
// ACL names the HSM by its host name, never an IP address.
func TestFieldCase7AclPrincipalAndHost(t *testing.T) {
	cfg := devConfig(t)
	cfg.patch(t, "cmek", map[string]any{"aclPrincipal": "admin"})
	cloud := mockcloud.New()

	require.NoError(t, cfg.run(t, cloud))

	for _, acl := range newResult(cloud).ofType(odaa.NetworkACLType) {
		assert.Equal(t, "ADMIN", str(in(acl, "principal")))
		assert.NotRegexp(t, `^\d+\.\d+\.\d+\.\d+$`, str(in(acl, "host")))
	}
}
