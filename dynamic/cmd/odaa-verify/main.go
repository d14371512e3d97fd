// Command odaa-verify checks a deployed stack the way the scenario guide's Tests 1–6 do by hand and prints a
// pass/fail table; it exits 1 when any check fails, 2 when it cannot start:
//
//	odaa-verify [--stack dev] [--rotate] [--sd-key <private key file> ...]
//
// It reads the stack with `pulumi stack output --json --show-secrets` and `pulumi config --json --show-secrets`
// and must run where the HSM's and the database's private endpoints resolve: inside the VNet or a peered
// network that uses its DNS.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/odaa-platform/adbs-hsm/dynamic/verify"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, verify.ExecRunner, verify.DefaultEnv)
	stop()
	os.Exit(code)
}

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

// run is the command without its process: it returns the exit status. pulumi and newEnv are injected so that
// the command's own logic is tested without a cloud.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, pulumi verify.Runner,
	newEnv func(rotate bool, progress func(string)) (verify.Env, error)) int {
	fs := flag.NewFlagSet("odaa-verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	stack := fs.String("stack", "dev", "the Pulumi stack to check")
	rotate := fs.Bool("rotate", false, "also create a new key version (changes the key)")
	var keys files
	fs.Var(&keys, "sd-key", "security-domain private key file for the quorum proof; repeat (default: the "+
		"generated keys in hsm.securityDomain.keyDirectory)")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		_, _ = fmt.Fprintf(stderr, "odaa-verify: unexpected arguments %s\n", strings.Join(fs.Args(), " "))
		return 2
	}

	s, err := verify.LoadStack(ctx, pulumi, *stack, keys)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "odaa-verify: %v\n", err)
		return 2
	}
	progress := func(msg string) { _, _ = fmt.Fprintln(stderr, msg) }
	env, err := newEnv(*rotate, progress)
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "odaa-verify: %v\n", err)
		return 2
	}
	results := verify.Run(ctx, s, env)
	if err := verify.WriteTable(stdout, results); err != nil {
		_, _ = fmt.Fprintf(stderr, "odaa-verify: %v\n", err)
		return 2
	}
	if verify.Failed(results) {
		return 1
	}
	return 0
}
