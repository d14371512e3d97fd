// Package mockcloud is a Pulumi mock monitor that answers like the real providers: every computed output a
// program reads (HSM URI, activation status, endpoint IPs, database OCID and connection strings, the three IDs of
// an Entra application) comes back realistic and non-empty, unless a test asks otherwise. It records every
// registration and invoke so that tests can assert inputs, options and dependency edges.
package mockcloud

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Well-known values the mock cloud answers with.
const (
	TenantID           = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	SubscriptionID     = "00000000-1111-2222-3333-444444444444"
	DeployerObjectID   = "5b2f6c1e-0c7a-4f7e-9a3e-1f2d3c4b5a69"
	PrivateEndpointIP  = "10.0.2.5"
	DatabaseIP         = "10.0.1.10"
	ResolverDefaultVew = "ocid1.dnsview.oc1.iad.mockdefaultview"
	Compartment        = "ocid1.compartment.oc1..mockcompartment"
)

// Registration is one resource the program registered, with what the engine was told about it.
type Registration struct {
	Type   string
	Name   string
	Custom bool
	// ID is the ID the mock cloud gave the resource.
	ID      string
	Inputs  resource.PropertyMap
	Outputs resource.PropertyMap
	// Parent is the parent's name, "" at the top.
	Parent string
	// DependsOn are the names of the resources this one depends on: explicit ones and those its inputs came from.
	DependsOn     []string
	Protect       bool
	Retain        bool
	IgnoreChanges []string
	SecretOutputs []string
	Timeouts      Timeouts
}

// Timeouts are the custom timeouts of a registration.
type Timeouts struct{ Create, Update, Delete string }

// Invoke is one function call the program made.
type Invoke struct {
	Token string
	Args  resource.PropertyMap
}

// Cloud is the mock. The zero value is not ready: use New.
type Cloud struct {
	// ActivationStatus the plugin's SecurityDomain reports. Default "Active".
	ActivationStatus string
	// CallerObjectID the credentials carry. Default DeployerObjectID; "" for credentials without one.
	CallerObjectID string
	// EchoOnly answers resource registrations like a naive mock: the inputs back, no computed outputs.
	EchoOnly bool

	mu            sync.Mutex
	registrations []Registration
	invokes       []Invoke
}

// New returns a mock cloud with realistic defaults.
func New() *Cloud {
	return &Cloud{ActivationStatus: "Active", CallerObjectID: DeployerObjectID}
}

// Registrations returns what was registered, in order.
func (c *Cloud) Registrations() []Registration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Registration(nil), c.registrations...)
}

// Invokes returns the function calls made, in order.
func (c *Cloud) Invokes() []Invoke {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Invoke(nil), c.invokes...)
}

// NewResource implements pulumi.MockResourceMonitor.
func (c *Cloud) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	reg := Registration{Type: args.TypeToken, Name: args.Name, Custom: args.Custom, Inputs: args.Inputs}
	if rpc := args.RegisterRPC; rpc != nil {
		reg.Parent = urnName(rpc.GetParent())
		for _, d := range rpc.GetDependencies() {
			reg.DependsOn = append(reg.DependsOn, urnName(d))
		}
		for _, deps := range rpc.GetPropertyDependencies() {
			for _, d := range deps.GetUrns() {
				reg.DependsOn = append(reg.DependsOn, urnName(d))
			}
		}
		reg.Protect = rpc.GetProtect()
		reg.Retain = rpc.GetRetainOnDelete()
		reg.IgnoreChanges = rpc.GetIgnoreChanges()
		reg.SecretOutputs = rpc.GetAdditionalSecretOutputs()
		if t := rpc.GetCustomTimeouts(); t != nil {
			reg.Timeouts = Timeouts{Create: t.GetCreate(), Update: t.GetUpdate(), Delete: t.GetDelete()}
		}
	}

	id, outputs := args.Name+"-id", args.Inputs.Copy()
	if args.Custom && !c.EchoOnly {
		id, outputs = c.compute(args.TypeToken, args.Name, args.Inputs)
	}
	reg.ID, reg.Outputs = id, outputs

	c.mu.Lock()
	c.registrations = append(c.registrations, reg)
	c.mu.Unlock()
	return id, outputs, nil
}

// Call implements pulumi.MockResourceMonitor.
func (c *Cloud) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	c.mu.Lock()
	c.invokes = append(c.invokes, Invoke{Token: args.Token, Args: args.Args})
	c.mu.Unlock()
	return c.Function(args.Token, args.Args)
}

// Create returns the ID and outputs the cloud gives a created resource, without recording anything. The
// rehearsal's stand-in providers (tests/rehearsal/standin) answer from here, so mocks and stand-ins share one
// table.
func (c *Cloud) Create(token, name string, inputs resource.PropertyMap) (string, resource.PropertyMap) {
	return c.compute(token, name, inputs)
}

