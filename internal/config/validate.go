package config

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
)

// OracleDelegation is the only service name Oracle Database@Azure accepts on its delegated subnet. The
// singular "networkAttachment" is rejected by the service, but only after a long wait.
const OracleDelegation = "Oracle.Database/networkAttachments"

var (
	regionPattern        = regexp.MustCompile(`^[a-z][a-z0-9]{2,39}$`)
	resourceGroupPattern = regexp.MustCompile(`^[-\w._()]{1,90}$`)
	hsmNamePattern       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	hsmPrefixPattern     = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9-]{0,15}[a-zA-Z0-9])?$`)
	networkNamePattern   = regexp.MustCompile(`^[a-zA-Z0-9]([-\w.]{0,78}\w)?$`)
	dbNamePattern        = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9]{0,29}$`)
	dbUserPattern        = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_$#]{0,127}$`)
	hostLabelPattern     = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	ociViewPattern       = regexp.MustCompile(`^ocid1\.dnsview\.[a-z0-9]+\.[a-z0-9-]*\.[a-z0-9]+$`)
	ociCompartmentPat    = regexp.MustCompile(`^ocid1\.(compartment|tenancy)\.[a-z0-9]+\.[a-z0-9-]*\.[a-z0-9]+$`)
)

// Minimum subnet sizes: Autonomous Database needs a /27 on its delegated subnet; Azure's smallest is a /29.
const (
	minDelegatedPrefixBits = 27
	minSubnetPrefixBits    = 29
	hsmNameSuffixLen       = 6
)

var (
	workloads       = []string{"OLTP", "DW", "AJD", "APEX"}
	licenseModels   = []string{"LicenseIncluded", "BringYourOwnLicense"}
	keyOperations   = []string{"encrypt", "decrypt", "wrapKey", "unwrapKey", "sign", "verify"}
	aclPrivileges   = []string{"connect", "resolve", "http", "http_proxy"}
	routeValues     = []string{"PRIVATE_ENDPOINT", "ENFORCE_PRIVATE_ENDPOINT"}
	hsmSkus         = []string{"Standard_B1", "Custom_B6", "Custom_B32"}
	databaseAccess  = []string{"privateVnetOnly"}
	supportedRSAKey = 2048
)

// Validate checks every rule and returns all broken ones together, each naming its key, or nil.
// now anchors the rules about dates.
func (c Config) Validate(now time.Time) error {
	var p Problems
	if !regionPattern.MatchString(c.Location) {
		p.add(KeyLocation, "must be an Azure region name in lower-case letters and digits, such as eastus")
	}
	if !resourceGroupPattern.MatchString(c.ResourceGroupName) || strings.HasSuffix(c.ResourceGroupName, ".") {
		p.add(KeyResourceGroupName, "must be 1–90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'")
	}
	for _, k := range slices.Sorted(maps.Keys(c.Tags)) {
		if v := c.Tags[k]; k == "" || len(k) > 512 || strings.ContainsAny(k, "<>%&\\?/") || len(v) > 256 {
			p.add(KeyTags+"."+k, "tag names must be 1–512 characters without <>%%&\\?/ and values at most 256")
		}
	}
	c.validateNetwork(&p)
	c.validateHsm(&p)
	c.validateServicePrincipal(&p, now)
	c.validateOciDNS(&p)
	c.validateCmek(&p)
	c.validateDatabases(&p)
	c.validateKeyRotation(&p)
	c.validateSecretRotation(&p)
	c.validateAudit(&p)
	if len(p) > 0 {
		return p
	}
	return nil
}

