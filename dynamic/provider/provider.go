// Package provider assembles the odaa provider plugin: every resource it serves is registered here, in New. The
// resources of the Managed HSM data plane live in this package; each calls the HSM through dynamic/hsm.
package provider

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// Options configure the plugin. The zero value is what `pulumi up` runs with: credentials from azidentity's
// default chain, public Azure.
type Options struct {
	// Credential signs every Azure call; nil means azidentity.NewDefaultAzureCredential.
	Credential azcore.TokenCredential
	// HSM configures the HSM and ARM clients (transport, retries, cloud endpoints).
	HSM hsm.Options
	// Timeouts of the long waits; zero fields take their defaults.
	Timeouts Timeouts
	// OCI configures the client of Autonomous Databases (oci.go).
	OCI OCIOptions
	// SQLScript, when set, turns on script mode: the SQL resources and the OCI steps append what they would
	// run to this file (created with mode 0600) instead of running it. Empty, the default, runs everything.
	// The plugin sets it from ODAA_SQL_SCRIPT.
	SQLScript string
	// sleep replaces time.After in polling, so that tests never wait.
	sleep func(time.Duration) <-chan time.Time
	// openDB replaces the godror connection (oracle.Open), so that tests hand in sqlmock; the wallet checks and
	// the ping still run.
	openDB oracle.Opener
	// now stamps script entries, so that tests expect exact text; nil means time.Now.
	now func() time.Time
	// restart replaces the OCI client that restarts a database after a property change.
	restart databaseRestarter
}

// Timeouts name the limits of the plugin's long waits.
type Timeouts struct {
	// Activation bounds the wait from a security-domain download to an active HSM. Default 30 minutes.
	Activation time.Duration
	// Network bounds the wait for an HSM's network settings to change. Default 30 minutes.
	Network time.Duration
	// Propagation bounds the retries while Entra ID and RBAC catch up with a new principal or role.
	// Default 5 minutes.
	Propagation time.Duration
	// Purge bounds the wait for a soft-deleted HSM's purge. Default 30 minutes.
	Purge time.Duration
}

// env is what every resource shares: lazily made credentials and the options.
type env struct {
	opts     Options
	credOnce sync.Once
	cred     azcore.TokenCredential
	credErr  error
	oci      ociEnv
	// script is the file of script mode, nil when it is off.
	script *oracle.ScriptFile
}

func (e *env) credential() (azcore.TokenCredential, error) {
	e.credOnce.Do(func() {
		if e.opts.Credential != nil {
			e.cred = e.opts.Credential
			return
		}
		e.cred, e.credErr = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: e.opts.HSM.ClientOptions,
		})
		if e.credErr != nil {
			e.credErr = fmt.Errorf("finding Azure credentials (az login, the AZURE_* variables, managed "+
				"identity): %w", e.credErr)
		}
	})
	return e.cred, e.credErr
}

func (e *env) activationTimeout() time.Duration {
	if e.opts.Timeouts.Activation > 0 {
		return e.opts.Timeouts.Activation
	}
	return 30 * time.Minute
}

func (e *env) networkTimeout() time.Duration {
	if e.opts.Timeouts.Network > 0 {
		return e.opts.Timeouts.Network
	}
	return 30 * time.Minute
}

func (e *env) purgeTimeout() time.Duration {
	if e.opts.Timeouts.Purge > 0 {
		return e.opts.Timeouts.Purge
	}
	return 30 * time.Minute
}

func (e *env) propagationTimeout() time.Duration {
	if e.opts.Timeouts.Propagation > 0 {
		return e.opts.Timeouts.Propagation
	}
	return 5 * time.Minute
}

// wait returns a poller for what, reporting progress as status lines of the resource in ctx.
func (e *env) wait(ctx context.Context, what string, timeout time.Duration) hsm.Wait {
	log := p.GetLogger(ctx)
	return hsm.Wait{
		What:        what,
		Timeout:     timeout,
		Interval:    10 * time.Second,
		MaxInterval: time.Minute,
		Progress:    log.InfoStatus,
		Sleep:       e.opts.sleep,
	}
}

// retry returns a bounded retry for calls that wait on Entra ID and RBAC propagation, reporting each failed
// attempt as a status line of the resource in ctx.
func (e *env) retry(ctx context.Context, what string) hsm.Retry {
	return hsm.Retry{
		What:     what,
		Attempts: 8,
		Initial:  2 * time.Second,
		Max:      30 * time.Second,
		Budget:   e.propagationTimeout(),
		Progress: p.GetLogger(ctx).InfoStatus,
		Sleep:    e.opts.sleep,
	}
}

// New returns the provider with every resource it serves.
func New(opts Options) (p.Provider, error) {
	e := &env{opts: opts}
	if opts.SQLScript != "" {
		e.script = &oracle.ScriptFile{Path: opts.SQLScript, Now: opts.now}
	}
	return infer.NewProviderBuilder().
		WithDisplayName("ODAA Managed HSM and Autonomous Database steps").
		WithDescription("Managed HSM data plane and Oracle Autonomous Database steps that no published "+
			"provider performs.").
		WithNamespace("odaa").
		WithResources(
			infer.Resource(&SecurityDomain{env: e}),
			infer.Resource(&NetworkLock{env: e}),
			infer.Resource(&NameGuard{env: e}),
			infer.Resource(&RoleAssignment{env: e}),
			infer.Resource(&Key{env: e}),
			infer.Resource(&EncryptionKey{env: e}),
			infer.Resource(&NetworkACL{env: e}),
			infer.Resource(&DatabaseProperty{env: e}),
			infer.Resource(&PrincipalAuth{env: e}),
			infer.Resource(&KeystoreCheck{env: e}),
		).
		Build()
}

// Name is the plugin's package name, shared with the program side.
const Name = odaa.Package
