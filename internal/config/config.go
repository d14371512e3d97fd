// Package config is the stack's typed configuration: one struct, its defaults, and the single place it is read
// from the Pulumi config. Every key here is declared, with the same default, in Pulumi.yaml.
package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config keys, without the project namespace. Pulumi.yaml declares each of them.
const (
	KeyLocation          = "location"
	KeyResourceGroupName = "resourceGroupName"
	KeyTags              = "tags"
	KeyNetwork           = "network"
	KeyHsm               = "hsm"
	KeyServicePrincipal  = "servicePrincipal"
	KeyDatabases         = "databases"
	KeyAdminPasswords    = "adminPasswords"
	KeyOciDNS            = "ociDns"
	KeyCmek              = "cmek"
	KeyAudit             = "audit"
)

// Config is everything a stack can set. Read it with Load; check it with Validate before any resource exists.
type Config struct {
	// Location is the Azure region of every Azure resource. Default "eastus".
	Location string
	// ResourceGroupName is the resource group created for the stack. Default "rg-odaa-managedhsm-demo".
	ResourceGroupName string
	// Tags are applied to every taggable Azure resource. Default none.
	Tags map[string]string

	Network          Network
	Hsm              Hsm
	ServicePrincipal ServicePrincipal
	OciDNS           OciDNS
	Cmek             Cmek
	Audit            Audit
	// Databases share the one HSM, each with its own key switch. Default: the single database "adbhsmdemo".
	Databases []Database
}

// Network is the VNet with its two subnets: one delegated to Oracle Database@Azure, one for private endpoints.
type Network struct {
	// VnetName of the virtual network. Default "vnet-odaa-hsm".
	VnetName string `json:"vnetName"`
	// AddressSpace of the VNet, a CIDR. Default "10.0.0.0/16".
	AddressSpace string `json:"addressSpace"`
	// DelegatedSubnetName of the subnet the databases live in. Default "subnet-oracle-delegated".
	DelegatedSubnetName string `json:"delegatedSubnetName"`
	// DelegatedSubnetPrefix is a CIDR inside AddressSpace, /27 or larger; it cannot change later.
	// Default "10.0.1.0/24".
	DelegatedSubnetPrefix string `json:"delegatedSubnetPrefix"`
	// Delegation is the service the subnet is delegated to; it must be exactly
	// "Oracle.Database/networkAttachments". Default that.
	Delegation string `json:"delegation"`
	// PrivateEndpointSubnetName of the subnet holding the HSM's private endpoint.
	// Default "subnet-private-endpoints".
	PrivateEndpointSubnetName string `json:"privateEndpointSubnetName"`
	// PrivateEndpointSubnetPrefix is a CIDR inside AddressSpace, /29 or larger. Default "10.0.2.0/24".
	PrivateEndpointSubnetPrefix string `json:"privateEndpointSubnetPrefix"`
}

// Hsm is the Managed HSM, its activation and its key.
type Hsm struct {
	// Name of the HSM, globally unique, 3–24 characters. Default: NamePrefix, a hyphen, and a suffix derived
	// from the subscription, resource group and stack, so it is stable across runs and unique per stack.
	Name string `json:"name"`
	// NamePrefix used when Name is empty. Default "hsm-odaa-demo".
	NamePrefix string `json:"namePrefix"`
	// Sku of the HSM pool. Default "Standard_B1".
	Sku string `json:"sku"`
	// SoftDeleteRetentionDays, 7–90, fixed at creation. Default 7.
	SoftDeleteRetentionDays int `json:"softDeleteRetentionDays"`
	// PurgeProtection cannot be turned off once on. Default true.
	PurgeProtection bool `json:"purgeProtection"`
	// Administrators are object IDs added to the deployer as initial administrators. Default none.
	Administrators []string `json:"administrators"`
	// DeployerObjectID is the object ID of the identity running `pulumi up`. Default: read from the
	// credentials; set it where the credentials do not carry one.
	DeployerObjectID string `json:"deployerObjectId"`
	// DeployerRole is the local role granted to the deployer so it can create the key (neither Administrator
	// nor Crypto Officer can). Default "Managed HSM Crypto User".
	DeployerRole string `json:"deployerRole"`
	// DeployerRoleScope of that role. Default "/keys".
	DeployerRoleScope string `json:"deployerRoleScope"`
	// Protect guards the HSM against deletion and replacement by Pulumi. Default true.
	Protect bool `json:"protect"`
	// AllowDelete lets `pulumi destroy` (or a replacement) delete the HSM in Azure. Default false: the HSM is
	// retained on delete, only dropped from state, because a deleted HSM keeps billing and holds its name.
	AllowDelete bool `json:"allowDelete"`
	// PurgeOnDelete purges the soft-deleted HSM right after Pulumi deletes it, which frees its name and stops
	// the billing but destroys every key for good. Default false. Needs AllowDelete and PurgeProtection off.
	PurgeOnDelete bool `json:"purgeOnDelete"`
	// RunnerInsideVnet says `pulumi up` runs where the private endpoint resolves. When false (the default),
	// public access stays open until activation, the key and the role assignments are done, then is closed.
	RunnerInsideVnet bool `json:"runnerInsideVnet"`
	// DNSSuffix of HSM host names. Default "managedhsm.azure.net".
	DNSSuffix      string         `json:"dnsSuffix"`
	SecurityDomain SecurityDomain `json:"securityDomain"`
	Key            Key            `json:"key"`
}

