package config

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const validPassword = "Str0ngPassw0rd#1"

// fixedNow anchors every date rule so the tests do not depend on the clock.
var fixedNow = time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)

// validConfig is the defaults plus the one thing they lack: a valid ADMIN password.
func validConfig() Config {
	c := Defaults()
	c.Databases[0].AdminPassword = Secret(validPassword)
	return c
}

// certificatePEM returns a self-signed certificate holding an RSA key of the given size.
func certificatePEM(t *testing.T, bits int) []byte {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: fmt.Sprintf("security-domain-rsa-%d", bits)},
		NotBefore:    fixedNow.AddDate(0, 0, -1),
		NotAfter:     fixedNow.AddDate(1, 0, 0),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// problemsOf asserts err is a Problems and returns it.
func problemsOf(t *testing.T, err error) Problems {
	t.Helper()
	require.Error(t, err)
	var probs Problems
	require.ErrorAs(t, err, &probs)
	return probs
}

type ruleCase struct {
	name   string
	mutate func(*Config)
	key    string // the problem key the rule reports under
	rule   string // a substring of the rule text, for failing rows
	wantOK bool
	also   []string // other keys the mutation necessarily breaks too
}

func TestValidateRules(t *testing.T) {
	dir := t.TempDir()
	good := certificatePEM(t, 2048)
	cert1 := writeFile(t, filepath.Join(dir, "holder1.pem"), good)
	cert2 := writeFile(t, filepath.Join(dir, "holder2.pem"), certificatePEM(t, 2048))
	cert3 := writeFile(t, filepath.Join(dir, "holder3.pem"), certificatePEM(t, 2048))
	cert1Again := writeFile(t, filepath.Join(dir, "holder1-again.pem"), good)
	weak := writeFile(t, filepath.Join(dir, "weak-rsa1024.pem"), certificatePEM(t, 1024))
	noPEM := writeFile(t, filepath.Join(dir, "not-a-certificate.pem"), []byte("this is not PEM\n"))
	missing := filepath.Join(dir, "does-not-exist.pem")
	withKey := writeFile(t, filepath.Join(dir, "cert-and-key.pem"),
		append(append([]byte{}, good...),
			[]byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")...))
	twoCerts := writeFile(t, filepath.Join(dir, "two-certs.pem"), append(append([]byte{}, good...), good...))

	const sdCerts = "hsm.securityDomain.certificates"
	const sdCount = "hsm.securityDomain.certificateCount"
	const pwKey = "adminPasswords.adbhsmdemo"
	guid := "6f1c2b4e-3a5d-4c7e-9f80-1a2b3c4d5e6f"

	db0 := func(f func(*Database)) func(*Config) { return func(c *Config) { f(&c.Databases[0]) } }
	password := func(pw string) func(*Config) { return db0(func(d *Database) { d.AdminPassword = Secret(pw) }) }
	twoDatabases := func(second string) func(*Config) {
		return func(c *Config) {
			d := DefaultDatabase(second)
			d.AdminPassword = Secret(validPassword)
			c.Databases = append(c.Databases, d)
		}
	}

	cases := []ruleCase{
		// --- top level
		{name: "location-empty", key: "location", rule: "must be an Azure region name",
			mutate: func(c *Config) { c.Location = "" }},
		{name: "location-blank", key: "location", rule: "must be an Azure region name",
			mutate: func(c *Config) { c.Location = "   " }},
		{name: "location-set", key: "location", wantOK: true,
			mutate: func(c *Config) { c.Location = "westeurope" }},
		{name: "resource-group-bad-chars", key: "resourceGroupName", rule: "not ending in '.'",
			mutate: func(c *Config) { c.ResourceGroupName = "rg/odaa demo" }},
		{name: "resource-group-trailing-dot", key: "resourceGroupName", rule: "not ending in '.'",
			mutate: func(c *Config) { c.ResourceGroupName = "rg-odaa." }},
		{name: "resource-group-empty", key: "resourceGroupName", rule: "1–90",
			mutate: func(c *Config) { c.ResourceGroupName = "" }},
		{name: "resource-group-91-chars", key: "resourceGroupName", rule: "1–90",
			mutate: func(c *Config) { c.ResourceGroupName = strings.Repeat("r", 91) }},
		{name: "resource-group-all-allowed-chars", key: "resourceGroupName", wantOK: true,
			mutate: func(c *Config) { c.ResourceGroupName = "rg_odaa-(demo).v2" + strings.Repeat("r", 73) }},
		{name: "tag-value-257-chars", key: "tags.env", rule: "values at most 256",
			mutate: func(c *Config) { c.Tags = map[string]string{"env": strings.Repeat("v", 257)} }},
		{name: "tag-value-256-chars", key: "tags.env", wantOK: true,
			mutate: func(c *Config) { c.Tags = map[string]string{"env": strings.Repeat("v", 256)} }},
		{name: "tag-name-empty", key: "tags.", rule: "tag names must be 1–512",
			mutate: func(c *Config) { c.Tags = map[string]string{"": "x"} }},
		{name: "tag-name-513-chars", key: "tags." + strings.Repeat("k", 513), rule: "tag names must be 1–512",
			mutate: func(c *Config) { c.Tags = map[string]string{strings.Repeat("k", 513): "x"} }},
		{name: "tag-name-forbidden-char", key: "tags.cost/center", rule: `without <>%&\?/`,
			mutate: func(c *Config) { c.Tags = map[string]string{"cost/center": "x"} }},
		{name: "tag-name-512-chars", key: "tags." + strings.Repeat("k", 512), wantOK: true,
			mutate: func(c *Config) { c.Tags = map[string]string{strings.Repeat("k", 512): "x"} }},

		// --- network
		{name: "vnet-name-bad-chars", key: "network.vnetName", rule: "letters, digits, '-', '_' or '.'",
			mutate: func(c *Config) { c.Network.VnetName = "vnet odaa!" }},
		{name: "vnet-name-empty", key: "network.vnetName", rule: "letters, digits, '-', '_' or '.'",
			mutate: func(c *Config) { c.Network.VnetName = "" }},
		{name: "vnet-name-valid", key: "network.vnetName", wantOK: true,
			mutate: func(c *Config) { c.Network.VnetName = "vnet_odaa-hsm.2" }},
		{name: "vnet-name-parentheses", key: "network.vnetName", rule: "letters, digits, '-', '_' or '.'",
			mutate: func(c *Config) { c.Network.VnetName = "vnet(odaa)" }},
		{name: "vnet-name-81-chars", key: "network.vnetName", rule: "1–80",
			mutate: func(c *Config) { c.Network.VnetName = strings.Repeat("v", 81) }},
		{name: "delegated-subnet-name-bad", key: "network.delegatedSubnetName", rule: "letters, digits",
			mutate: func(c *Config) { c.Network.DelegatedSubnetName = "subnet oracle" }},
		{name: "private-endpoint-subnet-name-bad", key: "network.privateEndpointSubnetName", rule: "letters, digits",
			mutate: func(c *Config) { c.Network.PrivateEndpointSubnetName = "" }},
		{name: "address-space-not-cidr", key: "network.addressSpace", rule: "must be an IPv4 CIDR",
			mutate: func(c *Config) { c.Network.AddressSpace = "10.0.0.0" }},
		{name: "address-space-ipv6", key: "network.addressSpace", rule: "must be an IPv4 CIDR",
			mutate: func(c *Config) { c.Network.AddressSpace = "fd00::/8" }},
		{name: "address-space-host-bits-set", key: "network.addressSpace",
			rule:   `"10.0.1.5/24" has host bits set; the network address is 10.0.1.0/24`,
			mutate: func(c *Config) { c.Network.AddressSpace = "10.0.1.5/24" }},
		{name: "address-space-larger", key: "network.addressSpace", wantOK: true,
			mutate: func(c *Config) { c.Network.AddressSpace = "10.0.0.0/8" }},
		{name: "delegated-subnet-not-cidr", key: "network.delegatedSubnetPrefix", rule: "must be an IPv4 CIDR",
			mutate: func(c *Config) { c.Network.DelegatedSubnetPrefix = "subnet" }},
		{name: "delegated-subnet-host-bits-set", key: "network.delegatedSubnetPrefix", rule: "has host bits set",
			mutate: func(c *Config) { c.Network.DelegatedSubnetPrefix = "10.0.1.7/27" }},
		// Field case: a /28 is rejected by the service, but only after a long wait.
		{name: "delegated-subnet-slash-28", key: "network.delegatedSubnetPrefix",
			rule:   "must be a /27 or larger for Autonomous Database, not /28",
			mutate: func(c *Config) { c.Network.DelegatedSubnetPrefix = "10.0.1.0/28" }},
		{name: "delegated-subnet-slash-27", key: "network.delegatedSubnetPrefix", wantOK: true,
			mutate: func(c *Config) { c.Network.DelegatedSubnetPrefix = "10.0.1.0/27" }},
		{name: "delegated-subnet-outside-vnet", key: "network.delegatedSubnetPrefix",
			rule:   "10.1.1.0/24 must lie inside the VNet 10.0.0.0/16",
			mutate: func(c *Config) { c.Network.DelegatedSubnetPrefix = "10.1.1.0/24" }},
		// A supernet of the VNet necessarily overlaps the private endpoint subnet as well.
		{name: "delegated-subnet-larger-than-vnet", key: "network.delegatedSubnetPrefix",
			rule: "must lie inside the VNet", also: []string{"network.privateEndpointSubnetPrefix"},
			mutate: func(c *Config) { c.Network.DelegatedSubnetPrefix = "10.0.0.0/15" }},
		{name: "private-endpoint-subnet-not-cidr", key: "network.privateEndpointSubnetPrefix",
			rule:   "must be an IPv4 CIDR",
			mutate: func(c *Config) { c.Network.PrivateEndpointSubnetPrefix = "10.0.2.0/33" }},
		{name: "private-endpoint-subnet-slash-30", key: "network.privateEndpointSubnetPrefix",
			rule:   "must be a /29 or larger, not /30",
			mutate: func(c *Config) { c.Network.PrivateEndpointSubnetPrefix = "10.0.2.0/30" }},
		{name: "private-endpoint-subnet-slash-29", key: "network.privateEndpointSubnetPrefix", wantOK: true,
			mutate: func(c *Config) { c.Network.PrivateEndpointSubnetPrefix = "10.0.2.0/29" }},
		{name: "private-endpoint-subnet-outside-vnet", key: "network.privateEndpointSubnetPrefix",
			rule:   "192.168.0.0/24 must lie inside the VNet 10.0.0.0/16",
			mutate: func(c *Config) { c.Network.PrivateEndpointSubnetPrefix = "192.168.0.0/24" }},
		{name: "private-endpoint-subnet-overlaps-delegated", key: "network.privateEndpointSubnetPrefix",
			rule:   "10.0.1.128/29 must not overlap the delegated subnet 10.0.1.0/24",
			mutate: func(c *Config) { c.Network.PrivateEndpointSubnetPrefix = "10.0.1.128/29" }},
		{name: "private-endpoint-subnet-adjacent-to-delegated", key: "network.privateEndpointSubnetPrefix",
			wantOK: true,
			mutate: func(c *Config) { c.Network.PrivateEndpointSubnetPrefix = "10.0.0.248/29" }},
		{name: "delegation-singular", key: "network.delegation",
			rule:   `must be exactly "Oracle.Database/networkAttachments", not "Oracle.Database/networkAttachment"`,
			mutate: func(c *Config) { c.Network.Delegation = "Oracle.Database/networkAttachment" }},
		{name: "delegation-plural-exact", key: "network.delegation", wantOK: true,
			mutate: func(c *Config) { c.Network.Delegation = "Oracle.Database/networkAttachments" }},

		// --- hsm naming
		// Teardown keys: one pass and one failure per rule.
		{name: "allow-delete-unprotected", key: "hsm.allowDelete", wantOK: true,
			mutate: func(c *Config) { c.Hsm.AllowDelete, c.Hsm.Protect = true, false }},
		{name: "allow-delete-while-protected", key: "hsm.allowDelete", rule: "needs hsm.protect false",
			mutate: func(c *Config) { c.Hsm.AllowDelete = true }},
		{name: "purge-on-delete-with-delete-allowed", key: "hsm.purgeOnDelete", wantOK: true,
			mutate: func(c *Config) {
				c.Hsm.PurgeOnDelete, c.Hsm.AllowDelete, c.Hsm.Protect, c.Hsm.PurgeProtection = true, true, false, false
			}},
		{name: "purge-on-delete-of-a-retained-hsm", key: "hsm.purgeOnDelete", rule: "needs hsm.allowDelete true",
			mutate: func(c *Config) { c.Hsm.PurgeOnDelete, c.Hsm.PurgeProtection = true, false }},
		{name: "purge-on-delete-with-purge-protection", key: "hsm.purgeOnDelete",
			rule:   "cannot be true with hsm.purgeProtection true",
			mutate: func(c *Config) { c.Hsm.PurgeOnDelete, c.Hsm.AllowDelete, c.Hsm.Protect = true, true, false }},
		{name: "hsm-name-too-short", key: "hsm.name", rule: "must be 3–24 letters",
			mutate: func(c *Config) { c.Hsm.Name = "hs" }},
		{name: "hsm-name-25-chars", key: "hsm.name", rule: "must be 3–24 letters",
			mutate: func(c *Config) { c.Hsm.Name = "h" + strings.Repeat("s", 24) }},
		{name: "hsm-name-double-hyphen", key: "hsm.name", rule: "single hyphens",
			mutate: func(c *Config) { c.Hsm.Name = "hsm--odaa" }},
		{name: "hsm-name-ending-hyphen", key: "hsm.name", rule: "ending with a letter or digit",
			mutate: func(c *Config) { c.Hsm.Name = "hsm-odaa-" }},
		{name: "hsm-name-starting-digit", key: "hsm.name", rule: "starting with a letter",
			mutate: func(c *Config) { c.Hsm.Name = "1hsm-odaa" }},
		{name: "hsm-name-valid-24-chars", key: "hsm.name", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Name = "hsm-odaa-prod-" + strings.Repeat("a", 9) + "1" }},
		{name: "hsm-name-valid-3-chars", key: "hsm.name", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Name = "h-1" }},
		{name: "hsm-name-set-ignores-bad-prefix", key: "hsm.namePrefix", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Name = "hsm-odaa"; c.Hsm.NamePrefix = "" }},
		{name: "name-prefix-18-chars", key: "hsm.namePrefix", rule: "must be 1–17 letters",
			mutate: func(c *Config) { c.Hsm.NamePrefix = "h" + strings.Repeat("p", 17) }},
		{name: "name-prefix-17-chars", key: "hsm.namePrefix", wantOK: true,
			mutate: func(c *Config) { c.Hsm.NamePrefix = "h" + strings.Repeat("p", 16) }},
		{name: "name-prefix-empty", key: "hsm.namePrefix", rule: "leaving room for the 6-character suffix",
			mutate: func(c *Config) { c.Hsm.NamePrefix = "" }},
		{name: "name-prefix-double-hyphen", key: "hsm.namePrefix", rule: "single hyphens",
			mutate: func(c *Config) { c.Hsm.NamePrefix = "hsm--odaa" }},
		{name: "name-prefix-ending-hyphen", key: "hsm.namePrefix", rule: "single hyphens",
			mutate: func(c *Config) { c.Hsm.NamePrefix = "hsm-odaa-" }},

		// --- hsm settings
		{name: "sku-unknown", key: "hsm.sku", rule: "must be one of Standard_B1, Custom_B6, Custom_B32",
			mutate: func(c *Config) { c.Hsm.Sku = "Premium" }},
		{name: "sku-custom-b32", key: "hsm.sku", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Sku = "Custom_B32" }},
		{name: "retention-6", key: "hsm.softDeleteRetentionDays", rule: "must be 7–90 days, not 6",
			mutate: func(c *Config) { c.Hsm.SoftDeleteRetentionDays = 6 }},
		{name: "retention-7", key: "hsm.softDeleteRetentionDays", wantOK: true,
			mutate: func(c *Config) { c.Hsm.SoftDeleteRetentionDays = 7 }},
		{name: "retention-90", key: "hsm.softDeleteRetentionDays", wantOK: true,
			mutate: func(c *Config) { c.Hsm.SoftDeleteRetentionDays = 90 }},
		{name: "retention-91", key: "hsm.softDeleteRetentionDays", rule: "must be 7–90 days, not 91",
			mutate: func(c *Config) { c.Hsm.SoftDeleteRetentionDays = 91 }},
		{name: "administrator-not-guid", key: "hsm.administrators[1]", rule: "must be an Entra object ID (a GUID)",
			mutate: func(c *Config) { c.Hsm.Administrators = []string{guid, "alice@example.com"} }},
		{name: "administrators-guids", key: "hsm.administrators[0]", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Administrators = []string{guid, strings.ToUpper(guid)} }},
		{name: "deployer-object-id-not-guid", key: "hsm.deployerObjectId", rule: "must be an Entra object ID",
			mutate: func(c *Config) { c.Hsm.DeployerObjectID = "6f1c2b4e3a5d4c7e9f801a2b3c4d5e6f" }},
		{name: "deployer-object-id-guid", key: "hsm.deployerObjectId", wantOK: true,
			mutate: func(c *Config) { c.Hsm.DeployerObjectID = guid }},
		{name: "deployer-role-unknown-name", key: "hsm.deployerRole",
			rule:   `unknown Managed HSM role "Crypto Officer"`,
			mutate: func(c *Config) { c.Hsm.DeployerRole = "Crypto Officer" }},
		{name: "deployer-role-guid", key: "hsm.deployerRole", wantOK: true,
			mutate: func(c *Config) { c.Hsm.DeployerRole = guid }},
		{name: "deployer-role-creates-keys", key: "hsm.deployerRole", wantOK: true,
			mutate: func(c *Config) { c.Hsm.DeployerRole = "Managed HSM Crypto User" }},
		{name: "deployer-role-crypto-officer-cannot-create-keys", key: "hsm.deployerRole",
			rule:   "Managed HSM Crypto Officer cannot create keys",
			mutate: func(c *Config) { c.Hsm.DeployerRole = "Managed HSM Crypto Officer" }},
		{name: "deployer-role-administrator-guid-cannot-create-keys", key: "hsm.deployerRole",
			rule:   "cannot create keys",
			mutate: func(c *Config) { c.Hsm.DeployerRole = "a290e904-7015-4bba-90c8-60543313cdb4" }},
		{name: "deployer-role-scope-no-slash", key: "hsm.deployerRoleScope", rule: `scope "keys" is not one of`,
			mutate: func(c *Config) { c.Hsm.DeployerRoleScope = "keys" }},
		{name: "deployer-role-scope-root", key: "hsm.deployerRoleScope", wantOK: true,
			mutate: func(c *Config) { c.Hsm.DeployerRoleScope = "/" }},
		{name: "deployer-role-scope-keys", key: "hsm.deployerRoleScope", wantOK: true,
			mutate: func(c *Config) { c.Hsm.DeployerRoleScope = "/keys" }},
		{name: "deployer-role-scope-one-key", key: "hsm.deployerRoleScope", wantOK: true,
			mutate: func(c *Config) { c.Hsm.DeployerRoleScope = "/keys/odaa-hsm-encryption-key" }},
		{name: "deployer-role-scope-bad-key-name", key: "hsm.deployerRoleScope",
			rule:   `scope "/keys/bad_name" is not one of`,
			mutate: func(c *Config) { c.Hsm.DeployerRoleScope = "/keys/bad_name" }},
		{name: "dns-suffix-ip-address", key: "hsm.dnsSuffix", rule: "must be a host name, not the IP address 10.1.2.3",
			mutate: func(c *Config) { c.Hsm.DNSSuffix = "10.1.2.3" }},
		{name: "dns-suffix-single-label", key: "hsm.dnsSuffix", rule: "must be a fully qualified lower-case host name",
			mutate: func(c *Config) { c.Hsm.DNSSuffix = "managedhsm" }},
		{name: "dns-suffix-upper-case", key: "hsm.dnsSuffix", rule: "must be a fully qualified lower-case host name",
			mutate: func(c *Config) { c.Hsm.DNSSuffix = "ManagedHSM.azure.net" }},
		{name: "dns-suffix-sovereign-cloud", key: "hsm.dnsSuffix", wantOK: true,
			mutate: func(c *Config) { c.Hsm.DNSSuffix = "managedhsm.usgovcloudapi.net" }},

		// --- security domain
		{name: "certificate-count-2", key: sdCount, rule: "needs 3–10 certificates, not 2",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.CertificateCount = 2 }},
		{name: "certificate-count-3", key: sdCount, wantOK: true,
			mutate: func(c *Config) { c.Hsm.SecurityDomain.CertificateCount = 3 }},
		{name: "certificate-count-10", key: sdCount, wantOK: true,
			mutate: func(c *Config) { c.Hsm.SecurityDomain.CertificateCount = 10 }},
		{name: "certificate-count-11", key: sdCount, rule: "needs 3–10 certificates, not 11",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.CertificateCount = 11 }},
		{name: "quorum-1", key: "hsm.securityDomain.quorum", rule: "must be from 2 to the certificate count (3), not 1",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Quorum = 1 }},
		{name: "quorum-above-count", key: "hsm.securityDomain.quorum",
			rule:   "must be from 2 to the certificate count (5), not 6",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.CertificateCount = 5; c.Hsm.SecurityDomain.Quorum = 6 }},
		{name: "quorum-equals-count", key: "hsm.securityDomain.quorum", wantOK: true,
			mutate: func(c *Config) { c.Hsm.SecurityDomain.CertificateCount = 5; c.Hsm.SecurityDomain.Quorum = 5 }},
		{name: "certificate-file-missing", key: sdCerts + "[2]", rule: "cannot read certificate",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2, missing} }},
		{name: "certificate-file-without-pem", key: sdCerts + "[0]", rule: "holds no PEM CERTIFICATE block",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{noPEM, cert2, cert3} }},
		{name: "certificate-file-with-private-key", key: sdCerts + "[0]", rule: "holds a private key",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{withKey, cert2, cert3} }},
		{name: "certificate-file-with-two-certificates", key: sdCerts + "[2]", rule: "more than one certificate",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2, twoCerts} }},
		{name: "certificate-files-one-holder-twice", key: sdCerts + "[2]",
			rule:   "carries the same public key as certificates[0]",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2, cert1Again} }},
		{name: "location-with-capitals", key: "location", rule: "lower-case",
			mutate: func(c *Config) { c.Location = "East US" }},
		{name: "certificate-file-rsa-1024", key: sdCerts + "[1]", rule: "must hold an RSA key of at least 2048 bits",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{cert1, weak, cert3} }},
		{name: "certificate-files-three-valid", key: sdCerts, wantOK: true,
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2, cert3} }},
		// With files the count is the number of files (3), whatever certificateCount says.
		{name: "certificate-files-count-is-three", key: "hsm.securityDomain.quorum", wantOK: true,
			mutate: func(c *Config) {
				c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2, cert3}
				c.Hsm.SecurityDomain.CertificateCount = 10
				c.Hsm.SecurityDomain.Quorum = 3
			}},
		{name: "certificate-files-quorum-above-three", key: "hsm.securityDomain.quorum",
			rule: "must be from 2 to the certificate count (3), not 4",
			mutate: func(c *Config) {
				c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2, cert3}
				c.Hsm.SecurityDomain.CertificateCount = 10
				c.Hsm.SecurityDomain.Quorum = 4
			}},
		{name: "certificate-files-two", key: sdCerts, rule: "needs 3–10 certificates, not 2",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2} }},
		{name: "key-directory-empty-generated-keys", key: "hsm.securityDomain.keyDirectory",
			rule:   "must name a directory for the generated private keys",
			mutate: func(c *Config) { c.Hsm.SecurityDomain.KeyDirectory = " " }},
		{name: "key-directory-empty-with-files", key: "hsm.securityDomain.keyDirectory", wantOK: true,
			mutate: func(c *Config) {
				c.Hsm.SecurityDomain.KeyDirectory = ""
				c.Hsm.SecurityDomain.Certificates = []string{cert1, cert2, cert3}
			}},

		// --- hsm key
		{name: "key-name-invalid", key: "hsm.key.name", rule: "must be 1–127 letters, digits and hyphens",
			mutate: func(c *Config) { c.Hsm.Key.Name = "tde_key" }},
		{name: "key-name-valid", key: "hsm.key.name", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Key.Name = "TDE-key-2" }},
		{name: "key-type-ec-hsm", key: "hsm.key.type", rule: `must be RSA-HSM`,
			mutate: func(c *Config) { c.Hsm.Key.Type = "EC-HSM" }},
		{name: "key-size-4096", key: "hsm.key.size", rule: "must be 2048: Autonomous Database accepts RSA 2048",
			mutate: func(c *Config) { c.Hsm.Key.Size = 4096 }},
		{name: "key-size-2048", key: "hsm.key.size", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Key.Size = 2048 }},
		{name: "key-operations-unknown-op", key: "hsm.key.operations", rule: `"purge" is not one of encrypt`,
			mutate: func(c *Config) { c.Hsm.Key.Operations = append(c.Hsm.Key.Operations, "purge") }},
		{name: "key-operations-missing-unwrap-key", key: "hsm.key.operations", rule: "must include unwrapKey",
			mutate: func(c *Config) { c.Hsm.Key.Operations = []string{"encrypt", "decrypt", "wrapKey"} }},
		{name: "key-operations-missing-wrap-key", key: "hsm.key.operations", rule: "must include wrapKey",
			mutate: func(c *Config) { c.Hsm.Key.Operations = []string{"unwrapKey"} }},
		{name: "key-operations-wrap-only", key: "hsm.key.operations", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Key.Operations = []string{"wrapKey", "unwrapKey", "sign", "verify"} }},

		// --- service principal
		{name: "sp-display-name-empty", key: "servicePrincipal.displayName", rule: "must be 1–120 characters",
			mutate: func(c *Config) { c.ServicePrincipal.DisplayName = "" }},
		{name: "sp-display-name-121-chars", key: "servicePrincipal.displayName", rule: "must be 1–120 characters",
			mutate: func(c *Config) { c.ServicePrincipal.DisplayName = strings.Repeat("s", 121) }},
		{name: "sp-display-name-120-chars", key: "servicePrincipal.displayName", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.DisplayName = strings.Repeat("s", 120) }},
		{name: "sp-role-unknown", key: "servicePrincipal.role", rule: `unknown Managed HSM role "Crypto User"`,
			mutate: func(c *Config) { c.ServicePrincipal.Role = "Crypto User" }},
		{name: "sp-role-known", key: "servicePrincipal.role", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.Role = "Managed HSM Crypto Officer" }},
		{name: "sp-scope-bad", key: "servicePrincipal.scope", rule: `scope "/secrets" is not one of`,
			mutate: func(c *Config) { c.ServicePrincipal.Scope = "/secrets" }},
		{name: "sp-scope-one-key", key: "servicePrincipal.scope", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.Scope = "/keys/odaa-hsm-encryption-key" }},
		{name: "sp-secret-end-date-not-rfc3339", key: "servicePrincipal.secretEndDate",
			rule: "must be an RFC 3339 time",
			mutate: func(c *Config) {
				c.ServicePrincipal.SecretEndDate = "2027-03-01"
				c.ServicePrincipal.SecretRotationDays = 0
			}},
		{name: "sp-secret-end-date-in-past", key: "servicePrincipal.secretEndDate",
			rule: "2026-12-02T00:00:00Z is in the past",
			mutate: func(c *Config) {
				c.ServicePrincipal.SecretEndDate = "2026-12-02T00:00:00Z"
				c.ServicePrincipal.SecretRotationDays = 0
			}},
		{name: "sp-secret-end-date-now", key: "servicePrincipal.secretEndDate", rule: "is in the past",
			mutate: func(c *Config) {
				c.ServicePrincipal.SecretEndDate = "2026-12-03T00:00:00Z"
				c.ServicePrincipal.SecretRotationDays = 0
			}},
		{name: "sp-secret-end-date-over-two-years", key: "servicePrincipal.secretEndDate",
			rule: "must be at most two years ahead",
			mutate: func(c *Config) {
				c.ServicePrincipal.SecretEndDate = "2028-12-03T00:00:01Z"
				c.ServicePrincipal.SecretRotationDays = 0
			}},
		{name: "sp-secret-end-date-exactly-two-years", key: "servicePrincipal.secretEndDate", wantOK: true,
			mutate: func(c *Config) {
				c.ServicePrincipal.SecretEndDate = "2028-12-03T00:00:00Z"
				c.ServicePrincipal.SecretRotationDays = 0
			}},
		{name: "sp-secret-end-date-valid", key: "servicePrincipal.secretEndDate", wantOK: true,
			mutate: func(c *Config) {
				c.ServicePrincipal.SecretEndDate = "2027-03-01T00:00:00+01:00"
				c.ServicePrincipal.SecretRotationDays = 0
			}},
		{name: "sp-secret-lifetime-0", key: "servicePrincipal.secretLifetimeDays", rule: "must be 1–730 days, not 0",
			mutate: func(c *Config) { c.ServicePrincipal.SecretLifetimeDays = 0 }},
		{name: "sp-secret-lifetime-1", key: "servicePrincipal.secretLifetimeDays", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.SecretLifetimeDays = 1 }},
		{name: "sp-secret-lifetime-730", key: "servicePrincipal.secretLifetimeDays", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.SecretLifetimeDays = 730 }},
		{name: "sp-secret-lifetime-731", key: "servicePrincipal.secretLifetimeDays",
			rule:   "must be 1–730 days, not 731",
			mutate: func(c *Config) { c.ServicePrincipal.SecretLifetimeDays = 731 }},

		// --- servicePrincipal.secretRotationDays
		{name: "sp-rotation-off", key: "servicePrincipal.secretRotationDays", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.SecretRotationDays = 0 }},
		{name: "sp-rotation-6-days", key: "servicePrincipal.secretRotationDays", rule: "7–365 days, not 6",
			mutate: func(c *Config) { c.ServicePrincipal.SecretRotationDays = 6 }},
		{name: "sp-rotation-7-days", key: "servicePrincipal.secretRotationDays", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.SecretRotationDays = 7 }},
		{name: "sp-rotation-365-days", key: "servicePrincipal.secretRotationDays", wantOK: true,
			mutate: func(c *Config) { c.ServicePrincipal.SecretRotationDays = 365 }},
		{name: "sp-rotation-366-days", key: "servicePrincipal.secretRotationDays", rule: "7–365 days, not 366",
			mutate: func(c *Config) { c.ServicePrincipal.SecretRotationDays = 366 }},
		{name: "sp-rotation-with-end-date", key: "servicePrincipal.secretEndDate",
			rule:   "must be empty when secretRotationDays is set",
			mutate: func(c *Config) { c.ServicePrincipal.SecretEndDate = "2027-03-01T00:00:00Z" }},

		// --- hsm.key.rotation
		{name: "key-rotation-expiry-not-iso", key: "hsm.key.rotation.expiryTime", rule: "is not an ISO 8601 duration",
			mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "90 days" }},
		{name: "key-rotation-expiry-bare-p", key: "hsm.key.rotation.expiryTime", rule: "is not an ISO 8601 duration",
			mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "P" }},
		{name: "key-rotation-expiry-dangling-t", key: "hsm.key.rotation.expiryTime",
			rule: "is not an ISO 8601 duration", mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "P30DT" }},
		{name: "key-rotation-expiry-27-days", key: "hsm.key.rotation.expiryTime", rule: "at least 28 days",
			mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "P27D" }},
		{name: "key-rotation-expiry-671-hours", key: "hsm.key.rotation.expiryTime", rule: "at least 28 days",
			mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "PT671H" }},
		{name: "key-rotation-expiry-28-days", key: "hsm.key.rotation.expiryTime", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "P28D" }},
		{name: "key-rotation-expiry-4-weeks", key: "hsm.key.rotation.expiryTime", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "P4W" }},
		{name: "key-rotation-expiry-one-year", key: "hsm.key.rotation.expiryTime", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Key.Rotation.ExpiryTime = "P1Y" }},
		{name: "key-rotation-after-create-6-days", key: "hsm.key.rotation.rotateAfterCreate", rule: "at least 7 days",
			mutate: func(c *Config) { c.Hsm.Key.Rotation.RotateAfterCreate = "P6D" }},
		{name: "key-rotation-after-create-7-days", key: "hsm.key.rotation.rotateAfterCreate", wantOK: true,
			mutate: func(c *Config) { c.Hsm.Key.Rotation.RotateAfterCreate = "P7D" }},
		{name: "key-rotation-after-create-too-close-to-expiry", key: "hsm.key.rotation.rotateAfterCreate",
			rule: "must come at least 7 days before expiry",
			mutate: func(c *Config) {
				c.Hsm.Key.Rotation.ExpiryTime, c.Hsm.Key.Rotation.RotateAfterCreate = "P28D", "P22D"
			}},
		{name: "key-rotation-after-create-7-days-before-expiry", key: "hsm.key.rotation.rotateAfterCreate",
			wantOK: true, mutate: func(c *Config) {
				c.Hsm.Key.Rotation.ExpiryTime, c.Hsm.Key.Rotation.RotateAfterCreate = "P28D", "P21D"
			}},
		{name: "key-rotation-before-expiry-without-expiry", key: "hsm.key.rotation.rotateBeforeExpiry",
			rule: "needs expiryTime", mutate: func(c *Config) { c.Hsm.Key.Rotation.RotateBeforeExpiry = "P30D" }},
		{name: "key-rotation-before-expiry-6-days", key: "hsm.key.rotation.rotateBeforeExpiry",
			rule: "at least 7 days", mutate: func(c *Config) {
				c.Hsm.Key.Rotation.ExpiryTime, c.Hsm.Key.Rotation.RotateBeforeExpiry = "P90D", "P6D"
			}},
		{name: "key-rotation-before-expiry-too-early", key: "hsm.key.rotation.rotateBeforeExpiry",
			rule: "must leave at least 7 days after creation", mutate: func(c *Config) {
				c.Hsm.Key.Rotation.ExpiryTime, c.Hsm.Key.Rotation.RotateBeforeExpiry = "P28D", "P22D"
			}},
		{name: "key-rotation-before-expiry-valid", key: "hsm.key.rotation.rotateBeforeExpiry", wantOK: true,
			mutate: func(c *Config) {
				c.Hsm.Key.Rotation.ExpiryTime, c.Hsm.Key.Rotation.RotateBeforeExpiry = "P90D", "P30D"
			}},
		{name: "key-rotation-both-triggers", key: "hsm.key.rotation.rotateBeforeExpiry", rule: "not both",
			mutate: func(c *Config) {
				r := &c.Hsm.Key.Rotation
				r.ExpiryTime, r.RotateAfterCreate, r.RotateBeforeExpiry = "P90D", "P30D", "P30D"
			}},

		// --- audit
		{name: "audit-retention-29", key: "audit.retentionDays", rule: "must be 30–730 days, not 29",
			mutate: func(c *Config) { c.Audit.RetentionDays = 29 }},
		{name: "audit-retention-30", key: "audit.retentionDays", wantOK: true,
			mutate: func(c *Config) { c.Audit.RetentionDays = 30 }},
		{name: "audit-retention-730", key: "audit.retentionDays", wantOK: true,
			mutate: func(c *Config) { c.Audit.RetentionDays = 730 }},
		{name: "audit-retention-731", key: "audit.retentionDays", rule: "must be 30–730 days, not 731",
			mutate: func(c *Config) { c.Audit.RetentionDays = 731 }},
		{name: "audit-disabled-ignores-settings", key: "audit.retentionDays", wantOK: true,
			mutate: func(c *Config) { c.Audit.Enabled, c.Audit.RetentionDays = false, 1 }},
		{name: "audit-email-not-an-address", key: "audit.alertEmails[1]", rule: "must be a bare e-mail address",
			mutate: func(c *Config) { c.Audit.AlertEmails = []string{"secops@contoso.com", "secops"} }},
		{name: "audit-email-with-display-name", key: "audit.alertEmails[0]", rule: "must be a bare e-mail address",
			mutate: func(c *Config) { c.Audit.AlertEmails = []string{"SecOps <secops@contoso.com>"} }},
		{name: "audit-emails-valid", key: "audit.alertEmails[0]", wantOK: true,
			mutate: func(c *Config) { c.Audit.AlertEmails = []string{"secops@contoso.com", "dba.oncall@contoso.io"} }},
		{name: "audit-action-group-not-an-id", key: "audit.actionGroupId", rule: "must be an action group's ARM ID",
			mutate: func(c *Config) { c.Audit.ActionGroupID = "ag-secops" }},
		{name: "audit-action-group-other-type", key: "audit.actionGroupId", rule: "must be an action group's ARM ID",
			mutate: func(c *Config) {
				c.Audit.ActionGroupID = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ops" +
					"/providers/Microsoft.Insights/scheduledQueryRules/ag-secops"
			}},
		{name: "audit-action-group-valid", key: "audit.actionGroupId", wantOK: true,
			mutate: func(c *Config) {
				c.Audit.ActionGroupID = "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-ops" +
					"/providers/microsoft.insights/actionGroups/ag-secops"
			}},
		{name: "audit-threshold-0", key: "audit.failureThreshold", rule: "must be 1–10000 failed operations, not 0",
			mutate: func(c *Config) { c.Audit.FailureThreshold = 0 }},
		{name: "audit-threshold-1", key: "audit.failureThreshold", wantOK: true,
			mutate: func(c *Config) { c.Audit.FailureThreshold = 1 }},
		{name: "audit-threshold-10001", key: "audit.failureThreshold", rule: "not 10001",
			mutate: func(c *Config) { c.Audit.FailureThreshold = 10001 }},
		{name: "audit-window-7", key: "audit.failureWindowMinutes", rule: "must be one of 5, 10, 15",
			mutate: func(c *Config) { c.Audit.FailureWindowMinutes = 7 }},
		{name: "audit-window-1440", key: "audit.failureWindowMinutes", wantOK: true,
			mutate: func(c *Config) { c.Audit.FailureWindowMinutes = 1440 }},

		// --- OCI DNS
		{name: "oci-view-id-malformed", key: "ociDns.viewId", rule: "must be a DNS view OCID",
			mutate: func(c *Config) { c.OciDNS.ViewID = "ocid1.dnszone.oc1.iad.aaaabbbb" }},
		{name: "oci-view-id-valid", key: "ociDns.viewId", wantOK: true,
			mutate: func(c *Config) { c.OciDNS.ViewID = "ocid1.dnsview.oc1.iad.aaaabbbb" }},
		{name: "oci-compartment-id-malformed", key: "ociDns.compartmentId", rule: "must be a compartment or tenancy",
			mutate: func(c *Config) { c.OciDNS.CompartmentID = "compartment-prod" }},
		{name: "oci-compartment-id-valid", key: "ociDns.compartmentId", wantOK: true,
			mutate: func(c *Config) { c.OciDNS.CompartmentID = "ocid1.compartment.oc1..aaaabbbb" }},
		{name: "oci-tenancy-id-valid", key: "ociDns.compartmentId", wantOK: true,
			mutate: func(c *Config) { c.OciDNS.CompartmentID = "ocid1.tenancy.oc1..aaaabbbb" }},
		{name: "oci-ttl-29", key: "ociDns.ttl", rule: "must be 30–86400 seconds, not 29",
			mutate: func(c *Config) { c.OciDNS.TTL = 29 }},
		{name: "oci-ttl-3600", key: "ociDns.ttl", wantOK: true,
			mutate: func(c *Config) { c.OciDNS.TTL = 3600 }},
		{name: "oci-ttl-86401", key: "ociDns.ttl", rule: "must be 30–86400 seconds, not 86401",
			mutate: func(c *Config) { c.OciDNS.TTL = 86401 }},

		// --- CMEK
		{name: "cmek-route-enforce-private-endpoint", key: "cmek.routeOutboundConnections", wantOK: true,
			mutate: func(c *Config) { c.Cmek.RouteOutboundConnections = "ENFORCE_PRIVATE_ENDPOINT" }},
		{name: "cmek-route-public", key: "cmek.routeOutboundConnections",
			rule:   "must be one of PRIVATE_ENDPOINT, ENFORCE_PRIVATE_ENDPOINT",
			mutate: func(c *Config) { c.Cmek.RouteOutboundConnections = "PUBLIC" }},
		{name: "cmek-acl-principal-starts-with-digit", key: "cmek.aclPrincipal", rule: "must be a database user name",
			mutate: func(c *Config) { c.Cmek.AclPrincipal = "1abc" }},
		// Lower case is fine: the component upper-cases the principal.
		{name: "cmek-acl-principal-lower-case", key: "cmek.aclPrincipal", wantOK: true,
			mutate: func(c *Config) { c.Cmek.AclPrincipal = "admin" }},
		{name: "cmek-acl-privileges-missing-connect", key: "cmek.aclPrivileges", rule: "must include connect",
			mutate: func(c *Config) { c.Cmek.AclPrivileges = []string{"resolve", "http"} }},
		{name: "cmek-acl-privileges-unknown", key: "cmek.aclPrivileges", rule: `"smtp" is not one of connect`,
			mutate: func(c *Config) { c.Cmek.AclPrivileges = []string{"connect", "smtp"} }},
		{name: "cmek-acl-privileges-connect-only", key: "cmek.aclPrivileges", wantOK: true,
			mutate: func(c *Config) { c.Cmek.AclPrivileges = []string{"connect"} }},
		// Field case: an IP instead of the FQDN is refused by the database's host ACLs and TLS.
		{name: "cmek-login-host-ip", key: "cmek.loginHost", rule: "must be a host name, not the IP address",
			mutate: func(c *Config) { c.Cmek.LoginHost = "20.190.151.7" }},
		{name: "cmek-login-host-single-label", key: "cmek.loginHost", rule: "fully qualified",
			mutate: func(c *Config) { c.Cmek.LoginHost = "login" }},
		{name: "cmek-login-host-fqdn", key: "cmek.loginHost", wantOK: true,
			mutate: func(c *Config) { c.Cmek.LoginHost = "login.microsoftonline.us" }},
		{name: "cmek-oracle-app-role-unknown", key: "cmek.oracleAppRole", rule: "unknown Managed HSM role",
			mutate: func(c *Config) { c.Cmek.OracleAppRole = "Key Vault Crypto Service Encryption User" }},
		{name: "cmek-oracle-app-role-guid", key: "cmek.oracleAppRole", wantOK: true,
			mutate: func(c *Config) { c.Cmek.OracleAppRole = "33413926-3206-4cdd-b39a-83574fe37a17" }},

		// --- databases
		{name: "databases-empty", key: "databases", rule: "must list at least one database",
			mutate: func(c *Config) { c.Databases = []Database{} }},
		{name: "databases-two", key: "databases", wantOK: true, mutate: twoDatabases("adbhsmdemo2")},
		{name: "db-name-starts-with-digit", key: "databases[0].name",
			rule:   `"1adb" must be a letter followed by letters and digits, at most 30`,
			mutate: db0(func(d *Database) { d.Name = "1adb" })},
		{name: "db-name-31-chars", key: "databases[0].name", rule: "at most 30",
			mutate: db0(func(d *Database) { d.Name = "a" + strings.Repeat("b", 30) })},
		{name: "db-name-30-chars", key: "databases[0].name", wantOK: true,
			mutate: db0(func(d *Database) { d.Name = "a" + strings.Repeat("b", 29) })},
		{name: "db-name-underscore", key: "databases[0].name", rule: "must be a letter followed by letters and digits",
			mutate: db0(func(d *Database) { d.Name = "adb_hsm" })},
		{name: "db-name-duplicate-case-insensitive", key: "databases[1].name", rule: `"ADBHSMDEMO" is listed twice`,
			mutate: twoDatabases("ADBHSMDEMO")},
		{name: "db-display-name-256-chars", key: "databases[0].displayName", rule: "must be at most 255 characters",
			mutate: db0(func(d *Database) { d.DisplayName = strings.Repeat("d", 256) })},
		{name: "db-display-name-255-chars", key: "databases[0].displayName", wantOK: true,
			mutate: db0(func(d *Database) { d.DisplayName = strings.Repeat("d", 255) })},
		{name: "db-workload-olap", key: "databases[0].workload", rule: "must be one of OLTP, DW, AJD, APEX",
			mutate: db0(func(d *Database) { d.Workload = "OLAP" })},
		{name: "db-workload-oltp", key: "databases[0].workload", wantOK: true,
			mutate: db0(func(d *Database) { d.Workload = "OLTP" })},
		{name: "db-workload-dw", key: "databases[0].workload", wantOK: true,
			mutate: db0(func(d *Database) { d.Workload = "DW" })},
		{name: "db-workload-ajd", key: "databases[0].workload", wantOK: true,
			mutate: db0(func(d *Database) { d.Workload = "AJD" })},
		{name: "db-workload-apex", key: "databases[0].workload", wantOK: true,
			mutate: db0(func(d *Database) { d.Workload = "APEX" })},
		{name: "db-compute-count-1", key: "databases[0].computeCount",
			rule:   "whole number of ECPUs from 2 to 512, not 1",
			mutate: db0(func(d *Database) { d.ComputeCount = 1 })},
		{name: "db-compute-count-1.5", key: "databases[0].computeCount", rule: "whole number of ECPUs",
			mutate: db0(func(d *Database) { d.ComputeCount = 1.5 })},
		{name: "db-compute-count-2.5", key: "databases[0].computeCount", rule: "not 2.5",
			mutate: db0(func(d *Database) { d.ComputeCount = 2.5 })},
		{name: "db-compute-count-2", key: "databases[0].computeCount", wantOK: true,
			mutate: db0(func(d *Database) { d.ComputeCount = 2 })},
		{name: "db-compute-count-512", key: "databases[0].computeCount", wantOK: true,
			mutate: db0(func(d *Database) { d.ComputeCount = 512 })},
		{name: "db-compute-count-513", key: "databases[0].computeCount", rule: "not 513",
			mutate: db0(func(d *Database) { d.ComputeCount = 513 })},
		{name: "db-storage-0", key: "databases[0].storageTbs", rule: "must be 1–384 TB, not 0",
			mutate: db0(func(d *Database) { d.StorageTbs = 0 })},
		{name: "db-storage-384", key: "databases[0].storageTbs", wantOK: true,
			mutate: db0(func(d *Database) { d.StorageTbs = 384 })},
		{name: "db-storage-385", key: "databases[0].storageTbs", rule: "must be 1–384 TB, not 385",
			mutate: db0(func(d *Database) { d.StorageTbs = 385 })},
		{name: "db-version-empty", key: "databases[0].dbVersion", rule: "must name an Oracle Database version",
			mutate: db0(func(d *Database) { d.DBVersion = "" })},
		{name: "db-version-23ai", key: "databases[0].dbVersion", wantOK: true,
			mutate: db0(func(d *Database) { d.DBVersion = "23ai" })},
		{name: "db-access-public", key: "databases[0].access", rule: "must be privateVnetOnly",
			mutate: db0(func(d *Database) { d.Access = "public" })},
		{name: "db-license-model-bad", key: "databases[0].licenseModel",
			rule:   "must be one of LicenseIncluded, BringYourOwnLicense",
			mutate: db0(func(d *Database) { d.LicenseModel = "BYOL" })},
		{name: "db-license-model-byol", key: "databases[0].licenseModel", wantOK: true,
			mutate: db0(func(d *Database) { d.LicenseModel = "BringYourOwnLicense" })},
		{name: "db-mtls-without-wallet", key: "databases[0].walletDirectory",
			rule:   "is required when mtlsRequired is true",
			mutate: db0(func(d *Database) { d.MtlsRequired = true })},
		{name: "db-mtls-with-wallet", key: "databases[0].walletDirectory", wantOK: true,
			mutate: db0(func(d *Database) { d.MtlsRequired = true; d.WalletDirectory = ".secrets/wallet" })},

		// --- ADMIN password, every branch of PasswordProblems
		{name: "password-missing", key: pwKey, rule: "is required: set it with `pulumi config set --secret",
			mutate: password("")},
		{name: "password-11-chars", key: pwKey, rule: "must be 12–30 characters, not 11",
			mutate: password("Abcdefgh1#x")},
		{name: "password-12-chars", key: pwKey, wantOK: true, mutate: password("Abcdefgh1#xy")},
		{name: "password-30-chars", key: pwKey, wantOK: true, mutate: password("Abcdefgh1#" + strings.Repeat("z", 20))},
		{name: "password-31-chars", key: pwKey, rule: "must be 12–30 characters, not 31",
			mutate: password("Abcdefgh1#" + strings.Repeat("z", 21))},
		{name: "password-no-upper", key: pwKey, rule: "must contain an upper-case letter",
			mutate: password("str0ngpassw0rd#1")},
		{name: "password-no-lower", key: pwKey, rule: "must contain a lower-case letter",
			mutate: password("STR0NGPASSW0RD#1")},
		{name: "password-no-digit", key: pwKey, rule: "must contain a digit",
			mutate: password("StrongPassword#x")},
		{name: "password-double-quote", key: pwKey, rule: `must not contain a double quote (")`,
			mutate: password(`Str0ng"Passw0rd1`)},
		{name: "password-contains-admin", key: pwKey, rule: `must not contain the word "admin"`,
			mutate: password("MyAdmin0Passw0rd")},
		{name: "password-contains-admin-upper", key: pwKey, rule: `must not contain the word "admin"`,
			mutate: password("Str0ngADMINpass1")},
		{name: "password-second-database", key: "adminPasswords.reporting", rule: "is required",
			mutate: func(c *Config) { c.Databases = append(c.Databases, DefaultDatabase("reporting")) }},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig()
			tc.mutate(&cfg)
			err := cfg.Validate(fixedNow)

			if tc.wantOK {
				assert.NoError(t, err)
				return
			}
			probs := problemsOf(t, err)
			var rules []string
			for _, pr := range probs {
				if pr.Key == tc.key {
					rules = append(rules, pr.Rule)
				}
				// A mutation breaks one rule: nothing else may be reported.
				if pr.Key != tc.key {
					assert.Contains(t, tc.also, pr.Key, "unexpected extra problem: %s: %s", pr.Key, pr.Rule)
				}
			}
			require.NotEmpty(t, rules, "no problem with key %q in %v", tc.key, probs)
			assert.True(t, containsSubstring(rules, tc.rule), "no rule of %q contains %q: %q", tc.key, tc.rule, rules)
			assert.Contains(t, err.Error(), tc.key)

			// A password is never quoted back, neither in a rule nor in the error text.
			for _, db := range cfg.Databases {
				pw := db.AdminPassword.Reveal()
				if pw == "" {
					continue
				}
				for _, pr := range probs {
					assert.NotContains(t, pr.Rule, pw, "rule of %s quotes the password", pr.Key)
				}
				assert.NotContains(t, err.Error(), pw)
			}
		})
	}

	t.Run("defaults-with-password-are-valid", func(t *testing.T) {
		assert.NoError(t, validConfig().Validate(fixedNow))
	})
	t.Run("defaults-without-password-need-only-the-password", func(t *testing.T) {
		probs := problemsOf(t, Defaults().Validate(fixedNow))
		require.Len(t, probs, 1)
		assert.Equal(t, pwKey, probs[0].Key)
	})
}

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestPasswordProblems(t *testing.T) {
	t.Run("valid-password-has-none", func(t *testing.T) {
		assert.Empty(t, PasswordProblems(validPassword))
	})
	t.Run("every-broken-rule-is-listed", func(t *testing.T) {
		pw := `admin"x` // short, no upper-case letter, no digit, a quote and "admin"
		rules := PasswordProblems(pw)
		assert.Len(t, rules, 5)
		for _, r := range rules {
			assert.NotContains(t, r, pw)
		}
	})
	t.Run("length-counts-characters-not-bytes", func(t *testing.T) {
		assert.Empty(t, PasswordProblems("Pässwörd1#éüö"+strings.Repeat("x", 17))) // 30 runes, more bytes
	})
}

