package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

func sdInputs(fake *fakehsm.Server, dir string) property.Map {
	return property.NewMap(map[string]property.Value{
		"hsmUri":           property.New(fake.URL()),
		"hsmResourceId":    property.New(fake.ARMID()),
		"certificateCount": property.New(3.0),
		"quorum":           property.New(2.0),
		"keyDirectory":     property.New(filepath.Join(dir, "keys")),
		"outputPath":       property.New(filepath.Join(dir, "sd.json")),
	})
}

func TestSecurityDomainCreateActivates(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()

	resp := env.mustCreate(odaa.SecurityDomainType, sdInputs(fake, dir))

	if !fake.Activated() {
		t.Fatal("the HSM is not active after create")
	}
	if got := resp.Properties.Get("activationStatus").AsString(); got != "Active" {
		t.Errorf("activationStatus = %q", got)
	}
	info, err := os.Stat(filepath.Join(dir, "sd.json"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("security domain file mode %v", info.Mode().Perm())
	}
	t.Logf("props: %v", resp.Properties)
	t.Logf("logs: %s", env.logs.All())
}
