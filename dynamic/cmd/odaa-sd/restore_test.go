// This file tests `odaa-sd restore` against fake HSMs: a domain downloaded from one restored into a new one
// from key files, and the exit codes of refusals, failures and flag mistakes.

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// activated activates a fake HSM by download to three generated key pairs (quorum 2) and writes its domain
// and the key files as an operator keeps them: the first key file with its certificate, the others without.
func activated(t *testing.T) (source *fakehsm.Server, domainPath string, keyPaths []string) {
	t.Helper()
	dir := t.TempDir()
	var certs []*x509.Certificate
	for i := range 3 {
		certPEM, keyPEM, err := securitydomain.GenerateKeyPair(2048, "holder")
		require.NoError(t, err)
		kp, err := securitydomain.LoadKeyPair(certPEM, keyPEM)
		require.NoError(t, err)
		certs = append(certs, kp.Cert)
		content := keyPEM
		if i == 0 {
			content = append(append([]byte{}, certPEM...), keyPEM...)
		}
		path := filepath.Join(dir, "sd-key"+string(rune('1'+i))+".pem")
		require.NoError(t, os.WriteFile(path, content, 0o600))
		keyPaths = append(keyPaths, path)
	}
	source = fakehsm.New(t, fakehsm.WithPendingPolls(0))
	sd, err := hsm.NewSecurityDomainClient(source.URL(), source.Credential(fakehsm.DefaultAdministratorID),
		fakeOptions(source))
	require.NoError(t, err)
	body, err := securitydomain.NewDownloadRequest(certs, 2)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	raw, _, err := sd.Download(ctx, body)
	require.NoError(t, err)
	st, err := sd.DownloadStatus(ctx)
	require.NoError(t, err)
	require.True(t, st.Done() && source.Activated())
	domainPath = filepath.Join(dir, "sd.json")
	require.NoError(t, os.WriteFile(domainPath, raw, 0o600))
	return source, domainPath, keyPaths
}

func fakeOptions(fake *fakehsm.Server) hsm.Options {
	return hsm.Options{
		ClientOptions: azcore.ClientOptions{Transport: fake.Client(),
			Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: "https://login.invalid/",
				Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
					cloud.ResourceManager: {Endpoint: fake.ARMEndpoint(), Audience: "https://management.azure.com"},
				}},
			Retry: policy.RetryOptions{MaxRetries: 2, RetryDelay: time.Millisecond,
				MaxRetryDelay: 10 * time.Millisecond}},
		DisableChallengeResourceVerification: true,
	}
}

// fakeEnv signs in as the fake's initial administrator and records the pauses instead of sleeping.
func fakeEnv(fake *fakehsm.Server, sleeps *[]time.Duration) env {
	var mu sync.Mutex
	return env{
		credential: func(hsm.Options) (azcore.TokenCredential, error) {
			return fake.Credential(fakehsm.DefaultAdministratorID), nil
		},
		hsm: fakeOptions(fake),
		sleep: func(d time.Duration) <-chan time.Time {
			mu.Lock()
			defer mu.Unlock()
			*sleeps = append(*sleeps, d)
			ch := make(chan time.Time, 1)
			ch <- time.Time{}
			return ch
		},
	}
}

func runRestore(e env, args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := runWith(append([]string{"restore"}, args...), &out, &errOut, e)
	return code, out.String(), errOut.String()
}

func TestRestoreCommandRestoresIntoANewHSM(t *testing.T) {
	source, domain, keys := activated(t)
	target := fakehsm.New(t, fakehsm.WithPendingPolls(1), fakehsm.WithRetryAfter("5"))
	var sleeps []time.Duration

	code, out, errOut := runRestore(fakeEnv(target, &sleeps), "--hsm-uri", target.URL(), "--hsm-id",
		target.ARMID(), "--domain", domain, "--key", keys[0], "--key", keys[2], "--timeout", "2m")
	require.Equal(t, 0, code, "stderr: %s", errOut)
	assert.True(t, target.Activated())
	assert.Equal(t, source.Items(), target.Items())
	assert.Contains(t, out, "is active with the restored security domain: 3 items, quorum 2 of 3 shares met "+
		"with 2 keys")
	assert.Contains(t, out, "az keyvault key restore")
	assert.Contains(t, errOut, "fetching the transfer key")
	assert.NotContains(t, errOut, "warning:", "the key files are private")
	assert.Contains(t, errOut, "of 2m0s, next in 5s")
	assert.Equal(t, []time.Duration{5 * time.Second, 5 * time.Second}, sleeps)
	for _, path := range keys {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		const marker = "PRIVATE KEY-----\n"
		at := strings.Index(string(data), marker)
		require.Positive(t, at)
		assert.NotContains(t, out+errOut, string(data)[at+len(marker):at+len(marker)+64], "no key printed")
	}
}

