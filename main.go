// Command odaa-adbs-hsm is the Pulumi program: an Oracle Autonomous Database on Oracle Database@Azure whose TDE
// master key lives in an Azure Key Vault Managed HSM reached through a private endpoint.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/odaa-platform/adbs-hsm/internal/stack"
)

func main() {
	pulumi.Run(stack.Program)
}
