package provider

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
	"github.com/odaa-platform/adbs-hsm/dynamic/securitydomain"
)

const sdToken = odaa.SecurityDomainType

func sdInputs(fake *fakehsm.Server, dir string) property.Map {
	return property.NewMap(map[string]property.Value{
		"hsmUri":           property.New(fake.URL()),
		"hsmResourceId":    property.New(fake.ARMID()),
		"certificateCount": property.New(3.0),
		"quorum":           property.New(2.0),
		"keyDirectory":     property.New(filepath.Join(dir, "keys")),
		"outputPath":       property.New(filepath.Join(dir, "sd.json")),
	})
}

// userKeys generates n key pairs as the key holders would, returning certificates (PEM) and pairs.
func userKeys(t testing.TB, n int) ([]string, []securitydomain.KeyPair) {
	t.Helper()
	var certs []string
	var pairs []securitydomain.KeyPair
	for i := range n {
		certPEM, keyPEM, err := securitydomain.GenerateKeyPair(2048, "holder "+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		kp, err := securitydomain.LoadKeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, string(certPEM))
		pairs = append(pairs, kp)
	}
	return certs, pairs
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Mode().Perm()
}

func TestSecurityDomainCreateActivatesWithGeneratedKeys(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithPendingPolls(2))
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()

	resp := env.mustCreate(sdToken, sdInputs(fake, dir))

	if !fake.Activated() {
		t.Fatal("the HSM is not active after create")
	}
	out := resp.Properties
	if got := out.Get("activationStatus").AsString(); got != "Active" {
		t.Errorf("activationStatus = %q", got)
	}
	if resp.ID != fakehsm.DefaultName+"-security-domain" {
		t.Errorf("ID = %q", resp.ID)
	}
	sdPath := filepath.Join(dir, "sd.json")
	if m := mode(t, sdPath); m != 0o600 {
		t.Errorf("security domain file mode %v, want 0600", m)
	}
	if m := mode(t, filepath.Join(dir, "keys")); m != 0o700 {
		t.Errorf("key directory mode %v, want 0700", m)
	}
	for i := 1; i <= 3; i++ {
		key := filepath.Join(dir, "keys", fakehsm.DefaultName+"-sd-key"+string(rune('0'+i))+".pem")
		if m := mode(t, key); m != 0o600 {
			t.Errorf("%s mode %v, want 0600", key, m)
		}
	}

	// The file and the secret output hold the domain the HSM made, and the generated keys recover it.
	written, err := os.ReadFile(sdPath)
	if err != nil {
		t.Fatal(err)
	}
	if out.Get("securityDomain").AsString() != string(written) {
		t.Error("the securityDomain output differs from the file")
	}
	domain, err := securitydomain.Parse(written)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []securitydomain.KeyPair
	keys := out.Get("privateKeys").AsArray()
	certs := out.Get("wrappingCertificates").AsArray()
	if keys.Len() != 3 || certs.Len() != 3 {
		t.Fatalf("%d private keys and %d certificates in state, want 3 each", keys.Len(), certs.Len())
	}
	for i := range 3 {
		kp, err := securitydomain.LoadKeyPair([]byte(certs.Get(i).AsString()), []byte(keys.Get(i).AsString()))
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, kp)
	}
	if _, err := securitydomain.Prove(domain, pairs[:2]); err != nil {
		t.Errorf("two generated keys do not recover the domain: %v", err)
	}
	if !strings.Contains(out.Get("quorumProof").AsString(), "3 subsets of 1 shares do not recover") {
		t.Errorf("quorumProof = %q", out.Get("quorumProof").AsString())
	}
}

func TestSecurityDomainSecretsStaySecret(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	out := env.mustCreate(sdToken, sdInputs(fake, t.TempDir())).Properties

	for _, name := range []string{"securityDomain", "privateKeys"} {
		if !out.Get(name).Secret() {
			t.Errorf("output %s is not marked secret", name)
		}
	}
	if out.Get("wrappingCertificates").Secret() {
		t.Error("certificates (public) are marked secret")
	}
	logs := env.logs.All()
	if strings.Contains(logs, "PRIVATE KEY") || strings.Contains(logs, "enc_shares") {
		t.Errorf("a log line holds key material or the domain:\n%s", logs)
	}
}