// SecurityDomain is what activates the HSM: the wrapping certificates, the quorum and where the file goes.
type SecurityDomain struct {
	// Certificates are paths to PEM certificates (public parts only) whose private keys stay with their
	// holders. Default none: the plugin generates CertificateCount key pairs into KeyDirectory, for
	// development stacks only.
	Certificates []string `json:"certificates"`
	// CertificateCount of generated key pairs when Certificates is empty, 3–10. Default 3.
	CertificateCount int `json:"certificateCount"`
	// Quorum of private keys needed to recover the security domain, 2 to the certificate count. Default 2.
	Quorum int `json:"quorum"`
	// KeyDirectory receives generated private keys, written 0600. Default ".secrets".
	KeyDirectory string `json:"keyDirectory"`
	// OutputPath of the downloaded security domain, written 0600. Default ".secrets/<hsm name>-sd.json".
	OutputPath string `json:"outputPath"`
}

// Key is the TDE master key in the HSM.
type Key struct {
	// Name of the key. Default "odaa-hsm-encryption-key".
	Name string `json:"name"`
	// Type of the key; only "RSA-HSM" can wrap a TDE key. Default "RSA-HSM".
	Type string `json:"type"`
	// Size in bits; Autonomous Database accepts RSA 2048 only. Default 2048.
	Size int `json:"size"`
	// Operations permitted. Default encrypt, decrypt, wrapKey, unwrapKey.
	Operations []string `json:"operations"`
	// Rotation is the key's automatic rotation policy. Default none (every field empty).
	Rotation KeyRotation `json:"rotation"`
}

// KeyRotation is a key rotation policy in ISO 8601 durations (P90D, P1Y, PT72H); empty fields are not set.
type KeyRotation struct {
	// ExpiryTime of each new key version; at least 28 days. Default "" (versions do not expire).
	ExpiryTime string `json:"expiryTime"`
	// RotateAfterCreate rotates this long after a version is created; at least 7 days. Default "".
	RotateAfterCreate string `json:"rotateAfterCreate"`
	// RotateBeforeExpiry rotates this long before a version expires; needs ExpiryTime; at least 7 days.
	// Default "".
	RotateBeforeExpiry string `json:"rotateBeforeExpiry"`
}

// Enabled reports whether any rotation setting is given.
func (r KeyRotation) Enabled() bool {
	return r.ExpiryTime != "" || r.RotateAfterCreate != "" || r.RotateBeforeExpiry != ""
}

// ServicePrincipal is the Entra application of the scenario's step 5, granted a role on the HSM.
type ServicePrincipal struct {
	// DisplayName of the application. Default "sp-odaa-managedhsm".
	DisplayName string `json:"displayName"`
	// Role on the HSM. Default "Managed HSM Crypto User".
	Role string `json:"role"`
	// Scope of that role. Default "/keys".
	Scope string `json:"scope"`
	// SecretEndDate is the RFC 3339 expiry of the client secret. Default empty: SecretLifetimeDays from
	// creation.
	SecretEndDate string `json:"secretEndDate"`
	// SecretLifetimeDays when SecretEndDate is empty, 1–730. Default 90.
	SecretLifetimeDays int `json:"secretLifetimeDays"`
	// SecretRotationDays rotates the client secret every so many days (7–365) with two overlapping secrets,
	// each living two periods; 0 keeps one secret ended by SecretEndDate or SecretLifetimeDays. Default 90,
	// the scenario guide's advice.
	SecretRotationDays int `json:"secretRotationDays"`
}

