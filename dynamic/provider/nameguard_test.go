// This file tests NameGuard through the in-process server against the fake's deleted HSMs: a free name, a name
// a soft-deleted HSM holds, a preview that calls nothing, the purge refused under purge protection, and the
// purge after the HSM's delete.
package provider

import (
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

const guardToken = odaa.NameGuardType

func guardInputs(purge, protection bool) property.Map {
	return property.NewMap(map[string]property.Value{
		"subscriptionId":  property.New(fakehsm.DefaultSubscriptionID),
		"location":        property.New(fakehsm.DefaultLocation),
		"name":            property.New(fakehsm.DefaultName),
		"purgeOnDelete":   property.New(purge),
		"purgeProtection": property.New(protection),
	})
}

// guardRoutes are the ARM calls a guard can make.
var guardRoutes = []string{fakehsm.RouteGetDeletedManagedHSM, fakehsm.RoutePurgeDeletedManagedHSM}

var (
	deletedAt = time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC)
	purgeAt   = time.Date(2027, 2, 28, 9, 15, 0, 0, time.UTC)
)

func deletedHSM(protection bool) fakehsm.Option {
	return fakehsm.WithDeletedHSM(fakehsm.DeletedHSM{Name: fakehsm.DefaultName, Location: fakehsm.DefaultLocation,
		DeletionDate: deletedAt, ScheduledPurgeDate: purgeAt, PurgeProtection: protection})
}

func TestNameGuardCreate(t *testing.T) {
	t.Run("name-free", func(t *testing.T) {
		fake := fakehsm.New(t)
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

		resp := env.mustCreate(guardToken, guardInputs(false, false))

		if n := fake.Requests(fakehsm.RouteGetDeletedManagedHSM); n != 1 {
			t.Errorf("%d reads of the deleted HSM, want 1", n)
		}
		if !strings.Contains(resp.ID, "/deletedManagedHSMs/"+fakehsm.DefaultName) {
			t.Errorf("ID %q does not name the HSM", resp.ID)
		}
	})

	for _, tc := range []struct {
		name       string
		protection bool
		advice     string
	}{
		{"name-soft-deleted-purgeable", false, "az keyvault purge --hsm-name " + fakehsm.DefaultName},
		{"name-soft-deleted-protected", true, "purge protection is on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakehsm.New(t, deletedHSM(tc.protection))
			env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

			_, err := env.create(guardToken, guardInputs(false, false), false)

			if err == nil {
				t.Fatal("create succeeded while a soft-deleted HSM holds the name")
			}
			for _, want := range []string{fakehsm.DefaultName, fakehsm.DefaultLocation, "2026-11-30T09:15:00Z",
				"frees on 2027-02-28T09:15:00Z", "hsm.name", tc.advice} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error lacks %q: %v", want, err)
				}
			}
			if n := fake.Requests(fakehsm.RoutePurgeDeletedManagedHSM); n != 0 {
				t.Errorf("the guard purged on create (%d requests)", n)
			}
		})
	}

	t.Run("preview-makes-no-call", func(t *testing.T) {
		fake := fakehsm.New(t, deletedHSM(false))
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

		if _, err := env.create(guardToken, guardInputs(false, false), true); err != nil {
			t.Fatalf("preview: %v", err)
		}
		if n := fake.Requests(guardRoutes...); n != 0 {
			t.Errorf("a preview made %d ARM calls", n)
		}
	})
}

