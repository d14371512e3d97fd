package hsm

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
)

// NewKeysClient returns the azkeys client of the HSM at hsmURI.
func NewKeysClient(hsmURI string, cred azcore.TokenCredential, opts Options) (*azkeys.Client, error) {
	u, err := checkURI(hsmURI)
	if err != nil {
		return nil, err
	}
	return azkeys.NewClient(u, cred, &azkeys.ClientOptions{ClientOptions: opts.ClientOptions,
		DisableChallengeResourceVerification: opts.DisableChallengeResourceVerification})
}

// NewRBACClient returns the local RBAC client of the HSM at hsmURI.
func NewRBACClient(hsmURI string, cred azcore.TokenCredential, opts Options) (*rbac.Client, error) {
	u, err := checkURI(hsmURI)
	if err != nil {
		return nil, err
	}
	return rbac.NewClient(u, cred, &rbac.ClientOptions{ClientOptions: opts.ClientOptions,
		DisableChallengeResourceVerification: opts.DisableChallengeResourceVerification})
}

// checkURI accepts an https URL with a host and returns it without a trailing slash.
func checkURI(hsmURI string) (string, error) {
	u, err := url.Parse(hsmURI)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("HSM URI %q must be an https URL with a host", hsmURI)
	}
	return strings.TrimSuffix(hsmURI, "/"), nil
}
