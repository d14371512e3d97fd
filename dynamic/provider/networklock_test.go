package provider

import (
	"strings"
	"testing"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

func lockInputs(fake *fakehsm.Server, access, action string) property.Map {
	return property.NewMap(map[string]property.Value{
		"hsmResourceId":       property.New(fake.ARMID()),
		"publicNetworkAccess": property.New(access),
		"defaultAction":       property.New(action),
		"bypass":              property.New("AzureServices"),
	})
}

func TestNetworkLockClosesInPlaceAndReopensOnDelete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		async int
	}{{"answered-at-once", -1}, {"long-running-patch", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			opts := []fakehsm.Option{fakehsm.WithActivated()}
			if tc.async >= 0 {
				opts = append(opts, fakehsm.WithAsyncUpdate(tc.async))
			}
			fake := fakehsm.New(t, opts...)
			env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

			resp := env.mustCreate(odaa.NetworkLockType, lockInputs(fake, "Disabled", "Deny"))

			want := fakehsm.Network{PublicNetworkAccess: "Disabled", DefaultAction: "Deny", Bypass: "AzureServices"}
			if got := fake.Network(); got != want {
				t.Fatalf("network after create = %+v, want %+v", got, want)
			}
			if got := resp.Properties.Get("publicNetworkAccess").AsString(); got != "Disabled" {
				t.Errorf("state publicNetworkAccess = %q", got)
			}
			if fake.Patches() != 1 {
				t.Errorf("%d PATCH requests, want 1", fake.Patches())
			}

			if err := env.delete(odaa.NetworkLockType, resp.ID, resp.Properties); err != nil {
				t.Fatal(err)
			}
			want.PublicNetworkAccess, want.DefaultAction = "Enabled", "Allow"
			if got := fake.Network(); got != want {
				t.Errorf("network after delete = %+v, want %+v", got, want)
			}
			if !env.logs.Contains("back to Enabled") {
				t.Errorf("no warning that access was reopened: %s", env.logs.All())
			}
		})
	}
}

// An HSM created closed, because the runner is inside the VNet, is never opened by deleting its lock.
func TestNetworkLockDeleteKeepsAnHsmCreatedClosedClosed(t *testing.T) {
	closed := fakehsm.Network{PublicNetworkAccess: "Disabled", DefaultAction: "Deny", Bypass: "AzureServices"}
	fake := fakehsm.New(t, fakehsm.WithActivated(), fakehsm.WithNetwork(closed))
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	resp := env.mustCreate(odaa.NetworkLockType, lockInputs(fake, "Disabled", "Deny"))
	if got := resp.Properties.Get("previousPublicNetworkAccess").AsString(); got != "Disabled" {
		t.Errorf("state previousPublicNetworkAccess = %q, want Disabled", got)
	}
	if err := env.delete(odaa.NetworkLockType, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}

	if got := fake.Network(); got != closed {
		t.Errorf("network after delete = %+v, want it still closed %+v", got, closed)
	}
	if !env.logs.Contains("stays Disabled") {
		t.Errorf("no line saying access stays closed: %s", env.logs.All())
	}
}

func TestNetworkLockPreviewChangesNothing(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	if _, err := env.create(odaa.NetworkLockType, lockInputs(fake, "Disabled", "Deny"), true); err != nil {
		t.Fatal(err)
	}
	if fake.Patches() != 0 || fake.Network().PublicNetworkAccess != "Enabled" {
		t.Errorf("preview changed the HSM: %d patches, %+v", fake.Patches(), fake.Network())
	}
}

func TestNetworkLockReadShowsDriftAndUpdateRestores(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	in := lockInputs(fake, "Disabled", "Deny")
	resp := env.mustCreate(odaa.NetworkLockType, in)

	// Someone reopens the HSM by hand; a refresh must show it, and the next up must close it again in place.
	other := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	reopened := other.mustCreate(odaa.NetworkLockType, lockInputs(fake, "Enabled", "Allow"))
	_ = reopened

	read, err := env.read(odaa.NetworkLockType, resp.ID, resp.Properties, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := read.Properties.Get("publicNetworkAccess").AsString(); got != "Enabled" {
		t.Fatalf("read publicNetworkAccess = %q, want the drifted Enabled", got)
	}
	diff, err := env.diff(odaa.NetworkLockType, resp.ID, read.Properties, in, in)
	if err != nil {
		t.Fatal(err)
	}
	if !diff.HasChanges || diff.DetailedDiff["publicNetworkAccess"].Kind != p.Update {
		t.Fatalf("diff after drift = %+v, want an in-place update of publicNetworkAccess", diff)
	}
	if _, err := env.update(odaa.NetworkLockType, resp.ID, read.Properties, in, in, false); err != nil {
		t.Fatal(err)
	}
	if got := fake.Network().PublicNetworkAccess; got != "Disabled" {
		t.Errorf("after update publicNetworkAccess = %q", got)
	}
}

func TestNetworkLockDiffReplacesOnlyForAnotherHsm(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	in := lockInputs(fake, "Disabled", "Deny")
	resp := env.mustCreate(odaa.NetworkLockType, in)

	same, err := env.diff(odaa.NetworkLockType, resp.ID, resp.Properties, in, in)
	if err != nil {
		t.Fatal(err)
	}
	if same.HasChanges {
		t.Errorf("identical inputs plan changes: %+v", same.DetailedDiff)
	}
	moved := in.Set("hsmResourceId", property.New(strings.Replace(fake.ARMID(), fakehsm.DefaultName, "other", 1)))
	diff, err := env.diff(odaa.NetworkLockType, resp.ID, resp.Properties, in, moved)
	if err != nil {
		t.Fatal(err)
	}
	if diff.DetailedDiff["hsmResourceId"].Kind != p.UpdateReplace {
		t.Errorf("another HSM does not plan a replacement: %+v", diff.DetailedDiff)
	}
}

func TestNetworkLockCheckNamesBadSettings(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	in := property.NewMap(map[string]property.Value{
		"hsmResourceId":       property.New("/subscriptions/x/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v"),
		"publicNetworkAccess": property.New("Closed"),
		"defaultAction":       property.New("Block"),
		"bypass":              property.New("Everything"),
	})
	resp, err := env.check(odaa.NetworkLockType, property.Map{}, in)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range resp.Failures {
		got[f.Property] = true
	}
	for _, want := range []string{"hsmResourceId", "publicNetworkAccess", "defaultAction", "bypass"} {
		if !got[want] {
			t.Errorf("no check failure for %s: %v", want, resp.Failures)
		}
	}
}
