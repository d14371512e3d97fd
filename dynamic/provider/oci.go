// This file holds what the plugin's OCI resources share: the OCI options and the lazily made client of
// Autonomous Databases, whose waits report status lines of the calling resource and sleep through the
// plugin's (recordable) sleep.
package provider

import (
	"context"
	"sync"

	"github.com/odaa-platform/adbs-hsm/dynamic/ocidb"
)

// OCIOptions configure the OCI client (credentials, endpoint, HTTP client, retries, timeouts); the zero value
// signs with common.DefaultConfigProvider(): ~/.oci/config and its fallbacks (see ocidb.Options).
type OCIOptions = ocidb.Options

var _ databaseRestarter = (*ocidb.Client)(nil)

// databaseKeys is what EncryptionKey calls: the OCI client, or in script mode the writer of its calls.
type databaseKeys interface {
	Get(ctx context.Context, ocid string) (ocidb.Database, error)
	SetAzureKey(ctx context.Context, ocid, vaultURI, keyName string) (ocidb.Database, error)
	SetOracleManagedKey(ctx context.Context, ocid string) (ocidb.Database, error)
}

var (
	_ databaseKeys = (*ocidb.Client)(nil)
	_ databaseKeys = scriptOCI{}
)

// keys returns the client EncryptionKey calls: in script mode (Options.SQLScript) the writer of the calls,
// naming resource, otherwise the OCI client.
func (e *env) keys(resource string) (databaseKeys, error) {
	if e.script != nil {
		return scriptOCI{file: e.script, resource: resource}, nil
	}
	return e.databases()
}

// ociEnv holds the lazily made OCI client of an env.
type ociEnv struct {
	once   sync.Once
	client *ocidb.Client
	err    error
}

// databases returns the OCI client of Autonomous Databases, made on first use so that a plugin serving only
// HSM resources never needs OCI credentials. Unless Options.OCI sets its own, its waits are e.wait's: status
// lines of the resource in the call's context, and the plugin's sleep.
func (e *env) databases() (*ocidb.Client, error) {
	e.oci.once.Do(func() {
		opts := e.opts.OCI
		if opts.Wait == nil {
			opts.Wait = e.wait
		}
		e.oci.client, e.oci.err = ocidb.New(opts)
	})
	return e.oci.client, e.oci.err
}
