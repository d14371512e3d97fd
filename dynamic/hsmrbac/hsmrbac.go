// Package hsmrbac holds the Managed HSM local RBAC vocabulary shared by the program (validation) and the
// provider plugin (role assignments): built-in role names and IDs, and the scopes the data plane accepts.
package hsmrbac

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Built-in Managed HSM local roles. The IDs are the role definition names Azure publishes for every HSM.
const (
	Administrator               = "Managed HSM Administrator"
	CryptoUser                  = "Managed HSM Crypto User"
	CryptoOfficer               = "Managed HSM Crypto Officer"
	CryptoServiceEncryptionUser = "Managed HSM Crypto Service Encryption User"
	PolicyAdministrator         = "Managed HSM Policy Administrator"
)

var roleIDs = map[string]string{
	Administrator:               "a290e904-7015-4bba-90c8-60543313cdb4",
	CryptoUser:                  "21dbd100-6940-42c2-9190-5d6cb909625b",
	CryptoOfficer:               "515eb02d-2335-4d2d-92f2-b1cbdf9c3778",
	CryptoServiceEncryptionUser: "33413926-3206-4cdd-b39a-83574fe37a17",
	PolicyAdministrator:         "4bd23610-cdcf-4971-bdee-bdc562cc28e4",
}

var (
	guidPattern    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	keyNamePattern = regexp.MustCompile(`^[0-9a-zA-Z-]{1,127}$`)
)

// keyCreators are the built-in roles whose data actions include creating keys. Administrator and Crypto
// Officer do not: Microsoft's role table gives Crypto Officer role management, purge, recover and export only.
var keyCreators = map[string]bool{roleIDs[CryptoUser]: true}

// CreatesKeys reports whether role, a built-in role name or GUID, may create keys. known is false for a GUID
// that names no built-in role (a custom role), whose data actions this package cannot see.
func CreatesKeys(role string) (creates, known bool) {
	id, err := RoleID(role)
	if err != nil {
		return false, false
	}
	for _, builtin := range roleIDs {
		if builtin == id {
			return keyCreators[id], true
		}
	}
	return false, false
}

// IsGUID reports whether s is a GUID in its canonical 8-4-4-4-12 form.
func IsGUID(s string) bool { return guidPattern.MatchString(s) }

// IsKeyName reports whether s is a valid Key Vault key name: 1–127 letters, digits and hyphens.
func IsKeyName(s string) bool { return keyNamePattern.MatchString(s) }

// RoleID resolves a built-in role name, or a role definition GUID, to the GUID the data plane expects.
func RoleID(role string) (string, error) {
	if IsGUID(role) {
		return strings.ToLower(role), nil
	}
	if id, ok := roleIDs[role]; ok {
		return id, nil
	}
	return "", fmt.Errorf("unknown Managed HSM role %q: use a role definition GUID or one of %s",
		role, strings.Join(RoleNames(), ", "))
}

// RoleNames lists the built-in role names this package knows, sorted.
func RoleNames() []string {
	names := make([]string, 0, len(roleIDs))
	for n := range roleIDs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RoleDefinitionID is the full role definition ID that a role assignment body carries.
func RoleDefinitionID(roleGUID string) string {
	return "Microsoft.KeyVault/providers/Microsoft.Authorization/roleDefinitions/" + roleGUID
}

// ValidateScope checks a local RBAC scope: "/" (the whole HSM), "/keys" (every key) or "/keys/<name>" (one key).
// The leading slash is required; the data plane rejects "keys" without it.
func ValidateScope(scope string) error {
	switch {
	case scope == "/" || scope == "/keys":
		return nil
	case strings.HasPrefix(scope, "/keys/") && IsKeyName(strings.TrimPrefix(scope, "/keys/")):
		return nil
	}
	return fmt.Errorf("scope %q is not one of \"/\", \"/keys\" or \"/keys/<key name>\"", scope)
}