func (c Config) validateNetwork(p *Problems) {
	n := c.Network
	key := func(field string) string { return KeyNetwork + "." + field }
	for _, f := range []struct{ field, name string }{
		{"vnetName", n.VnetName}, {"delegatedSubnetName", n.DelegatedSubnetName},
		{"privateEndpointSubnetName", n.PrivateEndpointSubnetName},
	} {
		field, name := f.field, f.name
		if !networkNamePattern.MatchString(name) {
			p.add(key(field), "must be 1–80 letters, digits, '-', '_' or '.', starting with a letter or digit "+
				"and ending with a letter, digit or '_'")
		}
	}
	vnet, vnetErr := parsePrefix(n.AddressSpace)
	if vnetErr != nil {
		p.add(key("addressSpace"), "%v", vnetErr)
	}
	delegated, delErr := parsePrefix(n.DelegatedSubnetPrefix)
	if delErr != nil {
		p.add(key("delegatedSubnetPrefix"), "%v", delErr)
	} else if delegated.Bits() > minDelegatedPrefixBits {
		p.add(key("delegatedSubnetPrefix"), "must be a /%d or larger for Autonomous Database, not /%d",
			minDelegatedPrefixBits, delegated.Bits())
	}
	pe, peErr := parsePrefix(n.PrivateEndpointSubnetPrefix)
	if peErr != nil {
		p.add(key("privateEndpointSubnetPrefix"), "%v", peErr)
	} else if pe.Bits() > minSubnetPrefixBits {
		p.add(key("privateEndpointSubnetPrefix"), "must be a /%d or larger, not /%d", minSubnetPrefixBits, pe.Bits())
	}
	if vnetErr == nil {
		if delErr == nil && !contains(vnet, delegated) {
			p.add(key("delegatedSubnetPrefix"), "%s must lie inside the VNet %s", delegated, vnet)
		}
		if peErr == nil && !contains(vnet, pe) {
			p.add(key("privateEndpointSubnetPrefix"), "%s must lie inside the VNet %s", pe, vnet)
		}
	}
	if delErr == nil && peErr == nil && delegated.Overlaps(pe) {
		p.add(key("privateEndpointSubnetPrefix"), "%s must not overlap the delegated subnet %s", pe, delegated)
	}
	if n.Delegation != OracleDelegation {
		p.add(key("delegation"), "must be exactly %q, not %q", OracleDelegation, n.Delegation)
	}
}

// parsePrefix accepts only a network address with its mask, as Azure does: 10.0.1.0/24, not 10.0.1.5/24.
func parsePrefix(s string) (netip.Prefix, error) {
	pfx, err := netip.ParsePrefix(s)
	if err != nil || !pfx.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q must be an IPv4 CIDR such as 10.0.1.0/24", s)
	}
	if pfx.Masked() != pfx {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; the network address is %s", s, pfx.Masked())
	}
	return pfx, nil
}

