// This file holds the route table: the names under which requests are counted and faults are injected, and
// the matching of a request path to a route and its parameters.

package fakehsm

import (
	"net/http"
	"strings"
)

// Security domain routes.
const (
	RouteSecurityDomainDownload        = "POST /securitydomain/download"
	RouteSecurityDomainDownloadPending = "GET /securitydomain/download/pending"
	RouteSecurityDomainTransferKey     = "GET /securitydomain/upload"
	RouteSecurityDomainUpload          = "POST /securitydomain/upload"
	RouteSecurityDomainUploadPending   = "GET /securitydomain/upload/pending"
)

// Local RBAC routes; {scope} is "", "/keys" or "/keys/<name>" in the path.
const (
	RouteCreateRoleAssignment = "PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
	RouteGetRoleAssignment    = "GET {scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
	RouteDeleteRoleAssignment = "DELETE {scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
	RouteListRoleAssignments  = "GET {scope}/providers/Microsoft.Authorization/roleAssignments"
	RouteGetRoleDefinition    = "GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{name}"
	RouteListRoleDefinitions  = "GET {scope}/providers/Microsoft.Authorization/roleDefinitions"
	// RouteWriteRoleDefinition covers PUT and DELETE of custom role definitions, which the fake refuses.
	RouteWriteRoleDefinition = "PUT|DELETE {scope}/providers/Microsoft.Authorization/roleDefinitions/{name}"
)

// Key routes. {version} may be empty: the latest version is used.
const (
	RouteCreateKey            = "POST /keys/{name}/create"
	RouteGetKey               = "GET /keys/{name}/{version}"
	RouteUpdateKey            = "PATCH /keys/{name}/{version}"
	RouteListKeys             = "GET /keys"
	RouteListKeyVersions      = "GET /keys/{name}/versions"
	RouteDeleteKey            = "DELETE /keys/{name}"
	RouteGetDeletedKey        = "GET /deletedkeys/{name}"
	RouteListDeletedKeys      = "GET /deletedkeys"
	RoutePurgeDeletedKey      = "DELETE /deletedkeys/{name}"
	RouteRecoverDeletedKey    = "POST /deletedkeys/{name}/recover"
	RouteGetRotationPolicy    = "GET /keys/{name}/rotationpolicy"
	RouteUpdateRotationPolicy = "PUT /keys/{name}/rotationpolicy"
	RouteRotateKey            = "POST /keys/{name}/rotate"
	RouteEncrypt              = "POST /keys/{name}/{version}/encrypt"
	RouteDecrypt              = "POST /keys/{name}/{version}/decrypt"
	RouteWrapKey              = "POST /keys/{name}/{version}/wrapkey"
	RouteUnwrapKey            = "POST /keys/{name}/{version}/unwrapkey"
	RouteBackupKey            = "POST /keys/{name}/backup"
	RouteRestoreKey           = "POST /keys/restore"
	// RouteUnsupportedKeyOperation covers real key operations the fake does not implement (sign, verify,
	// import, release, rng); they answer 501.
	RouteUnsupportedKeyOperation = "POST /keys/{name}/{version}/{unsupported}"
)

// Management-plane (ARM) routes.
const (
	armHsm                  = "/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.KeyVault/managedHSMs/{name}"
	armLocation             = "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/{loc}"
	RouteGetManagedHSM      = "GET " + armHsm
	RouteUpdateManagedHSM   = "PATCH " + armHsm
	RouteARMOperationStatus = "GET " + armLocation + "/operationStatuses/{id}"
	RouteARMOperationResult = "GET " + armLocation + "/operationResults/{id}"
	// RouteGetDeletedManagedHSM and RoutePurgeDeletedManagedHSM are the location's soft-deleted HSMs.
	RouteGetDeletedManagedHSM   = "GET " + armLocation + "/deletedManagedHSMs/{name}"
	RoutePurgeDeletedManagedHSM = "POST " + armLocation + "/deletedManagedHSMs/{name}/purge"
)

