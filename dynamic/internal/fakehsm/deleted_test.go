// This file tests the fake's soft-deleted HSMs through hsm.ManagementClient and armkeyvault: the HSM gone from
// its resource group once deleted, its entry under the location with dates and purge protection, and the purge
// as a long-running operation, refused under purge protection.

package fakehsm_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

func TestDeletedHSMs(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)

	t.Run("soft-delete-then-purge", func(t *testing.T) {
		fake := fakehsm.New(t, fakehsm.WithClock(func() time.Time { return now }), fakehsm.WithAsyncUpdate(1))
		mgmt := mgmtClient(fake, admin)
		ctx := testCtx(t)
		sub, loc, name := fakehsm.DefaultSubscriptionID, fakehsm.DefaultLocation, fakehsm.DefaultName

		_, err := mgmt.GetDeleted(ctx, sub, loc, name)
		require.ErrorIs(t, err, hsm.ErrNotDeleted)

		fake.DeleteHSM()
		_, err = mgmt.Get(ctx, fake.ARMID())
		assert.True(t, hsm.IsNotFound(err), "a deleted HSM is gone from its resource group: %v", err)
		d, err := mgmt.GetDeleted(ctx, sub, loc, name)
		require.NoError(t, err)
		assert.Equal(t, name, d.Name)
		assert.Equal(t, now, d.DeletionDate)
		assert.Equal(t, now.AddDate(0, 0, fakehsm.DefaultRetentionDays), d.ScheduledPurgeDate)
		assert.False(t, d.PurgeProtection)
		assert.Contains(t, d.ResourceID, "/managedHSMs/"+name)

		var n noSleep
		require.NoError(t, mgmt.PurgeDeleted(ctx, sub, loc, name, quickWait(&n)))
		assert.Empty(t, fake.DeletedHSMs())
		assert.NotEmpty(t, n.recorded(), "the purge was polled")
		_, err = mgmt.GetDeleted(ctx, sub, loc, name)
		assert.ErrorIs(t, err, hsm.ErrNotDeleted)
	})

	t.Run("purge-protection-refuses-the-purge", func(t *testing.T) {
		fake := fakehsm.New(t, fakehsm.WithPurgeProtection())
		mgmt := mgmtClient(fake, admin)
		ctx := testCtx(t)
		fake.DeleteHSM()

		d, err := mgmt.GetDeleted(ctx, fakehsm.DefaultSubscriptionID, fakehsm.DefaultLocation, fakehsm.DefaultName)
		require.NoError(t, err)
		assert.True(t, d.PurgeProtection)
		var n noSleep
		err = mgmt.PurgeDeleted(ctx, fakehsm.DefaultSubscriptionID, fakehsm.DefaultLocation, fakehsm.DefaultName,
			quickWait(&n))
		serviceError(t, err, http.StatusConflict, "Conflict")
		assert.Len(t, fake.DeletedHSMs(), 1)
	})

	t.Run("other-location-and-name-are-not-found", func(t *testing.T) {
		fake := fakehsm.New(t, fakehsm.WithDeletedHSM(fakehsm.DeletedHSM{Name: "old-hsm", Location: "westus"}))
		mgmt := mgmtClient(fake, admin)
		ctx := testCtx(t)
		_, err := mgmt.GetDeleted(ctx, fakehsm.DefaultSubscriptionID, "eastus", "old-hsm")
		assert.True(t, errors.Is(err, hsm.ErrNotDeleted), "%v", err)
		_, err = mgmt.GetDeleted(ctx, fakehsm.DefaultSubscriptionID, "WestUS", "OLD-hsm")
		assert.NoError(t, err, "names and locations are case-insensitive")
	})
}
