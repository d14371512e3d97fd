// This file holds the management-plane view of soft-deleted HSMs: reading the one that holds a name in a
// location, and purging it, through armkeyvault's deletedManagedHSMs operations.
package hsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/keyvault/armkeyvault"
)

// Deleted is a soft-deleted HSM as ARM lists it: its name stays reserved until ScheduledPurgeDate or a purge.
type Deleted struct {
	Name               string
	Location           string
	ResourceID         string
	DeletionDate       time.Time
	ScheduledPurgeDate time.Time
	PurgeProtection    bool
}

// ErrNotDeleted says no soft-deleted HSM holds the name in the location.
var ErrNotDeleted = errors.New("no soft-deleted managed HSM holds the name")

func (c *ManagementClient) hsmsIn(subscriptionID string) (*armkeyvault.ManagedHsmsClient, error) {
	client, err := armkeyvault.NewManagedHsmsClient(subscriptionID, c.cred,
		&arm.ClientOptions{ClientOptions: c.opts.ClientOptions})
	if err != nil {
		return nil, fmt.Errorf("creating the managed HSM client of subscription %s: %w", subscriptionID, err)
	}
	return client, nil
}

// GetDeleted reads the soft-deleted HSM called name in location; it returns ErrNotDeleted (wrapped) when there
// is none.
func (c *ManagementClient) GetDeleted(ctx context.Context, subscriptionID, location, name string) (Deleted,
	error) {
	client, err := c.hsmsIn(subscriptionID)
	if err != nil {
		return Deleted{}, err
	}
	resp, err := client.GetDeleted(ctx, name, location, nil)
	if IsNotFound(err) {
		return Deleted{}, fmt.Errorf("looking for a deleted managed HSM %s in %s: %w", name, location, ErrNotDeleted)
	}
	if err != nil {
		return Deleted{}, fmt.Errorf("looking for a deleted managed HSM %s in %s: %w", name, location, err)
	}
	d := Deleted{Name: name, Location: location}
	if resp.Name != nil {
		d.Name = *resp.Name
	}
	if pr := resp.Properties; pr != nil {
		if pr.Location != nil {
			d.Location = *pr.Location
		}
		d.ResourceID = deref(pr.MhsmID)
		if pr.DeletionDate != nil {
			d.DeletionDate = *pr.DeletionDate
		}
		if pr.ScheduledPurgeDate != nil {
			d.ScheduledPurgeDate = *pr.ScheduledPurgeDate
		}
		d.PurgeProtection = pr.PurgeProtectionEnabled != nil && *pr.PurgeProtectionEnabled
	}
	return d, nil
}

// PurgeDeleted purges the soft-deleted HSM called name in location, which destroys its keys for good and frees
// the name, and waits for the purge to finish, polling as w says at the pace of the service's Retry-After.
func (c *ManagementClient) PurgeDeleted(ctx context.Context, subscriptionID, location, name string, w Wait) error {
	client, err := c.hsmsIn(subscriptionID)
	if err != nil {
		return err
	}
	poller, err := client.BeginPurgeDeleted(ctx, name, location, nil)
	if err != nil {
		return fmt.Errorf("purging deleted managed HSM %s in %s: %w", name, location, err)
	}
	err = w.Poll(ctx, func(ctx context.Context) (bool, time.Duration, error) {
		if poller.Done() {
			return true, 0, nil
		}
		resp, err := poller.Poll(ctx)
		if err != nil {
			return false, 0, err
		}
		return poller.Done(), retryAfter(resp), nil
	})
	if err != nil {
		return fmt.Errorf("purging deleted managed HSM %s in %s: %w", name, location, err)
	}
	if _, err := poller.Result(ctx); err != nil {
		return fmt.Errorf("purging deleted managed HSM %s in %s: %w", name, location, err)
	}
	return nil
}
