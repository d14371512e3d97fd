// This file holds the long waits: on a work request until it succeeds (or fails, with the errors OCI lists for
// it), and on a database until it is AVAILABLE again. Both poll through hsm.Wait.
package ocidb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oracle/oci-go-sdk/v65/common"
	"github.com/oracle/oci-go-sdk/v65/workrequests"
)

// failedStates are lifecycle states a database does not leave by itself; a wait for AVAILABLE stops there.
var failedStates = []string{"TERMINATING", "TERMINATED", "UNAVAILABLE", "INACCESSIBLE", "RESTORE_FAILED",
	"AVAILABLE_NEEDS_ATTENTION"}

// waitWorkRequest polls the work request id until it succeeds. A failed or cancelled work request returns an
// error with the errors OCI lists for it.
func (c *Client) waitWorkRequest(ctx context.Context, id, what string, timeout time.Duration) error {
	w := c.wait(ctx, "work request "+id+" of "+what, timeout)
	var last workrequests.WorkRequestStatusEnum
	return w.Poll(ctx, func(ctx context.Context) (bool, time.Duration, error) {
		var n attemptCounter
		resp, err := c.wrFor(id).GetWorkRequest(ctx, workrequests.GetWorkRequestRequest{
			WorkRequestId:   common.String(id),
			RequestMetadata: c.metadata(ctx, "reading work request "+id, &n, false),
		})
		if err != nil {
			return false, 0, n.wrap(fmt.Errorf("reading work request %s: %w", id, explain(err)))
		}
		wr := resp.WorkRequest
		if wr.Status != last && w.Progress != nil {
			w.Progress(fmt.Sprintf("work request %s of %s: %s, %.0f%% complete", id, what, wr.Status,
				deref32(wr.PercentComplete)))
		}
		last = wr.Status
		switch wr.Status {
		case workrequests.WorkRequestStatusSucceeded:
			return true, 0, nil
		case workrequests.WorkRequestStatusFailed, workrequests.WorkRequestStatusCanceled:
			return false, 0, fmt.Errorf("work request %s (%s) %s: %s", id, deref(wr.OperationType),
				strings.ToLower(string(wr.Status)), c.workRequestErrors(ctx, id))
		}
		return false, parseRetryAfter(resp.RawResponse.Header), nil
	})
}

// workRequestErrors lists what OCI says went wrong in a work request, or why it could not be read.
func (c *Client) workRequestErrors(ctx context.Context, id string) string {
	var n attemptCounter
	resp, err := c.wrFor(id).ListWorkRequestErrors(ctx, workrequests.ListWorkRequestErrorsRequest{
		WorkRequestId:   common.String(id),
		RequestMetadata: c.metadata(ctx, "listing errors of work request "+id, &n, false),
	})
	if err != nil {
		return fmt.Sprintf("its errors could not be listed: %v", n.wrap(explain(err)))
	}
	if len(resp.Items) == 0 {
		return "OCI lists no errors for it"
	}
	parts := make([]string, len(resp.Items))
	for i, e := range resp.Items {
		parts[i] = deref(e.Code) + ": " + deref(e.Message)
	}
	return strings.Join(parts, "; ")
}

// waitAvailable polls the database until it is AVAILABLE and returns what it last reported. stoppedIsTransient
// lets a restart pass through STOPPED; otherwise a stopped database ends the wait with an error, as do the
// failedStates.
func (c *Client) waitAvailable(ctx context.Context, ocid, what string, timeout time.Duration,
	stoppedIsTransient bool) (Database, error) {
	w := c.wait(ctx, what+": database back to AVAILABLE", timeout)
	var db Database
	last := ""
	err := w.Poll(ctx, func(ctx context.Context) (bool, time.Duration, error) {
		var err error
		db, err = c.Get(ctx, ocid)
		if err != nil {
			return false, 0, err
		}
		if db.LifecycleState != last && db.LifecycleState != StateAvailable && w.Progress != nil {
			w.Progress(fmt.Sprintf("database %s is %s%s", ocid, db.LifecycleState, detailsOf(db)))
		}
		last = db.LifecycleState
		switch {
		case db.LifecycleState == StateAvailable:
			return true, 0, nil
		case slices.Contains(failedStates, db.LifecycleState) || db.LifecycleState == StateStopped &&
			!stoppedIsTransient:
			return false, 0, stateError(db)
		}
		return false, 0, nil
	})
	return db, err
}

// stateError says that the database stopped in a state it will not leave by itself, and what may be wrong.
func stateError(db Database) error {
	err := fmt.Errorf("database %s is %s%s", db.ID, db.LifecycleState, detailsOf(db))
	if db.LifecycleState == "INACCESSIBLE" && db.Key.Provider == ProviderAzure {
		return fmt.Errorf("%w: it cannot reach its key; check the HSM's private endpoint and DNS on the OCI "+
			"side, the host ACLs, and the role of the database's Azure application on the key", err)
	}
	return err
}

// overrun names the timeout of a whole operation when its context ran out during a call that failed with err;
// the waits name it themselves.
func overrun(ctx context.Context, what string, timeout time.Duration, err error) error {
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s did not finish within its %s timeout: %w", what, timeout, err)
	}
	return err
}

func detailsOf(db Database) string {
	if db.LifecycleDetails == "" {
		return ""
	}
	return " (" + db.LifecycleDetails + ")"
}

func deref32(f *float32) float32 {
	if f == nil {
		return 0
	}
	return *f
}
