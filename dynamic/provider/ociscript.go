// This file holds the OCI path of script mode: the OCI calls the plugin would make, written to the script
// file instead of being sent, as SQL*Plus comments so that the file still runs there: the restart as an OCI CLI
// command line, the key switch as its REST request line and JSON body.
package provider

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/odaa-platform/adbs-hsm/dynamic/ocidb"
	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// scriptOCI writes the OCI calls of resource to file.
type scriptOCI struct {
	file     *oracle.ScriptFile
	resource string
}

// Restart writes the restart of the database, which the DBA runs after the ALTER DATABASE PROPERTY before it.
func (s scriptOCI) Restart(_ context.Context, databaseOcid string) error {
	return s.file.Append(s.resource, "OCI Autonomous Database "+databaseOcid, fmt.Sprintf("-- restarting the "+
		"database so that the property takes effect; run in a shell:\n"+
		"-- oci db autonomous-database restart --autonomous-database-id %s\n"+
		"-- (the REST request: POST /20160918/autonomousDatabases/%s/actions/restart)\n"+
		"-- and wait until its lifecycle state is AVAILABLE again\n",
		shellQuote(databaseOcid), databaseOcid))
}

// shellQuote quotes s for a POSIX shell: single quotes, each inner one closed, escaped and reopened.
func shellQuote(s string) string {
	out := "'"
	for _, r := range s {
		if r == '\'' {
			out += `'\''`
			continue
		}
		out += string(r)
	}
	return out + "'"
}

// scriptedLifecycle is the lifecycle state and key provider recorded for what script mode cannot read.
const scriptedLifecycle = "UNKNOWN (script mode: not read)"

// Get cannot read the database: it reports an unknown key and state, so that the switch is always written.
func (s scriptOCI) Get(_ context.Context, ocid string) (ocidb.Database, error) {
	return ocidb.Database{ID: ocid, LifecycleState: scriptedLifecycle,
		Key: ocidb.Key{Provider: scriptedLifecycle}}, nil
}

// SetAzureKey writes UpdateAutonomousDatabase with the key in Azure, and reports the database as it would be
// after it, in an unknown lifecycle state.
func (s scriptOCI) SetAzureKey(_ context.Context, ocid, vaultURI, keyName string) (ocidb.Database, error) {
	want := ocidb.Key{Provider: ocidb.ProviderAzure, VaultURI: vaultURI, KeyName: keyName}
	body := map[string]any{"encryptionKey": map[string]string{"provider": want.Provider, "vaultUri": vaultURI,
		"keyName": keyName}}
	err := s.update(ocid, "switching the TDE master key to "+keyName+" in "+vaultURI, body)
	return ocidb.Database{ID: ocid, LifecycleState: scriptedLifecycle, Key: want}, err
}

// SetOracleManagedKey writes UpdateAutonomousDatabase back to Oracle-managed keys.
func (s scriptOCI) SetOracleManagedKey(_ context.Context, ocid string) (ocidb.Database, error) {
	body := map[string]any{"encryptionKey": map[string]string{"provider": ocidb.ProviderOracleManaged}}
	err := s.update(ocid, "returning the database to Oracle-managed keys", body)
	return ocidb.Database{ID: ocid, LifecycleState: scriptedLifecycle,
		Key: ocidb.Key{Provider: ocidb.ProviderOracleManaged}}, err
}

// update writes UpdateAutonomousDatabase as its REST request line and JSON body: the request the plugin sends
// through the OCI SDK, to make with any signed OCI client (the console's API, oci raw-request).
func (s scriptOCI) update(ocid, what string, body map[string]any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("%s of database %s: %w", what, ocid, err)
	}
	return s.file.Append(s.resource, "OCI Autonomous Database "+ocid, fmt.Sprintf("-- %s; make this OCI "+
		"request (UpdateAutonomousDatabase), then wait until the database is AVAILABLE:\n"+
		"-- PUT /20160918/autonomousDatabases/%s\n-- %s\n", what, ocid, b))
}
