// Command standin is a local stand-in for the cloud providers this program uses (azure-native, azuread, oci),
// for rehearsing `up`, `preview --diff` and `destroy` under the real Pulumi engine without a cloud account. One
// binary is built under each provider's plugin name; it learns which provider it plays from that name. It
// answers from tests/mockcloud's table, so the mocks and the rehearsal agree on every computed output.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "pulumi-resource-")
	version, ok := versions[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "standin: no stand-in for provider %q (built as %s)\n", name, os.Args[0])
		os.Exit(1)
	}
	err := provider.Main(name, func(*provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return newServer(name, version), nil
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "standin %s: %v\n", name, err)
		os.Exit(1)
	}
}