func TestValidateReportsAllProblemsTogether(t *testing.T) {
	cfg := validConfig()
	cfg.Location = ""
	cfg.Network.DelegatedSubnetPrefix = "10.0.1.0/28"
	cfg.Hsm.SoftDeleteRetentionDays = 91
	cfg.OciDNS.TTL = 10
	cfg.Databases[0].AdminPassword = ""

	err := cfg.Validate(fixedNow)
	probs := problemsOf(t, err)

	want := []string{
		"location", "network.delegatedSubnetPrefix", "hsm.softDeleteRetentionDays", "ociDns.ttl",
		"adminPasswords.adbhsmdemo",
	}
	var keys []string
	for _, pr := range probs {
		keys = append(keys, pr.Key)
	}
	assert.ElementsMatch(t, want, keys)

	msg := err.Error()
	assert.Contains(t, msg, "(5 problems)")
	assert.Contains(t, msg, "nothing was created")
	for _, k := range want {
		assert.Contains(t, msg, "\n  - "+k+": ")
	}
}

func TestProblemsError(t *testing.T) {
	t.Run("singular", func(t *testing.T) {
		msg := Problems{{Key: "location", Rule: "must be an Azure region name"}}.Error()
		assert.Equal(t, "invalid stack configuration (1 problem); nothing was created:\n"+
			"  - location: must be an Azure region name", msg)
	})
}

