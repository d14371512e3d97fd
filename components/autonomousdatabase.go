// This file holds AutonomousDatabase: one Autonomous Database (Serverless) as a generic ARM resource.
package components

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AutonomousDatabaseType is the type token of AutonomousDatabase.
const AutonomousDatabaseType = typePrefix + "AutonomousDatabase"

// The ARM resource of Oracle Database@Azure. azure-native has no Oracle.Database module, so the database is a
// generic resource whose body follows AutonomousDatabaseBaseProperties in the Oracle.Database REST spec,
// azure-rest-api-specs specification/oracle/resource-manager/Oracle.Database/stable/2025-09-01/openapi.json.
// That version has no encryption-key property: the key switch happens through OCI afterwards.
const (
	oracleNamespace        = "Oracle.Database"
	autonomousDatabaseType = "autonomousDatabases"
	oracleAPIVersion       = "2025-09-01"
)

// AutonomousDatabaseArgs describe one Autonomous Database (Serverless) in the delegated subnet.
type AutonomousDatabaseArgs struct {
	// ResourceGroupName, Location and Tags place the database. Required but Tags.
	ResourceGroupName pulumi.StringInput
	Location          string
	Tags              pulumi.StringMapInput
	// Name of the database (letters and digits, at most 30) and its DisplayName. Required.
	Name        string
	DisplayName string
	// AdminPassword of ADMIN. Required; kept secret.
	AdminPassword pulumi.StringInput
	// VnetID and SubnetID give the database a private endpoint in the delegated subnet only. Required.
	VnetID   pulumi.StringInput
	SubnetID pulumi.StringInput
	// Workload: OLTP, DW, AJD or APEX. Required.
	Workload string
	// ComputeCount in ECPUs and StorageTbs in TB. Required.
	ComputeCount float64
	StorageTbs   int
	// DBVersion, CharacterSet, NcharacterSet and LicenseModel as the spec names them. Required.
	DBVersion     string
	CharacterSet  string
	NcharacterSet string
	LicenseModel  string
	// MtlsRequired makes clients present a wallet.
	MtlsRequired bool
}

// AutonomousDatabase is the database as Azure reports it.
type AutonomousDatabase struct {
	pulumi.ResourceState

	Name string
	// ResourceID is the ARM ID.
	ResourceID pulumi.StringOutput `pulumi:"resourceId"`
	// Ocid is the OCI ID of the database.
	Ocid pulumi.StringOutput `pulumi:"ocid"`
	// PrivateEndpointIP is the database's address in the delegated subnet.
	PrivateEndpointIP pulumi.StringOutput `pulumi:"privateEndpointIp"`
	// ConnectionStrings by consumer group: high, medium, low.
	ConnectionStrings pulumi.StringMapOutput `pulumi:"connectionStrings"`
	// AdminConnectString is what the SQL steps connect with: the one-way TLS descriptor of the high service, or
	// the wallet alias "<name>_high" when mTLS is required.
	AdminConnectString pulumi.StringOutput `pulumi:"adminConnectString"`
}

