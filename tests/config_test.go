package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/components"
	"github.com/odaa-platform/adbs-hsm/internal/config"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// Pulumi.yaml declares every key with a description, and its defaults are the program's defaults, so that a
// stack that sets nothing behaves the same whether the engine or the program fills in a value.
func TestPulumiYamlMatchesProgramDefaults(t *testing.T) {
	var proj struct {
		Config map[string]struct {
			Type        string `yaml:"type"`
			Description string `yaml:"description"`
			Secret      bool   `yaml:"secret"`
			Default     any    `yaml:"default"`
		} `yaml:"config"`
	}
	readYAML(t, "Pulumi.yaml", &proj)

	d := config.Defaults()
	db := d.Databases[0]
	db.DisplayName = db.Name
	want := map[string]any{
		config.KeyLocation:          d.Location,
		config.KeyResourceGroupName: d.ResourceGroupName,
		config.KeyTags:              d.Tags,
		config.KeyNetwork:           d.Network,
		config.KeyHsm:               d.Hsm,
		config.KeyServicePrincipal:  d.ServicePrincipal,
		config.KeyDatabases:         []config.Database{db},
		config.KeyOciDNS:            d.OciDNS,
		config.KeyCmek:              d.Cmek,
		config.KeyAudit:             d.Audit,
	}
	for key, value := range want {
		decl, ok := proj.Config[key]
		require.Truef(t, ok, "Pulumi.yaml does not declare %s", key)
		assert.NotEmptyf(t, decl.Description, "%s has no description", key)
		assert.JSONEqf(t, jsonOf(t, value), jsonOf(t, decl.Default), "default of %s", key)
	}
	pw, ok := proj.Config[config.KeyAdminPasswords]
	require.True(t, ok, "Pulumi.yaml declares adminPasswords")
	assert.True(t, pw.Secret, "adminPasswords is declared secret")
	assert.Nil(t, pw.Default, "secrets are never defaulted")
	assert.Len(t, proj.Config, len(want)+1, "every declared key is read by the program")
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// Two instances of each component live side by side without a name collision.
func TestTwoInstancesOfEachComponentDoNotCollide(t *testing.T) {
	cloud := mockcloud.New()
	program := func(ctx *pulumi.Context) error {
		for _, name := range []string{"a", "b"} {
			nw, err := components.NewNetwork(ctx, "net-"+name, &components.NetworkArgs{
				ResourceGroupName: "rg-" + name, Location: "eastus", VnetName: "vnet", AddressSpace: "10.0.0.0/16",
				DelegatedSubnetName: "db", DelegatedSubnetPrefix: "10.0.1.0/24", Delegation: config.OracleDelegation,
				PrivateEndpointSubnetName: "pe", PrivateEndpointSubnetPrefix: "10.0.2.0/24",
			})
			if err != nil {
				return err
			}
			hsm, err := components.NewManagedHsm(ctx, "hsm-"+name, &components.ManagedHsmArgs{
				ResourceGroupName: nw.ResourceGroupName, Location: "eastus", Name: "hsm-" + name,
				TenantID: mockcloud.TenantID, DeployerObjectID: mockcloud.DeployerObjectID,
				DeployerRole: "Managed HSM Crypto User", DeployerRoleScope: "/keys", Sku: "Standard_B1",
				SoftDeleteRetentionDays: 7, VnetID: nw.VnetID, PrivateEndpointSubnetID: nw.PrivateEndpointSubnetID,
				DNSSuffix:      "managedhsm.azure.net",
				SecurityDomain: components.SecurityDomainSpec{CertificateCount: 3, Quorum: 2, OutputPath: "sd.json"},
				Key: components.KeySpec{Name: "k", Type: "RSA-HSM", Size: 2048,
					Operations: []string{"wrapKey", "unwrapKey"}},
			})
			if err != nil {
				return err
			}
			if _, err := components.NewServicePrincipal(ctx, "sp-"+name, &components.ServicePrincipalArgs{
				DisplayName: "sp-" + name, TenantID: mockcloud.TenantID, SecretLifetimeDays: 30,
				HsmURI: hsm.HsmURI, HsmRole: "Managed HSM Crypto User", HsmScope: "/keys",
			}); err != nil {
				return err
			}
			dns, err := components.NewPrivateDnsPair(ctx, "dns-"+name, &components.PrivateDnsPairArgs{
				HsmName: "hsm-" + name, DNSSuffix: "managedhsm.azure.net", PrivateEndpointIP: hsm.PrivateEndpointIP,
				TTL: 3600, ViewID: pulumi.String(mockcloud.ResolverDefaultVew),
				CompartmentID: pulumi.String(mockcloud.Compartment),
			})
			if err != nil {
				return err
			}
			db, err := components.NewAutonomousDatabase(ctx, "db-"+name, &components.AutonomousDatabaseArgs{
				ResourceGroupName: nw.ResourceGroupName, Location: "eastus", Name: "db" + name, DisplayName: "db",
				AdminPassword: pulumi.ToSecret(pulumi.String(testPassword)).(pulumi.StringOutput),
				VnetID:        nw.VnetID, SubnetID: nw.DelegatedSubnetID, Workload: "OLTP", ComputeCount: 2,
				StorageTbs: 1, DBVersion: "19c", CharacterSet: "AL32UTF8", NcharacterSet: "AL16UTF16",
				LicenseModel: "LicenseIncluded",
			})
			if err != nil {
				return err
			}
			cmek, err := components.NewAdbsCmek(ctx, "cmek-"+name, &components.AdbsCmekArgs{
				DatabaseName: "db" + name, DatabaseOcid: db.Ocid, ConnectString: db.AdminConnectString,
				AdminPassword: pulumi.ToSecret(pulumi.String(testPassword)).(pulumi.StringOutput),
				HsmURI:        hsm.HsmURI, HsmHost: hsm.Host, KeyName: hsm.KeyName, KeyID: hsm.KeyID,
				TenantID: mockcloud.TenantID, AclPrincipal: "ADMIN", AclPrivileges: []string{"connect"},
				LoginHost: "login.microsoftonline.com", RouteOutboundConnections: "PRIVATE_ENDPOINT",
				OracleAppRole: "Managed HSM Crypto Service Encryption User",
				DNSReady:      append(append([]pulumi.Resource{}, hsm.DNSReady...), dns.Records...),
			})
			if err != nil {
				return err
			}
			if _, err := hsm.LockNetwork(ctx, []pulumi.Resource{cmek.RoleAssignment}); err != nil {
				return err
			}
		}
		return nil
	}

	require.NoError(t, pulumi.RunErr(program, pulumi.WithMocks(project, "dev", cloud)))

	seen := map[string]bool{}
	for _, reg := range cloud.Registrations() {
		id := reg.Type + "::" + reg.Name
		assert.Falsef(t, seen[id], "%s registered twice", id)
		seen[id] = true
	}
	r := newResult(cloud)
	for _, token := range []string{"azure-native:keyvault:ManagedHsm", "azure-native:resources:Resource",
		"odaa:hsm:NetworkLock", "odaa:oracle:EncryptionKey", "odaa:components:AdbsCmek"} {
		assert.Lenf(t, r.ofType(token), 2, "two %s", token)
	}
}

// Components refuse nil args with an error instead of panicking.
func TestComponentsRejectNilArgs(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		var errs []error
		_, err := components.NewNetwork(ctx, "n", nil)
		errs = append(errs, err)
		_, err = components.NewManagedHsm(ctx, "h", nil)
		errs = append(errs, err)
		_, err = components.NewServicePrincipal(ctx, "s", nil)
		errs = append(errs, err)
		_, err = components.NewPrivateDnsPair(ctx, "d", nil)
		errs = append(errs, err)
		_, err = components.NewAutonomousDatabase(ctx, "a", nil)
		errs = append(errs, err)
		_, err = components.NewAdbsCmek(ctx, "c", nil)
		errs = append(errs, err)
		for _, e := range errs {
			assert.ErrorContains(t, e, "args are required")
		}
		return nil
	}
	require.NoError(t, pulumi.RunErr(program, pulumi.WithMocks(project, "dev", mockcloud.New())))
}

// The engine calls adminPasswords secret when any entry is, so a second password set without --secret would
// pass unseen; beside its stack file the program reads how each entry is stored and refuses a plain one before
// registering anything.
func TestPlainPasswordInStackFileIsRefused(t *testing.T) {
	cfg := devConfig(t)
	cfg.secret(t, "adminPasswords", map[string]string{"adbhsmdemo": testPassword})
	dir := t.TempDir()
	stackFile := "config:\n  " + project + ":adminPasswords:\n    adbhsmdemo:\n      secure: v1:AAAA\n" +
		"    second: Plain#Passw0rd1\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.dev.yaml"), []byte(stackFile), 0o600))
	t.Chdir(dir)
	cloud := mockcloud.New()

	err := cfg.run(t, cloud)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "adminPasswords.second: is stored in plain text in the stack file")
	assert.NotContains(t, err.Error(), "Plain#Passw0rd1")
	assert.Empty(t, cloud.Registrations(), "nothing is registered")
}