// Function answers a function call from the table, without recording it.
func (c *Cloud) Function(token string, args resource.PropertyMap) (resource.PropertyMap, error) {
	switch token {
	case "azure-native:authorization:getClientConfig":
		return props(map[string]any{
			"clientId": guid("client"), "objectId": c.CallerObjectID,
			"subscriptionId": SubscriptionID, "tenantId": TenantID,
		}), nil
	case "azure-native:network:getNetworkInterface":
		return props(map[string]any{
			"name":             str(args, "networkInterfaceName"),
			"ipConfigurations": []any{map[string]any{"privateIPAddress": PrivateEndpointIP}},
		}), nil
	case "oci:Database/getAutonomousDatabase:getAutonomousDatabase":
		return props(map[string]any{
			"subnetId": "ocid1.subnet.oc1.iad.mocksubnet", "compartmentId": Compartment,
		}), nil
	case "oci:Core/getSubnet:getSubnet":
		return props(map[string]any{"vcnId": "ocid1.vcn.oc1.iad.mockvcn"}), nil
	case "oci:Core/getCnvDnsResolverAssociation:getCnvDnsResolverAssociation":
		return props(map[string]any{"dnsResolverId": "ocid1.dnsresolver.oc1.iad.mockresolver"}), nil
	case "oci:Dns/getResolver:getResolver":
		return props(map[string]any{"defaultViewId": ResolverDefaultVew}), nil
	}
	return nil, fmt.Errorf("mockcloud: no answer for function %s", token)
}

// compute returns the ID and outputs a real provider would for a created resource.
func (c *Cloud) compute(token, name string, in resource.PropertyMap) (string, resource.PropertyMap) {
	out := in.Copy()
	rg := "/subscriptions/" + SubscriptionID + "/resourceGroups/" + str(in, "resourceGroupName")
	set := func(m map[string]any) {
		for k, v := range props(m) {
			out[k] = v
		}
	}
	switch token {
	case "azure-native:resources:ResourceGroup":
		set(map[string]any{"name": str(in, "resourceGroupName")})
		return rg, out
	case "azure-native:network:VirtualNetwork":
		set(map[string]any{"name": str(in, "virtualNetworkName")})
		return rg + "/providers/Microsoft.Network/virtualNetworks/" + str(in, "virtualNetworkName"), out
	case "azure-native:network:Subnet":
		set(map[string]any{"name": str(in, "subnetName")})
		return rg + "/providers/Microsoft.Network/virtualNetworks/" + str(in, "virtualNetworkName") +
			"/subnets/" + str(in, "subnetName"), out
	case "azure-native:network:NetworkSecurityGroup":
		return rg + "/providers/Microsoft.Network/networkSecurityGroups/" + str(in, "networkSecurityGroupName"), out
	case "azure-native:keyvault:ManagedHsm":
		hsm := str(in, "name")
		p := object(in, "properties")
		p["hsmUri"] = "https://" + hsm + ".managedhsm.azure.net/"
		p["provisioningState"] = "Succeeded"
		p["securityDomainProperties"] = map[string]any{"activationStatus": "NotActivated"}
		set(map[string]any{"properties": p})
		return rg + "/providers/Microsoft.KeyVault/managedHSMs/" + hsm, out
	case "azure-native:network:PrivateEndpoint":
		pe := str(in, "privateEndpointName")
		nic := rg + "/providers/Microsoft.Network/networkInterfaces/" + pe + ".nic." + guid(pe)
		set(map[string]any{"name": pe, "networkInterfaces": []any{map[string]any{"id": nic}}})
		return rg + "/providers/Microsoft.Network/privateEndpoints/" + pe, out
	case "azure-native:network:PrivateZone":
		set(map[string]any{"name": str(in, "privateZoneName")})
		return rg + "/providers/Microsoft.Network/privateDnsZones/" + str(in, "privateZoneName"), out
	case "azure-native:resources:Resource":
		return c.database(rg, in, out)
	case "azuread:index/application:Application":
		objectID := guid("app-object:" + str(in, "displayName"))
		set(map[string]any{"clientId": guid("app-client:" + str(in, "displayName")), "objectId": objectID})
		return "/applications/" + objectID, out
	case "azuread:index/servicePrincipal:ServicePrincipal":
		objectID := guid("sp-object:" + str(in, "clientId"))
		set(map[string]any{"objectId": objectID})
		return objectID, out
	case "azuread:index/applicationPassword:ApplicationPassword":
		// A given end date is kept; a relative one becomes a date, as the provider does at creation.
		end := str(in, "endDate")
		if end == "" {
			end = "2027-03-03T00:00:00Z"
		}
		set(map[string]any{
			"value": resource.MakeSecret(resource.NewStringProperty("mock~client~secret~" + name)),
			"keyId": guid("key:" + name), "endDate": end,
		})
		return guid("password:" + name), out
	case "azure-native:operationalinsights:Workspace":
		ws := str(in, "workspaceName")
		set(map[string]any{"name": ws, "customerId": guid("workspace:" + ws)})
		return rg + "/providers/Microsoft.OperationalInsights/workspaces/" + ws, out
	case "azure-native:insights:DiagnosticSetting":
		return str(in, "resourceUri") + "/providers/Microsoft.Insights/diagnosticSettings/" + str(in, "name"), out
	case "azure-native:insights:ActionGroup":
		return rg + "/providers/Microsoft.Insights/actionGroups/" + str(in, "actionGroupName"), out
	case "azure-native:insights/v20231201:ScheduledQueryRule":
		return rg + "/providers/Microsoft.Insights/scheduledQueryRules/" + str(in, "ruleName"), out
	case "oci:Dns/zone:Zone":
		return "ocid1.dns-zone.oc1.." + hash(name), out
	case "odaa:hsm:SecurityDomain":
		set(map[string]any{
			"activationStatus":   c.ActivationStatus,
			"securityDomainPath": str(in, "outputPath"),
			"securityDomain":     resource.MakeSecret(resource.NewStringProperty(`{"EncData":{},"version":2}`)),
			"privateKeys":        []any{},
		})
	case "odaa:hsm:RoleAssignment":
		set(map[string]any{"assignmentName": guid(str(in, "scope") + str(in, "role") + str(in, "principalId"))})
	case "odaa:hsm:Key":
		version := hash(name)
		set(map[string]any{
			"keyId":   strings.TrimSuffix(str(in, "hsmUri"), "/") + "/keys/" + str(in, "name") + "/" + version,
			"version": version,
		})
	case "odaa:oracle:PrincipalAuth":
		set(map[string]any{
			"appClientId": guid("oracle-app:" + name), "appName": "OracleAdbApp_" + hash(name),
			"consentUrl": "https://login.microsoftonline.com/" + TenantID + "/adminconsent",
		})
	case "odaa:oracle:EncryptionKey":
		set(map[string]any{"keyProvider": "AZURE", "lifecycleState": "AVAILABLE"})
	case "odaa:oracle:KeystoreCheck":
		set(map[string]any{"wrlType": "AZURE_KEY_VAULT", "status": "OPEN"})
	}
	return name + "-id", out
}

