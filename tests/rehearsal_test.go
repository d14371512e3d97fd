//go:build rehearsal

// This file runs the program under the real Pulumi engine against the stand-in clouds of tests/rehearsal:
// `go test -tags rehearsal ./tests/ -run TestRehearsal`. It needs the pinned CLI (`make cli`, or PULUMI_CLI
// naming one) and no account; it builds the stand-ins itself and keeps everything in a temporary directory.
package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
	"github.com/odaa-platform/adbs-hsm/tests/rehearsal"
)

// rehearsalTimeout bounds one whole rehearsal; a warm one takes seconds.
const rehearsalTimeout = 5 * time.Minute

// sharedBin holds the plugins every test's rehearsal runs, built once per test binary: a link of the real
// plugin takes seconds.
var sharedBin struct {
	dir  string
	once sync.Once
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rehearsal-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "making the rehearsal's plugin directory: %v\n", err)
		os.Exit(1)
	}
	sharedBin.dir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// prepareRehearsal lays out a stack in a temporary directory, from the repository's Pulumi.dev.yaml.
func prepareRehearsal(t *testing.T) (context.Context, *rehearsal.Rehearsal) {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	cli := os.Getenv("PULUMI_CLI")
	if cli == "" {
		cli = filepath.Join(root, ".cache", "bin", "pulumi")
	}
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the Pulumi CLI %s is missing: run `make cli` or set PULUMI_CLI (%v)", cli, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), rehearsalTimeout)
	t.Cleanup(cancel)
	sharedBin.once.Do(func() { sharedBin.err = rehearsal.Build(ctx, root, sharedBin.dir) })
	require.NoError(t, sharedBin.err)
	r, err := rehearsal.Prepare(ctx, rehearsal.Options{Root: root, Dir: t.TempDir(), CLI: cli, Stack: "dev",
		Progress: testWriter{t}, Bin: sharedBin.dir})
	require.NoError(t, err)
	t.Cleanup(r.Close)
	return ctx, r
}

func TestRehearsal(t *testing.T) {
	ctx, r := prepareRehearsal(t)
	summary, err := rehearsal.Run(ctx, r, t.Logf)
	for _, line := range summary.Lines() {
		t.Log(line)
	}
	require.NoError(t, err)

	assert.Positive(t, summary.FirstUp["create"])
	assert.Equal(t, map[string]int{"same": summary.FirstUp["create"]}, summary.SecondUp,
		"the second up must change nothing")

	var hsmSteps []rehearsal.Step
	for _, st := range summary.TagPreview {
		if st.Type == "azure-native:keyvault:ManagedHsm" {
			hsmSteps = append(hsmSteps, st)
		}
	}
	require.Len(t, hsmSteps, 1, "the tag change must plan one step for the HSM")
	assert.Equal(t, "update", hsmSteps[0].Op, "a tag change updates the HSM in place, never replaces it")
	assert.Equal(t, []string{"tags"}, hsmSteps[0].Diffs)
	assert.False(t, summary.HsmDeleted, "destroy must retain the HSM")
	assert.Equal(t, summary.FirstUp["create"], summary.Destroy["delete"])
}

