// This file holds AdbsCmek: the database side of the customer-managed key, one instance per database.
package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-azuread/sdk/v5/go/azuread"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// AdbsCmekType is the type token of AdbsCmek.
const AdbsCmekType = typePrefix + "AdbsCmek"

// HTTPS is the only port the database needs toward the HSM and the token endpoint.
const httpsPort = 443

// AdbsCmekArgs describe one database whose TDE master key moves to the HSM.
type AdbsCmekArgs struct {
	// DatabaseName labels the database in errors. Required.
	DatabaseName string
	// DatabaseOcid is the database's OCI ID. Required.
	DatabaseOcid pulumi.StringInput
	// ConnectString, WalletDirectory (optional) and AdminPassword (secret) connect as ADMIN. Required but the
	// wallet.
	ConnectString   pulumi.StringInput
	WalletDirectory string
	AdminPassword   pulumi.StringInput
	// HsmURI is the activated HSM's URI, HsmHost its host name. Required.
	HsmURI  pulumi.StringInput
	HsmHost string
	// KeyName and KeyID identify the HSM key. Required.
	KeyName string
	KeyID   pulumi.StringInput
	// TenantID of the tenant holding the HSM. Required.
	TenantID string
	// AclPrincipal (stored upper-case) and AclPrivileges open HsmHost and LoginHost on 443. Required.
	AclPrincipal  string
	AclPrivileges []string
	LoginHost     string
	// RouteOutboundConnections is the ROUTE_OUTBOUND_CONNECTIONS value; RestartAfterRouting restarts the
	// database when it changed.
	RouteOutboundConnections string
	RestartAfterRouting      bool
	// OracleAppRole is the HSM role, at the key's scope, of the database's Azure application. Required.
	OracleAppRole string
	// RevertKeyOnDelete returns the database to Oracle-managed keys when this is deleted.
	RevertKeyOnDelete bool
	// KeyRoleOptions are added to the HSM role of the database's application, such as the HSM's KeepWithHsm.
	// Optional.
	KeyRoleOptions []pulumi.ResourceOption
	// DNSReady must exist before any SQL step: the database resolves the HSM through them. Required.
	DNSReady []pulumi.Resource
}

// AdbsCmek is the database side of the customer-managed key: network ACLs, outbound routing, the database's
// Azure identity and its consent, the HSM role, the key switch and the keystore check, in that order.
type AdbsCmek struct {
	pulumi.ResourceState

	// AppClientID is the client ID of the application Oracle made for the database.
	AppClientID pulumi.StringOutput `pulumi:"appClientId"`
	// AppObjectID is the object ID of that application's service principal in the tenant.
	AppObjectID pulumi.StringOutput `pulumi:"appObjectId"`
	// KeyProvider the database reports, and the keystore status after the switch.
	KeyProvider    pulumi.StringOutput `pulumi:"keyProvider"`
	KeystoreStatus pulumi.StringOutput `pulumi:"keystoreStatus"`
	// RoleAssignment of the database's application on the key; it must exist before the HSM closes.
	RoleAssignment *odaa.RoleAssignment
}