// OciDNS says where on the OCI side the two private zones go.
type OciDNS struct {
	// ViewID of the private view. Default empty: the default view of the DNS resolver of the first
	// database's VCN, found from the database itself.
	ViewID string `json:"viewId"`
	// CompartmentID for the zones. Default empty: the first database's compartment.
	CompartmentID string `json:"compartmentId"`
	// TTL of the A records in seconds. Default 3600.
	TTL int `json:"ttl"`
}

// Cmek tunes the database side of the customer-managed key: the SQL steps and the key switch.
type Cmek struct {
	// RouteOutboundConnections is the ROUTE_OUTBOUND_CONNECTIONS value. Default "PRIVATE_ENDPOINT".
	RouteOutboundConnections string `json:"routeOutboundConnections"`
	// RestartAfterRouting restarts the database when the routing value really changed. Default false.
	RestartAfterRouting bool `json:"restartAfterRouting"`
	// AclPrincipal is the database user granted network access; stored upper-case. Default "ADMIN".
	AclPrincipal string `json:"aclPrincipal"`
	// AclPrivileges granted on the HSM and login hosts. Default connect, resolve, http.
	AclPrivileges []string `json:"aclPrivileges"`
	// LoginHost is the Entra ID token endpoint host. Default "login.microsoftonline.com".
	LoginHost string `json:"loginHost"`
	// OracleAppRole is the HSM role of the database's Azure application. Default
	// "Managed HSM Crypto Service Encryption User".
	OracleAppRole string `json:"oracleAppRole"`
	// RevertKeyOnDelete returns the database to Oracle-managed keys on delete. Default true.
	RevertKeyOnDelete bool `json:"revertKeyOnDelete"`
}

// Audit is the HSM's audit trail: a Log Analytics workspace receiving its AuditEvent logs and metrics, and an
// alert on failed key operations.
type Audit struct {
	// Enabled declares the workspace, the diagnostic setting and the alert. Default true.
	Enabled bool `json:"enabled"`
	// RetentionDays of the workspace's data, 30–730. Default 30.
	RetentionDays int `json:"retentionDays"`
	// AlertEmails receive the alert through an action group created for them. Default none.
	AlertEmails []string `json:"alertEmails"`
	// ActionGroupID is an existing action group (ARM ID) the alert also goes to. Default "".
	ActionGroupID string `json:"actionGroupId"`
	// FailureThreshold is how many failed key operations in the window raise the alert, 1–10000. Default 5.
	FailureThreshold int `json:"failureThreshold"`
	// FailureWindowMinutes is the alert's look-back window, one of 5, 10, 15, 30, 45, 60, 120, 180, 240, 300,
	// 360, 1440. Default 15.
	FailureWindowMinutes int `json:"failureWindowMinutes"`
}

// Database is one Autonomous Database (Serverless) using the HSM key.
type Database struct {
	// Name of the database: a letter, then letters and digits, at most 30. Required.
	Name string `json:"name"`
	// DisplayName shown in Azure. Default: Name.
	DisplayName string `json:"displayName"`
	// Workload is one of OLTP (transaction processing), DW, AJD, APEX. Default "OLTP".
	Workload string `json:"workload"`
	// ComputeCount in ECPUs, 2–512. Default 2.
	ComputeCount float64 `json:"computeCount"`
	// StorageTbs of data storage, 1–384. Default 1.
	StorageTbs int `json:"storageTbs"`
	// DBVersion of Oracle Database. Default "19c".
	DBVersion string `json:"dbVersion"`
	// Access is how clients reach the database; only "privateVnetOnly" (managed private VNet IP only).
	Access string `json:"access"`
	// MtlsRequired makes clients present a wallet. Default false (one-way TLS over the private endpoint).
	MtlsRequired bool `json:"mtlsRequired"`
	// WalletDirectory holds the wallet used to connect as ADMIN; required when MtlsRequired.
	WalletDirectory string `json:"walletDirectory"`
	// LicenseModel is "LicenseIncluded" or "BringYourOwnLicense". Default "LicenseIncluded".
	LicenseModel string `json:"licenseModel"`
	// CharacterSet of the database. Default "AL32UTF8".
	CharacterSet string `json:"characterSet"`
	// NcharacterSet of the database. Default "AL16UTF16".
	NcharacterSet string `json:"ncharacterSet"`
	// AdminPassword comes from the secret config map adminPasswords, keyed by Name. Never defaulted.
	AdminPassword Secret `json:"-"`
}

// Secret is a plain value that must never be printed; formatting or encoding it, with any verb, yields a
// placeholder.
type Secret string

const secretPlaceholder = "[secret]"

