//go:build rehearsal

// This file runs the program under the real Pulumi engine against the stand-in clouds of tests/rehearsal:
// `go test -tags rehearsal ./tests/ -run TestRehearsal`. It needs the pinned CLI (`make cli`, or PULUMI_CLI
// naming one) and no account; it builds the stand-ins itself and keeps everything in a temporary directory.
package tests

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
	"github.com/odaa-platform/adbs-hsm/tests/rehearsal"
)

// rehearsalTimeout bounds one whole rehearsal; a warm one takes seconds.
const rehearsalTimeout = 5 * time.Minute

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
	r, err := rehearsal.Prepare(ctx, rehearsal.Options{Root: root, Dir: t.TempDir(), CLI: cli, Stack: "dev",
		Progress: testWriter{t}})
	require.NoError(t, err)
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
// the administrator password the rehearsal set, and the client secret and security domain the clouds return.
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
	_, domain := cloud.Create("odaa:hsm:SecurityDomain", "hsm-security-domain", resource.PropertyMap{})
	secrets = append(secrets, secretString(t, domain, "securityDomain"))
	for _, key := range domain["privateKeys"].ArrayValue() {
		secrets = append(secrets, key.StringValue())
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
