// This file holds the test harness: the provider served in process by pulumi-go-provider's integration server,
// its Azure clients pointed at a fake Managed HSM, its sleeps recorded instead of slept, and its log lines
// captured.
package provider

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/blang/semver"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/integration"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

// testEnv is one provider under test, talking to one fake HSM as one principal.
type testEnv struct {
	t      testing.TB
	fake   *fakehsm.Server
	server integration.Server
	logs   *logCapture

	mu     sync.Mutex
	pauses []time.Duration
}

// newTestEnv serves a provider whose Azure calls reach fake as principal.
func newTestEnv(t testing.TB, fake *fakehsm.Server, principal string) *testEnv {
	t.Helper()
	return newTestEnvWith(t, fake, Options{Credential: fake.Credential(principal), HSM: fakeClientOptions(fake)})
}

// newTestEnvWith serves a provider built from opts; unless opts sets its own, sleeps are recorded, not slept.
func newTestEnvWith(t testing.TB, fake *fakehsm.Server, opts Options) *testEnv {
	t.Helper()
	e := &testEnv{t: t, fake: fake, logs: captureLogs(t)}
	if opts.sleep == nil {
		opts.sleep = e.sleep
	}
	prov, err := New(opts)
	if err != nil {
		t.Fatalf("building provider: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	e.server, err = integration.NewServer(ctx, Name, semver.MustParse("0.0.1"), integration.WithProvider(prov))
	if err != nil {
		t.Fatalf("starting provider server: %v", err)
	}
	return e
}

// fakeClientOptions point every Azure client at fake: its TLS transport, its ARM endpoint, retries in
// milliseconds (the fake sends Retry-After in milliseconds where a test wants a hint honoured).
func fakeClientOptions(fake *fakehsm.Server) hsm.Options {
	return hsm.Options{
		ClientOptions: azcore.ClientOptions{
			Transport: fake.Client(),
			Cloud: cloud.Configuration{
				ActiveDirectoryAuthorityHost: "https://login.invalid/",
				Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
					cloud.ResourceManager: {Endpoint: fake.ARMEndpoint(), Audience: "https://management.azure.com"},
				},
			},
			Retry: policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond,
				MaxRetryDelay: 50 * time.Millisecond},
		},
		DisableChallengeResourceVerification: true,
	}
}

// sleep records the pause the provider asked for and returns at once.
func (e *testEnv) sleep(d time.Duration) <-chan time.Time {
	e.mu.Lock()
	e.pauses = append(e.pauses, d)
	e.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

// Pauses returns the pauses the provider asked for, in order.
func (e *testEnv) Pauses() []time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]time.Duration(nil), e.pauses...)
}

func urnOf(token, name string) presource.URN {
	return presource.NewURN("test", "provider", "", tokens.Type(token), name)
}

// check runs Check for new inputs against old state (empty for a create).
func (e *testEnv) check(token string, olds, news property.Map) (p.CheckResponse, error) {
	return e.server.Check(p.CheckRequest{Urn: urnOf(token, "test"), State: olds, Inputs: news})
}

// create runs Check then Create; dryRun makes it a preview. Check failures fail the test.
func (e *testEnv) create(token string, inputs property.Map, dryRun bool) (p.CreateResponse, error) {
	e.t.Helper()
	checked, err := e.check(token, property.Map{}, inputs)
	if err != nil {
		e.t.Fatalf("check: %v", err)
	}
	if len(checked.Failures) > 0 {
		e.t.Fatalf("check failures: %v", checked.Failures)
	}
	return e.server.Create(p.CreateRequest{Urn: urnOf(token, "test"), Properties: checked.Inputs, DryRun: dryRun})
}

// mustCreate creates for real and fails the test on error.
func (e *testEnv) mustCreate(token string, inputs property.Map) p.CreateResponse {
	e.t.Helper()
	resp, err := e.create(token, inputs, false)
	if err != nil {
		e.t.Fatalf("create %s: %v", token, err)
	}
	return resp
}

func (e *testEnv) read(token, id string, state, inputs property.Map) (p.ReadResponse, error) {
	return e.server.Read(p.ReadRequest{ID: id, Urn: urnOf(token, "test"), Properties: state, Inputs: inputs})
}

func (e *testEnv) diff(token, id string, state, oldInputs, newInputs property.Map) (p.DiffResponse, error) {
	return e.server.Diff(p.DiffRequest{ID: id, Urn: urnOf(token, "test"), State: state, OldInputs: oldInputs,
		Inputs: newInputs})
}

func (e *testEnv) update(token, id string, state, oldInputs, newInputs property.Map,
	dryRun bool) (p.UpdateResponse, error) {
	return e.server.Update(p.UpdateRequest{ID: id, Urn: urnOf(token, "test"), State: state, OldInputs: oldInputs,
		Inputs: newInputs, DryRun: dryRun})
}

func (e *testEnv) delete(token, id string, state property.Map) error {
	return e.server.Delete(p.DeleteRequest{ID: id, Urn: urnOf(token, "test"), Properties: state})
}

// logLine is one line the provider logged.
type logLine struct {
	Level  slog.Level
	Status bool
	Msg    string
}

// logCapture collects the provider's log lines: outside the engine, pulumi-go-provider's logger writes to
// slog's default logger.
type logCapture struct {
	mu    sync.Mutex
	lines []logLine
}

func captureLogs(t testing.TB) *logCapture {
	c := &logCapture{}
	old := slog.Default()
	slog.SetDefault(slog.New(c))
	t.Cleanup(func() { slog.SetDefault(old) })
	return c
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }

func (c *logCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	status := false
	for _, a := range attrs {
		if a.Key == "kind" && a.Value.String() == "status" {
			status = true
		}
	}
	if !status {
		return c
	}
	return statusHandler{c}
}

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.add(logLine{Level: r.Level, Msg: r.Message})
	return nil
}

func (c *logCapture) add(l logLine) {
	c.mu.Lock()
	c.lines = append(c.lines, l)
	c.mu.Unlock()
}

// Lines returns the captured lines.
func (c *logCapture) Lines() []logLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]logLine(nil), c.lines...)
}

// Contains reports whether some line contains every one of parts.
func (c *logCapture) Contains(parts ...string) bool {
	for _, l := range c.Lines() {
		ok := true
		for _, s := range parts {
			ok = ok && strings.Contains(l.Msg, s)
		}
		if ok {
			return true
		}
	}
	return false
}

// All joins every line, for assertions that something never appears.
func (c *logCapture) All() string {
	var b strings.Builder
	for _, l := range c.Lines() {
		b.WriteString(l.Msg)
		b.WriteByte('\n')
	}
	return b.String()
}

// statusHandler marks the lines logged as status lines.
type statusHandler struct{ c *logCapture }

func (h statusHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h statusHandler) WithGroup(string) slog.Handler            { return h }
func (h statusHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h statusHandler) Handle(_ context.Context, r slog.Record) error {
	h.c.add(logLine{Level: r.Level, Status: true, Msg: r.Message})
	return nil
}
