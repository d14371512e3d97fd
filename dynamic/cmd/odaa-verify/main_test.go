// This file tests the command's own logic: flags, reading the stack through the (replaced) Pulumi CLI, exit
// statuses and the table; the checks themselves are tested in dynamic/verify.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
	"github.com/odaa-platform/adbs-hsm/dynamic/verify"
)

// The HSM URI is a loopback port nothing listens on, so every HSM call fails at once.
const outputs = `{"hsmName": "hsm-x", "hsmUri": "https://127.0.0.1:1/", "privateEndpointIp": "10.0.2.5",
  "keyId": "https://127.0.0.1:1/keys/cmk/v1", "securityDomainPath": "/nonexistent/hsm-x-sd.json",
  "servicePrincipalClientId": "app", "servicePrincipalObjectId": "obj", "servicePrincipalTenantId": "tenant",
  "servicePrincipalSecret": "secret-xyz", "databases": {}}`

func pulumi(_ context.Context, _ string, args ...string) ([]byte, error) {
	if args[0] == "stack" {
		return []byte(outputs), nil
	}
	return []byte(`{}`), nil
}

type resolver struct{}

func (resolver) LookupHost(context.Context, string) ([]string, error) {
	return []string{"10.0.2.5"}, nil
}

type noToken struct{}

func (noToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, errors.New("no token in tests")
}

func env(rotate bool, progress func(string)) (verify.Env, error) {
	return verify.Env{
		// No retries: a refused connection fails its check at once.
		HSM:      hsm.Options{ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}},
		Progress: progress,
		Resolver: resolver{},
		Operator: noToken{},
		PrincipalCredential: func(verify.ServicePrincipal) (azcore.TokenCredential, error) {
			return noToken{}, nil
		},
		OpenDB: func(context.Context, oracle.Conn) (*sql.DB, error) { return nil, errors.New("unreachable") },
		Rotate: rotate,
	}, nil
}

func TestRunPrintsTheTableAndFailsOnAFailedCheck(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"--stack", "dev"}, &stdout, &stderr, pulumi, env)
	assert.Equal(t, 1, code, stderr.String())
	out := stdout.String()
	assert.Contains(t, out, "STATUS")
	assert.Regexp(t, `PASS\s+Test 1\s+dns 127.0.0.1`, out)
	assert.Regexp(t, `FAIL\s+Test 3\s+key cmk`, out)
	// The default configuration has one database, whose connection string these outputs lack.
	assert.Regexp(t, `FAIL\s+Test 2\s+tablespaces adbhsmdemo\s+the stack outputs carry no connection string`, out)
	assert.Regexp(t, `SKIP\s+Test 5\s+rotation cmk`, out)
	assert.Contains(t, out, "1 passed, 6 failed, 2 skipped")
	assert.NotContains(t, out+stderr.String(), "secret-xyz")
	assert.Contains(t, stderr.String(), "checking dns")
}

func TestRunCannotStart(t *testing.T) {
	failingPulumi := func(context.Context, string, ...string) ([]byte, error) {
		return nil, errors.New("no stack named dev")
	}
	noEnv := func(bool, func(string)) (verify.Env, error) { return verify.Env{}, errors.New("no credential") }
	for _, tc := range []struct {
		name   string
		args   []string
		pulumi verify.Runner
		newEnv func(bool, func(string)) (verify.Env, error)
		want   string
	}{
		{"unknown-flag", []string{"--nope"}, pulumi, env, "flag provided but not defined"},
		{"extra-argument", []string{"dev"}, pulumi, env, "unexpected arguments dev"},
		{"no-stack", nil, failingPulumi, env, "no stack named dev"},
		{"no-credential", nil, pulumi, noEnv, "no credential"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tc.args, &stdout, &stderr, tc.pulumi, tc.newEnv)
			assert.Equal(t, 2, code)
			assert.Contains(t, stderr.String(), tc.want)
			assert.Empty(t, strings.TrimSpace(stdout.String()))
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, 0, run(t.Context(), []string{"-h"}, &stdout, &stderr, pulumi, env))
	assert.Contains(t, stderr.String(), "-rotate")
}