// fakeSource is a map-backed Source; keys are namespaced, as in "proj:hsm".
type fakeSource struct {
	values  map[string]string
	secrets map[string]bool
}

func (f fakeSource) Get(key string) (string, bool) {
	v, ok := f.values[key]
	return v, ok
}

func (f fakeSource) IsSecret(key string) bool { return f.secrets[key] }

func source(values map[string]string, secretKeys ...string) fakeSource {
	s := fakeSource{values: values, secrets: map[string]bool{}}
	for _, k := range secretKeys {
		s.secrets[k] = true
	}
	return s
}

func TestLoad(t *testing.T) {
	const project = "proj"

	loadProblems := func(t *testing.T, src Source) (Config, Problems) {
		t.Helper()
		cfg, err := Load(project, src)
		return cfg, problemsOf(t, err)
	}
	findProblem := func(t *testing.T, probs Problems, key string) Problem {
		t.Helper()
		for _, pr := range probs {
			if pr.Key == key {
				return pr
			}
		}
		require.Failf(t, "missing problem", "no problem with key %q in %v", key, probs)
		return Problem{}
	}

	t.Run("defaults-when-nothing-set", func(t *testing.T) {
		cfg, err := Load(project, source(nil))
		require.NoError(t, err)
		want := Defaults()
		want.Databases[0].DisplayName = "adbhsmdemo"
		assert.Equal(t, want, cfg)
	})

	t.Run("keys-are-namespaced-by-project", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"other:location":         "westeurope",
			"location":               "northeurope",
			"proj:resourceGroupName": "rg-mine",
		}))
		require.NoError(t, err)
		assert.Equal(t, "eastus", cfg.Location)
		assert.Equal(t, "rg-mine", cfg.ResourceGroupName)
	})

	t.Run("plain-strings-and-tags", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"proj:location": "westeurope",
			"proj:tags":     `{"env": "dev", "owner": "dba"}`,
		}))
		require.NoError(t, err)
		assert.Equal(t, "westeurope", cfg.Location)
		assert.Equal(t, map[string]string{"env": "dev", "owner": "dba"}, cfg.Tags)
	})

	t.Run("partial-hsm-keeps-other-defaults", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{"proj:hsm": `{"softDeleteRetentionDays": 14}`}))
		require.NoError(t, err)
		want := Defaults().Hsm
		want.SoftDeleteRetentionDays = 14
		assert.Equal(t, want, cfg.Hsm)
	})

	t.Run("partial-nested-object-keeps-nested-defaults", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"proj:hsm":     `{"securityDomain": {"quorum": 3}, "key": {"name": "tde"}}`,
			"proj:network": `{"vnetName": "vnet-x"}`,
		}))
		require.NoError(t, err)
		want := Defaults()
		want.Hsm.SecurityDomain.Quorum = 3
		want.Hsm.Key.Name = "tde"
		want.Network.VnetName = "vnet-x"
		assert.Equal(t, want.Hsm, cfg.Hsm)
		assert.Equal(t, want.Network, cfg.Network)
	})

	t.Run("audit-and-rotation-keep-other-defaults", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"proj:audit": `{"alertEmails": ["secops@contoso.com"], "failureThreshold": 2}`,
			"proj:hsm":   `{"key": {"rotation": {"expiryTime": "P1Y"}}}`,
		}))
		require.NoError(t, err)
		want := Defaults().Audit
		want.AlertEmails, want.FailureThreshold = []string{"secops@contoso.com"}, 2
		assert.Equal(t, want, cfg.Audit)
		assert.Equal(t, KeyRotation{ExpiryTime: "P1Y"}, cfg.Hsm.Key.Rotation)
		assert.True(t, cfg.Hsm.Key.Rotation.Enabled())
		assert.False(t, Defaults().Hsm.Key.Rotation.Enabled())
		assert.Equal(t, "odaa-hsm-encryption-key", cfg.Hsm.Key.Name)
	})

	t.Run("audit-unknown-field", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{"proj:audit": `{"retention": 60}`}))
		assert.Contains(t, findProblem(t, probs, "audit").Rule, "unknown field")
	})

	t.Run("every-object-key-is-decoded", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"proj:servicePrincipal": `{"secretLifetimeDays": 30}`,
			"proj:ociDns":           `{"ttl": 60}`,
			"proj:cmek":             `{"restartAfterRouting": true}`,
		}))
		require.NoError(t, err)
		assert.Equal(t, 30, cfg.ServicePrincipal.SecretLifetimeDays)
		assert.Equal(t, "sp-odaa-managedhsm", cfg.ServicePrincipal.DisplayName)
		assert.Equal(t, 60, cfg.OciDNS.TTL)
		assert.True(t, cfg.Cmek.RestartAfterRouting)
		assert.Equal(t, "PRIVATE_ENDPOINT", cfg.Cmek.RouteOutboundConnections)
	})

	t.Run("unknown-field-names-the-key", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{"proj:hsm": `{"softDeleteRetentionDay": 14}`}))
		require.Len(t, probs, 1)
		assert.Equal(t, "hsm", probs[0].Key)
		assert.Contains(t, probs[0].Rule, "softDeleteRetentionDay")
	})

	t.Run("unknown-nested-field-names-the-key", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{"proj:hsm": `{"securityDomain": {"qorum": 3}}`}))
		assert.Equal(t, "hsm", findProblem(t, probs, "hsm").Key)
	})

	t.Run("malformed-json", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{"proj:network": `{"vnetName": "vnet-x"`}))
		require.Len(t, probs, 1)
		assert.Equal(t, "network", probs[0].Key)
		assert.Contains(t, probs[0].Rule, "must be valid")
	})

	t.Run("trailing-data", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{"proj:ociDns": `{"ttl": 60} {"ttl": 90}`}))
		assert.Contains(t, findProblem(t, probs, "ociDns").Rule, "trailing data")
	})

	t.Run("wrong-type", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{"proj:cmek": `{"aclPrivileges": "connect"}`}))
		assert.Contains(t, findProblem(t, probs, "cmek").Rule, "must be valid")
	})

	t.Run("problems-from-several-keys-together", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{
			"proj:tags": `[]`, "proj:servicePrincipal": `{`, "proj:databases": `{}`,
		}))
		var keys []string
		for _, pr := range probs {
			keys = append(keys, pr.Key)
		}
		assert.ElementsMatch(t, []string{"tags", "servicePrincipal", "databases"}, keys)
	})

	t.Run("databases-get-per-item-defaults", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"proj:databases": `[{"name": "sales", "displayName": "Sales DB", "workload": "DW", "computeCount": 4},` +
				` {"name": "hr"}]`,
		}))
		require.NoError(t, err)
		require.Len(t, cfg.Databases, 2)

		sales := DefaultDatabase("sales")
		sales.DisplayName = "Sales DB"
		sales.Workload = "DW"
		sales.ComputeCount = 4
		assert.Equal(t, sales, cfg.Databases[0])

		hr := DefaultDatabase("hr")
		hr.DisplayName = "hr"
		assert.Equal(t, hr, cfg.Databases[1])
	})

	t.Run("databases-not-a-list", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{"proj:databases": `{"name": "sales"}`}))
		assert.Contains(t, findProblem(t, probs, "databases").Rule, "must be a list of database objects")
	})

	t.Run("database-item-unknown-field", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{
			"proj:databases": `[{"name": "sales"}, {"name": "hr", "cpus": 4}]`,
		}))
		require.Len(t, probs, 1)
		assert.Equal(t, "databases[1]", probs[0].Key)
		assert.Contains(t, probs[0].Rule, "cpus")
	})

	t.Run("admin-passwords-not-secret", func(t *testing.T) {
		cfg, probs := loadProblems(t, source(map[string]string{
			"proj:adminPasswords": `{"adbhsmdemo": "` + validPassword + `"}`,
		}))
		require.Len(t, probs, 1)
		assert.Equal(t, "adminPasswords", probs[0].Key)
		assert.Contains(t, probs[0].Rule, "--secret")
		assert.NotContains(t, probs[0].Rule, validPassword)
		// The password is still attached, so Validate can report other things in the same run.
		assert.Equal(t, validPassword, cfg.Databases[0].AdminPassword.Reveal())
	})

	t.Run("admin-passwords-unknown-database", func(t *testing.T) {
		_, probs := loadProblems(t, source(map[string]string{
			"proj:adminPasswords": `{"adbhsmdemo": "` + validPassword + `", "zeta": "x", "alpha": "y"}`,
		}, "proj:adminPasswords"))
		require.Len(t, probs, 2)
		assert.Equal(t, "adminPasswords.alpha", probs[0].Key, "unknown names are reported sorted")
		assert.Equal(t, "adminPasswords.zeta", probs[1].Key)
		assert.Contains(t, probs[0].Rule, "names no database in databases")
	})

	t.Run("admin-passwords-not-an-object", func(t *testing.T) {
		for name, raw := range map[string]string{
			"not-json":         `Sup3rS3cretValue!`,
			"json-string":      `"Sup3rS3cretValue!"`,
			"json-list":        `["Sup3rS3cretValue!"]`,
			"value-not-string": `{"adbhsmdemo": ["Sup3rS3cretValue!"]}`,
			"truncated-object": `{"adbhsmdemo": "Sup3rS3cretValue!"`,
		} {
			t.Run(name, func(t *testing.T) {
				_, err := Load(project, source(map[string]string{"proj:adminPasswords": raw}, "proj:adminPasswords"))
				probs := problemsOf(t, err)
				pr := findProblem(t, probs, "adminPasswords")
				assert.Contains(t, pr.Rule, "must be an object mapping database names to passwords")
				assert.NotContains(t, err.Error(), "Sup3rS3cretValue")
			})
		}
	})

	t.Run("passwords-attached-by-name", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"proj:databases":      `[{"name": "sales"}, {"name": "hr"}, {"name": "ops"}]`,
			"proj:adminPasswords": `{"hr": "Hr-Passw0rd-1234", "sales": "Sa1es-Passw0rd-12"}`,
		}, "proj:adminPasswords"))
		require.NoError(t, err)
		require.Len(t, cfg.Databases, 3)
		assert.Equal(t, "Sa1es-Passw0rd-12", cfg.Databases[0].AdminPassword.Reveal())
		assert.Equal(t, "Hr-Passw0rd-1234", cfg.Databases[1].AdminPassword.Reveal())
		assert.Empty(t, cfg.Databases[2].AdminPassword.Reveal(), "a missing password is left for Validate")

		probs := problemsOf(t, cfg.Validate(fixedNow))
		require.Len(t, probs, 1)
		assert.Equal(t, "adminPasswords.ops", probs[0].Key)
	})

	t.Run("loaded-defaults-with-secret-password-validate", func(t *testing.T) {
		cfg, err := Load(project, source(map[string]string{
			"proj:adminPasswords": `{"adbhsmdemo": "` + validPassword + `"}`,
		}, "proj:adminPasswords"))
		require.NoError(t, err)
		assert.NoError(t, cfg.Validate(fixedNow))
	})
}