func (Secret) String() string               { return secretPlaceholder }
func (Secret) GoString() string             { return secretPlaceholder }
func (Secret) Format(f fmt.State, _ rune)   { _, _ = io.WriteString(f, secretPlaceholder) }
func (Secret) MarshalJSON() ([]byte, error) { return json.Marshal(secretPlaceholder) }
func (Secret) MarshalText() ([]byte, error) { return []byte(secretPlaceholder), nil }

// Reveal returns the value, for handing to pulumi.ToSecret and nothing else.
func (s Secret) Reveal() string { return string(s) }

// Defaults is the configuration of a stack that sets nothing: the scenario's own values.
func Defaults() Config {
	return Config{
		Location:          "eastus",
		ResourceGroupName: "rg-odaa-managedhsm-demo",
		Tags:              map[string]string{},
		Network: Network{
			VnetName:                    "vnet-odaa-hsm",
			AddressSpace:                "10.0.0.0/16",
			DelegatedSubnetName:         "subnet-oracle-delegated",
			DelegatedSubnetPrefix:       "10.0.1.0/24",
			Delegation:                  OracleDelegation,
			PrivateEndpointSubnetName:   "subnet-private-endpoints",
			PrivateEndpointSubnetPrefix: "10.0.2.0/24",
		},
		Hsm: Hsm{
			NamePrefix:              "hsm-odaa-demo",
			Sku:                     "Standard_B1",
			SoftDeleteRetentionDays: 7,
			PurgeProtection:         true,
			Administrators:          []string{},
			DeployerRole:            "Managed HSM Crypto User",
			DeployerRoleScope:       "/keys",
			Protect:                 true,
			DNSSuffix:               "managedhsm.azure.net",
			SecurityDomain: SecurityDomain{
				Certificates:     []string{},
				CertificateCount: 3,
				Quorum:           2,
				KeyDirectory:     ".secrets",
			},
			Key: Key{
				Name:       "odaa-hsm-encryption-key",
				Type:       "RSA-HSM",
				Size:       2048,
				Operations: []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"},
			},
		},
		ServicePrincipal: ServicePrincipal{
			DisplayName:        "sp-odaa-managedhsm",
			Role:               "Managed HSM Crypto User",
			Scope:              "/keys",
			SecretLifetimeDays: 90,
			SecretRotationDays: 90,
		},
		OciDNS: OciDNS{TTL: 3600},
		Cmek: Cmek{
			RouteOutboundConnections: "PRIVATE_ENDPOINT",
			AclPrincipal:             "ADMIN",
			AclPrivileges:            []string{"connect", "resolve", "http"},
			LoginHost:                "login.microsoftonline.com",
			OracleAppRole:            "Managed HSM Crypto Service Encryption User",
			RevertKeyOnDelete:        true,
		},
		Audit: Audit{
			Enabled:              true,
			RetentionDays:        30,
			AlertEmails:          []string{},
			FailureThreshold:     5,
			FailureWindowMinutes: 15,
		},
		Databases: []Database{DefaultDatabase("adbhsmdemo")},
	}
}

// DefaultDatabase is a database with every optional field at its default.
func DefaultDatabase(name string) Database {
	return Database{
		Name:          name,
		Workload:      "OLTP",
		ComputeCount:  2,
		StorageTbs:    1,
		DBVersion:     "19c",
		Access:        "privateVnetOnly",
		LicenseModel:  "LicenseIncluded",
		CharacterSet:  "AL32UTF8",
		NcharacterSet: "AL16UTF16",
	}
}

// Source is where configuration values come from: the Pulumi context in a program, a map in tests.
type Source interface {
	// Get returns the raw value of a namespaced key such as "project:hsm".
	Get(key string) (string, bool)
	// IsSecret reports whether the key was set with --secret.
	IsSecret(key string) bool
}

