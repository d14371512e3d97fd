// This file holds the key switch: UpdateAutonomousDatabase with the database's new encryption key (a key in
// Azure, or Oracle-managed keys), then the waits on its work request and on the database's return to AVAILABLE.
package ocidb

import (
	"context"
	"fmt"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/database"
)

// SetAzureKey makes keyName in the Azure Key Vault or Managed HSM at vaultURI the database's TDE master key and
// returns the database as it reports itself afterwards (AVAILABLE, with that key). A database that already
// uses the key is left alone: OCI allows few switches a day (see ErrKeySwitchLimit).
func (c *Client) SetAzureKey(ctx context.Context, ocid, vaultURI, keyName string) (Database, error) {
	return c.switchKey(ctx, ocid, Key{Provider: ProviderAzure, VaultURI: vaultURI, KeyName: keyName})
}

// SetOracleManagedKey returns the database to Oracle-managed keys, as SetAzureKey does for a key in Azure.
func (c *Client) SetOracleManagedKey(ctx context.Context, ocid string) (Database, error) {
	return c.switchKey(ctx, ocid, Key{Provider: ProviderOracleManaged})
}

// switchKey waits for a busy database, switches its key unless it already uses want, and waits for the work
// request and the database. A 409 because another change started meanwhile, or an answer that leaves open
// whether the switch was applied (a 500, a lost connection), sends the switch again once the database is
// AVAILABLE, at most ConflictAttempts times; the key is read again first, so that a switch that went through
// despite an error answer is not made twice.
func (c *Client) switchKey(ctx context.Context, ocid string, want Key) (Database, error) {
	timeout := c.opts.KeySwitchTimeout
	if timeout <= 0 {
		timeout = DefaultKeySwitchTimeout
	}
	conflicts := c.opts.ConflictAttempts
	if conflicts <= 0 {
		conflicts = DefaultConflictAttempts
	}
	what := fmt.Sprintf("key switch of %s to %s", ocid, want)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	for attempt := 1; ; attempt++ {
		db, err := c.waitAvailable(ctx, ocid, what, timeout, false)
		if err != nil {
			return db, err
		}
		if db.Key.Same(want) {
			c.progress(ctx, "database %s already uses %s: no key switch", ocid, want)
			return db, nil
		}

		c.progress(ctx, "switching the TDE master key of database %s from %s to %s", ocid, db.Key, want)
		var n attemptCounter
		resp, err := c.dbFor(ocid).UpdateAutonomousDatabase(ctx, database.UpdateAutonomousDatabaseRequest{
			AutonomousDatabaseId:            common.String(ocid),
			UpdateAutonomousDatabaseDetails: database.UpdateAutonomousDatabaseDetails{EncryptionKey: keyDetails(want)},
			RequestMetadata:                 c.metadata(ctx, "switching the key of "+ocid, &n, true),
		})
		if (isBusy(err) || unanswered(err)) && attempt < conflicts {
			why := "the database is busy with another change; waiting for it"
			if !isBusy(err) {
				why = "the switch may have been made; reading the database before sending it again"
			}
			c.progress(ctx, "%s: attempt %d of %d answered %s: %s", what, attempt, conflicts, describe(err), why)
			continue
		}
		if err != nil {
			return db, overrun(ctx, what, timeout, n.wrap(fmt.Errorf("switching the key of database %s to %s: %w",
				ocid, want, explain(err))))
		}

		return c.settle(ctx, ocid, what, deref(resp.OpcWorkRequestId), timeout, want)
	}
}

// settle waits for the switch's work request, then for the database, and checks the key it reports.
func (c *Client) settle(ctx context.Context, ocid, what, workRequest string, timeout time.Duration,
	want Key) (Database, error) {
	if workRequest != "" {
		if err := c.waitWorkRequest(ctx, workRequest, what, timeout); err != nil {
			return Database{}, err
		}
	}
	db, err := c.waitAvailable(ctx, ocid, what, timeout, false)
	if err != nil {
		return db, err
	}
	if !db.Key.Same(want) {
		return db, fmt.Errorf("%s: the database is AVAILABLE again but reports %s", what, db.Key)
	}
	c.progress(ctx, "database %s now uses %s", ocid, want)
	return db, nil
}

// keyDetails is the SDK's polymorphic key for want: AzureKeyDetails ({"provider": "AZURE", "vaultUri",
// "keyName"}) or OracleManagedKeyDetails ({"provider": "ORACLE_MANAGED"}).
func keyDetails(want Key) database.AutonomousDatabaseEncryptionKeyDetails {
	if want.Provider == ProviderAzure {
		return database.AzureKeyDetails{VaultUri: common.String(want.VaultURI), KeyName: common.String(want.KeyName)}
	}
	return database.OracleManagedKeyDetails{}
}
