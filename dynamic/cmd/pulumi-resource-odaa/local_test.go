// This file tests the local mode against the fake HSM: with the variables set, the plugin's clients reach the
// fake for an HSM URL under managedhsm.azure.net and for Resource Manager; without them, nothing changes.
package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

func localEnv(t *testing.T, srv *fakehsm.Server, principal string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	ca, token := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(ca, srv.CertificatePEM(), 0o600))
	require.NoError(t, os.WriteFile(token, []byte(srv.Token(principal)+"\n"), 0o600))
	return map[string]string{envEndpoint: srv.URL(), envCAFile: ca, envTokenFile: token}
}

func TestLocalModeReachesTheFakeHsm(t *testing.T) {
	srv := fakehsm.New(t, fakehsm.WithActivated())
	env := localEnv(t, srv, fakehsm.DefaultAdministratorID)
	opts, err := localOptions(func(k string) string { return env[k] })
	require.NoError(t, err)
	ctx := context.Background()

	res, err := hsm.NewManagementClient(opts.Credential, opts.HSM).Get(ctx, srv.ARMID())
	require.NoError(t, err, "Resource Manager through the local endpoint")
	assert.NotEmpty(t, res)

	rbac, err := hsm.NewRBACClient("https://"+fakehsm.DefaultName+".managedhsm.azure.net/", opts.Credential,
		opts.HSM)
	require.NoError(t, err)
	page, err := rbac.NewListRoleAssignmentsPager("/", nil).NextPage(ctx)
	require.NoError(t, err, "the HSM data plane through the local endpoint")
	assert.NotEmpty(t, page.Value, "the fake's administrator holds a role assignment")
}

func TestLocalModeIsOffWithoutTheEndpoint(t *testing.T) {
	opts, err := localOptions(func(string) string { return "" })
	require.NoError(t, err)
	assert.Nil(t, opts.Credential)
	assert.Nil(t, opts.HSM.ClientOptions.Transport)
}

func TestLocalModeRefusesWhatItCannotUse(t *testing.T) {
	srv := fakehsm.New(t)
	good := localEnv(t, srv, fakehsm.DefaultAdministratorID)
	for name, change := range map[string]func(map[string]string){
		"not loopback":  func(e map[string]string) { e[envEndpoint] = "https://hsm.example.com/" },
		"not https":     func(e map[string]string) { e[envEndpoint] = "http://127.0.0.1:1/" },
		"no CA":         func(e map[string]string) { delete(e, envCAFile) },
		"no token file": func(e map[string]string) { e[envTokenFile] = filepath.Join(t.TempDir(), "none") },
		"CA not PEM":    func(e map[string]string) { e[envCAFile] = e[envTokenFile] },
	} {
		env := map[string]string{}
		for k, v := range good {
			env[k] = v
		}
		change(env)
		_, err := localOptions(func(k string) string { return env[k] })
		assert.Error(t, err, name)
	}
}
