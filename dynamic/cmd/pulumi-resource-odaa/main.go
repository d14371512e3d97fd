// Command pulumi-resource-odaa is this project's Pulumi provider plugin: the Managed HSM data plane and the
// Oracle steps that no published provider performs. The engine starts it from ./bin (see Pulumi.yaml).
package main

import (
	"context"
	"fmt"
	"os"

	p "github.com/pulumi/pulumi-go-provider"

	"github.com/odaa-platform/adbs-hsm/dynamic/provider"
)

// envSQLScript names the file of script mode: set, the SQL resources and the OCI steps write what they would
// run there instead of running it (see provider.Options.SQLScript).
const envSQLScript = "ODAA_SQL_SCRIPT"

// version is stamped at build time: -ldflags "-X main.version=<semver>".
var version = "0.0.0-dev"

func main() {
	opts, err := localOptions(os.Getenv)
	opts.SQLScript = os.Getenv(envSQLScript)
	var prov p.Provider
	if err == nil {
		prov, err = provider.New(opts)
	}
	if err == nil {
		err = p.RunProvider(context.Background(), provider.Name, version, prov)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-resource-odaa: %v\n", err)
		os.Exit(1)
	}
}