// database answers like Oracle.Database for a created Autonomous Database: the password is never returned.
func (c *Cloud) database(rg string, in, out resource.PropertyMap) (string, resource.PropertyMap) {
	name := str(in, "resourceName")
	p := object(in, "properties")
	delete(p, "adminPassword")
	host := strings.ToLower(name) + ".adb.us-ashburn-1.oraclecloud.com"
	descriptor := func(service string) string {
		return "(description=(retry_count=20)(retry_delay=3)(address=(protocol=tcps)(port=1522)(host=" + host +
			"))(connect_data=(service_name=mock_" + strings.ToLower(name) + "_" + service +
			".adb.oraclecloud.com))(security=(ssl_server_dn_match=yes)))"
	}
	p["ocid"] = "ocid1.autonomousdatabase.oc1.iad." + hash(name)
	p["privateEndpointIp"] = DatabaseIP
	p["privateEndpoint"] = host
	p["lifecycleState"] = "Available"
	p["provisioningState"] = "Succeeded"
	p["connectionStrings"] = map[string]any{
		"high": descriptor("high"), "medium": descriptor("medium"), "low": descriptor("low"),
		"profiles": []any{map[string]any{
			"consumerGroup": "High", "displayName": strings.ToLower(name) + "_high", "hostFormat": "Fqdn",
			"protocol": "TCPS", "sessionMode": "Direct", "syntaxFormat": "Long", "tlsAuthentication": "Server",
			"value": descriptor("high"),
		}},
	}
	out["properties"] = resource.NewObjectProperty(resource.NewPropertyMapFromMap(p))
	return rg + "/providers/Oracle.Database/autonomousDatabases/" + name, out
}

func props(m map[string]any) resource.PropertyMap { return resource.NewPropertyMapFromMap(m) }

// str reads a string input, looking through secrets; "" when absent.
func str(m resource.PropertyMap, key string) string {
	v, ok := m[resource.PropertyKey(key)]
	if !ok {
		return ""
	}
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

// object reads an object input as plain Go values, keeping secrets as secrets.
func object(m resource.PropertyMap, key string) map[string]any {
	v := m[resource.PropertyKey(key)]
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsObject() {
		return map[string]any{}
	}
	out := map[string]any{}
	for k, e := range v.ObjectValue() {
		out[string(k)] = e
	}
	return out
}

func hash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])[:16]
}

// guid derives a stable GUID from a seed, so distinct seeds give distinct IDs.
func guid(seed string) string {
	h := hash(seed) + hash(seed+"#")
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// urnName is the resource name at the end of a URN.
func urnName(urn string) string {
	if urn == "" {
		return ""
	}
	return resource.URN(urn).Name()
}
