//go:build live

// This file checks a deployed stack for real, the way the scenario guide's Tests 1–6 do by hand: it runs
// only with `go test -tags live ./tests/ -run TestLiveStack`, reads the stack named by ODAA_STACK (default
// dev) through the Pulumi CLI, and must run inside the VNet or a peered network that uses its DNS. Set
// ODAA_VERIFY_ROTATE=1 to also create a new key version, and ODAA_SD_KEYS to a comma-separated list of
// security-domain private key files when the stack was given certificates instead of generating keys.
package tests

import (
	"os"
	"strings"
	"testing"

	"github.com/odaa-platform/adbs-hsm/dynamic/verify"
)

func TestLiveStack(t *testing.T) {
	stack := os.Getenv("ODAA_STACK")
	if stack == "" {
		stack = "dev"
	}
	var keys []string
	if v := os.Getenv("ODAA_SD_KEYS"); v != "" {
		keys = strings.Split(v, ",")
	}
	// The stack's relative paths (security domain, key directory) are relative to the project directory.
	t.Chdir("..")

	s, err := verify.LoadStack(t.Context(), verify.ExecRunner, stack, keys)
	if err != nil {
		t.Fatal(err)
	}
	env, err := verify.DefaultEnv(os.Getenv("ODAA_VERIFY_ROTATE") == "1", func(msg string) { t.Log(msg) })
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range verify.Run(t.Context(), s, env) {
		t.Run(r.Check, func(t *testing.T) {
			switch r.Status {
			case verify.Fail:
				t.Errorf("%s (%s): %s", r.Check, r.Guide, r.Reason)
			case verify.Skip:
				t.Skipf("%s", r.Reason)
			default:
				t.Logf("%s", r.Reason)
			}
		})
	}
}