func TestSecretNeverFormats(t *testing.T) {
	const value = "Sup3rS3cretValue!"
	s := Secret(value)
	db := DefaultDatabase("adbhsmdemo")
	db.AdminPassword = s
	cfg := Defaults()
	cfg.Databases[0] = db

	subjects := map[string]any{
		"secret":          s,
		"database":        db,
		"database-ptr":    &db,
		"config":          cfg,
		"database-slice":  []Database{db},
		"secret-in-error": fmt.Errorf("wrapped: %v", s),
	}
	for name, subject := range subjects {
		for verbName, verb := range map[string]string{
			"v": "%v", "s": "%s", "plus-v": "%+v", "sharp-v": "%#v", "q": "%q", "x": "%x",
		} {
			t.Run(name+"-"+verbName, func(t *testing.T) {
				out := fmt.Sprintf(verb, subject)
				assert.NotContains(t, out, value)
				assert.NotContains(t, out, fmt.Sprintf("%x", value))
			})
		}
	}
	t.Run("print-and-println", func(t *testing.T) {
		assert.NotContains(t, fmt.Sprint(s, db), value)
		assert.NotContains(t, fmt.Sprintln(s, db), value)
	})
	t.Run("placeholder-and-reveal", func(t *testing.T) {
		assert.Equal(t, "[secret]", s.String())
		assert.Equal(t, "[secret]", fmt.Sprintf("%#v", s))
		assert.Equal(t, value, s.Reveal())
	})
	t.Run("wrong-verb", func(t *testing.T) {
		for _, verb := range []string{"%d", "%t"} {
			assert.NotContains(t, fmt.Sprintf(verb, s), value)
			assert.NotContains(t, fmt.Sprintf(verb, db), value)
		}
	})
}

