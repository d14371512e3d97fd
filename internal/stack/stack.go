// Package stack composes the components into the whole deployment. Program is what `pulumi up` runs, and what
// tests and Automation API inline programs call.
package stack

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pulumi/pulumi-azure-native-sdk/authorization/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/odaa-platform/adbs-hsm/components"
	"github.com/odaa-platform/adbs-hsm/internal/config"
)

// Caller is who runs the deployment, as the Azure credentials say, with the deployer's object ID possibly
// taken from config.
type Caller struct {
	TenantID         string
	SubscriptionID   string
	DeployerObjectID string
	// Now is the deployment's clock: the date rules and the client secret's rotation period read it.
	Now time.Time
}

// Program is the Pulumi program: Compose, then export the stack outputs.
func Program(ctx *pulumi.Context) error {
	return ProgramAt(time.Now)(ctx)
}

// ProgramAt is Program with a clock, which tests fix to run the program on a chosen date.
func ProgramAt(now func() time.Time) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		outputs, err := ComposeAt(ctx, now())
		if err != nil {
			return err
		}
		for name, value := range outputs {
			ctx.Export(name, value)
		}
		return nil
	}
}

// Compose reads and validates the stack's configuration, identifies the caller and deploys, returning the stack
// outputs. Every configuration problem is reported together before any resource is registered.
func Compose(ctx *pulumi.Context) (pulumi.Map, error) {
	return ComposeAt(ctx, time.Now())
}

// ComposeAt is Compose at the given time.
func ComposeAt(ctx *pulumi.Context, now time.Time) (pulumi.Map, error) {
	cfg, loadErr := config.Load(ctx.Project(), contextSource{ctx})
	var problems config.Problems
	if loadErr != nil && !errors.As(loadErr, &problems) {
		return nil, loadErr
	}
	if err := cfg.Validate(now); err != nil {
		var more config.Problems
		if errors.As(err, &more) {
			problems = append(problems, more...)
		}
	}
	// Run beside its stack file, as `pulumi up` runs it, the program also checks each password as stored.
	if stackFile, err := os.ReadFile("Pulumi." + ctx.Stack() + ".yaml"); err == nil {
		problems = append(problems, config.PlainPasswords(ctx.Project(), stackFile)...)
	}
	if len(problems) > 0 {
		return nil, problems
	}

	client, err := authorization.GetClientConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the Azure caller's identity: %w", err)
	}
	caller, err := ResolveCaller(cfg, client.TenantId, client.SubscriptionId, client.ObjectId)
	if err != nil {
		return nil, err
	}
	caller.Now = now
	return Deploy(ctx, cfg, caller)
}

// ResolveCaller settles the deployer's object ID: from config when set, else from the credentials. Some
// credentials carry none; then the deployment stops here, before the HSM exists without an administrator
// who can activate it.
func ResolveCaller(cfg config.Config, tenantID, subscriptionID, objectID string) (Caller, error) {
	c := Caller{TenantID: tenantID, SubscriptionID: subscriptionID, DeployerObjectID: cfg.Hsm.DeployerObjectID}
	if c.DeployerObjectID == "" {
		c.DeployerObjectID = objectID
	}
	if c.DeployerObjectID == "" {
		return c, fmt.Errorf("%s.deployerObjectId: the Azure credentials carry no object ID for the caller; set it "+
			"with `pulumi config set --path hsm.deployerObjectId <object id>` (az ad signed-in-user show --query id)",
			config.KeyHsm)
	}
	if tenantID == "" || subscriptionID == "" {
		return c, errors.New("the Azure credentials name no tenant or subscription; sign in with `az login` " +
			"or set ARM_TENANT_ID and ARM_SUBSCRIPTION_ID")
	}
	return c, nil
}