func TestSecurityDomainWaitsAtTheServicesPace(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithRetryAfter("3"), fakehsm.WithPendingPolls(2))
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	env.mustCreate(sdToken, sdInputs(fake, t.TempDir()))

	// The download's Retry-After paces the first poll, each InProgress answer's the next ones.
	want := []time.Duration{3 * time.Second, 3 * time.Second, 3 * time.Second}
	got := env.Pauses()
	if len(got) != len(want) {
		t.Fatalf("pauses %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("pause %d = %s, want the service's %s", i, got[i], want[i])
		}
	}
	if !env.logs.Contains("waiting for activation of managed HSM "+fakehsm.DefaultName, "poll 2") {
		t.Errorf("no progress line per poll:\n%s", env.logs.All())
	}
	if n := fake.Requests(fakehsm.RouteSecurityDomainDownloadPending); n != 3 {
		t.Errorf("%d pending polls, want 3", n)
	}
}

func TestSecurityDomainActivationTimeoutIsNamed(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithPendingPolls(1<<20))
	// A real clock here: the timeout is what ends the wait.
	env := newTestEnvWith(t, fake, Options{Credential: fake.Credential(fakehsm.DefaultAdministratorID),
		HSM: fakeClientOptions(fake), Timeouts: Timeouts{Activation: 50 * time.Millisecond},
		sleep: func(time.Duration) <-chan time.Time { return time.After(time.Millisecond) }})
	dir := t.TempDir()

	resp, err := env.create(sdToken, sdInputs(fake, dir), false)

	if err == nil || resp.PartialState == nil {
		t.Fatalf("create error = %v, want a partial create", err)
	}
	reasons := strings.Join(resp.PartialState.Reasons, "\n")
	if !strings.Contains(reasons, "activation of managed HSM "+fakehsm.DefaultName+" did not finish within "+
		"its 50ms timeout") {
		t.Errorf("the timeout is not named: %s", reasons)
	}
	if resp.Properties.Get("securityDomain").AsString() == "" {
		t.Error("the partial state lost the downloaded domain")
	}
	// The domain was downloaded before the wait: it is on disk whatever the wait did.
	if _, err := os.Stat(filepath.Join(dir, "sd.json")); err != nil {
		t.Errorf("the downloaded domain was not written: %v", err)
	}
}

func TestSecurityDomainFaultsAreRetried(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault fakehsm.Fault
	}{
		{"transient-500-on-download", fakehsm.InternalError(fakehsm.RouteSecurityDomainDownload, 1)},
		{"503-on-download", fakehsm.Unavailable(fakehsm.RouteSecurityDomainDownload, 1)},
		{"429-on-pending", fakehsm.Throttle(fakehsm.RouteSecurityDomainDownloadPending, 2, "0")},
		{"503-on-pending", fakehsm.Unavailable(fakehsm.RouteSecurityDomainDownloadPending, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := fakehsm.New(t, fakehsm.WithFaults(tc.fault))
			env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

			env.mustCreate(sdToken, sdInputs(fake, t.TempDir()))

			if !fake.Activated() {
				t.Error("not activated")
			}
			if fake.PendingFaults() != 0 {
				t.Errorf("%d faults never fired", fake.PendingFaults())
			}
		})
	}
}

func TestSecurityDomainSecondRunOnActiveHsmDownloadsNothing(t *testing.T) {
	fake := fakehsm.New(t, fakehsm.WithActivated())
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)

	resp := env.mustCreate(sdToken, sdInputs(fake, t.TempDir()))

	if n := fake.Requests(fakehsm.RouteSecurityDomainDownload); n != 0 {
		t.Errorf("%d download requests against an active HSM", n)
	}
	if got := resp.Properties.Get("activationStatus").AsString(); got != "Active" {
		t.Errorf("activationStatus = %q", got)
	}
	if !env.logs.Contains("already active: nothing downloaded") {
		t.Errorf("no warning:\n%s", env.logs.All())
	}
}

func TestSecurityDomainNoChangesOnSecondUp(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	in := sdInputs(fake, t.TempDir())
	resp := env.mustCreate(sdToken, in)

	diff, err := env.diff(sdToken, resp.ID, resp.Properties, in, in)
	if err != nil {
		t.Fatal(err)
	}
	if diff.HasChanges {
		t.Errorf("unchanged inputs plan changes: %+v", diff.DetailedDiff)
	}
}