// NewAutonomousDatabase creates the database with Oracle-managed keys.
func NewAutonomousDatabase(ctx *pulumi.Context, name string, args *AutonomousDatabaseArgs,
	opts ...pulumi.ResourceOption) (*AutonomousDatabase, error) {
	if args == nil {
		return nil, fmt.Errorf("autonomous database %s: %w", name, errNilArgs)
	}
	if args.AdminPassword == nil {
		return nil, fmt.Errorf("autonomous database %s: AdminPassword is required", args.Name)
	}
	comp := &AutonomousDatabase{Name: args.Name}
	if err := ctx.RegisterComponentResource(AutonomousDatabaseType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("registering autonomous database component %s: %w", name, err)
	}

	// azure-native updates by PUT, which this service has answered with "a database with the same name
	// exists"; a password rotated in the database must not turn into such a PUT.
	db, err := resources.NewResource(ctx, name+"-adb", &resources.ResourceArgs{
		ResourceGroupName:         args.ResourceGroupName,
		ResourceProviderNamespace: pulumi.String(oracleNamespace),
		ParentResourcePath:        pulumi.String(""),
		ResourceType:              pulumi.String(autonomousDatabaseType),
		ResourceName:              pulumi.String(args.Name),
		ApiVersion:                pulumi.String(oracleAPIVersion),
		Location:                  pulumi.String(args.Location),
		Tags:                      args.Tags,
		Properties:                DatabaseBody(args),
	}, pulumi.Parent(comp), pulumi.Timeouts(longRunning), pulumi.IgnoreChanges([]string{"properties.adminPassword"}))
	if err != nil {
		return nil, fmt.Errorf("creating autonomous database %s: %w", args.Name, err)
	}

	// The body held a secret, so the engine returns every property as secret; only the password is one.
	props := db.Properties.ApplyT(func(v any) map[string]any {
		m, _ := v.(map[string]any)
		return m
	}).(pulumi.MapOutput)
	field := func(key string) pulumi.StringOutput {
		return pulumi.Unsecret(props.ApplyT(func(m map[string]any) string {
			s, _ := m[key].(string)
			return s
		})).(pulumi.StringOutput)
	}
	comp.ResourceID = db.ID().ToStringOutput()
	comp.Ocid = nonEmpty("ocid of autonomous database "+args.Name, field("ocid"))
	comp.PrivateEndpointIP = nonEmpty("privateEndpointIp of autonomous database "+args.Name, field("privateEndpointIp"))
	comp.ConnectionStrings = pulumi.Unsecret(props.ApplyT(consumerGroupStrings)).(pulumi.StringMapOutput)
	comp.AdminConnectString = pulumi.Unsecret(props.ApplyT(func(m map[string]any) (string, error) {
		return adminConnectString(args.Name, args.MtlsRequired, m)
	})).(pulumi.StringOutput)

	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"resourceId":         comp.ResourceID,
		"ocid":               comp.Ocid,
		"privateEndpointIp":  comp.PrivateEndpointIP,
		"connectionStrings":  comp.ConnectionStrings,
		"adminConnectString": comp.AdminConnectString,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of autonomous database %s: %w", args.Name, err)
	}
	return comp, nil
}

// DatabaseBody is the ARM "properties" of a Regular database, by the spec's names. No encryption key is set:
// Autonomous Database is created with Oracle-managed keys.
func DatabaseBody(args *AutonomousDatabaseArgs) pulumi.Map {
	return pulumi.Map{
		"dataBaseType":                   pulumi.String("Regular"),
		"displayName":                    pulumi.String(args.DisplayName),
		"adminPassword":                  pulumi.ToSecret(args.AdminPassword),
		"computeModel":                   pulumi.String("ECPU"),
		"computeCount":                   pulumi.Float64(args.ComputeCount),
		"dataStorageSizeInTbs":           pulumi.Int(args.StorageTbs),
		"dbVersion":                      pulumi.String(args.DBVersion),
		"dbWorkload":                     pulumi.String(args.Workload),
		"characterSet":                   pulumi.String(args.CharacterSet),
		"ncharacterSet":                  pulumi.String(args.NcharacterSet),
		"licenseModel":                   pulumi.String(args.LicenseModel),
		"isMtlsConnectionRequired":       pulumi.Bool(args.MtlsRequired),
		"isAutoScalingEnabled":           pulumi.Bool(false),
		"isAutoScalingForStorageEnabled": pulumi.Bool(false),
		"vnetId":                         args.VnetID,
		"subnetId":                       args.SubnetID,
	}
}

func consumerGroupStrings(m map[string]any) map[string]string {
	out := map[string]string{}
	cs, _ := m["connectionStrings"].(map[string]any)
	for _, group := range []string{"high", "medium", "low"} {
		if s, ok := cs[group].(string); ok && s != "" {
			out[group] = s
		}
	}
	return out
}

// adminConnectString picks the high service's one-way TLS descriptor (TCPS, server authentication, long
// syntax), or, with mTLS, the wallet's alias for it.
func adminConnectString(name string, mtls bool, m map[string]any) (string, error) {
	if mtls {
		return strings.ToLower(name) + "_high", nil
	}
	cs, _ := m["connectionStrings"].(map[string]any)
	profiles, _ := cs["profiles"].([]any)
	for _, p := range profiles {
		prof, _ := p.(map[string]any)
		if prof["consumerGroup"] == "High" && prof["protocol"] == "TCPS" && prof["tlsAuthentication"] == "Server" &&
			prof["syntaxFormat"] == "Long" {
			if v, _ := prof["value"].(string); v != "" {
				return v, nil
			}
		}
	}
	if v, _ := cs["high"].(string); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("the connection string of autonomous database %s for its high service came back "+
		"empty from the provider; nothing is built from an empty value", name)
}