func contains(outer, inner netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

func (c Config) validateHsm(p *Problems) {
	h := c.Hsm
	key := func(field string) string { return KeyHsm + "." + field }
	if h.Name != "" {
		if !validHsmName(h.Name) {
			p.add(key("name"), "must be 3–24 letters, digits and single hyphens, starting with a letter "+
				"and ending with a letter or digit")
		}
	} else if !hsmPrefixPattern.MatchString(h.NamePrefix) || strings.Contains(h.NamePrefix, "--") {
		p.add(key("namePrefix"), "must be 1–%d letters, digits and single hyphens, starting with a letter and "+
			"not ending with a hyphen, leaving room for the %d-character suffix",
			24-hsmNameSuffixLen-1, hsmNameSuffixLen)
	}
	if !slices.Contains(hsmSkus, h.Sku) {
		p.add(key("sku"), "must be one of %s", strings.Join(hsmSkus, ", "))
	}
	if h.SoftDeleteRetentionDays < 7 || h.SoftDeleteRetentionDays > 90 {
		p.add(key("softDeleteRetentionDays"), "must be 7–90 days, not %d", h.SoftDeleteRetentionDays)
	}
	for i, id := range h.Administrators {
		if !hsmrbac.IsGUID(id) {
			p.add(fmt.Sprintf("%s[%d]", key("administrators"), i), "must be an Entra object ID (a GUID)")
		}
	}
	if h.DeployerObjectID != "" && !hsmrbac.IsGUID(h.DeployerObjectID) {
		p.add(key("deployerObjectId"), "must be an Entra object ID (a GUID)")
	}
	checkRole(p, key("deployerRole"), h.DeployerRole)
	if creates, known := hsmrbac.CreatesKeys(h.DeployerRole); known && !creates {
		p.add(key("deployerRole"), "%s cannot create keys, and the deployer creates the key: use %s (Crypto "+
			"Officer has role management, purge, recover and export only)", h.DeployerRole, hsmrbac.CryptoUser)
	}
	checkScope(p, key("deployerRoleScope"), h.DeployerRoleScope)
	checkFQDN(p, key("dnsSuffix"), h.DNSSuffix)
	h.validateTeardown(p)

	sd := h.SecurityDomain
	sdKey := func(field string) string { return key("securityDomain." + field) }
	count := sd.CertificateCount
	if len(sd.Certificates) > 0 {
		count = len(sd.Certificates)
		holders := map[string]int{} // public key → index of the first certificate carrying it
		for i, path := range sd.Certificates {
			cert, err := checkCertificate(path)
			if err != nil {
				p.add(fmt.Sprintf("%s[%d]", sdKey("certificates"), i), "%v", err)
				continue
			}
			// Shares wrapped twice to one key give its holder two votes: the quorum would be a fiction.
			if first, seen := holders[string(cert.RawSubjectPublicKeyInfo)]; seen {
				p.add(fmt.Sprintf("%s[%d]", sdKey("certificates"), i), "carries the same public key as "+
					"certificates[%d]: each certificate must belong to a different key holder", first)
				continue
			}
			holders[string(cert.RawSubjectPublicKeyInfo)] = i
		}
	}
	countKey := sdKey("certificateCount")
	if len(sd.Certificates) > 0 {
		countKey = sdKey("certificates")
	}
	if count < 3 || count > 10 {
		p.add(countKey, "the security domain needs 3–10 certificates, not %d", count)
	}
	if sd.Quorum < 2 || sd.Quorum > count {
		p.add(sdKey("quorum"), "must be from 2 to the certificate count (%d), not %d", count, sd.Quorum)
	}
	if len(sd.Certificates) == 0 && strings.TrimSpace(sd.KeyDirectory) == "" {
		p.add(sdKey("keyDirectory"), "must name a directory for the generated private keys")
	}

	k := h.Key
	if !hsmrbac.IsKeyName(k.Name) {
		p.add(key("key.name"), "must be 1–127 letters, digits and hyphens")
	}
	if k.Type != "RSA-HSM" {
		p.add(key("key.type"), "must be RSA-HSM: the TDE master key wraps keys, which EC keys cannot, not %q", k.Type)
	}
	if k.Size != supportedRSAKey {
		p.add(key("key.size"), "must be %d: Autonomous Database accepts RSA %d keys from Azure, not %d",
			supportedRSAKey, supportedRSAKey, k.Size)
	}
	for _, op := range k.Operations {
		if !slices.Contains(keyOperations, op) {
			p.add(key("key.operations"), "%q is not one of %s", op, strings.Join(keyOperations, ", "))
		}
	}
	for _, need := range []string{"wrapKey", "unwrapKey"} {
		if !slices.Contains(k.Operations, need) {
			p.add(key("key.operations"), "must include %s: the database wraps its keys with this key", need)
		}
	}
}

// validateTeardown checks the keys that decide what `pulumi destroy` does to the HSM. They are refused when
// they contradict each other, rather than one silently winning: allowDelete with protect on would plan a
// delete the engine then refuses at the HSM, half-way through a destroy; purgeOnDelete without allowDelete
// would purge nothing, since a retained HSM is never deleted; and purge protection makes Azure refuse every
// purge until the retention period ends, which a destroy would report only at its very end.
func (h Hsm) validateTeardown(p *Problems) {
	key := func(field string) string { return KeyHsm + "." + field }
	if h.AllowDelete && h.Protect {
		p.add(key("allowDelete"), "needs %s false: a protected HSM cannot be deleted; set %s false, run `up`, "+
			"then `destroy`", key("protect"), key("protect"))
	}
	if h.PurgeOnDelete && !h.AllowDelete {
		p.add(key("purgeOnDelete"), "needs %s true: a retained HSM is never deleted, so there is nothing to "+
			"purge", key("allowDelete"))
	}
	if h.PurgeOnDelete && h.PurgeProtection {
		p.add(key("purgeOnDelete"), "cannot be true with %s true: Azure refuses to purge a protected HSM until "+
			"its retention period ends (protection cannot be turned off)", key("purgeProtection"))
	}
}

func validHsmName(name string) bool {
	return hsmNamePattern.MatchString(name) && !strings.Contains(name, "--")
}

// checkCertificate reads a PEM certificate now, so that a wrong path fails before the HSM exists.
func checkCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read certificate: %w", err)
	}
	text, err := CertificatePEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	block, _ := pem.Decode([]byte(text))
	return x509.ParseCertificate(block.Bytes)
}