// KeyRoutes lists every route that touches keys, for assertions such as "no key call was made".
func KeyRoutes() []string {
	return []string{RouteCreateKey, RouteGetKey, RouteUpdateKey, RouteListKeys, RouteListKeyVersions,
		RouteDeleteKey, RouteGetDeletedKey, RouteListDeletedKeys, RoutePurgeDeletedKey, RouteRecoverDeletedKey,
		RouteGetRotationPolicy, RouteUpdateRotationPolicy, RouteRotateKey, RouteEncrypt, RouteDecrypt,
		RouteWrapKey, RouteUnwrapKey, RouteBackupKey, RouteRestoreKey, RouteUnsupportedKeyOperation}
}

// RoleRoutes lists every local RBAC route.
func RoleRoutes() []string {
	return []string{RouteCreateRoleAssignment, RouteGetRoleAssignment, RouteDeleteRoleAssignment,
		RouteListRoleAssignments, RouteGetRoleDefinition, RouteListRoleDefinitions, RouteWriteRoleDefinition}
}

// call is one request being served: its matched route, parameters and authenticated principal.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	route     string
	principal string
	activity  string
	// scope is the local RBAC scope of a role route ("/", "/keys" or "/keys/<name>").
	scope string
	// name is the key, role assignment or role definition name; version the key version ("" for latest).
	name    string
	version string
	// op is the key operation of a cryptographic route.
	op string
}

// handler serves a matched call; it writes a success answer itself and returns failures.
type handler func(*Server, *call) *apiError

// routeEntry is a matched route.
type routeEntry struct {
	name string
	h    handler
	// arm marks management-plane routes, which use ARM authentication and skip data-plane checks.
	arm bool
	// needsActive marks data-plane routes refused before the security domain is activated.
	needsActive bool
}

// supportedKeyOps maps the path segment of a cryptographic operation to its route.
var supportedKeyOps = map[string]string{
	"encrypt": RouteEncrypt, "decrypt": RouteDecrypt, "wrapkey": RouteWrapKey, "unwrapkey": RouteUnwrapKey,
}

// unsupportedKeyOps are real POST operations on a key (version) the fake does not implement.
var unsupportedKeyOps = map[string]bool{
	"sign": true, "verify": true, "release": true, "attestation": true,
}

