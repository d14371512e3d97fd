// Command rehearse runs the program under the real Pulumi engine against the stand-in clouds (`make
// rehearse`): up from empty, an up that changes nothing, a tag change previewed with --diff, destroy. It
// starts from an empty backend each time and exits 1 when the engine reports anything unexpected.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/odaa-platform/adbs-hsm/tests/rehearsal"
)

func main() {
	dir := flag.String("dir", ".cache/rehearsal", "directory for the stand-ins, the state and the workspace")
	cli := flag.String("cli", ".cache/bin/pulumi", "the Pulumi CLI (make cli builds it)")
	stackName := flag.String("stack", "dev", "stack whose Pulumi.<stack>.yaml seeds the configuration")
	verbose := flag.Bool("verbose", false, "print the engine's output")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *dir, *cli, *stackName, *verbose); err != nil {
		fmt.Fprintf(os.Stderr, "rehearse: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, dir, cli, stackName string, verbose bool) error {
	root, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("finding the repository: %w", err)
	}
	abs := func(p string) string {
		if filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(root, p)
	}
	dir, cli = abs(dir), abs(cli)
	// Up from empty: a rehearsal never inherits the last one's state. Only what a rehearsal makes is removed,
	// whatever else -dir holds.
	for _, made := range rehearsal.Made {
		if err := os.RemoveAll(filepath.Join(dir, made)); err != nil {
			return fmt.Errorf("clearing %s: %w", filepath.Join(dir, made), err)
		}
	}
	progress := io.Discard
	if verbose {
		progress = os.Stdout
	}
	logf := func(format string, args ...any) { fmt.Printf(format+"\n", args...) }
	logf("preparing stack %s in %s (stand-ins for %v; the real odaa plugin against the fake HSM, in script mode)",
		stackName, dir, rehearsal.Plugins)
	r, err := rehearsal.Prepare(ctx, rehearsal.Options{Root: root, Dir: dir, CLI: cli, Stack: stackName,
		Progress: progress})
	if err != nil {
		return err
	}
	defer r.Close()
	summary, err := rehearsal.Run(ctx, r, logf)
	fmt.Println()
	for _, line := range summary.Lines() {
		fmt.Println(line)
	}
	return err
}