// CertificatePEM returns the one certificate in data, re-encoded alone. A file that also holds a private key is
// refused outright: the private parts of the security domain's keys stay with their holders and must never
// travel into a resource's inputs, hence into state.
func CertificatePEM(data []byte) (string, error) {
	var cert *x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case strings.Contains(block.Type, "PRIVATE KEY"):
			return "", errors.New("holds a private key; give the certificate (public part) only")
		case block.Type == "CERTIFICATE" && cert == nil:
			parsed, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return "", fmt.Errorf("is not a valid X.509 certificate: %w", err)
			}
			cert = parsed
		case block.Type == "CERTIFICATE":
			return "", errors.New("holds more than one certificate; give one per file")
		}
	}
	if cert == nil {
		return "", errors.New("holds no PEM CERTIFICATE block")
	}
	if pub, ok := cert.PublicKey.(*rsa.PublicKey); !ok || pub.N.BitLen() < 2048 {
		return "", errors.New("must hold an RSA key of at least 2048 bits")
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})), nil
}

func checkRole(p *Problems, key, role string) {
	if _, err := hsmrbac.RoleID(role); err != nil {
		p.add(key, "%v", err)
	}
}

func checkScope(p *Problems, key, scope string) {
	if err := hsmrbac.ValidateScope(scope); err != nil {
		p.add(key, "%v", err)
	}
}