// TestRehearsalStateKeepsSecretsEncrypted looks for every secret of a deployed stack in the raw state file:
// the administrator password the rehearsal set, the client secrets the stand-in returns, and the security
// domain and generated private keys the real odaa plugin wrote to disk after downloading from the fake HSM.
func TestRehearsalStateKeepsSecretsEncrypted(t *testing.T) {
	ctx, r := prepareRehearsal(t)
	_, err := r.Up(ctx)
	require.NoError(t, err)
	state, err := r.StateFile()
	require.NoError(t, err)

	secrets := append([]string(nil), r.Secrets...)
	require.NotEmpty(t, secrets, "the rehearsal set no admin password")
	cloud := mockcloud.New()
	// The client secrets of both rotation slots; the newest is the stack's servicePrincipalSecret.
	var clientSecrets []any
	for _, slot := range []string{"service-principal-secret-a", "service-principal-secret-b"} {
		_, password := cloud.Create("azuread:index/applicationPassword:ApplicationPassword", slot,
			resource.PropertyMap{})
		clientSecrets = append(clientSecrets, secretString(t, password, "value"))
		secrets = append(secrets, secretString(t, password, "value"))
	}

	// The real plugin's: the downloaded security domain and the private keys it generated, as written to disk.
	domain := securityDomain(ctx, t, r)
	path := r.WorkPath(domain.Outputs["securityDomainPath"].(string))
	sd, err := os.ReadFile(path)
	require.NoError(t, err)
	secrets = append(secrets, secretPieces(t, sd)...)
	keys, err := filepath.Glob(strings.TrimSuffix(path, ".json") + "-key*.pem")
	require.NoError(t, err)
	require.Len(t, keys, 3, "the plugin generated no private key per certificate next to %s", path)
	for _, k := range keys {
		pem, err := os.ReadFile(k)
		require.NoError(t, err)
		secrets = append(secrets, secretPieces(t, pem)...)
	}
	for _, out := range []string{"securityDomain", "privateKeys"} {
		assert.Contains(t, domain.AdditionalSecretOutputs, resource.PropertyKey(out),
			"the security domain's %s is not a secret output", out)
	}

	outputs, err := r.Stack.Outputs(ctx)
	require.NoError(t, err)
	require.True(t, outputs["servicePrincipalSecret"].Secret, "the client secret output must be a secret")
	assert.Contains(t, clientSecrets, outputs["servicePrincipalSecret"].Value,
		"the stand-in returned another client secret than the table's")

	for _, s := range secrets {
		assert.False(t, bytes.Contains(state, []byte(s)), "a secret is in the state file in plain text")
	}
	// The state holds them, encrypted: the secret signature marks each.
	assert.Contains(t, string(state), resource.SecretSig)
}

// TestRehearsalSecurityDomainSurvivesInterruptedUp kills an up once the real plugin has downloaded the security
// domain from the fake HSM, which refuses a second download: the next up must converge without downloading
// again, and the file (0600) must be the one first written.
func TestRehearsalSecurityDomainSurvivesInterruptedUp(t *testing.T) {
	ctx, r := prepareRehearsal(t)
	upCtx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	ch := make(chan events.EngineEvent)
	drained := make(chan bool)
	go func() {
		interrupted := false
		for e := range ch {
			if e.ResOutputsEvent != nil && e.ResOutputsEvent.Metadata.Op == "create" &&
				e.ResOutputsEvent.Metadata.Type == "odaa:hsm:SecurityDomain" {
				interrupt()
				interrupted = true
			}
		}
		drained <- interrupted
	}()
	_, err := r.Stack.Up(upCtx, optup.EventStreams(ch))
	interrupted := <-drained
	require.True(t, interrupted, "the security domain was not created before the run ended")
	require.Error(t, err, "the interrupted up reported success")

	path := r.WorkPath(securityDomain(ctx, t, r).Outputs["securityDomainPath"].(string))
	first, err := os.ReadFile(path)
	require.NoError(t, err, "the interrupted up left no security domain file")
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the security domain file is not 0600")

	_, err = r.Up(ctx)
	require.NoError(t, err, "up after an up interrupted past the download (a second download is refused)")
	again, err := r.Up(ctx)
	require.NoError(t, err)
	for op, n := range again {
		assert.True(t, op == "same" || n == 0, "after recovery an up still plans %d %s", n, op)
	}
	last, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, first, last, "the security domain file changed after the interrupted up")
	info, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