// Deploy registers every resource of the stack for a validated configuration and returns the stack outputs.
func Deploy(ctx *pulumi.Context, cfg config.Config, caller Caller) (pulumi.Map, error) {
	tags := pulumi.ToStringMap(cfg.Tags)
	hsmName := cfg.HsmName(caller.SubscriptionID, ctx.Stack())

	certificates, err := readCertificates(cfg.Hsm.SecurityDomain.Certificates)
	if err != nil {
		return nil, err
	}

	nw, err := components.NewNetwork(ctx, "network", &components.NetworkArgs{
		ResourceGroupName:           cfg.ResourceGroupName,
		Location:                    cfg.Location,
		Tags:                        tags,
		VnetName:                    cfg.Network.VnetName,
		AddressSpace:                cfg.Network.AddressSpace,
		DelegatedSubnetName:         cfg.Network.DelegatedSubnetName,
		DelegatedSubnetPrefix:       cfg.Network.DelegatedSubnetPrefix,
		Delegation:                  cfg.Network.Delegation,
		PrivateEndpointSubnetName:   cfg.Network.PrivateEndpointSubnetName,
		PrivateEndpointSubnetPrefix: cfg.Network.PrivateEndpointSubnetPrefix,
		// A kept HSM lives in this group, and deleting a group deletes everything in it.
		KeepResourceGroup: !cfg.Hsm.AllowDelete,
	})
	if err != nil {
		return nil, err
	}

	hsm, err := components.NewManagedHsm(ctx, "hsm", &components.ManagedHsmArgs{
		ResourceGroupName:       nw.ResourceGroupName,
		Location:                cfg.Location,
		Tags:                    tags,
		Name:                    hsmName,
		TenantID:                caller.TenantID,
		DeployerObjectID:        caller.DeployerObjectID,
		Administrators:          cfg.Hsm.Administrators,
		DeployerRole:            cfg.Hsm.DeployerRole,
		DeployerRoleScope:       cfg.Hsm.DeployerRoleScope,
		Sku:                     cfg.Hsm.Sku,
		SoftDeleteRetentionDays: cfg.Hsm.SoftDeleteRetentionDays,
		PurgeProtection:         cfg.Hsm.PurgeProtection,
		Protect:                 cfg.Hsm.Protect,
		SubscriptionID:          caller.SubscriptionID,
		AllowDelete:             cfg.Hsm.AllowDelete,
		PurgeOnDelete:           cfg.Hsm.PurgeOnDelete,
		RunnerInsideVnet:        cfg.Hsm.RunnerInsideVnet,
		VnetID:                  nw.VnetID,
		PrivateEndpointSubnetID: nw.PrivateEndpointSubnetID,
		DNSSuffix:               cfg.Hsm.DNSSuffix,
		SecurityDomain: components.SecurityDomainSpec{
			Certificates:     certificates,
			CertificateCount: cfg.Hsm.SecurityDomain.CertificateCount,
			Quorum:           cfg.Hsm.SecurityDomain.Quorum,
			KeyDirectory:     cfg.Hsm.SecurityDomain.KeyDirectory,
			OutputPath:       cfg.SecurityDomainPath(hsmName),
		},
		Key: components.KeySpec{
			Name:       cfg.Hsm.Key.Name,
			Type:       cfg.Hsm.Key.Type,
			Size:       cfg.Hsm.Key.Size,
			Operations: cfg.Hsm.Key.Operations,
			Rotation: components.KeyRotationSpec{
				ExpiryTime:         cfg.Hsm.Key.Rotation.ExpiryTime,
				RotateAfterCreate:  cfg.Hsm.Key.Rotation.RotateAfterCreate,
				RotateBeforeExpiry: cfg.Hsm.Key.Rotation.RotateBeforeExpiry,
			},
		},
	})
	if err != nil {
		return nil, err
	}

	sp, err := components.NewServicePrincipal(ctx, "service-principal", &components.ServicePrincipalArgs{
		DisplayName:        cfg.ServicePrincipal.DisplayName,
		TenantID:           caller.TenantID,
		SecretEndDate:      cfg.ServicePrincipal.SecretEndDate,
		SecretLifetimeDays: cfg.ServicePrincipal.SecretLifetimeDays,
		SecretRotationDays: cfg.ServicePrincipal.SecretRotationDays,
		Now:                caller.Now,
		HsmURI:             hsm.HsmURI,
		HsmRole:            cfg.ServicePrincipal.Role,
		HsmScope:           cfg.ServicePrincipal.Scope,
		HsmRoleOptions:     []pulumi.ResourceOption{hsm.KeepWithHsm()},
	})
	if err != nil {
		return nil, err
	}

	dbs := make([]*components.AutonomousDatabase, len(cfg.Databases))
	for i, d := range cfg.Databases {
		dbs[i], err = components.NewAutonomousDatabase(ctx, "adb-"+d.Name, &components.AutonomousDatabaseArgs{
			ResourceGroupName: nw.ResourceGroupName,
			Location:          cfg.Location,
			Tags:              tags,
			Name:              d.Name,
			DisplayName:       d.DisplayName,
			AdminPassword:     pulumi.ToSecret(pulumi.String(d.AdminPassword.Reveal())).(pulumi.StringOutput),
			VnetID:            nw.VnetID,
			SubnetID:          nw.DelegatedSubnetID,
			Workload:          d.Workload,
			ComputeCount:      d.ComputeCount,
			StorageTbs:        d.StorageTbs,
			DBVersion:         d.DBVersion,
			CharacterSet:      d.CharacterSet,
			NcharacterSet:     d.NcharacterSet,
			LicenseModel:      d.LicenseModel,
			MtlsRequired:      d.MtlsRequired,
		})
		if err != nil {
			return nil, err
		}
	}

	// Every database sits in the one delegated subnet, hence in one OCI VCN whose view the first finds.
	dnsArgs := &components.PrivateDnsPairArgs{
		HsmName:           hsmName,
		DNSSuffix:         cfg.Hsm.DNSSuffix,
		PrivateEndpointIP: hsm.PrivateEndpointIP,
		TTL:               cfg.OciDNS.TTL,
		DatabaseOcid:      dbs[0].Ocid,
	}
	if cfg.OciDNS.ViewID != "" {
		dnsArgs.ViewID = pulumi.String(cfg.OciDNS.ViewID)
	}
	if cfg.OciDNS.CompartmentID != "" {
		dnsArgs.CompartmentID = pulumi.String(cfg.OciDNS.CompartmentID)
	}
	dnsPair, err := components.NewPrivateDnsPair(ctx, "oci-dns", dnsArgs)
	if err != nil {
		return nil, err
	}
	dnsReady := append(append([]pulumi.Resource{}, hsm.DNSReady...), dnsPair.Records...)

	dataPlane := []pulumi.Resource{sp.RoleAssignment}
	dbOutputs := pulumi.Map{}
	for i, d := range cfg.Databases {
		cmek, err := components.NewAdbsCmek(ctx, "cmek-"+d.Name, &components.AdbsCmekArgs{
			DatabaseName:             d.Name,
			DatabaseOcid:             dbs[i].Ocid,
			ConnectString:            dbs[i].AdminConnectString,
			WalletDirectory:          d.WalletDirectory,
			AdminPassword:            pulumi.ToSecret(pulumi.String(d.AdminPassword.Reveal())).(pulumi.StringOutput),
			HsmURI:                   hsm.HsmURI,
			HsmHost:                  hsm.Host,
			KeyName:                  hsm.KeyName,
			KeyID:                    hsm.KeyID,
			TenantID:                 caller.TenantID,
			AclPrincipal:             cfg.Cmek.AclPrincipal,
			AclPrivileges:            cfg.Cmek.AclPrivileges,
			LoginHost:                cfg.Cmek.LoginHost,
			RouteOutboundConnections: cfg.Cmek.RouteOutboundConnections,
			RestartAfterRouting:      cfg.Cmek.RestartAfterRouting,
			OracleAppRole:            cfg.Cmek.OracleAppRole,
			RevertKeyOnDelete:        cfg.Cmek.RevertKeyOnDelete,
			DNSReady:                 dnsReady,
			KeyRoleOptions:           []pulumi.ResourceOption{hsm.KeepWithHsm()},
		})
		if err != nil {
			return nil, err
		}
		dataPlane = append(dataPlane, cmek.RoleAssignment)
		dbOutputs[d.Name] = pulumi.Map{
			"ocid":              dbs[i].Ocid,
			"privateEndpointIp": dbs[i].PrivateEndpointIP,
			"connectionStrings": dbs[i].ConnectionStrings,
			"appClientId":       cmek.AppClientID,
			"keystoreStatus":    cmek.KeystoreStatus,
		}
	}

	if _, err := hsm.LockNetwork(ctx, dataPlane); err != nil {
		return nil, err
	}

	outputs := pulumi.Map{
		"hsmName":                       pulumi.String(hsmName),
		"hsmUri":                        hsm.HsmURI,
		"keyId":                         hsm.KeyID,
		"keyVersion":                    hsm.KeyVersion,
		"privateEndpointIp":             hsm.PrivateEndpointIP,
		"securityDomainPath":            hsm.SecurityDomainPath,
		"servicePrincipalClientId":      sp.ClientID,
		"servicePrincipalObjectId":      sp.ObjectID,
		"servicePrincipalTenantId":      sp.TenantID,
		"servicePrincipalSecret":        sp.ClientSecret,
		"servicePrincipalSecretEndDate": sp.SecretEndDate,
		"databases":                     dbOutputs,
	}
	if err := deployAudit(ctx, cfg, hsm, nw.ResourceGroupName, hsmName, outputs); err != nil {
		return nil, err
	}
	outputs["servicePrincipalSecretEndDates"] = sp.SecretEndDates
	return outputs, nil
}

