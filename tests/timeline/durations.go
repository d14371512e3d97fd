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
	"azure-native:resources:ResourceGroup":                  0.1,
	"azure-native:network:VirtualNetwork":                   0.2,
	"azure-native:network:NetworkSecurityGroup":             0.2,
	"azure-native:network:Subnet":                           0.2,
	"odaa:hsm:NameGuard":                                    0.05, // estimate: one ARM list of deleted HSMs
	"azure-native:keyvault:ManagedHsm":                      20,   // guide step 3.2 and platform facts: "15–20+ minutes"
	"azure-native:network:PrivateEndpoint":                  2,    // estimate: Private Link endpoints take one to two minutes
	"azure-native:network:PrivateZone":                      0.5,  // estimate: global resource, under a minute
	"azure-native:network:VirtualNetworkLink":               0.5,  // estimate
	"azure-native:network:PrivateDnsZoneGroup":              0.5,  // estimate
	"odaa:hsm:SecurityDomain":                               2,    // estimate: download, then activation polled until Active
	"odaa:hsm:RoleAssignment":                               0.5,  // estimate: one PUT plus RBAC propagation (retried)
	"odaa:hsm:Key":                                          0.1,  // estimate: one data plane call
	"odaa:hsm:NetworkLock":                                  3,    // estimate: an ARM PATCH of the HSM, a long-running update
	"azuread:index/application:Application":                 0.1,  // estimate: Graph calls, seconds
	"azuread:index/servicePrincipal:ServicePrincipal":       0.1,
	"azuread:index/applicationPassword:ApplicationPassword": 0.1,
	// The Autonomous Database. Estimate: the guide gives no figure; components/common.go sizes its timeout for
	// "about as long" as the HSM; 15 minutes is used here.
	"azure-native:resources:Resource": 15,
	"oci:Dns/zone:Zone":               0.2, // estimate: OCI DNS calls are synchronous
	"oci:Dns/rrset:Rrset":             0.1, // estimate
	"odaa:oracle:NetworkAcl":          0.1, // estimate: connect, read DBA_HOST_ACES, append
	"odaa:oracle:DatabaseProperty":    0.1, // estimate: one ALTER and a read-back; plus restartMinutes if asked
	"odaa:oracle:PrincipalAuth":       0.1, // estimate: one PL/SQL call
	"odaa:oracle:EncryptionKey":       10,  // guide step 8.3: "Update typically takes 5-10 minutes" (upper end)
	"odaa:oracle:KeystoreCheck":       0.1, // estimate: one query
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