func TestHsmName(t *testing.T) {
	const sub = "00000000-1111-2222-3333-444444444444"
	base := Defaults()

	t.Run("explicit-name-wins", func(t *testing.T) {
		cfg := Defaults()
		cfg.Hsm.Name = "hsm-explicit"
		assert.Equal(t, "hsm-explicit", cfg.HsmName(sub, "dev"))
	})

	t.Run("derived-name-is-prefix-and-six-hex", func(t *testing.T) {
		name := base.HsmName(sub, "dev")
		assert.Regexp(t, `^hsm-odaa-demo-[0-9a-f]{6}$`, name)
	})

	t.Run("derived-name-is-stable", func(t *testing.T) {
		assert.Equal(t, base.HsmName(sub, "dev"), Defaults().HsmName(sub, "dev"))
	})

	t.Run("derived-name-differs-per-input", func(t *testing.T) {
		other := Defaults()
		other.ResourceGroupName = "rg-other"
		names := map[string]string{
			"base":           base.HsmName(sub, "dev"),
			"subscription":   base.HsmName("99999999-1111-2222-3333-444444444444", "dev"),
			"resource-group": other.HsmName(sub, "dev"),
			"stack":          base.HsmName(sub, "prod"),
		}
		seen := map[string]string{}
		for what, n := range names {
			if prev, dup := seen[n]; dup {
				t.Errorf("%s and %s give the same name %s", prev, what, n)
			}
			seen[n] = what
		}
	})

	t.Run("derived-name-is-valid", func(t *testing.T) {
		for i := range 200 {
			name := base.HsmName(fmt.Sprintf("%08d-1111-2222-3333-444444444444", i), fmt.Sprintf("stack%d", i))
			assert.True(t, validHsmName(name), name)
			assert.LessOrEqual(t, len(name), 24, name)
		}
	})

	t.Run("longest-prefix-still-fits", func(t *testing.T) {
		cfg := Defaults()
		cfg.Hsm.NamePrefix = "h" + strings.Repeat("p", 16)
		cfg.Databases[0].AdminPassword = validPassword
		require.NoError(t, cfg.Validate(fixedNow))
		name := cfg.HsmName(sub, "dev")
		assert.Len(t, name, 24)
		assert.True(t, validHsmName(name), name)
	})
}

