// This file holds Restart: RestartAutonomousDatabase, then the waits on its work request and on the database's
// return to AVAILABLE through RESTARTING (or STOPPING, STOPPED and STARTING).
package ocidb

import (
	"context"
	"fmt"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/database"
)

// Restart restarts the database and returns once it is AVAILABLE again, within Options.RestartTimeout. A
// database busy with another change is awaited first; a stopped one is refused, since a restart would start it.
func (c *Client) Restart(ctx context.Context, databaseOcid string) error {
	timeout := c.opts.RestartTimeout
	if timeout <= 0 {
		timeout = DefaultRestartTimeout
	}
	conflicts := c.opts.ConflictAttempts
	if conflicts <= 0 {
		conflicts = DefaultConflictAttempts
	}
	what := "restart of database " + databaseOcid
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	for attempt := 1; ; attempt++ {
		if _, err := c.waitAvailable(ctx, databaseOcid, what, timeout, false); err != nil {
			return err
		}

		c.progress(ctx, "restarting database %s", databaseOcid)
		var n attemptCounter
		resp, err := c.dbFor(databaseOcid).RestartAutonomousDatabase(ctx, database.RestartAutonomousDatabaseRequest{
			AutonomousDatabaseId: common.String(databaseOcid),
			// A restart made twice does no harm, unlike one that was never made: every transient answer is
			// sent again.
			RequestMetadata: c.metadata(ctx, "restarting "+databaseOcid, &n, false),
		})
		if isBusy(err) && attempt < conflicts {
			c.progress(ctx, "%s: attempt %d of %d answered %s: the database is busy with another change; "+
				"waiting for it", what, attempt, conflicts, describe(err))
			continue
		}
		if err != nil {
			return overrun(ctx, what, timeout, n.wrap(fmt.Errorf("restarting database %s: %w", databaseOcid,
				explain(err))))
		}

		if id := deref(resp.OpcWorkRequestId); id != "" {
			if err := c.waitWorkRequest(ctx, id, what, timeout); err != nil {
				return err
			}
		}
		if _, err := c.waitAvailable(ctx, databaseOcid, what, timeout, true); err != nil {
			return err
		}
		c.progress(ctx, "database %s restarted and AVAILABLE", databaseOcid)
		return nil
	}
}