// TestRehearsalScriptsTheOracleSteps checks the real plugin's script mode under the engine: the SQL and OCI
// steps are in the script (0600), and the consent got the placeholder client ID that real Entra ID refuses
// (the stand-in for azuread accepts it: see docs/rehearsal.md).
func TestRehearsalScriptsTheOracleSteps(t *testing.T) {
	ctx, r := prepareRehearsal(t)
	_, err := r.Up(ctx)
	require.NoError(t, err)

	script, err := os.ReadFile(r.ScriptPath())
	require.NoError(t, err)
	info, err := os.Stat(r.ScriptPath())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the script is not 0600")
	for _, step := range []string{"DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE", "ALTER DATABASE PROPERTY SET",
		"DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH", "PUT /20160918/autonomousDatabases/", "V$ENCRYPTION_WALLET"} {
		assert.Contains(t, string(script), step, "the script lacks a step")
	}
	for _, s := range r.Secrets {
		assert.NotContains(t, string(script), s, "the script holds an administrator password")
	}

	consents, err := r.Resources(ctx, "azuread:index/servicePrincipal:ServicePrincipal")
	require.NoError(t, err)
	var clientIDs []any
	for _, c := range consents {
		clientIDs = append(clientIDs, c.Inputs["clientId"])
	}
	assert.Contains(t, clientIDs, "SCRIPTED-unknown-run-the-script-then-pulumi-up-without-ODAA_SQL_SCRIPT",
		"the consent did not get script mode's placeholder client ID")
}

// securityDomain returns the one SecurityDomain resource in the stack's state.
func securityDomain(ctx context.Context, t *testing.T, r *rehearsal.Rehearsal) apitype.ResourceV3 {
	t.Helper()
	found, err := r.Resources(ctx, "odaa:hsm:SecurityDomain")
	require.NoError(t, err)
	require.Len(t, found, 1, "the state holds no security domain")
	return found[0]
}

// secretPieces are what to look for of a secret file in the state: the file as JSON would quote it, and each
// of its long lines (a PEM body line, or a compact JSON document), which survive any quoting.
func secretPieces(t *testing.T, data []byte) []string {
	t.Helper()
	quoted, err := json.Marshal(string(data))
	require.NoError(t, err)
	pieces := []string{strings.Trim(string(quoted), `"`)}
	for _, line := range strings.Split(string(data), "\n") {
		if line = strings.TrimSpace(line); len(line) >= 40 && !strings.HasPrefix(line, "-----") {
			pieces = append(pieces, line)
		}
	}
	require.Greater(t, len(pieces), 1, "a secret file with no long line")
	return pieces
}

// TestRehearsalInterruptedUpRecovers kills the CLI as soon as the first resource is created, then runs up
// again: the second run must converge, and a third must find nothing to do.
func TestRehearsalInterruptedUpRecovers(t *testing.T) {
	ctx, r := prepareRehearsal(t)
	upCtx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	ch := make(chan events.EngineEvent)
	drained := make(chan bool)
	go func() {
		interrupted := false
		for e := range ch {
			if e.ResOutputsEvent != nil && e.ResOutputsEvent.Metadata.Op == "create" &&
				!strings.HasPrefix(e.ResOutputsEvent.Metadata.Type, "pulumi:") {
				interrupt()
				interrupted = true
			}
		}
		drained <- interrupted
	}()
	_, err := r.Stack.Up(upCtx, optup.EventStreams(ch))
	interrupted := <-drained
	require.True(t, interrupted, "no resource was created before the run ended")
	require.Error(t, err, "the interrupted up reported success")

	_, err = r.Up(ctx)
	require.NoError(t, err, "up after an interrupted up")
	again, err := r.Up(ctx)
	require.NoError(t, err)
	for op, n := range again {
		assert.True(t, op == "same" || n == 0, "after recovery an up still plans %d %s", n, op)
	}
}

func secretString(t *testing.T, m resource.PropertyMap, key resource.PropertyKey) string {
	t.Helper()
	v := m[key]
	require.True(t, v.IsSecret(), "the table's %s is not a secret", key)
	return v.SecretValue().Element.StringValue()
}

// testWriter sends the engine's output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
