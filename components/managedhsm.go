// This file holds ManagedHsm: the guard of its name, the HSM, its private endpoint and DNS, its activation, the
// deployer's crypto role, the key, and the lock that closes public access at the end.
package components

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-azure-native-sdk/keyvault/v2"
	network "github.com/pulumi/pulumi-azure-native-sdk/network/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// ManagedHsmType is the type token of ManagedHsm.
const ManagedHsmType = typePrefix + "ManagedHsm"

// ActivationActive is the activation status of an HSM whose security domain has been downloaded.
const ActivationActive = "Active"

// ManagedHsmArgs describe the HSM, how it is reached and what its data plane holds.
type ManagedHsmArgs struct {
	// ResourceGroupName, Location and Tags place the HSM and its network pieces. Required but Tags.
	ResourceGroupName pulumi.StringInput
	Location          string
	Tags              pulumi.StringMapInput
	// Name of the HSM, globally unique. Required.
	Name string
	// TenantID of the Entra tenant that authenticates data plane calls. Required.
	TenantID string
	// DeployerObjectID is the identity running the deployment: first initial administrator, holder of
	// DeployerRole so it can create the key. Required.
	DeployerObjectID string
	// Administrators are further initial administrators (object IDs). Optional.
	Administrators []string
	// DeployerRole and DeployerRoleScope, such as "Managed HSM Crypto User" at "/keys". Required.
	DeployerRole      string
	DeployerRoleScope string
	// Sku such as "Standard_B1". Required.
	Sku string
	// SoftDeleteRetentionDays, 7–90, fixed at creation. Required.
	SoftDeleteRetentionDays int
	// PurgeProtection, irreversible once on.
	PurgeProtection bool
	// Protect guards the HSM against deletion and replacement by Pulumi.
	Protect bool
	// SubscriptionID the HSM is created in; the name guard looks for deleted HSMs there. Required.
	SubscriptionID string
	// AllowDelete lets Pulumi delete the HSM in Azure; otherwise it is retained on delete (dropped from state
	// only). Default false.
	AllowDelete bool
	// PurgeOnDelete purges the soft-deleted HSM after Pulumi deletes it; only with AllowDelete. Default false.
	PurgeOnDelete bool
	// RunnerInsideVnet creates the HSM closed to public networks from the start; otherwise it is open until
	// LockNetwork's lock is applied.
	RunnerInsideVnet bool
	// VnetID and PrivateEndpointSubnetID place the private endpoint. Required.
	VnetID                  pulumi.StringInput
	PrivateEndpointSubnetID pulumi.StringInput
	// DNSSuffix of HSM host names, "managedhsm.azure.net". Required.
	DNSSuffix      string
	SecurityDomain SecurityDomainSpec
	Key            KeySpec
}

// SecurityDomainSpec is how the HSM is activated.
type SecurityDomainSpec struct {
	// Certificates (PEM) that wrap the shares; empty to have CertificateCount key pairs generated.
	Certificates     []string
	CertificateCount int
	// Quorum of private keys that recover the domain.
	Quorum int
	// KeyDirectory for generated private keys; OutputPath for the security domain file.
	KeyDirectory string
	OutputPath   string
}

// KeySpec is the HSM key that becomes the databases' TDE master key.
type KeySpec struct {
	Name       string
	Type       string
	Size       int
	Operations []string
	// Rotation is the key's rotation policy in ISO 8601 durations; all empty for none.
	Rotation KeyRotationSpec
}

// KeyRotationSpec is a key rotation policy: ExpiryTime, and RotateAfterCreate or RotateBeforeExpiry.
type KeyRotationSpec struct {
	ExpiryTime         string
	RotateAfterCreate  string
	RotateBeforeExpiry string
}

// policy is the plugin's rotation argument, nil when nothing is set.
func (r KeyRotationSpec) policy() *odaa.KeyRotationPolicyArgs {
	if r == (KeyRotationSpec{}) {
		return nil
	}
	p := &odaa.KeyRotationPolicyArgs{}
	if r.ExpiryTime != "" {
		p.ExpiryTime = pulumi.String(r.ExpiryTime)
	}
	if r.RotateAfterCreate != "" {
		p.RotateAfterCreate = pulumi.String(r.RotateAfterCreate)
	}
	if r.RotateBeforeExpiry != "" {
		p.RotateBeforeExpiry = pulumi.String(r.RotateBeforeExpiry)
	}
	return p
}