// deployAudit declares the HSM's audit trail when config enables it, and adds its outputs. It needs only the
// HSM's ARM resource, so none of the HSM's data plane work waits for it.
func deployAudit(ctx *pulumi.Context, cfg config.Config, hsm *components.ManagedHsm,
	resourceGroupName pulumi.StringInput, hsmName string, outputs pulumi.Map) error {
	if !cfg.Audit.Enabled {
		return nil
	}
	audit, err := components.NewAudit(ctx, "audit", &components.AuditArgs{
		ResourceGroupName:    resourceGroupName,
		Location:             cfg.Location,
		Tags:                 pulumi.ToStringMap(cfg.Tags),
		WorkspaceName:        "log-" + hsmName,
		RetentionDays:        cfg.Audit.RetentionDays,
		HsmName:              hsmName,
		HsmID:                hsm.HsmID,
		AlertEmails:          cfg.Audit.AlertEmails,
		ActionGroupID:        cfg.Audit.ActionGroupID,
		FailureThreshold:     cfg.Audit.FailureThreshold,
		FailureWindowMinutes: cfg.Audit.FailureWindowMinutes,
	})
	if err != nil {
		return err
	}
	outputs["auditWorkspaceId"] = audit.WorkspaceID
	outputs["auditWorkspaceCustomerId"] = audit.WorkspaceCustomerID
	return nil
}

// readCertificates loads the security-domain certificates that the configuration names, keeping only the
// certificate itself from each file.
func readCertificates(paths []string) ([]string, error) {
	pems := make([]string, 0, len(paths))
	for i, p := range paths {
		data, err := os.ReadFile(p)
		if err == nil {
			var cert string
			if cert, err = config.CertificatePEM(data); err == nil {
				pems = append(pems, cert)
				continue
			}
		}
		return nil, fmt.Errorf("%s.securityDomain.certificates[%d]: %s: %w", config.KeyHsm, i, p, err)
	}
	return pems, nil
}

// contextSource reads configuration from the Pulumi context.
type contextSource struct{ ctx *pulumi.Context }

func (s contextSource) Get(key string) (string, bool) { return s.ctx.GetConfig(key) }
func (s contextSource) IsSecret(key string) bool      { return s.ctx.IsConfigSecret(key) }