// splitPath returns the non-empty segments of p; the service treats repeated slashes as one.
func splitPath(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// matchRoute finds the route of a request and fills the call's parameters.
func matchRoute(c *call) (routeEntry, bool) {
	segs := splitPath(c.r.URL.Path)
	method := c.r.Method
	if len(segs) > 0 && strings.EqualFold(segs[0], "subscriptions") {
		return matchARM(c, segs)
	}
	for i, s := range segs {
		if strings.EqualFold(s, "providers") && i+1 < len(segs) &&
			strings.EqualFold(segs[i+1], "Microsoft.Authorization") {
			c.scope = "/" + strings.Join(segs[:i], "/")
			return matchRBAC(c, method, segs[i+2:])
		}
	}
	if len(segs) == 0 {
		return routeEntry{}, false
	}
	switch strings.ToLower(segs[0]) {
	case "securitydomain":
		return matchSecurityDomain(method, segs[1:])
	case "keys":
		return matchKeys(c, method, segs[1:])
	case "deletedkeys":
		return matchDeletedKeys(c, method, segs[1:])
	case "rng":
		return routeEntry{name: RouteUnsupportedKeyOperation, h: (*Server).unsupported, needsActive: true},
			method == http.MethodPost && len(segs) == 1
	}
	return routeEntry{}, false
}

func matchSecurityDomain(method string, rest []string) (routeEntry, bool) {
	key := method + " " + strings.ToLower(strings.Join(rest, "/"))
	switch key {
	case "POST download":
		return routeEntry{name: RouteSecurityDomainDownload, h: (*Server).downloadSecurityDomain}, true
	case "GET download/pending":
		return routeEntry{name: RouteSecurityDomainDownloadPending, h: (*Server).downloadPending}, true
	case "GET upload":
		return routeEntry{name: RouteSecurityDomainTransferKey, h: (*Server).transferKey}, true
	case "POST upload":
		return routeEntry{name: RouteSecurityDomainUpload, h: (*Server).uploadSecurityDomain}, true
	case "GET upload/pending":
		return routeEntry{name: RouteSecurityDomainUploadPending, h: (*Server).uploadPending}, true
	}
	return routeEntry{}, false
}

func matchRBAC(c *call, method string, rest []string) (routeEntry, bool) {
	if len(rest) == 0 || len(rest) > 2 {
		return routeEntry{}, false
	}
	if len(rest) == 2 {
		c.name = rest[1]
	}
	kind := strings.ToLower(rest[0])
	e := routeEntry{needsActive: true}
	switch {
	case kind == "roleassignments" && len(rest) == 1 && method == http.MethodGet:
		e.name, e.h = RouteListRoleAssignments, (*Server).listRoleAssignments
	case kind == "roleassignments" && len(rest) == 2 && method == http.MethodPut:
		e.name, e.h = RouteCreateRoleAssignment, (*Server).createRoleAssignment
	case kind == "roleassignments" && len(rest) == 2 && method == http.MethodGet:
		e.name, e.h = RouteGetRoleAssignment, (*Server).getRoleAssignment
	case kind == "roleassignments" && len(rest) == 2 && method == http.MethodDelete:
		e.name, e.h = RouteDeleteRoleAssignment, (*Server).deleteRoleAssignment
	case kind == "roledefinitions" && len(rest) == 1 && method == http.MethodGet:
		e.name, e.h = RouteListRoleDefinitions, (*Server).listRoleDefinitions
	case kind == "roledefinitions" && len(rest) == 2 && method == http.MethodGet:
		e.name, e.h = RouteGetRoleDefinition, (*Server).getRoleDefinition
	case kind == "roledefinitions" && len(rest) == 2 && (method == http.MethodPut || method == http.MethodDelete):
		e.name, e.h = RouteWriteRoleDefinition, (*Server).writeRoleDefinition
	default:
		return routeEntry{}, false
	}
	return e, true
}

func matchKeys(c *call, method string, rest []string) (routeEntry, bool) {
	e := routeEntry{needsActive: true}
	if len(rest) == 0 {
		e.name, e.h = RouteListKeys, (*Server).listKeys
		return e, method == http.MethodGet
	}
	c.name = rest[0]
	switch len(rest) {
	case 1:
		if method == http.MethodPost && strings.EqualFold(rest[0], "restore") {
			c.name = ""
			e.name, e.h = RouteRestoreKey, (*Server).restoreKey
			return e, true
		}
		switch method {
		case http.MethodGet:
			e.name, e.h = RouteGetKey, (*Server).getKey
		case http.MethodDelete:
			e.name, e.h = RouteDeleteKey, (*Server).deleteKey
		case http.MethodPatch:
			e.name, e.h = RouteUpdateKey, (*Server).updateKey
		default:
			return routeEntry{}, false
		}
		return e, true
	case 2:
		return matchKeySegment(c, e, method, rest[1])
	case 3:
		if method != http.MethodPost {
			return routeEntry{}, false
		}
		c.version = rest[1]
		return matchKeyOperation(c, e, strings.ToLower(rest[2]))
	}
	return routeEntry{}, false
}

// matchKeySegment matches /keys/{name}/{segment}: an action on the key, or a version.
func matchKeySegment(c *call, e routeEntry, method, seg string) (routeEntry, bool) {
	lower := strings.ToLower(seg)
	switch {
	case method == http.MethodPost && lower == "create":
		e.name, e.h = RouteCreateKey, (*Server).createKey
	case method == http.MethodPost && lower == "backup":
		e.name, e.h = RouteBackupKey, (*Server).backupKey
	case method == http.MethodPost && lower == "rotate":
		e.name, e.h = RouteRotateKey, (*Server).rotateKey
	case method == http.MethodGet && lower == "rotationpolicy":
		e.name, e.h = RouteGetRotationPolicy, (*Server).getRotationPolicy
	case method == http.MethodPut && lower == "rotationpolicy":
		e.name, e.h = RouteUpdateRotationPolicy, (*Server).updateRotationPolicy
	case method == http.MethodGet && lower == "versions":
		e.name, e.h = RouteListKeyVersions, (*Server).listKeyVersions
	case method == http.MethodPost:
		return matchKeyOperation(c, e, lower)
	case method == http.MethodGet:
		c.version = seg
		e.name, e.h = RouteGetKey, (*Server).getKey
	case method == http.MethodPatch:
		c.version = seg
		e.name, e.h = RouteUpdateKey, (*Server).updateKey
	default:
		return routeEntry{}, false
	}
	return e, true
}

func matchKeyOperation(c *call, e routeEntry, op string) (routeEntry, bool) {
	if route, ok := supportedKeyOps[op]; ok {
		c.op = op
		e.name, e.h = route, (*Server).keyOperation
		return e, true
	}
	if unsupportedKeyOps[op] {
		e.name, e.h = RouteUnsupportedKeyOperation, (*Server).unsupported
		return e, true
	}
	return routeEntry{}, false
}

func matchDeletedKeys(c *call, method string, rest []string) (routeEntry, bool) {
	e := routeEntry{needsActive: true}
	switch {
	case len(rest) == 0 && method == http.MethodGet:
		e.name, e.h = RouteListDeletedKeys, (*Server).listDeletedKeys
	case len(rest) == 1 && method == http.MethodGet:
		e.name, e.h = RouteGetDeletedKey, (*Server).getDeletedKey
	case len(rest) == 1 && method == http.MethodDelete:
		e.name, e.h = RoutePurgeDeletedKey, (*Server).purgeDeletedKey
	case len(rest) == 2 && method == http.MethodPost && strings.EqualFold(rest[1], "recover"):
		e.name, e.h = RouteRecoverDeletedKey, (*Server).recoverDeletedKey
	default:
		return routeEntry{}, false
	}
	c.name = rest[0]
	return e, true
}

// matchARM matches the managed HSM resource and its operation URLs; resource path segments are
// case-insensitive as in ARM.
func matchARM(c *call, segs []string) (routeEntry, bool) {
	lower := make([]string, len(segs))
	for i, s := range segs {
		lower[i] = strings.ToLower(s)
	}
	e := routeEntry{arm: true}
	switch {
	case len(segs) == 8 && lower[2] == "resourcegroups" && lower[4] == "providers" &&
		lower[5] == "microsoft.keyvault" && lower[6] == "managedhsms":
		c.name = segs[7]
		switch c.r.Method {
		case http.MethodGet:
			e.name, e.h = RouteGetManagedHSM, (*Server).getManagedHSM
		case http.MethodPatch:
			e.name, e.h = RouteUpdateManagedHSM, (*Server).updateManagedHSM
		default:
			return routeEntry{}, false
		}
		return e, true
	case len(segs) == 9 && lower[2] == "providers" && lower[3] == "microsoft.keyvault" &&
		lower[4] == "locations" && lower[6] == "deletedmanagedhsms" && lower[8] == "purge" &&
		c.r.Method == http.MethodPost:
		c.name = segs[7]
		e.name, e.h = RoutePurgeDeletedManagedHSM, (*Server).purgeDeletedManagedHSM
		return e, true
	case len(segs) == 8 && lower[2] == "providers" && lower[3] == "microsoft.keyvault" &&
		lower[4] == "locations" && c.r.Method == http.MethodGet:
		c.name = segs[7]
		switch lower[6] {
		case "deletedmanagedhsms":
			e.name, e.h = RouteGetDeletedManagedHSM, (*Server).getDeletedManagedHSM
		case "operationstatuses":
			e.name, e.h = RouteARMOperationStatus, (*Server).armOperationStatus
		case "operationresults":
			e.name, e.h = RouteARMOperationResult, (*Server).armOperationResult
		default:
			return routeEntry{}, false
		}
		return e, true
	}
	return routeEntry{}, false
}