// ManagedHsm is an activated Managed HSM with a private endpoint, its private DNS zone, a crypto role for the
// deployer and one key.
type ManagedHsm struct {
	pulumi.ResourceState

	// Name and Host ("<name>.<dnsSuffix>") are known before deployment.
	Name string
	Host string
	// KeyName is the key's name, known before deployment.
	KeyName string

	HsmID pulumi.StringOutput `pulumi:"hsmId"`
	// HsmURI is the data plane URI, resolved only once the HSM is active; everything that calls the data plane
	// takes it from here.
	HsmURI             pulumi.StringOutput `pulumi:"hsmUri"`
	ActivationStatus   pulumi.StringOutput `pulumi:"activationStatus"`
	PrivateEndpointIP  pulumi.StringOutput `pulumi:"privateEndpointIp"`
	PrivateDNSZoneID   pulumi.StringOutput `pulumi:"privateDnsZoneId"`
	SecurityDomainPath pulumi.StringOutput `pulumi:"securityDomainPath"`
	KeyID              pulumi.StringOutput `pulumi:"keyId"`
	KeyVersion         pulumi.StringOutput `pulumi:"keyVersion"`

	// DNSReady are the Azure-side DNS resources that make Host resolve to the private endpoint in the VNet.
	DNSReady []pulumi.Resource
	// DataPlane are the data plane resources that must exist before public access closes.
	DataPlane []pulumi.Resource

	resourceName string
	retained     bool
}

// KeepWithHsm is the option of every data plane resource of the HSM: when destroy keeps the HSM (no
// hsm.allowDelete), it keeps them too, as they are. A kept HSM keeps its key and grants, and stays closed to
// public networks: deleting its key or reopening its access on the way out would leave an HSM without the key
// its databases used, or reachable from the internet, and the grants' deletes could not reach a closed HSM
// once its private endpoint is gone.
func (h *ManagedHsm) KeepWithHsm() pulumi.ResourceOption { return pulumi.RetainOnDelete(h.retained) }

