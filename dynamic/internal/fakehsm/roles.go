// This file holds the built-in role definitions of Managed HSM local RBAC with their data actions, as the
// service lists them, and the checks of scopes, GUIDs and role definition IDs.

package fakehsm

import (
	"regexp"
	"strings"
)

// Built-in role definition names (GUIDs) of Managed HSM local RBAC.
const (
	RoleAdministrator               = "a290e904-7015-4bba-90c8-60543313cdb4"
	RoleCryptoOfficer               = "515eb02d-2335-4d2d-92f2-b1cbdf9c3778"
	RoleCryptoUser                  = "21dbd100-6940-42c2-9190-5d6cb909625b"
	RolePolicyAdministrator         = "4bd23610-cdcf-4971-bdee-bdc562cc28e4"
	RoleCryptoServiceEncryptionUser = "33413926-3206-4cdd-b39a-83574fe37a17"
	RoleCryptoServiceReleaseUser    = "21dbd100-6940-42c2-9190-5d6cb909625c"
	RoleCryptoAuditor               = "2c18b078-7c48-4d3a-af88-5a3a1b3f82b3"
	RoleBackup                      = "7b127d3c-77bd-4e3e-bbe0-dbb8971fa7f8"
	RoleRestore                     = "6efe6056-5259-49d2-8b3d-d3d73544b20b"
)

// roleDefinitionPrefix precedes the GUID in a role definition ID.
const roleDefinitionPrefix = "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/"

// RoleDefinitionID returns the role definition ID a role assignment carries for a role GUID.
func RoleDefinitionID(roleGUID string) string {
	return roleDefinitionPrefix + strings.ToLower(roleGUID)
}

// Data actions; the built-in roles below grant them.
const (
	dataActionPrefix = "Microsoft.KeyVault/managedHsm/"

	actionKeysRead           = dataActionPrefix + "keys/read/action"
	actionKeysWrite          = dataActionPrefix + "keys/write/action"
	actionKeysCreate         = dataActionPrefix + "keys/create"
	actionKeysDelete         = dataActionPrefix + "keys/delete"
	actionKeysRotate         = dataActionPrefix + "keys/rotate/action"
	actionKeysEncrypt        = dataActionPrefix + "keys/encrypt/action"
	actionKeysDecrypt        = dataActionPrefix + "keys/decrypt/action"
	actionKeysWrap           = dataActionPrefix + "keys/wrap/action"
	actionKeysUnwrap         = dataActionPrefix + "keys/unwrap/action"
	actionDeletedKeysRead    = dataActionPrefix + "keys/deletedKeys/read/action"
	actionDeletedKeysDelete  = dataActionPrefix + "keys/deletedKeys/delete"
	actionDeletedKeysRecover = dataActionPrefix + "keys/deletedKeys/recover/action"

	actionRoleAssignmentsRead   = dataActionPrefix + "roleAssignments/read/action"
	actionRoleAssignmentsWrite  = dataActionPrefix + "roleAssignments/write/action"
	actionRoleAssignmentsDelete = dataActionPrefix + "roleAssignments/delete/action"
	actionRoleDefinitionsRead   = dataActionPrefix + "roleDefinitions/read/action"
	actionRoleDefinitionsWrite  = dataActionPrefix + "roleDefinitions/write/action"
	actionRoleDefinitionsDelete = dataActionPrefix + "roleDefinitions/delete/action"
)

// roleDefinition is a built-in role: its GUID, display name and data actions.
type roleDefinition struct {
	id          string
	roleName    string
	dataActions []string
}

// rolePermissions prefixes every action with dataActionPrefix.
func rolePermissions(actions ...string) []string {
	out := make([]string, len(actions))
	for i, a := range actions {
		out[i] = dataActionPrefix + a
	}
	return out
}