func TestSecurityDomainDiffAndUpdate(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()
	in := sdInputs(fake, dir)
	resp := env.mustCreate(sdToken, in)

	t.Run("new-quorum-is-refused-with-the-reason", func(t *testing.T) {
		news := in.Set("quorum", property.New(3.0))
		diff, err := env.diff(sdToken, resp.ID, resp.Properties, in, news)
		if err != nil {
			t.Fatal(err)
		}
		if diff.DetailedDiff["quorum"].Kind != p.Update {
			t.Fatalf("diff = %+v", diff.DetailedDiff)
		}
		_, err = env.update(sdToken, resp.ID, resp.Properties, in, news, false)
		if err == nil || !strings.Contains(err.Error(), "cannot be wrapped anew") {
			t.Errorf("update error = %v", err)
		}
	})
	t.Run("new-output-path-copies-the-file", func(t *testing.T) {
		moved := filepath.Join(dir, "moved", "sd.json")
		news := in.Set("outputPath", property.New(moved))
		up, err := env.update(sdToken, resp.ID, resp.Properties, in, news, false)
		if err != nil {
			t.Fatal(err)
		}
		if m := mode(t, moved); m != 0o600 {
			t.Errorf("moved file mode %v", m)
		}
		if got := up.Properties.Get("securityDomainPath").AsString(); got != moved {
			t.Errorf("securityDomainPath = %q", got)
		}
	})
	t.Run("another-hsm-replaces", func(t *testing.T) {
		news := in.Set("hsmResourceId", property.New(fake.ARMID()+"x"))
		diff, err := env.diff(sdToken, resp.ID, resp.Properties, in, news)
		if err != nil {
			t.Fatal(err)
		}
		if diff.DetailedDiff["hsmResourceId"].Kind != p.UpdateReplace {
			t.Errorf("diff = %+v", diff.DetailedDiff)
		}
	})
}

func TestSecurityDomainKeptWhenWritingFails(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()
	blocked := filepath.Join(dir, "taken")
	if err := os.Mkdir(blocked, 0o700); err != nil {
		t.Fatal(err)
	}
	in := sdInputs(fake, dir).Set("outputPath", property.New(blocked))

	resp, err := env.create(sdToken, in, false)

	if err == nil || resp.PartialState == nil {
		t.Fatalf("create error = %v, want a partial create that keeps state", err)
	}
	// The engine keeps the partial state; the domain is in it, as the reason says.
	state := resp.Properties
	if domain := state.Get("securityDomain"); domain.AsString() == "" || !domain.Secret() {
		t.Error("the partial state does not keep the downloaded domain as a secret")
	}
	if reasons := strings.Join(resp.PartialState.Reasons, "\n"); !strings.Contains(reasons,
		"pulumi stack output --show-secrets") {
		t.Errorf("the reason does not say where the domain is: %s", reasons)
	}
	if !fake.Activated() {
		t.Error("a failed write stopped the activation")
	}
}

func TestSecurityDomainKeptWhenUnreadable(t *testing.T) {
	const unknown = `{"value":{"format":"from a later service version"}}`
	fake := fakehsm.New(t, fakehsm.WithDownloadBody(func([]byte) []byte { return []byte(unknown) }))
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()
	path := filepath.Join(dir, "sd.json")
	in := sdInputs(fake, dir).Set("outputPath", property.New(path))

	resp, err := env.create(sdToken, in, false)

	if err == nil || resp.PartialState == nil {
		t.Fatalf("create error = %v, want a partial create that keeps state", err)
	}
	if domain := resp.Properties.Get("securityDomain"); domain.AsString() != unknown || !domain.Secret() {
		t.Errorf("state holds %q, want the answer as received, as a secret", domain.AsString())
	}
	written, err := os.ReadFile(path)
	if err != nil || string(written) != unknown {
		t.Errorf("file holds %q (%v), want the answer as received", written, err)
	}
	if info, err := os.Stat(path); err == nil && info.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, want 0600", info.Mode().Perm())
	}
	if reasons := strings.Join(resp.PartialState.Reasons, "\n"); !strings.Contains(reasons, "kept as received") {
		t.Errorf("the reason does not say the domain was kept: %s", reasons)
	}
}