// NewManagedHsm creates the HSM and everything that makes it usable.
func NewManagedHsm(ctx *pulumi.Context, name string, args *ManagedHsmArgs,
	opts ...pulumi.ResourceOption) (*ManagedHsm, error) {
	if args == nil {
		return nil, fmt.Errorf("managed HSM %s: %w", name, errNilArgs)
	}
	if args.DeployerObjectID == "" {
		return nil, fmt.Errorf("managed HSM %s: the deployer's object ID is required: it becomes the initial "+
			"administrator that activates the HSM", args.Name)
	}
	comp := &ManagedHsm{
		Name: args.Name, Host: args.Name + "." + args.DNSSuffix, KeyName: args.Key.Name,
		resourceName: name, retained: !args.AllowDelete,
	}
	if err := ctx.RegisterComponentResource(ManagedHsmType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("registering managed HSM component %s: %w", name, err)
	}
	parent := pulumi.Parent(comp)

	// The HSM depends on the guard: the guard's create checks the name before the HSM is created, and the
	// engine deletes dependents first, so the guard's delete (the purge) runs after the HSM's delete.
	guard, err := odaa.NewNameGuard(ctx, name+"-name-guard", &odaa.NameGuardArgs{
		SubscriptionID:  pulumi.String(args.SubscriptionID),
		Location:        pulumi.String(args.Location),
		Name:            pulumi.String(args.Name),
		PurgeOnDelete:   pulumi.Bool(args.AllowDelete && args.PurgeOnDelete),
		PurgeProtection: pulumi.Bool(args.PurgeProtection),
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("declaring name guard of managed HSM %s: %w", args.Name, err)
	}

	hsm, err := newHsm(ctx, name, args, parent, pulumi.DependsOn([]pulumi.Resource{guard}))
	if err != nil {
		return nil, err
	}
	hsmURI := nonEmpty("hsmUri of managed HSM "+args.Name, hsm.Properties.HsmUri())

	pe, zone, dnsReady, err := newPrivateAccess(ctx, name, args, hsm, parent)
	if err != nil {
		return nil, err
	}
	comp.DNSReady = dnsReady

	// Activation runs over the public endpoint unless the runner sits in the VNet, where it needs private DNS.
	sdOpts := []pulumi.ResourceOption{parent}
	if args.RunnerInsideVnet {
		sdOpts = append(sdOpts, pulumi.DependsOn(dnsReady))
	}
	sd, err := odaa.NewSecurityDomain(ctx, name+"-security-domain", &odaa.SecurityDomainArgs{
		HsmURI:           hsmURI,
		HsmResourceID:    hsm.ID().ToStringOutput(),
		Certificates:     pulumi.ToStringArray(args.SecurityDomain.Certificates),
		CertificateCount: pulumi.Int(args.SecurityDomain.CertificateCount),
		KeyDirectory:     pulumi.String(args.SecurityDomain.KeyDirectory),
		Quorum:           pulumi.Int(args.SecurityDomain.Quorum),
		OutputPath:       pulumi.String(args.SecurityDomain.OutputPath),
		// The domain depends on the HSM, so its delete runs first and, failing, keeps the HSM: it must not
		// go while the domain's file is missing.
		RequireBackupOnDelete: pulumi.Bool(args.AllowDelete),
	}, sdOpts...)
	if err != nil {
		return nil, fmt.Errorf("declaring security domain of managed HSM %s: %w", args.Name, err)
	}
	activeURI := activated(args.Name, sd)

	// The Administrator role cannot create keys; the deployer gets a crypto role first.
	deployerRole, err := odaa.NewRoleAssignment(ctx, name+"-deployer-crypto-role", &odaa.RoleAssignmentArgs{
		HsmURI:      activeURI,
		Role:        pulumi.String(args.DeployerRole),
		Scope:       pulumi.String(args.DeployerRoleScope),
		PrincipalID: pulumi.String(args.DeployerObjectID),
	}, parent, comp.KeepWithHsm())
	if err != nil {
		return nil, fmt.Errorf("declaring deployer role on managed HSM %s: %w", args.Name, err)
	}

	key, err := odaa.NewKey(ctx, name+"-key", &odaa.KeyArgs{
		HsmURI:         activeURI,
		Name:           pulumi.String(args.Key.Name),
		KeyType:        pulumi.String(args.Key.Type),
		KeySize:        pulumi.Int(args.Key.Size),
		Operations:     pulumi.ToStringArray(args.Key.Operations),
		RotationPolicy: args.Key.Rotation.policy(),
	}, parent, pulumi.DependsOn([]pulumi.Resource{deployerRole}), comp.KeepWithHsm())
	if err != nil {
		return nil, fmt.Errorf("declaring key %s in managed HSM %s: %w", args.Key.Name, args.Name, err)
	}
	comp.DataPlane = []pulumi.Resource{sd, deployerRole, key}

	comp.HsmID = hsm.ID().ToStringOutput()
	comp.HsmURI = activeURI
	comp.ActivationStatus = sd.ActivationStatus
	comp.PrivateEndpointIP = privateEndpointIP(ctx, args.Name, pe, args.ResourceGroupName)
	comp.PrivateDNSZoneID = zone.ID().ToStringOutput()
	comp.SecurityDomainPath = sd.SecurityDomainPath
	comp.KeyID = nonEmpty("keyId of key "+args.Key.Name, key.KeyID)
	comp.KeyVersion = key.Version
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"hsmId":              comp.HsmID,
		"hsmUri":             comp.HsmURI,
		"activationStatus":   comp.ActivationStatus,
		"privateEndpointIp":  comp.PrivateEndpointIP,
		"privateDnsZoneId":   comp.PrivateDNSZoneID,
		"securityDomainPath": comp.SecurityDomainPath,
		"keyId":              comp.KeyID,
		"keyVersion":         comp.KeyVersion,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of managed HSM %s: %w", args.Name, err)
	}
	return comp, nil
}

