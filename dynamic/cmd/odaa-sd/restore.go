// This file holds `odaa-sd restore`: its flags, the Azure credentials it signs in with, and its progress
// lines (stderr) and summary (stdout). The work is recovery.Restore's.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/recovery"
)

// env is the Azure side of the command: how it signs in and the options of its HSM clients.
type env struct {
	// credential returns the identity the HSM calls are made as.
	credential func(opts hsm.Options) (azcore.TokenCredential, error)
	// hsm configures the HSM clients (transport, retries, cloud).
	hsm hsm.Options
	// sleep replaces time.After between polls; nil is time.After.
	sleep func(time.Duration) <-chan time.Time
}

// defaultEnv signs in with azidentity's default chain and talks to public Azure.
func defaultEnv() env {
	return env{credential: func(opts hsm.Options) (azcore.TokenCredential, error) {
		cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: opts.ClientOptions,
		})
		if err != nil {
			return nil, fmt.Errorf("finding Azure credentials (az login, the AZURE_* variables, managed "+
				"identity): %w", err)
		}
		return cred, nil
	}}
}

func restore(args []string, stdout, stderr io.Writer, e env) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hsmURI := fs.String("hsm-uri", "", "URI of the new HSM awaiting its security domain, "+
		"https://<name>.managedhsm.azure.net")
	hsmID := fs.String("hsm-id", "", "optional ARM ID of the new HSM; when given, its activationStatus in "+
		"Azure Resource Manager decides whether it is active")
	domainPath := fs.String("domain", "", "security domain file, as downloaded from the old HSM")
	var keyPaths files
	fs.Var(&keyPaths, "key", "private key file (PEM, PKCS#1 or PKCS#8), optionally with its certificate; "+
		"repeat for a quorum")
	timeout := fs.Duration("timeout", recovery.DefaultTimeout, "how long to wait for the HSM to become active "+
		"after the upload")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return err
	} else if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *hsmURI == "" || *domainPath == "" || len(keyPaths) == 0 {
		return fmt.Errorf("%w: --hsm-uri, --domain and at least one --key are required", errUsage)
	}
	if u, err := url.Parse(*hsmURI); err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%w: --hsm-uri %q must be an https URL with a host", errUsage, *hsmURI)
	}
	if *hsmID != "" {
		if _, err := hsm.ParseHsmID(*hsmID); err != nil {
			return fmt.Errorf("%w: --hsm-id: %w", errUsage, err)
		}
	}
	if *timeout <= 0 {
		return fmt.Errorf("%w: --timeout must be positive", errUsage)
	}

	domain, pairs, err := readDomainAndKeys(*domainPath, keyPaths)
	if err != nil {
		return err
	}
	for _, path := range keyPaths {
		if info, err := os.Stat(path); err == nil && info.Mode().Perm()&0o077 != 0 {
			_, _ = fmt.Fprintf(stderr, "warning: %s is readable by others (mode %04o); keep private keys at 0600\n",
				path, info.Mode().Perm())
		}
	}
	cred, err := e.credential(e.hsm)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	res, err := recovery.Restore(ctx, *hsmURI, domain, pairs, cred, recovery.Options{
		HSM:        e.hsm,
		ResourceID: *hsmID,
		Timeout:    *timeout,
		Progress:   func(msg string) { _, _ = fmt.Fprintln(stderr, msg) },
		Sleep:      e.sleep,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\nnext: grant roles on the new HSM, then restore each key backup "+
		"(az keyvault key restore --hsm-name <name> --file <backup>)\n", res)
	return err
}
