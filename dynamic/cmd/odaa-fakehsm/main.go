// Command odaa-fakehsm serves the fake Managed HSM (data plane and Resource Manager) on 127.0.0.1 for
// rehearsals, until interrupted. It writes into -dir the certificate to trust (ca.pem), the administrator's
// bearer token (token, 0600) and env, the lines that point pulumi-resource-odaa at it:
//
//	ODAA_HSM_ENDPOINT=https://127.0.0.1:<port>/ ODAA_HSM_CA_FILE=<dir>/ca.pem ODAA_HSM_TOKEN_FILE=<dir>/token
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

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, os.Args[1:], os.Stdout, nil); err != nil {
		fmt.Fprintf(os.Stderr, "odaa-fakehsm: %v\n", err)
		os.Exit(1)
	}
}

// serve parses args, starts the fake, writes its files, calls ready (when not nil) with the env file's path,
// and serves until ctx ends.
func serve(ctx context.Context, args []string, out io.Writer, ready func(envFile string)) error {
	fs := flag.NewFlagSet("odaa-fakehsm", flag.ContinueOnError)
	dir := fs.String("dir", ".cache/fakehsm", "directory for ca.pem, token and env")
	tenant := fs.String("tenant", fakehsm.DefaultTenantID, "tenant of the HSM")
	admin := fs.String("admin", fakehsm.DefaultAdministratorID, "object ID of the administrator the token is for")
	subscription := fs.String("subscription", fakehsm.DefaultSubscriptionID, "subscription of the ARM resource")
	group := fs.String("resource-group", fakehsm.DefaultResourceGroup, "resource group of the ARM resource")
	name := fs.String("name", fakehsm.DefaultName, "name of the HSM")
	location := fs.String("location", fakehsm.DefaultLocation, "location of the HSM")
	// Long-running answers say Retry-After: 0, on which clients fall back to their own interval (10s in the
	// plugin); a rehearsal that waits for activation in milliseconds sets this.
	retryAfterMs := fs.Int("retry-after-ms", 0, "retry-after-ms hint of long-running answers (0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return fmt.Errorf("making %s: %w", *dir, err)
	}
	srv := fakehsm.New(nil, fakehsm.WithTenant(*tenant), fakehsm.WithAdministrators(*admin),
		fakehsm.WithResource(*subscription, *group, *name, *location), fakehsm.WithRetryAfterMs(*retryAfterMs))
	defer srv.Close()

	abs, err := filepath.Abs(*dir)
	if err != nil {
		return fmt.Errorf("resolving %s: %w", *dir, err)
	}
	ca, token, envFile := filepath.Join(abs, "ca.pem"), filepath.Join(abs, "token"), filepath.Join(abs, "env")
	env := fmt.Sprintf("ODAA_HSM_ENDPOINT=%s\nODAA_HSM_CA_FILE=%s\nODAA_HSM_TOKEN_FILE=%s\n", srv.URL(), ca, token)
	for _, f := range []struct {
		path string
		data []byte
	}{{ca, srv.CertificatePEM()}, {token, []byte(srv.Token(*admin) + "\n")}, {envFile, []byte(env)}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", f.path, err)
		}
	}
	_, _ = fmt.Fprintf(out, "fake HSM %s serving at %s (ARM ID %s); environment in %s\n", *name, srv.URL(),
		srv.ARMID(), envFile)
	if ready != nil {
		ready(envFile)
	}
	<-ctx.Done()
	return nil
}