func newHsm(ctx *pulumi.Context, name string, args *ManagedHsmArgs,
	opts ...pulumi.ResourceOption) (*keyvault.ManagedHsm, error) {
	// Open while the data plane is configured from outside the VNet; LockNetwork closes it in place
	// afterwards. The lock owns these two properties from then on, so the HSM resource ignores them.
	access, action := "Enabled", "Allow"
	if args.RunnerInsideVnet {
		access, action = "Disabled", "Deny"
	}
	admins := []string{args.DeployerObjectID}
	for _, a := range args.Administrators {
		if !slices.Contains(admins, a) {
			admins = append(admins, a)
		}
	}
	hsm, err := keyvault.NewManagedHsm(ctx, name+"-hsm", &keyvault.ManagedHsmArgs{
		Name:              pulumi.String(args.Name),
		ResourceGroupName: args.ResourceGroupName,
		Location:          pulumi.String(args.Location),
		Tags:              args.Tags,
		Sku: &keyvault.ManagedHsmSkuArgs{
			Family: pulumi.String("B"),
			Name:   keyvault.ManagedHsmSkuName(args.Sku),
		},
		Properties: &keyvault.ManagedHsmPropertiesArgs{
			TenantId:                  pulumi.String(args.TenantID),
			InitialAdminObjectIds:     pulumi.ToStringArray(admins),
			EnableSoftDelete:          pulumi.Bool(true),
			SoftDeleteRetentionInDays: pulumi.Int(args.SoftDeleteRetentionDays),
			EnablePurgeProtection:     pulumi.Bool(args.PurgeProtection),
			PublicNetworkAccess:       pulumi.String(access),
			NetworkAcls: &keyvault.MHSMNetworkRuleSetArgs{
				Bypass:        pulumi.String("AzureServices"),
				DefaultAction: pulumi.String(action),
			},
		},
	}, append(opts,
		pulumi.Protect(args.Protect),
		// A deleted HSM keeps billing and holding its name for the retention period, so destroy leaves it
		// in Azure unless deleting it is allowed explicitly.
		pulumi.RetainOnDelete(!args.AllowDelete),
		pulumi.Timeouts(longRunning),
		// The lock owns network access; tenant and initial administrators are fixed at creation, and a run by
		// another identity must not plan an update of them.
		pulumi.IgnoreChanges([]string{"properties.publicNetworkAccess", "properties.networkAcls",
			"properties.tenantId", "properties.initialAdminObjectIds"}))...)
	if err != nil {
		return nil, fmt.Errorf("creating managed HSM %s: %w", args.Name, err)
	}
	return hsm, nil
}

// newPrivateAccess creates the private endpoint, the private zone linked to the VNet and the endpoint's single
// zone group; it returns the endpoint, the zone and the resources DNS resolution waits for.
func newPrivateAccess(ctx *pulumi.Context, name string, args *ManagedHsmArgs, hsm *keyvault.ManagedHsm,
	parent pulumi.ResourceOption) (*network.PrivateEndpoint, *network.PrivateZone, []pulumi.Resource, error) {
	pe, err := network.NewPrivateEndpoint(ctx, name+"-pe", &network.PrivateEndpointArgs{
		PrivateEndpointName: pulumi.String("pe-" + args.Name),
		ResourceGroupName:   args.ResourceGroupName,
		Location:            pulumi.String(args.Location),
		Tags:                args.Tags,
		Subnet:              &network.SubnetTypeArgs{Id: args.PrivateEndpointSubnetID},
		PrivateLinkServiceConnections: network.PrivateLinkServiceConnectionArray{
			&network.PrivateLinkServiceConnectionArgs{
				Name:                 pulumi.String("connection-managedhsm"),
				PrivateLinkServiceId: hsm.ID(),
				GroupIds:             pulumi.StringArray{pulumi.String("managedhsm")},
			},
		},
	}, parent)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating private endpoint of managed HSM %s: %w", args.Name, err)
	}

	zoneName := "privatelink." + args.DNSSuffix
	zone, err := network.NewPrivateZone(ctx, name+"-zone", &network.PrivateZoneArgs{
		PrivateZoneName:   pulumi.String(zoneName),
		ResourceGroupName: args.ResourceGroupName,
		Location:          pulumi.String("global"),
		Tags:              args.Tags,
	}, parent)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating private DNS zone %s: %w", zoneName, err)
	}

	link, err := network.NewVirtualNetworkLink(ctx, name+"-zone-link", &network.VirtualNetworkLinkArgs{
		PrivateZoneName:        zone.Name,
		VirtualNetworkLinkName: pulumi.String("dns-link-" + args.Name),
		ResourceGroupName:      args.ResourceGroupName,
		Location:               pulumi.String("global"),
		RegistrationEnabled:    pulumi.Bool(false),
		VirtualNetwork:         &network.SubResourceArgs{Id: args.VnetID},
		Tags:                   args.Tags,
	}, parent)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("linking private DNS zone %s to the VNet: %w", zoneName, err)
	}

	// One zone group per endpoint, each config named: Azure refuses a second group and answers an unnamed
	// config with an opaque 400. The group writes the A record for the HSM into the zone.
	group, err := network.NewPrivateDnsZoneGroup(ctx, name+"-zone-group", &network.PrivateDnsZoneGroupArgs{
		PrivateDnsZoneGroupName: pulumi.String("default"),
		PrivateEndpointName:     pe.Name,
		ResourceGroupName:       args.ResourceGroupName,
		PrivateDnsZoneConfigs: network.PrivateDnsZoneConfigArray{&network.PrivateDnsZoneConfigArgs{
			Name:             pulumi.String(zoneConfigName(zoneName)),
			PrivateDnsZoneId: zone.ID(),
		}},
	}, parent)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("creating DNS zone group of private endpoint pe-%s: %w", args.Name, err)
	}
	return pe, zone, []pulumi.Resource{link, group}, nil
}

