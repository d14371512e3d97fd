// This file tests the security domain's delete, which the engine runs before the HSM's: the file is checked,
// written again from state when missing, and its absence stops the teardown when the HSM may be deleted.
package provider

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

func TestSecurityDomainDeleteChecksTheBackup(t *testing.T) {
	// created activates a fresh fake HSM and returns the state and the file's path.
	created := func(t *testing.T, require bool) (*testEnv, property.Map, string) {
		fake := fakehsm.New(t)
		env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
		dir := t.TempDir()
		resp := env.mustCreate(sdToken, sdInputs(fake, dir).Set("requireBackupOnDelete", property.New(require)))
		return env, resp.Properties, filepath.Join(dir, "sd.json")
	}

	t.Run("file-present", func(t *testing.T) {
		env, state, path := created(t, true)
		before, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.delete(sdToken, "sd", state); err != nil {
			t.Fatal(err)
		}
		after, err := os.ReadFile(path)
		if err != nil || string(after) != string(before) {
			t.Errorf("the file changed or went: %v", err)
		}
	})

	t.Run("missing-file-is-written-again-from-state", func(t *testing.T) {
		env, state, path := created(t, true)
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
		if err := env.delete(sdToken, "sd", state); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("the file was not written back: %v", err)
		}
		if _, err := securitydomain.Parse(data); err != nil {
			t.Errorf("the file written back does not parse: %v", err)
		}
		if m := mode(t, path); m != 0o600 {
			t.Errorf("mode %o, want 600", m)
		}
		if !env.logs.Contains(path, "written again from the stack's state") {
			t.Errorf("no warning:\n%s", env.logs.All())
		}
	})

	t.Run("unreadable-file-stops-the-delete", func(t *testing.T) {
		env, state, path := created(t, true)
		if err := os.WriteFile(path, []byte("not a security domain"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := env.delete(sdToken, "sd", state)
		if err == nil || !strings.Contains(err.Error(), "refusing to let managed HSM") ||
			!strings.Contains(err.Error(), path) {
			t.Fatalf("delete = %v, want a refusal naming the file", err)
		}
	})

	t.Run("another-hsms-readable-domain-stops-the-delete", func(t *testing.T) {
		env, state, path := created(t, true)
		// A readable domain, but another HSM's: it restores nothing of this one.
		other := fakehsm.New(t)
		otherEnv := newTestEnv(t, other, fakehsm.DefaultAdministratorID)
		otherDir := t.TempDir()
		otherEnv.mustCreate(sdToken, sdInputs(other, otherDir))
		data, err := os.ReadFile(filepath.Join(otherDir, "sd.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		err = env.delete(sdToken, "sd", state)
		if err == nil || !strings.Contains(err.Error(), "differs from this HSM's security domain") {
			t.Fatalf("delete = %v, want a refusal: the file is not this HSM's domain", err)
		}
	})

	t.Run("missing-key-files-are-written-again-from-state", func(t *testing.T) {
		env, state, path := created(t, true)
		keyDir := filepath.Join(filepath.Dir(path), "keys")
		keys, err := filepath.Glob(filepath.Join(keyDir, "*-sd-key*.pem"))
		if err != nil || len(keys) != 3 {
			t.Fatalf("generated keys: %v %v", keys, err)
		}
		want, err := os.ReadFile(keys[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(keys[1]); err != nil {
			t.Fatal(err)
		}
		if err := env.delete(sdToken, "sd", state); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(keys[1])
		if err != nil || string(got) != string(want) {
			t.Fatalf("the key was not written back as it was: %v", err)
		}
		if m := mode(t, keys[1]); m != 0o600 {
			t.Errorf("mode %o, want 600", m)
		}
		if !env.logs.Contains("key pair files", "written again from the stack's state") {
			t.Errorf("no warning:\n%s", env.logs.All())
		}
	})

	t.Run("a-changed-key-file-stops-the-delete", func(t *testing.T) {
		env, state, path := created(t, true)
		keys, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "keys", "*-sd-key*.pem"))
		if len(keys) != 3 {
			t.Fatalf("generated keys: %v", keys)
		}
		if err := os.WriteFile(keys[0], []byte("another key"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := env.delete(sdToken, "sd", state)
		if err == nil || !strings.Contains(err.Error(), "differs from the key pair kept in state") {
			t.Fatalf("delete = %v, want a refusal naming the changed key file", err)
		}
	})

	// An HSM that was already active holds no copy in state: with the HSM deletable a missing file stops the
	// teardown; with the HSM retained it is only reported.
	for _, tc := range []struct {
		name    string
		require bool
	}{{"no-copy-and-deletable-hsm-stops", true}, {"no-copy-and-retained-hsm-warns", false}} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakehsm.New(t, fakehsm.WithActivated())
			env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
			dir := t.TempDir()
			resp := env.mustCreate(sdToken, sdInputs(fake, dir).Set("requireBackupOnDelete",
				property.New(tc.require)))

			err := env.delete(sdToken, "sd", resp.Properties)

			if tc.require {
				if err == nil || !strings.Contains(err.Error(), "state holds no copy") {
					t.Fatalf("delete = %v, want a refusal saying the state holds no copy", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !env.logs.Contains("is retained, but its security domain backup is not usable") {
				t.Errorf("no warning:\n%s", env.logs.All())
			}
		})
	}
}
