// This file holds the plugin's local mode: environment variables, read only when set, that point every Azure
// call (HSM data plane and Resource Manager) at a local stand-in such as odaa-fakehsm, for rehearsals.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/provider"
)

// The local mode's variables. ODAA_HSM_ENDPOINT (an https URL on a loopback address) turns it on and then
// needs the other two: the PEM certificate to trust there, and a file holding the bearer token to send.
const (
	envEndpoint  = "ODAA_HSM_ENDPOINT"
	envCAFile    = "ODAA_HSM_CA_FILE"
	envTokenFile = "ODAA_HSM_TOKEN_FILE"
)

// localOptions returns the plugin's options: the defaults when ODAA_HSM_ENDPOINT is unset, else clients that
// send every Azure request to that endpoint, trusting only its certificate and signing with the token.
func localOptions(getenv func(string) string) (provider.Options, error) {
	endpoint := getenv(envEndpoint)
	if endpoint == "" {
		return provider.Options{}, nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return provider.Options{}, fmt.Errorf("%s=%q: must be an https URL with a host", envEndpoint, endpoint)
	}
	if !loopback(u.Hostname()) {
		return provider.Options{}, fmt.Errorf("%s=%q: the local mode reaches loopback addresses only",
			envEndpoint, endpoint)
	}
	caFile, tokenFile := getenv(envCAFile), getenv(envTokenFile)
	if caFile == "" || tokenFile == "" {
		return provider.Options{}, fmt.Errorf("%s is set, so %s and %s must be too", envEndpoint, envCAFile,
			envTokenFile)
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return provider.Options{}, fmt.Errorf("%s: reading the certificate: %w", envCAFile, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return provider.Options{}, fmt.Errorf("%s=%s: no PEM certificate in it", envCAFile, caFile)
	}
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		return provider.Options{}, fmt.Errorf("%s: reading the token: %w", envTokenFile, err)
	}
	if strings.TrimSpace(string(token)) == "" {
		return provider.Options{}, fmt.Errorf("%s=%s: the file is empty", envTokenFile, tokenFile)
	}

	base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	client := &http.Client{Transport: redirect{to: u, next: base}, Timeout: 2 * time.Minute}
	endpointURL := strings.TrimSuffix(u.String(), "/") + "/"
	return provider.Options{
		Credential: staticToken(strings.TrimSpace(string(token))),
		HSM: hsm.Options{
			ClientOptions: azcore.ClientOptions{
				Transport: client,
				Cloud: cloud.Configuration{
					ActiveDirectoryAuthorityHost: endpointURL,
					Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
						cloud.ResourceManager: {Endpoint: endpointURL, Audience: "https://management.azure.com"},
					},
				},
			},
			// The stand-in's host is not under managedhsm.azure.net.
			DisableChallengeResourceVerification: true,
		},
	}, nil
}

// loopback reports whether host names this machine: localhost or an address in 127.0.0.0/8 or ::1.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// redirect sends every request to the local endpoint, keeping its path and query: the HSM's own URL
// (https://<name>.managedhsm.azure.net) comes from the stack's state and cannot be pointed elsewhere.
type redirect struct {
	to   *url.URL
	next http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.to.Scheme, r.to.Host, r.to.Host
	return r.next.RoundTrip(req)
}

// Do lets redirect serve as azcore's Transporter too.
func (r redirect) Do(req *http.Request) (*http.Response, error) { return r.RoundTrip(req) }

// staticToken hands out one bearer token for every scope: the local stand-in's.
type staticToken string

func (t staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	if t == "" {
		return azcore.AccessToken{}, errors.New("local mode: no token")
	}
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(time.Hour)}, nil
}
