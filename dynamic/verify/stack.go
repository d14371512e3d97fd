// This file reads what the checks need from a deployed stack: its outputs (`pulumi stack output --json
// --show-secrets`) and its configuration (`pulumi config --json --show-secrets`), the latter through the
// program's own typed configuration, so defaults and key names are the program's.
package verify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"sort"
	"strings"

	"github.com/odaa-platform/adbs-hsm/internal/config"
)

// Project is the Pulumi project whose namespace holds the configuration.
const Project = "odaa-adbs-hsm"

// Secret holds a credential; it prints a placeholder so that a result, a log line or %v never shows it.
type Secret string

// String hides the value.
func (Secret) String() string { return "[secret]" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return "[secret]" }

// Stack is what the checks know about one deployed stack.
type Stack struct {
	HsmName            string
	HsmURI             string
	PrivateEndpointIP  string
	SecurityDomainPath string
	// SecurityDomainKeys are the private key files the quorum proof uses: given on the command line, or the
	// ones the program generated into hsm.securityDomain.keyDirectory.
	SecurityDomainKeys []string
	Key                KeySpec
	ServicePrincipal   ServicePrincipal
	Databases          []Database
}

// ServicePrincipal is the guide's service principal (step 5) and the role the stack gave it.
type ServicePrincipal struct {
	ClientID string
	ObjectID string
	TenantID string
	Secret   Secret
	Role     string
	// Scope of Role, as configured: "/", "/keys" or "/keys/<name>".
	Scope string
}

// Database is how the database checks reach one Autonomous Database as ADMIN.
type Database struct {
	Name            string
	ConnectString   string
	WalletDirectory string
	Password        Secret
}

// HsmHost returns the HSM's host name from its URI.
func (s Stack) HsmHost() string {
	u, err := url.Parse(s.HsmURI)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

type outputs struct {
	HsmName                  string `json:"hsmName"`
	HsmURI                   string `json:"hsmUri"`
	KeyID                    string `json:"keyId"`
	PrivateEndpointIP        string `json:"privateEndpointIp"`
	SecurityDomainPath       string `json:"securityDomainPath"`
	ServicePrincipalClientID string `json:"servicePrincipalClientId"`
	ServicePrincipalObjectID string `json:"servicePrincipalObjectId"`
	ServicePrincipalTenantID string `json:"servicePrincipalTenantId"`
	ServicePrincipalSecret   string `json:"servicePrincipalSecret"`
	Databases                map[string]struct {
		ConnectionStrings map[string]string `json:"connectionStrings"`
	} `json:"databases"`
}

// configEntry is one key of `pulumi config --json`: objects come as a JSON string in value and parsed in
// objectValue.
type configEntry struct {
	Value       *string         `json:"value"`
	ObjectValue json.RawMessage `json:"objectValue"`
	Secret      bool            `json:"secret"`
}

// jsonSource serves config.Load from `pulumi config --json` output.
type jsonSource map[string]configEntry

func (s jsonSource) Get(key string) (string, bool) {
	e, ok := s[key]
	switch {
	case !ok:
		return "", false
	case e.Value != nil:
		return *e.Value, true
	case len(e.ObjectValue) > 0:
		return string(e.ObjectValue), true
	}
	return "", false
}

func (s jsonSource) IsSecret(key string) bool { return s[key].Secret }

// ParseStack builds a Stack from the JSON of `pulumi stack output --json --show-secrets` and of `pulumi config
// --json --show-secrets`. keyFiles, when given, are the security-domain private keys; otherwise the keys the
// program generated (<keyDirectory>/<hsm>-sd-key<n>.pem) are used, found with glob.
func ParseStack(outputJSON, configJSON []byte, keyFiles []string, glob func(string) ([]string, error)) (Stack,
	error) {
	var out outputs
	if err := json.Unmarshal(outputJSON, &out); err != nil {
		return Stack{}, fmt.Errorf("reading the stack outputs: %w", err)
	}
	var src jsonSource
	if err := json.Unmarshal(configJSON, &src); err != nil {
		return Stack{}, fmt.Errorf("reading the stack configuration: %w", err)
	}
	cfg, err := config.Load(Project, src)
	if err != nil {
		return Stack{}, fmt.Errorf("reading the stack configuration: %w", err)
	}

	var missing []string
	for name, v := range map[string]string{
		"hsmName":                  out.HsmName,
		"hsmUri":                   out.HsmURI,
		"servicePrincipalClientId": out.ServicePrincipalClientID,
		"servicePrincipalTenantId": out.ServicePrincipalTenantID,
		"servicePrincipalSecret":   out.ServicePrincipalSecret,
	} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return Stack{}, fmt.Errorf("reading the stack outputs: %s missing: has the stack been deployed, and were "+
			"the outputs read with --show-secrets?", strings.Join(missing, ", "))
	}

	s := Stack{
		HsmName:            out.HsmName,
		HsmURI:             out.HsmURI,
		PrivateEndpointIP:  out.PrivateEndpointIP,
		SecurityDomainPath: out.SecurityDomainPath,
		Key: KeySpec{Name: cfg.Hsm.Key.Name, Type: cfg.Hsm.Key.Type, Size: cfg.Hsm.Key.Size,
			Operations: cfg.Hsm.Key.Operations},
		ServicePrincipal: ServicePrincipal{ClientID: out.ServicePrincipalClientID,
			ObjectID: out.ServicePrincipalObjectID, TenantID: out.ServicePrincipalTenantID,
			Secret: Secret(out.ServicePrincipalSecret), Role: cfg.ServicePrincipal.Role,
			Scope: cfg.ServicePrincipal.Scope},
		SecurityDomainKeys: keyFiles,
	}
	if name := keyNameFromID(out.KeyID); name != "" {
		s.Key.Name = name
	}
	if len(s.SecurityDomainKeys) == 0 && len(cfg.Hsm.SecurityDomain.Certificates) == 0 {
		pattern := filepath.Join(cfg.Hsm.SecurityDomain.KeyDirectory, out.HsmName+"-sd-key*.pem")
		found, err := glob(pattern)
		if err != nil {
			return Stack{}, fmt.Errorf("finding the generated security-domain keys %s: %w", pattern, err)
		}
		s.SecurityDomainKeys = found
	}
	for _, d := range cfg.Databases {
		db := Database{Name: d.Name, WalletDirectory: d.WalletDirectory, Password: Secret(d.AdminPassword.Reveal())}
		if o, ok := out.Databases[d.Name]; ok {
			db.ConnectString = o.ConnectionStrings["high"]
		}
		s.Databases = append(s.Databases, db)
	}
	return s, nil
}

// keyNameFromID returns the key name of https://<hsm>/keys/<name>/<version>, or "".
func keyNameFromID(id string) string {
	u, err := url.Parse(id)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) >= 2 && parts[0] == "keys" {
		return parts[1]
	}
	return ""
}
