// This file holds the provisioning times the timeline gives each resource type, in minutes of cloud time, with
// where each figure comes from. Figures marked "estimate" have no published source here; they are the order of
// magnitude such calls take and matter little next to the HSM, the database and the key switch.
package timeline

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Minutes is cloud time in minutes.
type Minutes float64

// restartMinutes is a stop and start of an Autonomous Database (the guide's step 7.4). Estimate: the guide gives
// no figure; a stop and a start of ADB-S take a few minutes each.
const restartMinutes Minutes = 5

// byType is how long the cloud takes to create one resource of each type.
var byType = map[string]Minutes{
	// Network. Estimates: ARM creates a resource group, a VNet, an NSG or a subnet in seconds.
	"azure-native:resources:ResourceGroup":      0.1,
	"azure-native:network:VirtualNetwork":       0.2,
	"azure-native:network:NetworkSecurityGroup": 0.2,
	"azure-native:network:Subnet":               0.2,
	// Estimate: one ARM list of the subscription's deleted HSMs.
	"odaa:hsm:NameGuard": 0.05,
	// Guide step 3.2 ("This will take 15-20 minutes") and platform facts ("15–20+ minutes"): the upper end.
	"azure-native:keyvault:ManagedHsm": 20,
	// Estimates: a Private Link endpoint takes a minute or two; private DNS resources well under a minute.
	"azure-native:network:PrivateEndpoint":     2,
	"azure-native:network:PrivateZone":         0.5,
	"azure-native:network:VirtualNetworkLink":  0.5,
	"azure-native:network:PrivateDnsZoneGroup": 0.5,
	// Estimate: the download, then activation polled until the HSM reports Active.
	"odaa:hsm:SecurityDomain": 2,
	// Estimates: a role assignment is one PUT plus RBAC propagation (retried); a key, one data plane call.
	"odaa:hsm:RoleAssignment": 0.5,
	"odaa:hsm:Key":            0.1,
	// Estimate: an ARM PATCH of the HSM's network settings, a long-running update.
	"odaa:hsm:NetworkLock": 3,
	// Estimates: the audit trail. A Log Analytics workspace takes a minute or so; a diagnostic setting, an action
	// group and a scheduled query rule are single ARM calls.
	"azure-native:operationalinsights:Workspace":         1,
	"azure-native:insights:DiagnosticSetting":            0.2,
	"azure-native:insights:ActionGroup":                  0.2,
	"azure-native:insights/v20231201:ScheduledQueryRule": 0.2,
	// Estimates: Microsoft Graph calls, seconds each.
	"azuread:index/application:Application":                 0.1,
	"azuread:index/servicePrincipal:ServicePrincipal":       0.1,
	"azuread:index/applicationPassword:ApplicationPassword": 0.1,
	// The Autonomous Database. Estimate: the guide gives no figure; components/common.go sizes its timeout for
	// "about as long" as the HSM; 15 minutes is used here.
	"azure-native:resources:Resource": 15,
	// Estimates: OCI DNS calls are synchronous.
	"oci:Dns/zone:Zone":   0.2,
	"oci:Dns/rrset:Rrset": 0.1,
	// Estimates: each SQL step is a connection and a statement or two; the property adds restartMinutes when
	// it restarts the database.
	"odaa:oracle:NetworkAcl":       0.1,
	"odaa:oracle:DatabaseProperty": 0.1,
	"odaa:oracle:PrincipalAuth":    0.1,
	"odaa:oracle:KeystoreCheck":    0.1,
	// Guide step 8.3: "Update typically takes 5-10 minutes" (the upper end).
	"odaa:oracle:EncryptionKey": 10,
}

// Duration is how long the cloud takes to create a resource of type token with these inputs. Component
// resources and the stack take no time: the engine registers them at once.
func Duration(token string, custom bool, inputs resource.PropertyMap) Minutes {
	if !custom {
		return 0
	}
	d := byType[token]
	if token == "odaa:oracle:DatabaseProperty" {
		if v, ok := inputs["restartOnChange"]; ok && v.IsBool() && v.BoolValue() {
			d += restartMinutes
		}
	}
	return d
}

// Known reports whether the table has a figure for token, so that a new resource type cannot pass unnoticed
// with zero time.
func Known(token string) bool {
	_, ok := byType[token]
	return ok
}