// NewAdbsCmek declares the steps for one database.
func NewAdbsCmek(ctx *pulumi.Context, name string, args *AdbsCmekArgs,
	opts ...pulumi.ResourceOption) (*AdbsCmek, error) {
	if args == nil {
		return nil, fmt.Errorf("CMEK of %s: %w", name, errNilArgs)
	}
	if len(args.DNSReady) == 0 {
		return nil, fmt.Errorf("CMEK of %s: DNSReady is required: SQL steps must wait for private DNS",
			args.DatabaseName)
	}
	comp := &AdbsCmek{}
	if err := ctx.RegisterComponentResource(AdbsCmekType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("registering key switch of database component %s: %w", name, err)
	}
	parent := pulumi.Parent(comp)
	conn := odaa.Connection{
		ConnectString: args.ConnectString,
		User:          pulumi.String("ADMIN"),
		Password:      pulumi.ToSecret(args.AdminPassword).(pulumi.StringOutput),
	}
	if args.WalletDirectory != "" {
		conn.WalletDirectory = pulumi.String(args.WalletDirectory)
	}
	after := func(deps ...pulumi.Resource) pulumi.ResourceOption { return pulumi.DependsOn(deps) }
	principal := strings.ToUpper(args.AclPrincipal)

	// ACEs for the HSM and the Entra token endpoint; the database calls both over HTTPS.
	var acls []pulumi.Resource
	for _, h := range []struct{ label, host string }{{"hsm", args.HsmHost}, {"login", args.LoginHost}} {
		acl, err := odaa.NewNetworkACL(ctx, name+"-acl-"+h.label, &odaa.NetworkACLArgs{
			Connection: conn,
			Host:       pulumi.String(h.host),
			LowerPort:  pulumi.Int(httpsPort),
			UpperPort:  pulumi.Int(httpsPort),
			Principal:  pulumi.String(principal),
			Privileges: pulumi.ToStringArray(args.AclPrivileges),
		}, parent, after(args.DNSReady...))
		if err != nil {
			return nil, fmt.Errorf("declaring host ACL for %s on %s: %w", h.host, args.DatabaseName, err)
		}
		acls = append(acls, acl)
	}

	routing, err := odaa.NewDatabaseProperty(ctx, name+"-route-outbound", &odaa.DatabasePropertyArgs{
		Connection:      conn,
		Name:            pulumi.String("ROUTE_OUTBOUND_CONNECTIONS"),
		Value:           pulumi.String(args.RouteOutboundConnections),
		RestartOnChange: pulumi.Bool(args.RestartAfterRouting),
		DatabaseOcid:    args.DatabaseOcid,
	}, parent, after(acls...))
	if err != nil {
		return nil, fmt.Errorf("declaring outbound routing of %s: %w", args.DatabaseName, err)
	}

	auth, err := odaa.NewPrincipalAuth(ctx, name+"-principal-auth", &odaa.PrincipalAuthArgs{
		Connection: conn,
		Provider:   pulumi.String("AZURE"),
		TenantID:   pulumi.String(args.TenantID),
	}, parent, after(routing))
	if err != nil {
		return nil, fmt.Errorf("declaring principal auth of %s: %w", args.DatabaseName, err)
	}

	// Consent: the service principal of Oracle's multi-tenant application, in this tenant. It may exist
	// already when another database of the tenant consented first.
	consent, err := azuread.NewServicePrincipal(ctx, name+"-consent", &azuread.ServicePrincipalArgs{
		ClientId:    nonEmpty("client ID of the Azure application of "+args.DatabaseName, auth.AppClientID),
		UseExisting: pulumi.Bool(true),
	}, parent, pulumi.RetainOnDelete(true)) // shared by every database of the tenant: never deleted by one of them
	if err != nil {
		return nil, fmt.Errorf("declaring consent for the Azure application of %s: %w", args.DatabaseName, err)
	}

	// The role's scope is the key, so it waits for the key to exist (through KeyID).
	afterKey := pulumi.All(args.HsmURI, args.KeyID).ApplyT(func(v []any) string { return v[0].(string) })
	role, err := odaa.NewRoleAssignment(ctx, name+"-key-role", &odaa.RoleAssignmentArgs{
		HsmURI:      afterKey.(pulumi.StringOutput),
		Role:        pulumi.String(args.OracleAppRole),
		Scope:       pulumi.String("/keys/" + args.KeyName),
		PrincipalID: nonEmpty("object ID of the Azure application of "+args.DatabaseName, consent.ObjectId),
	}, append([]pulumi.ResourceOption{parent}, args.KeyRoleOptions...)...)
	if err != nil {
		return nil, fmt.Errorf("declaring HSM key role for %s: %w", args.DatabaseName, err)
	}

	// The switch also waits for the key itself (through KeyID) and for every SQL step before it.
	keyName := args.KeyID.ToStringOutput().ApplyT(func(string) string { return args.KeyName }).(pulumi.StringOutput)
	switchKey, err := odaa.NewEncryptionKey(ctx, name+"-encryption-key", &odaa.EncryptionKeyArgs{
		DatabaseOcid:   args.DatabaseOcid,
		VaultURI:       args.HsmURI,
		KeyName:        keyName,
		RevertOnDelete: pulumi.Bool(args.RevertKeyOnDelete),
	}, parent, after(role, auth, routing))
	if err != nil {
		return nil, fmt.Errorf("declaring key switch of %s: %w", args.DatabaseName, err)
	}

	check, err := odaa.NewKeystoreCheck(ctx, name+"-keystore-check", &odaa.KeystoreCheckArgs{
		Connection: conn,
		KeyID:      args.KeyID,
	}, parent, after(switchKey))
	if err != nil {
		return nil, fmt.Errorf("declaring keystore check of %s: %w", args.DatabaseName, err)
	}

	comp.AppClientID = auth.AppClientID
	comp.AppObjectID = consent.ObjectId
	comp.KeyProvider = switchKey.KeyProvider
	comp.KeystoreStatus = check.Status
	comp.RoleAssignment = role
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"appClientId":    comp.AppClientID,
		"appObjectId":    comp.AppObjectID,
		"keyProvider":    comp.KeyProvider,
		"keystoreStatus": comp.KeystoreStatus,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of CMEK for %s: %w", args.DatabaseName, err)
	}
	return comp, nil
}