// Load reads every key of project from src onto the defaults. Decoding problems (malformed JSON, unknown
// fields, wrong types) are returned together; rule checks are Validate's.
func Load(project string, src Source) (Config, error) {
	cfg := Defaults()
	var problems Problems
	get := func(key string) (string, bool) { return src.Get(project + ":" + key) }

	if v, ok := get(KeyLocation); ok {
		cfg.Location = v
	}
	if v, ok := get(KeyResourceGroupName); ok {
		cfg.ResourceGroupName = v
	}
	decode := func(key string, into any) {
		if raw, ok := get(key); ok {
			if err := strictUnmarshal(raw, into); err != nil {
				problems.add(key, "must be valid: %v", err)
			}
		}
	}
	decode(KeyTags, &cfg.Tags)
	decode(KeyNetwork, &cfg.Network)
	decode(KeyHsm, &cfg.Hsm)
	decode(KeyServicePrincipal, &cfg.ServicePrincipal)
	decode(KeyOciDNS, &cfg.OciDNS)
	decode(KeyCmek, &cfg.Cmek)
	decode(KeyAudit, &cfg.Audit)

	if raw, ok := get(KeyDatabases); ok {
		var items []json.RawMessage
		if err := strictUnmarshal(raw, &items); err != nil {
			problems.add(KeyDatabases, "must be a list of database objects: %v", err)
		} else {
			cfg.Databases = make([]Database, len(items))
			for i, item := range items {
				cfg.Databases[i] = DefaultDatabase("")
				if err := strictUnmarshal(string(item), &cfg.Databases[i]); err != nil {
					problems.add(fmt.Sprintf("%s[%d]", KeyDatabases, i), "must be valid: %v", err)
				}
			}
		}
	}
	for i := range cfg.Databases {
		if cfg.Databases[i].DisplayName == "" {
			cfg.Databases[i].DisplayName = cfg.Databases[i].Name
		}
	}

	problems = append(problems, loadPasswords(project, src, cfg.Databases)...)
	if len(problems) > 0 {
		return cfg, problems
	}
	return cfg, nil
}

// loadPasswords attaches adminPasswords.<name> to each database. A password set without --secret is refused,
// so that it never sits in plain text in the stack file.
func loadPasswords(project string, src Source, dbs []Database) Problems {
	var problems Problems
	key := project + ":" + KeyAdminPasswords
	raw, ok := src.Get(key)
	if !ok {
		return problems // each database reports its missing password in Validate
	}
	if !src.IsSecret(key) {
		problems.add(KeyAdminPasswords, "must be set with `pulumi config set --secret`, not in plain text")
	}
	var passwords map[string]string
	if err := json.Unmarshal([]byte(raw), &passwords); err != nil {
		// Never echo the decoder's error: it can quote the secret.
		problems.add(KeyAdminPasswords, "must be an object mapping database names to passwords")
		return problems
	}
	known := map[string]bool{}
	for i := range dbs {
		known[dbs[i].Name] = true
		dbs[i].AdminPassword = Secret(passwords[dbs[i].Name])
	}
	var unknown []string
	for name := range passwords {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		problems.add(KeyAdminPasswords+"."+name, "names no database in %s", KeyDatabases)
	}
	return problems
}

func strictUnmarshal(raw string, into any) error {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the value")
	}
	return nil
}

// Problem is one broken rule, named by the config key it concerns.
type Problem struct {
	Key  string
	Rule string
}

// Problems are all the broken rules of a configuration; as an error it lists every one.
type Problems []Problem

func (p *Problems) add(key, format string, args ...any) {
	*p = append(*p, Problem{Key: key, Rule: fmt.Sprintf(format, args...)})
}

func (p Problems) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invalid stack configuration (%d problem", len(p))
	if len(p) != 1 {
		b.WriteString("s")
	}
	b.WriteString("); nothing was created:")
	for _, pr := range p {
		fmt.Fprintf(&b, "\n  - %s: %s", pr.Key, pr.Rule)
	}
	return b.String()
}

// PlainPasswords checks a stack file (Pulumi.<stack>.yaml) for admin passwords stored in plain text. The engine
// reports a config key as secret when any part of it is, so an object holding one secret password and one
// plain one passes the check in Load; only the stack file shows each entry as it is stored.
func PlainPasswords(project string, stackFile []byte) Problems {
	var file struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(stackFile, &file); err != nil {
		// The decoder's error is not quoted: it can carry a line of the file.
		return Problems{{Key: KeyAdminPasswords, Rule: "the stack file is not valid YAML, so no check shows " +
			"that every password is a secret"}}
	}
	node, ok := file.Config[project+":"+KeyAdminPasswords]
	if !ok || isSecure(&node) || node.Kind != yaml.MappingNode {
		return nil // absent, wholly secret, or of a shape that Load reports
	}
	var problems Problems
	for i := 0; i+1 < len(node.Content); i += 2 {
		if !isSecure(node.Content[i+1]) {
			problems.add(KeyAdminPasswords+"."+node.Content[i].Value, "is stored in plain text in the stack file: "+
				"set it with `pulumi config set --secret --path`")
		}
	}
	return problems
}

// isSecure reports whether a stack-file value is an encrypted one: a mapping with the single key "secure".
func isSecure(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode && len(n.Content) == 2 && n.Content[0].Value == "secure"
}