func TestRestoreCommandFailures(t *testing.T) {
	source, domain, keys := activated(t)
	var sleeps []time.Duration

	t.Run("one-key-of-three", func(t *testing.T) {
		target := fakehsm.New(t)
		code, out, errOut := runRestore(fakeEnv(target, &sleeps), "--hsm-uri", target.URL(), "--domain", domain,
			"--key", keys[1])
		assert.Equal(t, 1, code)
		assert.Empty(t, out)
		assert.Contains(t, errOut, "odaa-sd restore: restoring the security domain into managed HSM")
		assert.Contains(t, errOut, "too few keys")
		assert.Empty(t, target.RequestLog())
	})
	t.Run("an-active-hsm", func(t *testing.T) {
		code, _, errOut := runRestore(fakeEnv(source, &sleeps), "--hsm-uri", source.URL(), "--domain", domain,
			"--key", keys[0], "--key", keys[1])
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "already active")
		assert.Zero(t, source.Requests(fakehsm.RouteSecurityDomainUpload))
	})
	t.Run("an-active-hsm-named-by-its-arm-id", func(t *testing.T) {
		code, _, errOut := runRestore(fakeEnv(source, &sleeps), "--hsm-uri", source.URL(), "--hsm-id",
			source.ARMID(), "--domain", domain, "--key", keys[0], "--key", keys[1])
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "Azure Resource Manager reports its activationStatus Active")
	})
	t.Run("upload-failed", func(t *testing.T) {
		target := fakehsm.New(t, fakehsm.WithUploadFailure("the HSM is unhappy"))
		code, _, errOut := runRestore(fakeEnv(target, &sleeps), "--hsm-uri", target.URL(), "--domain", domain,
			"--key", keys[0], "--key", keys[1])
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "upload failed: the HSM is unhappy")
	})
	t.Run("no-credentials", func(t *testing.T) {
		target := fakehsm.New(t)
		e := fakeEnv(target, &sleeps)
		e.credential = func(hsm.Options) (azcore.TokenCredential, error) {
			return nil, errors.New("finding Azure credentials: none")
		}
		code, _, errOut := runRestore(e, "--hsm-uri", target.URL(), "--domain", domain, "--key", keys[0],
			"--key", keys[1])
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "finding Azure credentials")
		assert.Empty(t, target.RequestLog())
	})
	t.Run("a-key-file-others-can-read", func(t *testing.T) {
		shared := filepath.Join(t.TempDir(), "shared-key.pem")
		data, err := os.ReadFile(keys[1])
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(shared, data, 0o600))
		require.NoError(t, os.Chmod(shared, 0o644))
		target := fakehsm.New(t)
		code, _, errOut := runRestore(fakeEnv(target, &sleeps), "--hsm-uri", target.URL(), "--domain", domain,
			"--key", shared)
		assert.Equal(t, 1, code, "one key is still too few")
		assert.Contains(t, errOut, "warning: "+shared+" is readable by others (mode 0644)")
	})
	t.Run("missing-files", func(t *testing.T) {
		target := fakehsm.New(t)
		code, _, errOut := runRestore(fakeEnv(target, &sleeps), "--hsm-uri", target.URL(), "--domain",
			domain+".missing", "--key", keys[0], "--key", keys[1])
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "no such file")
	})
}

func TestRestoreCommandUsage(t *testing.T) {
	var sleeps []time.Duration
	target := fakehsm.New(t)
	e := fakeEnv(target, &sleeps)
	uri := target.URL()
	cases := map[string][]string{
		"no-flags":       {},
		"no-hsm-uri":     {"--domain", "d", "--key", "k"},
		"no-domain":      {"--hsm-uri", uri, "--key", "k"},
		"no-key":         {"--hsm-uri", uri, "--domain", "d"},
		"plain-http":     {"--hsm-uri", "http://example.managedhsm.azure.net", "--domain", "d", "--key", "k"},
		"not-a-url":      {"--hsm-uri", "example", "--domain", "d", "--key", "k"},
		"unknown-flag":   {"--hsm", uri, "--domain", "d", "--key", "k"},
		"extra-argument": {"--hsm-uri", uri, "--domain", "d", "--key", "k", "extra"},
		"zero-timeout":   {"--hsm-uri", uri, "--domain", "d", "--key", "k", "--timeout", "0s"},
		"bad-timeout":    {"--hsm-uri", uri, "--domain", "d", "--key", "k", "--timeout", "soon"},
		"bad-hsm-id":     {"--hsm-uri", uri, "--hsm-id", "/subscriptions/s", "--domain", "d", "--key", "k"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runRestore(e, args...)
			assert.Equal(t, 2, code, "stderr: %s", errOut)
			assert.Empty(t, out)
			assert.Contains(t, errOut, "odaa-sd restore: usage")
		})
	}
	assert.Empty(t, target.RequestLog())

	code, out, errOut := runRestore(e, "--help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out+errOut, "-hsm-uri")
	assert.NotContains(t, errOut, "help requested")

	var stdout, stderr bytes.Buffer
	assert.Equal(t, 0, runWith([]string{"--help"}, &stdout, &stderr, e))
	assert.Contains(t, stdout.String(), "odaa-sd restore --hsm-uri")
}