func TestNameGuardPurge(t *testing.T) {
	t.Run("refused-by-check-with-purge-protection", func(t *testing.T) {
		fake := fakehsm.New(t)
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

		resp, err := env.check(guardToken, property.Map{}, guardInputs(true, true))

		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Failures) != 1 || resp.Failures[0].Property != "purgeOnDelete" {
			t.Errorf("failures = %v, want one on purgeOnDelete", resp.Failures)
		}
	})

	t.Run("refused-on-delete-when-azure-reports-protection", func(t *testing.T) {
		fake := fakehsm.New(t, fakehsm.WithPurgeProtection())
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
		resp := env.mustCreate(guardToken, guardInputs(true, false))
		fake.DeleteHSM()

		err := env.delete(guardToken, resp.ID, resp.Properties)

		if err == nil || !strings.Contains(err.Error(), "purge protection") {
			t.Fatalf("delete = %v, want a refusal naming purge protection", err)
		}
		if n := fake.Requests(fakehsm.RoutePurgeDeletedManagedHSM); n != 0 {
			t.Errorf("%d purge requests under purge protection", n)
		}
		if len(fake.DeletedHSMs()) != 1 {
			t.Error("the protected HSM is gone")
		}
	})

	t.Run("refused-on-delete-from-state", func(t *testing.T) {
		fake := fakehsm.New(t)
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
		fake.DeleteHSM()
		state := guardInputs(true, true)

		err := env.delete(guardToken, "guard", state)

		if err == nil || !strings.Contains(err.Error(), "purge protection") {
			t.Fatalf("delete = %v, want a refusal naming purge protection", err)
		}
		if n := fake.Requests(guardRoutes...); n != 0 {
			t.Errorf("%d ARM calls for a purge that state forbids", n)
		}
	})

	for _, tc := range []struct {
		name  string
		polls int
	}{{"purge-after-delete", -1}, {"purge-after-delete-long-running", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []fakehsm.Option{}
			if tc.polls >= 0 {
				opts = append(opts, fakehsm.WithAsyncUpdate(tc.polls))
			}
			fake := fakehsm.New(t, opts...)
			env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
			resp := env.mustCreate(guardToken, guardInputs(true, false))
			// The engine deletes the HSM first: it depends on the guard.
			fake.DeleteHSM()
			if len(fake.DeletedHSMs()) != 1 {
				t.Fatal("the fake did not soft-delete its HSM")
			}

			if err := env.delete(guardToken, resp.ID, resp.Properties); err != nil {
				t.Fatal(err)
			}

			if left := fake.DeletedHSMs(); len(left) != 0 {
				t.Errorf("still soft-deleted after the purge: %+v", left)
			}
			if n := fake.Requests(fakehsm.RoutePurgeDeletedManagedHSM); n != 1 {
				t.Errorf("%d purge requests, want 1", n)
			}
			if got := len(env.Pauses()); got < tc.polls {
				t.Errorf("%d paced polls of the purge, want at least %d", got, tc.polls)
			}
			if !env.logs.Contains(fakehsm.DefaultName, "is purged") {
				t.Errorf("no line saying the HSM is purged:\n%s", env.logs.All())
			}
			// The name is free again: a new guard passes.
			env.mustCreate(guardToken, guardInputs(false, false))
		})
	}

	t.Run("no-purge-without-opt-in", func(t *testing.T) {
		fake := fakehsm.New(t)
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
		resp := env.mustCreate(guardToken, guardInputs(false, false))
		fake.DeleteHSM()

		if err := env.delete(guardToken, resp.ID, resp.Properties); err != nil {
			t.Fatal(err)
		}
		if len(fake.DeletedHSMs()) != 1 {
			t.Error("the HSM was purged without purgeOnDelete")
		}
		if !env.logs.Contains("billed and holding its name") {
			t.Errorf("no warning about the soft-deleted HSM:\n%s", env.logs.All())
		}
	})

	t.Run("nothing-deleted-to-purge", func(t *testing.T) {
		fake := fakehsm.New(t)
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
		resp := env.mustCreate(guardToken, guardInputs(true, false))

		if err := env.delete(guardToken, resp.ID, resp.Properties); err != nil {
			t.Fatal(err)
		}
		if n := fake.Requests(fakehsm.RoutePurgeDeletedManagedHSM); n != 0 {
			t.Errorf("%d purge requests with nothing deleted", n)
		}
		if !env.logs.Contains("retained or is purged already") {
			t.Errorf("no warning:\n%s", env.logs.All())
		}
	})
}

func TestNameGuardDiff(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	old := guardInputs(false, false)

	renamed, err := env.diff(guardToken, "guard", old, old, old.Set("name", property.New("hsm-other")))
	if err != nil {
		t.Fatal(err)
	}
	if !renamed.HasChanges || renamed.DetailedDiff["name"].Kind != p.UpdateReplace {
		t.Errorf("a new name must replace the guard: %+v", renamed.DetailedDiff)
	}
	optIn, err := env.diff(guardToken, "guard", old, old, old.Set("purgeOnDelete", property.New(true)))
	if err != nil {
		t.Fatal(err)
	}
	if optIn.DetailedDiff["purgeOnDelete"].Kind != p.Update {
		t.Errorf("the purge opt-in must change in place: %+v", optIn.DetailedDiff)
	}
	if n := fake.Requests(guardRoutes...); n != 0 {
		t.Errorf("diff made %d ARM calls", n)
	}
}