// builtinRoles are the Managed HSM built-in roles with the data actions the service lists for them
// (GET /providers/Microsoft.Authorization/roleDefinitions), in the service's order.
var builtinRoles = []roleDefinition{
	{RoleBackup, "Managed HSM Backup User", rolePermissions("backup/start/action", "backup/status/action",
		"keys/backup/action")},
	{RoleCryptoServiceEncryptionUser, "Managed HSM Crypto Service Encryption User", rolePermissions(
		"keys/read/action", "keys/wrap/action", "keys/unwrap/action")},
	{RoleCryptoServiceReleaseUser, "Managed HSM Crypto Service Release User", rolePermissions(
		"keys/release/action")},
	{RoleCryptoAuditor, "Managed HSM Crypto Auditor", rolePermissions("roleAssignments/read/action",
		"roleDefinitions/read/action", "keys/read/action", "keys/deletedKeys/read/action")},
	{RolePolicyAdministrator, "Managed HSM Policy Administrator", rolePermissions(
		"roleDefinitions/read/action", "roleDefinitions/write/action", "roleDefinitions/delete/action",
		"roleAssignments/read/action", "roleAssignments/write/action", "roleAssignments/delete/action")},
	{RoleCryptoUser, "Managed HSM Crypto User", rolePermissions("roleDefinitions/read/action",
		"roleAssignments/read/action", "keys/read/action", "keys/write/action", "keys/delete", "keys/create",
		"keys/rotate/action", "keys/import/action", "keys/release/action", "keys/backup/action",
		"keys/restore/action", "keys/encrypt/action", "keys/decrypt/action", "keys/wrap/action",
		"keys/unwrap/action", "keys/sign/action", "keys/verify/action", "keys/derive/action", "rng/action")},
	{RoleCryptoOfficer, "Managed HSM Crypto Officer", rolePermissions("roleAssignments/delete/action",
		"roleAssignments/read/action", "roleAssignments/write/action", "roleDefinitions/read/action",
		"roleDefinitions/write/action", "roleDefinitions/delete/action", "keys/deletedKeys/read/action",
		"keys/deletedKeys/delete", "keys/deletedKeys/recover/action", "keys/export/action")},
	{RoleAdministrator, "Managed HSM Administrator", rolePermissions("roleAssignments/delete/action",
		"roleAssignments/read/action", "roleAssignments/write/action", "roleDefinitions/read/action",
		"roleDefinitions/write/action", "roleDefinitions/delete/action", "securitydomain/download/action",
		"securitydomain/download/read", "securitydomain/upload/action", "securitydomain/upload/read",
		"securitydomain/transferkey/read", "backup/start/action", "restore/start/action",
		"backup/status/action", "restore/status/action", "settings/read/action", "settings/write/action")},
	{RoleRestore, "Managed HSM Restore User", rolePermissions("restore/start/action", "restore/status/action",
		"keys/restore/action")},
}

// findRole returns the built-in role with the GUID, case-insensitively.
func findRole(guid string) (roleDefinition, bool) {
	for _, r := range builtinRoles {
		if strings.EqualFold(r.id, guid) {
			return r, true
		}
	}
	return roleDefinition{}, false
}

// grants reports whether the role has the data action.
func (r roleDefinition) grants(action string) bool {
	for _, a := range r.dataActions {
		if strings.EqualFold(a, action) {
			return true
		}
	}
	return false
}

var (
	guidPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	keyNamePattern = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)
)

func isGUID(s string) bool { return guidPattern.MatchString(s) }

// validScope reports whether scope is one local RBAC accepts: "/", "/keys" or "/keys/<key name>".
func validScope(scope string) bool {
	switch {
	case scope == "/" || strings.EqualFold(scope, "/keys"):
		return true
	case len(scope) > len("/keys/") && strings.EqualFold(scope[:len("/keys/")], "/keys/"):
		return keyNamePattern.MatchString(scope[len("/keys/"):])
	}
	return false
}

// normalizeScope lower-cases the fixed part of a scope; key names keep their case.
func normalizeScope(scope string) string {
	if scope == "/" {
		return scope
	}
	return "/keys" + scope[len("/keys"):]
}

// covers reports whether an assignment at scope applies to target: "/" covers everything, "/keys" every
// key, "/keys/<name>" that key only. Key names compare case-insensitively, as Key Vault names do.
func covers(scope, target string) bool {
	if scope == "/" {
		return true
	}
	s, t := strings.ToLower(scope), strings.ToLower(target)
	return t == s || strings.HasPrefix(t, s+"/")
}

// parseRoleDefinitionID returns the role GUID of a role definition ID, with or without a leading slash.
func parseRoleDefinitionID(id string) (string, bool) {
	id = strings.TrimPrefix(id, "/")
	n := len(roleDefinitionPrefix)
	if len(id) <= n || !strings.EqualFold(id[:n], roleDefinitionPrefix) {
		return "", false
	}
	guid := id[len(roleDefinitionPrefix):]
	return strings.ToLower(guid), isGUID(guid)
}
