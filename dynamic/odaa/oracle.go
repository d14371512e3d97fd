package odaa

import (
	"errors"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

var errConnection = errors.New("connection: ConnectString, User and Password are required")

func (c Connection) check() error {
	if c.ConnectString == nil || c.User == nil || c.Password == nil {
		return errConnection
	}
	return nil
}

// NetworkACLArgs let a database user reach a host, by appending host ACEs (never replacing an ACL).
type NetworkACLArgs struct {
	Connection
	// Host is a fully qualified name, never an IP address. Required.
	Host pulumi.StringInput
	// LowerPort and UpperPort bound the ports, 443 for HTTPS. Required.
	LowerPort pulumi.IntInput
	UpperPort pulumi.IntInput
	// Principal is the database user, upper-case. Required.
	Principal pulumi.StringInput
	// Privileges such as connect, resolve, http. Required.
	Privileges pulumi.StringArrayInput
}

// NetworkACL is the set of host ACEs this resource appended.
type NetworkACL struct {
	pulumi.CustomResourceState

	Host       pulumi.StringOutput      `pulumi:"host"`
	LowerPort  pulumi.IntOutput         `pulumi:"lowerPort"`
	UpperPort  pulumi.IntOutput         `pulumi:"upperPort"`
	Principal  pulumi.StringOutput      `pulumi:"principal"`
	Privileges pulumi.StringArrayOutput `pulumi:"privileges"`
	// Appended are the privileges this resource added; those that already existed are left alone on delete.
	Appended pulumi.StringArrayOutput `pulumi:"appended"`
}

// NewNetworkACL registers a NetworkACL.
func NewNetworkACL(ctx *pulumi.Context, name string, args *NetworkACLArgs,
	opts ...pulumi.ResourceOption) (*NetworkACL, error) {
	if args == nil || args.Host == nil || args.LowerPort == nil || args.UpperPort == nil || args.Principal == nil ||
		args.Privileges == nil {
		return nil, errors.New("odaa.NetworkAcl: Host, LowerPort, UpperPort, Principal and Privileges are required")
	}
	if err := args.check(); err != nil {
		return nil, err
	}
	props := args.props(pulumi.Map{
		"host": args.Host, "lowerPort": args.LowerPort, "upperPort": args.UpperPort,
		"principal": args.Principal, "privileges": args.Privileges,
	})
	var res NetworkACL
	err := register(ctx, NetworkACLType, name, props, &res, []string{"password"}, opts)
	return &res, err
}

// DatabasePropertyArgs set a database property such as ROUTE_OUTBOUND_CONNECTIONS.
type DatabasePropertyArgs struct {
	Connection
	// Name of the property. Required.
	Name pulumi.StringInput
	// Value to set; the previous value is restored on delete. Required.
	Value pulumi.StringInput
	// RestartOnChange restarts the database through OCI when the value really changed. Optional, default false.
	RestartOnChange pulumi.BoolInput
	// DatabaseOcid is the database's OCI ID, needed for a restart. Optional unless RestartOnChange.
	DatabaseOcid pulumi.StringInput
}

// DatabaseProperty is one database property value.
type DatabaseProperty struct {
	pulumi.CustomResourceState

	Name  pulumi.StringOutput `pulumi:"name"`
	Value pulumi.StringOutput `pulumi:"value"`
	// PreviousValue found before the first change, restored on delete.
	PreviousValue pulumi.StringOutput `pulumi:"previousValue"`
}

// NewDatabaseProperty registers a DatabaseProperty.
func NewDatabaseProperty(ctx *pulumi.Context, name string, args *DatabasePropertyArgs,
	opts ...pulumi.ResourceOption) (*DatabaseProperty, error) {
	if args == nil || args.Name == nil || args.Value == nil {
		return nil, errors.New("odaa.DatabaseProperty: Name and Value are required")
	}
	if err := args.check(); err != nil {
		return nil, err
	}
	props := args.props(pulumi.Map{"name": args.Name, "value": args.Value})
	optional(props, "restartOnChange", args.RestartOnChange)
	optional(props, "databaseOcid", args.DatabaseOcid)
	var res DatabaseProperty
	err := register(ctx, DatabasePropertyType, name, props, &res, []string{"password"}, opts)
	return &res, err
}

// PrincipalAuthArgs enable the database's own Azure identity (DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH).
type PrincipalAuthArgs struct {
	Connection
	// Provider is "AZURE". Required.
	Provider pulumi.StringInput
	// TenantID of the Entra tenant that holds the HSM. Required.
	TenantID pulumi.StringInput
}

// PrincipalAuth is the multi-tenant Azure application Oracle made for the database.
type PrincipalAuth struct {
	pulumi.CustomResourceState

	Provider pulumi.StringOutput `pulumi:"provider"`
	TenantID pulumi.StringOutput `pulumi:"tenantId"`
	// AppClientID is the client ID of Oracle's application, read from CLOUD_INTEGRATIONS.
	AppClientID pulumi.StringOutput `pulumi:"appClientId"`
	// AppName is the application's display name.
	AppName pulumi.StringOutput `pulumi:"appName"`
	// ConsentURL is the admin-consent URL Oracle reports.
	ConsentURL pulumi.StringOutput `pulumi:"consentUrl"`
}

// NewPrincipalAuth registers a PrincipalAuth.
func NewPrincipalAuth(ctx *pulumi.Context, name string, args *PrincipalAuthArgs,
	opts ...pulumi.ResourceOption) (*PrincipalAuth, error) {
	if args == nil || args.Provider == nil || args.TenantID == nil {
		return nil, errors.New("odaa.PrincipalAuth: Provider and TenantID are required")
	}
	if err := args.check(); err != nil {
		return nil, err
	}
	props := args.props(pulumi.Map{"provider": args.Provider, "tenantId": args.TenantID})
	var res PrincipalAuth
	err := register(ctx, PrincipalAuthType, name, props, &res, []string{"password"}, opts)
	return &res, err
}

// EncryptionKeyArgs switch a database's TDE master key to a key in Azure, through OCI's
// UpdateAutonomousDatabase.
type EncryptionKeyArgs struct {
	// DatabaseOcid of the Autonomous Database. Required.
	DatabaseOcid pulumi.StringInput
	// VaultURI is the HSM's URI. Required.
	VaultURI pulumi.StringInput
	// KeyName of the key in the HSM. Required.
	KeyName pulumi.StringInput
	// RevertOnDelete returns the database to Oracle-managed keys on delete. Optional, default true.
	RevertOnDelete pulumi.BoolInput
}

// EncryptionKey is the database's customer-managed key setting.
type EncryptionKey struct {
	pulumi.CustomResourceState

	DatabaseOcid pulumi.StringOutput `pulumi:"databaseOcid"`
	VaultURI     pulumi.StringOutput `pulumi:"vaultUri"`
	KeyName      pulumi.StringOutput `pulumi:"keyName"`
	// KeyProvider the database reports after the switch, AZURE.
	KeyProvider pulumi.StringOutput `pulumi:"keyProvider"`
	// LifecycleState of the database after the switch, AVAILABLE.
	LifecycleState pulumi.StringOutput `pulumi:"lifecycleState"`
}

// NewEncryptionKey registers an EncryptionKey.
func NewEncryptionKey(ctx *pulumi.Context, name string, args *EncryptionKeyArgs,
	opts ...pulumi.ResourceOption) (*EncryptionKey, error) {
	if args == nil || args.DatabaseOcid == nil || args.VaultURI == nil || args.KeyName == nil {
		return nil, errors.New("odaa.EncryptionKey: DatabaseOcid, VaultURI and KeyName are required")
	}
	props := pulumi.Map{"databaseOcid": args.DatabaseOcid, "vaultUri": args.VaultURI, "keyName": args.KeyName}
	optional(props, "revertOnDelete", args.RevertOnDelete)
	var res EncryptionKey
	err := register(ctx, EncryptionKeyType, name, props, &res, nil, opts)
	return &res, err
}

// KeystoreCheckArgs verify, after the key switch, that the database's keystore is an open cloud keystore.
type KeystoreCheckArgs struct {
	Connection
	// KeyID the database should be using; a change re-runs the check. Required.
	KeyID pulumi.StringInput
}

// KeystoreCheck is what V$ENCRYPTION_WALLET reported.
type KeystoreCheck struct {
	pulumi.CustomResourceState

	KeyID pulumi.StringOutput `pulumi:"keyId"`
	// WrlType is AZURE_KEY_VAULT or AZURE_MANAGEDHSM, both seen in the field.
	WrlType pulumi.StringOutput `pulumi:"wrlType"`
	// Status is OPEN when the database can use its key.
	Status pulumi.StringOutput `pulumi:"status"`
}

// NewKeystoreCheck registers a KeystoreCheck.
func NewKeystoreCheck(ctx *pulumi.Context, name string, args *KeystoreCheckArgs,
	opts ...pulumi.ResourceOption) (*KeystoreCheck, error) {
	if args == nil || args.KeyID == nil {
		return nil, errors.New("odaa.KeystoreCheck: KeyID is required")
	}
	if err := args.check(); err != nil {
		return nil, err
	}
	props := args.props(pulumi.Map{"keyId": args.KeyID})
	var res KeystoreCheck
	err := register(ctx, KeystoreCheckType, name, props, &res, []string{"password"}, opts)
	return &res, err
}