// checkFQDN wants a DNS name of at least two labels; an IP address is refused, since TLS to the HSM and the
// database's host ACLs both need the name.
func checkFQDN(p *Problems, key, host string) {
	if net.ParseIP(host) != nil {
		p.add(key, "must be a host name, not the IP address %s", host)
		return
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	ok := len(host) <= 253 && len(labels) >= 2
	for _, l := range labels {
		ok = ok && hostLabelPattern.MatchString(l)
	}
	if !ok {
		p.add(key, "%q must be a fully qualified lower-case host name such as login.microsoftonline.com", host)
	}
}

func (c Config) validateServicePrincipal(p *Problems, now time.Time) {
	s := c.ServicePrincipal
	key := func(field string) string { return KeyServicePrincipal + "." + field }
	if strings.TrimSpace(s.DisplayName) == "" || len(s.DisplayName) > 120 {
		p.add(key("displayName"), "must be 1–120 characters")
	}
	checkRole(p, key("role"), s.Role)
	checkScope(p, key("scope"), s.Scope)
	if s.SecretEndDate != "" {
		end, err := time.Parse(time.RFC3339, s.SecretEndDate)
		switch {
		case err != nil:
			p.add(key("secretEndDate"), "must be an RFC 3339 time such as 2027-03-01T00:00:00Z")
		case !end.After(now):
			p.add(key("secretEndDate"), "%s is in the past", s.SecretEndDate)
		case end.After(now.AddDate(2, 0, 0)):
			p.add(key("secretEndDate"), "must be at most two years ahead")
		}
	}
	if s.SecretLifetimeDays < 1 || s.SecretLifetimeDays > 730 {
		p.add(key("secretLifetimeDays"), "must be 1–730 days, not %d", s.SecretLifetimeDays)
	}
}

func (c Config) validateOciDNS(p *Problems) {
	o := c.OciDNS
	if o.ViewID != "" && !ociViewPattern.MatchString(o.ViewID) {
		p.add(KeyOciDNS+".viewId", "must be a DNS view OCID (ocid1.dnsview....)")
	}
	if o.CompartmentID != "" && !ociCompartmentPat.MatchString(o.CompartmentID) {
		p.add(KeyOciDNS+".compartmentId", "must be a compartment or tenancy OCID")
	}
	if o.TTL < 30 || o.TTL > 86400 {
		p.add(KeyOciDNS+".ttl", "must be 30–86400 seconds, not %d", o.TTL)
	}
}

func (c Config) validateCmek(p *Problems) {
	m := c.Cmek
	key := func(field string) string { return KeyCmek + "." + field }
	if !slices.Contains(routeValues, m.RouteOutboundConnections) {
		p.add(key("routeOutboundConnections"), "must be one of %s", strings.Join(routeValues, ", "))
	}
	if !dbUserPattern.MatchString(m.AclPrincipal) {
		p.add(key("aclPrincipal"), "must be a database user name")
	}
	if !slices.Contains(m.AclPrivileges, "connect") {
		p.add(key("aclPrivileges"), "must include connect")
	}
	for _, priv := range m.AclPrivileges {
		if !slices.Contains(aclPrivileges, priv) {
			p.add(key("aclPrivileges"), "%q is not one of %s", priv, strings.Join(aclPrivileges, ", "))
		}
	}
	checkFQDN(p, key("loginHost"), m.LoginHost)
	checkRole(p, key("oracleAppRole"), m.OracleAppRole)
}

func (c Config) validateDatabases(p *Problems) {
	if len(c.Databases) == 0 {
		p.add(KeyDatabases, "must list at least one database")
	}
	seen := map[string]bool{}
	for i, db := range c.Databases {
		key := func(field string) string { return fmt.Sprintf("%s[%d].%s", KeyDatabases, i, field) }
		if !dbNamePattern.MatchString(db.Name) {
			p.add(key("name"), "%q must be a letter followed by letters and digits, at most 30", db.Name)
		}
		if seen[strings.ToLower(db.Name)] {
			p.add(key("name"), "%q is listed twice", db.Name)
		}
		seen[strings.ToLower(db.Name)] = true
		if len(db.DisplayName) > 255 {
			p.add(key("displayName"), "must be at most 255 characters")
		}
		if !slices.Contains(workloads, db.Workload) {
			p.add(key("workload"), "must be one of %s (OLTP is transaction processing)", strings.Join(workloads, ", "))
		}
		if db.ComputeCount < 2 || db.ComputeCount > 512 || db.ComputeCount != float64(int(db.ComputeCount)) {
			p.add(key("computeCount"), "must be a whole number of ECPUs from 2 to 512, not %v", db.ComputeCount)
		}
		if db.StorageTbs < 1 || db.StorageTbs > 384 {
			p.add(key("storageTbs"), "must be 1–384 TB, not %d", db.StorageTbs)
		}
		if strings.TrimSpace(db.DBVersion) == "" {
			p.add(key("dbVersion"), "must name an Oracle Database version such as 19c")
		}
		if !slices.Contains(databaseAccess, db.Access) {
			p.add(key("access"), "must be privateVnetOnly: the database reaches the HSM only inside the VNet")
		}
		if !slices.Contains(licenseModels, db.LicenseModel) {
			p.add(key("licenseModel"), "must be one of %s", strings.Join(licenseModels, ", "))
		}
		if db.MtlsRequired && db.WalletDirectory == "" {
			p.add(key("walletDirectory"), "is required when mtlsRequired is true: ADMIN connects with the wallet")
		}
		passwordKey := fmt.Sprintf("%s.%s", KeyAdminPasswords, db.Name)
		for _, rule := range PasswordProblems(db.AdminPassword.Reveal()) {
			p.add(passwordKey, "%s", rule)
		}
	}
}

// PasswordProblems lists the ADMIN password rules of Autonomous Database that pw breaks, never quoting it.
func PasswordProblems(pw string) []string {
	if pw == "" {
		return []string{"is required: set it with `pulumi config set --secret --path " +
			"'adminPasswords.<database>' <password>`"}
	}
	var rules []string
	if n := len([]rune(pw)); n < 12 || n > 30 {
		rules = append(rules, fmt.Sprintf("must be 12–30 characters, not %d", n))
	}
	if !strings.ContainsFunc(pw, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
		rules = append(rules, "must contain an upper-case letter")
	}
	if !strings.ContainsFunc(pw, func(r rune) bool { return r >= 'a' && r <= 'z' }) {
		rules = append(rules, "must contain a lower-case letter")
	}
	if !strings.ContainsFunc(pw, func(r rune) bool { return r >= '0' && r <= '9' }) {
		rules = append(rules, "must contain a digit")
	}
	if strings.Contains(pw, `"`) {
		rules = append(rules, `must not contain a double quote (")`)
	}
	if strings.Contains(strings.ToLower(pw), "admin") {
		rules = append(rules, `must not contain the word "admin"`)
	}
	return rules
}

// HsmName is the HSM's name: the configured one, or the prefix with a suffix that is stable for this
// subscription, resource group and stack, so reruns keep the name and other stacks do not collide.
func (c Config) HsmName(subscriptionID, stack string) string {
	if c.Hsm.Name != "" {
		return c.Hsm.Name
	}
	sum := sha256.Sum256([]byte(subscriptionID + "/" + c.ResourceGroupName + "/" + stack))
	return c.Hsm.NamePrefix + "-" + hex.EncodeToString(sum[:])[:hsmNameSuffixLen]
}

// SecurityDomainPath is where the security domain file is written for the named HSM.
func (c Config) SecurityDomainPath(hsmName string) string {
	if c.Hsm.SecurityDomain.OutputPath != "" {
		return c.Hsm.SecurityDomain.OutputPath
	}
	return ".secrets/" + hsmName + "-sd.json"
}
