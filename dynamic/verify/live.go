// This file connects the checks to a real stack: it reads the stack through the Pulumi CLI and builds the
// production Env (the system resolver, azidentity, the godror opener). The command odaa-verify and the
// live-tagged test in tests/ both start here.
package verify

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// Runner runs a command and returns its standard output; tests replace the Pulumi CLI with it.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ExecRunner runs the command on this host; a failure carries the command's standard error.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("running %s %s: %w: %s", name, strings.Join(args, " "), err,
			strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// LoadStack reads stack's outputs and configuration with the Pulumi CLI (secrets shown: they stay in this
// process) and returns the Stack the checks need.
func LoadStack(ctx context.Context, run Runner, stack string, keyFiles []string) (Stack, error) {
	outputs, err := run(ctx, "pulumi", "stack", "output", "--json", "--show-secrets", "--stack", stack)
	if err != nil {
		return Stack{}, fmt.Errorf("reading the outputs of stack %s: %w", stack, err)
	}
	cfg, err := run(ctx, "pulumi", "config", "--json", "--show-secrets", "--stack", stack)
	if err != nil {
		return Stack{}, fmt.Errorf("reading the configuration of stack %s: %w", stack, err)
	}
	s, err := ParseStack(outputs, cfg, keyFiles, filepath.Glob)
	if err != nil {
		return Stack{}, fmt.Errorf("stack %s: %w", stack, err)
	}
	return s, nil
}

// DefaultEnv is the Env of a real run: the system resolver, the operator's credential from azidentity's
// default chain (az login or AZURE_* variables), and godror for the databases.
func DefaultEnv(rotate bool, progress func(string)) (Env, error) {
	operator, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return Env{}, fmt.Errorf("finding the operator's Azure credential: %w", err)
	}
	// The plugin's bounds: 8 attempts within 5 minutes, as for its own calls after a grant.
	propagation := hsm.Retry{Attempts: 8, Initial: 2 * time.Second, Max: 30 * time.Second,
		Budget: 5 * time.Minute, Progress: progress}
	return Env{Resolver: net.DefaultResolver, Operator: operator, OpenDB: oracle.Open, Rotate: rotate,
		Propagation: propagation, Progress: progress}, nil
}