// zoneConfigName turns a zone name into a config name Azure accepts: dots are not allowed.
func zoneConfigName(zone string) string {
	out := []byte(zone)
	for i, c := range out {
		if c == '.' {
			out[i] = '-'
		}
	}
	return string(out)
}

// activated yields the HSM URI once the security domain reports the HSM active, and an error naming the status
// otherwise, so that no key or role call is ever made against an HSM that would answer 401.
func activated(hsmName string, sd *odaa.SecurityDomain) pulumi.StringOutput {
	return pulumi.All(sd.HsmURI, sd.ActivationStatus).ApplyT(func(v []any) (string, error) {
		uri, status := v[0].(string), v[1].(string)
		if status != ActivationActive {
			return "", fmt.Errorf("managed HSM %s is not activated (activation status %q): its data plane refuses "+
				"keys and role assignments until the security domain download completes", hsmName, status)
		}
		if uri == "" {
			return "", fmt.Errorf("the data plane URI of managed HSM %s came back empty from the provider", hsmName)
		}
		// ARM reports the URI with a trailing slash; vault URIs and key IDs are built without one.
		return strings.TrimSuffix(uri, "/"), nil
	}).(pulumi.StringOutput)
}

// privateEndpointIP reads the private IP from the endpoint's network interface, as the scenario does by hand.
func privateEndpointIP(ctx *pulumi.Context, hsmName string, pe *network.PrivateEndpoint,
	resourceGroup pulumi.StringInput) pulumi.StringOutput {
	nicID := pe.NetworkInterfaces.ApplyT(func(nics []network.NetworkInterfaceResponse) (string, error) {
		if len(nics) == 0 || nics[0].Id == nil || *nics[0].Id == "" {
			return "", fmt.Errorf("the network interface of private endpoint pe-%s came back empty from the "+
				"provider; nothing is built from an empty value", hsmName)
		}
		return *nics[0].Id, nil
	}).(pulumi.StringOutput)
	nic := network.LookupNetworkInterfaceOutput(ctx, network.LookupNetworkInterfaceOutputArgs{
		NetworkInterfaceName: nicID.ApplyT(lastSegment).(pulumi.StringOutput),
		ResourceGroupName:    resourceGroup,
	})
	return nic.IpConfigurations().ApplyT(func(ipcs []network.NetworkInterfaceIPConfigurationResponse) (string, error) {
		for _, ipc := range ipcs {
			if ipc.PrivateIPAddress != nil && *ipc.PrivateIPAddress != "" {
				return *ipc.PrivateIPAddress, nil
			}
		}
		return "", fmt.Errorf("the private IP of private endpoint pe-%s came back empty from the provider; "+
			"nothing is built from an empty value", hsmName)
	}).(pulumi.StringOutput)
}

// LockNetwork closes the HSM to public networks, in place, once the HSM's own data plane resources and those in
// after exist; the lock is a child of the component, named from it. With the runner inside the VNet the HSM was
// created closed and the lock changes nothing, but it is declared all the same: switching runnerInsideVnet on
// later must not delete the lock, whose deletion reopens public access.
func (h *ManagedHsm) LockNetwork(ctx *pulumi.Context, after []pulumi.Resource) (*odaa.NetworkLock, error) {
	deps := append(append([]pulumi.Resource{}, h.DataPlane...), after...)
	lock, err := odaa.NewNetworkLock(ctx, h.resourceName+"-network-lock", &odaa.NetworkLockArgs{
		HsmResourceID:       h.HsmID,
		PublicNetworkAccess: pulumi.String("Disabled"),
		DefaultAction:       pulumi.String("Deny"),
		Bypass:              pulumi.String("AzureServices"),
	}, pulumi.Parent(h), pulumi.DependsOn(deps), h.KeepWithHsm())
	if err != nil {
		return nil, fmt.Errorf("declaring network lock of managed HSM %s: %w", h.Name, err)
	}
	return lock, nil
}