func TestSecurityDomainTightensExistingSecretFiles(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()
	keyDir := filepath.Join(dir, "keys")
	in := sdInputs(fake, dir).Set("keyDirectory", property.New(keyDir))
	// Key pairs left by an earlier attempt, readable by everyone.
	name := hsmNameOf(SecurityDomainArgs{HsmResourceID: fake.ARMID()})
	for i := 1; i <= 3; i++ {
		cert, key, err := securitydomain.GenerateKeyPair(2048, "earlier attempt")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(keyDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for path, data := range map[string][]byte{
			filepath.Join(keyDir, fmt.Sprintf("%s-sd-cert%d.pem", name, i)): cert,
			filepath.Join(keyDir, fmt.Sprintf("%s-sd-key%d.pem", name, i)):  key,
		} {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	env.mustCreate(sdToken, in)

	if info, err := os.Stat(keyDir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("key directory: %v %v, want mode 0700", info.Mode().Perm(), err)
	}
	for i := 1; i <= 3; i++ {
		path := filepath.Join(keyDir, fmt.Sprintf("%s-sd-key%d.pem", name, i))
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v, want mode 0600", path, info.Mode().Perm(), err)
		}
	}
}

func TestSecurityDomainWithHoldersCertificates(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()
	certs, pairs := userKeys(t, 3)
	in := property.NewMap(map[string]property.Value{
		"hsmUri":        property.New(fake.URL()),
		"hsmResourceId": property.New(fake.ARMID()),
		"certificates": property.New(property.NewArray([]property.Value{
			property.New(certs[0]), property.New(certs[1]), property.New(certs[2])})),
		"quorum":     property.New(2.0),
		"outputPath": property.New(filepath.Join(dir, "sd.json")),
	})

	out := env.mustCreate(sdToken, in).Properties

	if keys := out.Get("privateKeys"); keys.IsArray() && keys.AsArray().Len() != 0 {
		t.Error("private keys in state although the holders keep them")
	}
	if out.Get("quorumProof").AsString() != "" {
		t.Error("a proof was claimed without private keys")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files written besides the domain: %v", entries)
	}
	domain, err := securitydomain.Parse([]byte(out.Get("securityDomain").AsString()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := securitydomain.Prove(domain, pairs[1:]); err != nil {
		t.Errorf("the holders' keys do not recover the domain: %v", err)
	}
	if !env.logs.Contains("odaa-sd prove") {
		t.Errorf("no hint how the holders prove the quorum:\n%s", env.logs.All())
	}
}

func TestSecurityDomainCheck(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()
	certs, _ := userKeys(t, 2)
	base := sdInputs(fake, dir)
	for _, tc := range []struct {
		name     string
		in       property.Map
		property string
	}{
		{"quorum-1", base.Set("quorum", property.New(1.0)), "quorum"},
		{"quorum-above-count", base.Set("quorum", property.New(4.0)), "quorum"},
		{"two-certificates", base.Set("certificateCount", property.New(2.0)), "certificates"},
		{"eleven-certificates", base.Set("certificateCount", property.New(11.0)), "certificates"},
		{"no-key-directory", base.Delete("keyDirectory"), "keyDirectory"},
		{"not-a-certificate", base.Set("certificates", property.New(property.NewArray([]property.Value{
			property.New("-----BEGIN PRIVATE KEY-----"), property.New(certs[0]), property.New(certs[1])}))),
			"certificates[0]"},
		{"one-holder-twice", base.Set("certificates", property.New(property.NewArray([]property.Value{
			property.New(certs[0]), property.New(certs[1]), property.New(certs[0])}))),
			"certificates[2]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := env.check(sdToken, property.Map{}, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, f := range resp.Failures {
				found = found || f.Property == tc.property
			}
			if !found {
				t.Errorf("no failure for %s: %v", tc.property, resp.Failures)
			}
		})
	}
}

func TestSecurityDomainReadAndDelete(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()
	in := sdInputs(fake, dir)
	resp := env.mustCreate(sdToken, in)

	if err := os.Remove(filepath.Join(dir, "sd.json")); err != nil {
		t.Fatal(err)
	}
	read, err := env.read(sdToken, resp.ID, resp.Properties, in)
	if err != nil {
		t.Fatal(err)
	}
	if got := read.Properties.Get("activationStatus").AsString(); got != "Active" {
		t.Errorf("read activationStatus = %q", got)
	}
	if !env.logs.Contains("is missing; a copy is in the secret output") {
		t.Errorf("no warning for the missing file:\n%s", env.logs.All())
	}

	if err := env.delete(sdToken, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}
	if !env.logs.Contains("stays active: a security domain cannot be withdrawn") {
		t.Errorf("no warning on delete:\n%s", env.logs.All())
	}
	if !fake.Activated() {
		t.Error("delete deactivated the HSM")
	}
}

func TestSecurityDomainPreviewDoesNothing(t *testing.T) {
	fake := fakehsm.New(t)
	env := newTestEnv(t, fake, fakehsm.DefaultAdministratorID)
	dir := t.TempDir()

	if _, err := env.create(sdToken, sdInputs(fake, dir), true); err != nil {
		t.Fatal(err)
	}
	if len(fake.RequestLog()) != 0 {
		t.Errorf("preview made requests: %v", fake.RequestLog())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("preview wrote files: %v", entries)
	}
}