func TestSecurityDomainPath(t *testing.T) {
	t.Run("default-under-secrets", func(t *testing.T) {
		path := Defaults().SecurityDomainPath("hsm-odaa-demo-abc123")
		assert.Equal(t, ".secrets/hsm-odaa-demo-abc123-sd.json", path)
	})
	t.Run("configured-path-wins", func(t *testing.T) {
		cfg := Defaults()
		cfg.Hsm.SecurityDomain.OutputPath = "/vault/sd.json"
		assert.Equal(t, "/vault/sd.json", cfg.SecurityDomainPath("hsm-odaa-demo-abc123"))
	})
}

func TestPlainPasswords(t *testing.T) {
	const project = "odaa-adbs-hsm"
	for _, tc := range []struct {
		name, file string
		want       []string // keys reported
	}{
		{name: "every-entry-secret", file: `
config:
  odaa-adbs-hsm:adminPasswords:
    adbhsmdemo:
      secure: v1:AAAA
    second:
      secure: v1:BBBB
`},
		{name: "whole-object-secret", file: `
config:
  odaa-adbs-hsm:adminPasswords:
    secure: v1:AAAA
`},
		{name: "one-entry-plain", file: `
config:
  odaa-adbs-hsm:adminPasswords:
    adbhsmdemo:
      secure: v1:AAAA
    second: Plain#Passw0rd1
`, want: []string{"adminPasswords.second"}},
		{name: "no-passwords", file: "config:\n  odaa-adbs-hsm:location: eastus\n"},
		{name: "other-project", file: "config:\n  other:adminPasswords:\n    db: plain\n"},
		{name: "not-yaml", file: "config: [\n  secret-looking: Plain#Passw0rd1", want: []string{"adminPasswords"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems := PlainPasswords(project, []byte(tc.file))
			var got []string
			for _, p := range problems {
				got = append(got, p.Key)
				if strings.Contains(p.Rule, "Plain#Passw0rd1") {
					t.Errorf("the rule quotes the password: %s", p.Rule)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("reported %v, want %v", got, tc.want)
			}
		})
	}
}
