package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

// holders writes n key files (certificate and key in one file for the first, key only for the others) and a
// domain wrapped to their certificates with the given quorum.
func holders(t *testing.T, n, quorum int) (dir string, keys []string, domainPath string) {
	t.Helper()
	dir = t.TempDir()
	var pairs []securitydomain.KeyPair
	for i := range n {
		certPEM, keyPEM, err := securitydomain.GenerateKeyPair(2048, "holder")
		if err != nil {
			t.Fatal(err)
		}
		kp, err := securitydomain.LoadKeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, kp)
		content := keyPEM
		if i == 0 {
			content = append(append([]byte{}, certPEM...), keyPEM...)
		}
		path := filepath.Join(dir, "sd-key"+string(rune('1'+i))+".pem")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, path)
	}
	certs := make([]*x509.Certificate, 0, n)
	for _, p := range pairs {
		certs = append(certs, p.Cert)
	}
	domain, err := securitydomain.Create(certs, quorum, nil)
	if err != nil {
		t.Fatal(err)
	}
	text, err := domain.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	domainPath = filepath.Join(dir, "sd.json")
	if err := os.WriteFile(domainPath, text, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, keys, domainPath
}

func runProve(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(append([]string{"prove"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func keyArgs(domain string, keys ...string) []string {
	args := []string{"--domain", domain}
	for _, k := range keys {
		args = append(args, "--key", k)
	}
	return args
}

func TestProveQuorumPasses(t *testing.T) {
	_, keys, domain := holders(t, 3, 2)

	for _, pick := range [][]string{{keys[0], keys[1]}, {keys[1], keys[2]}, keys} {
		code, out, errOut := runProve(keyArgs(domain, pick...)...)
		if code != 0 {
			t.Fatalf("prove with %d keys: exit %d: %s", len(pick), code, errOut)
		}
		if !strings.Contains(out, "3 data items decrypted") || !strings.Contains(out, "do not recover") {
			t.Errorf("output does not report the proof: %q", out)
		}
	}
}

func TestProveFailsBelowQuorumAndWithWrongKeys(t *testing.T) {
	_, keys, domain := holders(t, 3, 2)
	_, otherKeys, _ := holders(t, 3, 2)

	cases := map[string][]string{
		"one-of-three":       {keys[0]},
		"a-wrong-key":        {keys[0], otherKeys[1]},
		"the-same-key-twice": {keys[1], keys[1]},
	}
	for name, pick := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runProve(keyArgs(domain, pick...)...)
			if code != 1 || out != "" || errOut == "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 with the reason", code, out, errOut)
			}
		})
	}
}

func TestProveFailsOnATamperedItem(t *testing.T) {
	_, keys, domain := holders(t, 3, 2)
	data, err := os.ReadFile(domain)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	items := raw["EncData"].(map[string]any)["data"].([]any)
	item := items[1].(map[string]any)
	jwe := []byte(item["compact_jwe"].(string))
	// Flip one character of the ciphertext (the fourth of five compact JWE parts).
	parts := bytes.Split(jwe, []byte("."))
	if parts[3][0] == 'A' {
		parts[3][0] = 'B'
	} else {
		parts[3][0] = 'A'
	}
	item["compact_jwe"] = string(bytes.Join(parts, []byte(".")))
	tampered, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(domain, tampered, 0o600); err != nil {
		t.Fatal(err)
	}

	code, _, errOut := runProve(keyArgs(domain, keys[0], keys[1])...)
	if code != 1 {
		t.Errorf("a tampered item proved: exit %d, %s", code, errOut)
	}
}

func TestProveUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"verify"}, {"prove"}, {"prove", "--domain", "x"}} {
		var out, errOut bytes.Buffer
		if code := run(args, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "usage") {
			t.Errorf("run(%q) = %d, stderr %q; want 2 with usage", args, code, errOut.String())
		}
	}
}

func TestHelpIsNotAnError(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"prove", "--help"}} {
		var out, errOut bytes.Buffer
		code := run(args, &out, &errOut)
		if code != 0 || !strings.Contains(out.String()+errOut.String(), "-domain") &&
			!strings.Contains(out.String(), "usage") {
			t.Errorf("run(%q) = %d, stdout %q, stderr %q; want 0 with the usage", args, code, out.String(),
				errOut.String())
		}
		if strings.Contains(errOut.String(), "help requested") {
			t.Errorf("run(%q) reports help as an error: %q", args, errOut.String())
		}
	}
}
