// This file runs the command's serve and points a client at it through the env file it writes.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
)

type fileToken string

func (f fileToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	data, err := os.ReadFile(string(f))
	return azcore.AccessToken{Token: strings.TrimSpace(string(data))}, err
}

func TestServeWritesWhatPointsAClientAtIt(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	envFiles := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- serve(ctx, []string{"-dir", dir, "-name", "hsm-rehearsal", "-subscription", "sub-1",
			"-resource-group", "rg-1"}, io.Discard, func(f string) { envFiles <- f })
	}()
	envFile := <-envFiles

	data, err := os.ReadFile(envFile)
	require.NoError(t, err)
	env := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(line, "=")
		env[k] = v
	}
	info, err := os.Stat(env["ODAA_HSM_TOKEN_FILE"])
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	ca, err := os.ReadFile(env["ODAA_HSM_CA_FILE"])
	require.NoError(t, err)
	transport := trusting(t, ca)
	opts := hsm.Options{ClientOptions: azcore.ClientOptions{Transport: transport, Cloud: cloud.Configuration{
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
			cloud.ResourceManager: {Endpoint: env["ODAA_HSM_ENDPOINT"], Audience: "https://management.azure.com"},
		}}}}
	id := "/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.KeyVault/managedHSMs/hsm-rehearsal"
	res, err := hsm.NewManagementClient(fileToken(env["ODAA_HSM_TOKEN_FILE"]), opts).Get(ctx, id)
	require.NoError(t, err, "reading the served HSM with the written token and certificate")
	assert.NotEmpty(t, res)

	cancel()
	require.NoError(t, <-done)
}

// trusting returns an HTTP client that trusts only the PEM certificate ca.
func trusting(t *testing.T, ca []byte) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(ca), "ca.pem holds no certificate")
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		MinVersion: tls.VersionTLS12}}}
}
