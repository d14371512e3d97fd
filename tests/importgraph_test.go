package tests

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestProgramNeedsNoOracleClient keeps the Oracle driver (cgo and the Oracle client libraries) and the plugin's
// cloud SDKs out of the program: only the provider plugin may need them. A program that imported them would fail
// to build for users without gcc, and `pulumi preview` would need the Oracle client.
func TestProgramNeedsNoOracleClient(t *testing.T) {
	if testing.Short() {
		t.Skip("lists the program's imports with the go tool")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", "github.com/odaa-platform/adbs-hsm").
		CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 || !slices.Contains(deps, "github.com/pulumi/pulumi/sdk/v3/go/pulumi") {
		t.Fatalf("go list returned an implausible import graph of %d packages", len(deps))
	}
	for _, dep := range deps {
		for _, banned := range []string{
			"github.com/godror/",
			"github.com/oracle/oci-go-sdk/",
			"github.com/odaa-platform/adbs-hsm/dynamic/provider",
			"github.com/odaa-platform/adbs-hsm/dynamic/oracle",
		} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("the program imports %s: only the provider plugin may", dep)
			}
		}
	}
}
