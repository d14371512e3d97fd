// Package components holds the stack's reusable ComponentResources. Every constructor has the shape
// NewX(ctx, name, args, opts...) (*X, error); children are parented to the component and named from name.
package components

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// typePrefix namespaces the component type tokens.
const typePrefix = "odaa:components:"

// Long-running cloud operations: Managed HSM provisioning runs past 20 minutes and Autonomous Database
// creation about as long, so both get far more than the providers' defaults.
var longRunning = &pulumi.CustomTimeouts{Create: "90m", Update: "60m", Delete: "60m"}

var errNilArgs = errors.New("args are required")

// nonEmpty passes a computed string through, failing when it comes back empty: a mock or a provider that
// leaves it out must stop the deployment, not yield "https:///keys/...".
func nonEmpty(what string, o pulumi.StringOutput) pulumi.StringOutput {
	return o.ApplyT(func(s string) (string, error) {
		if strings.TrimSpace(s) == "" {
			return "", fmt.Errorf("%s came back empty from the provider; nothing is built from an empty value", what)
		}
		return s, nil
	}).(pulumi.StringOutput)
}

// lastSegment returns the final path segment of an ARM ID.
func lastSegment(id string) string {
	return id[strings.LastIndex(id, "/")+1:]
}
