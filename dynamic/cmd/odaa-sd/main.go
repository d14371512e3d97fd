// Command odaa-sd works on Managed HSM security domains:
//
//	odaa-sd prove --domain <file> --key <private key file> [--key ...]
//
// proves offline, with no Azure call, that the given private keys (at least the domain's quorum) recover the
// master secret and decrypt every data item, and that one key fewer does not.
//
//	odaa-sd restore --hsm-uri <https://name.managedhsm.azure.net> [--hsm-id <ARM ID>] --domain <file>
//	                --key <file> [--key ...] [--timeout <duration>]
//
// restores the security domain into a new HSM awaiting one (disaster recovery): it recovers the domain with
// the keys, wraps it to the HSM's transfer key, uploads it and waits until the HSM is active. It signs in with
// azidentity's default chain (az login, the AZURE_* variables, managed identity) as an initial administrator
// of the new HSM. A key file may hold the certificate too.
//
// Exit status: 0 done, 1 failed, 2 usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: odaa-sd prove --domain <file> --key <private key file> [--key ...]
       odaa-sd restore --hsm-uri <https://...> [--hsm-id <ARM ID>] --domain <file>
                       --key <private key file> [--key ...] [--timeout <duration>]`

// run is the command without its process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	return runWith(args, stdout, stderr, defaultEnv())
}

// runWith is run with its Azure side supplied, so that tests point it at a fake HSM.
func runWith(args []string, stdout, stderr io.Writer, e env) int {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		_, _ = fmt.Fprintln(stdout, usage)
		return 0
	}
	var sub func([]string, io.Writer, io.Writer) error
	switch {
	case len(args) > 0 && args[0] == "prove":
		sub = prove
	case len(args) > 0 && args[0] == "restore":
		sub = func(a []string, out, errOut io.Writer) error { return restore(a, out, errOut, e) }
	default:
		_, _ = fmt.Fprintln(stderr, usage)
		return 2
	}
	err := sub(args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0 // the flag package has printed the flags
	}
	if err != nil {
		_, _ = fmt.Fprintf(stderr, "odaa-sd %s: %v\n", args[0], err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

type files []string

func (f *files) String() string     { return strings.Join(*f, ",") }
func (f *files) Set(v string) error { *f = append(*f, v); return nil }

func prove(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("prove", flag.ContinueOnError)
	fs.SetOutput(stderr)
	domainPath := fs.String("domain", "", "security domain file, as downloaded")
	var keyPaths files
	fs.Var(&keyPaths, "key", "private key file (PEM, PKCS#1 or PKCS#8), optionally with its certificate; repeat")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return err
	} else if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if *domainPath == "" || len(keyPaths) == 0 {
		return fmt.Errorf("%w: --domain and at least one --key are required", errUsage)
	}

	domain, pairs, err := readDomainAndKeys(*domainPath, keyPaths)
	if err != nil {
		return err
	}
	proof, err := securitydomain.Prove(domain, pairs)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "security domain %s: %s\n", *domainPath, proof)
	return err
}

// readDomainAndKeys reads the security domain file and every key file.
func readDomainAndKeys(domainPath string, keyPaths []string) (*securitydomain.File, []securitydomain.KeyPair,
	error) {
	data, err := os.ReadFile(domainPath)
	if err != nil {
		return nil, nil, err
	}
	domain, err := securitydomain.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", domainPath, err)
	}
	pairs := make([]securitydomain.KeyPair, 0, len(keyPaths))
	for _, path := range keyPaths {
		pair, err := readKeyPair(path)
		if err != nil {
			return nil, nil, err
		}
		pairs = append(pairs, pair)
	}
	return domain, pairs, nil
}

// readKeyPair reads a private key and, when the file holds one, its certificate.
func readKeyPair(path string) (securitydomain.KeyPair, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return securitydomain.KeyPair{}, err
	}
	if _, err := securitydomain.ParseCertificatePEM(data); err == nil {
		pair, err := securitydomain.LoadKeyPair(data, data)
		if err != nil {
			return securitydomain.KeyPair{}, fmt.Errorf("%s: %w", path, err)
		}
		return pair, nil
	}
	key, err := securitydomain.ParsePrivateKeyPEM(data)
	if err != nil {
		return securitydomain.KeyPair{}, fmt.Errorf("%s: %w", path, err)
	}
	return securitydomain.KeyPair{Key: key}, nil
}
