// This file tests EncryptionKey through the in-process provider server against the fake OCI endpoint, with
// oci-go-sdk signing every request with a key generated in the test: create, a rerun that changes nothing, an
// update to a new key, drift, delete with and without reverting, preview, input checks and the switch limit.
package provider

import (
	"net/http"
	"strings"
	"testing"

	"github.com/oracle/oci-go-sdk/v65/common"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakeoci"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

const (
	ekType  = odaa.EncryptionKeyType
	ekDB    = fakeoci.DefaultDatabaseID
	ekVault = "https://hsm-odaa-demo.managedhsm.azure.net/"
	ekKey   = "odaa-hsm-encryption-key"
)

// newOCIEnv serves a provider whose OCI calls reach a fresh fake, signed by an identity made for the test.
func newOCIEnv(t *testing.T, opts ...fakeoci.Option) (*testEnv, *fakeoci.Server) {
	t.Helper()
	id, err := fakeoci.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	fake := fakeoci.New(t, append([]fakeoci.Option{fakeoci.WithIdentity(id)}, opts...)...)
	env := newTestEnvWith(t, nil, Options{OCI: OCIOptions{
		ConfigProvider: id.ConfigProvider("us-ashburn-1"),
		Endpoint:       fake.Endpoint(),
		HTTPClient:     fake.Client(),
	}})
	return env, fake
}

func ekInputs(vault, key string, revert ...bool) property.Map {
	m := map[string]property.Value{
		"databaseOcid": property.New(ekDB),
		"vaultUri":     property.New(vault),
		"keyName":      property.New(key),
	}
	if len(revert) > 0 {
		m["revertOnDelete"] = property.New(revert[0])
	}
	return property.NewMap(m)
}

func TestEncryptionKeyCreateSwitchesAndWaits(t *testing.T) {
	env, fake := newOCIEnv(t, fakeoci.WithTransitionPolls(2))

	resp := env.mustCreate(ekType, ekInputs(ekVault, ekKey))

	if got := resp.Properties.Get("keyProvider").AsString(); got != "AZURE" {
		t.Errorf("keyProvider = %q, want AZURE", got)
	}
	if got := resp.Properties.Get("lifecycleState").AsString(); got != "AVAILABLE" {
		t.Errorf("lifecycleState = %q, want AVAILABLE", got)
	}
	if got := resp.Properties.Get("vaultUri").AsString(); got != ekVault {
		t.Errorf("vaultUri = %q, want the input's %q", got, ekVault)
	}
	if !resp.Properties.Get("revertOnDelete").AsBool() {
		t.Error("revertOnDelete does not default to true")
	}
	if resp.ID != ekDB+"/encryptionKey" {
		t.Errorf("ID = %q", resp.ID)
	}
	d, _ := fake.Database(ekDB)
	if d.Key != (fakeoci.Key{Provider: "AZURE", VaultURI: ekVault, KeyName: ekKey}) || fake.KeySwitches(ekDB) != 1 {
		t.Fatalf("fake key %+v after %d switches", d.Key, fake.KeySwitches(ekDB))
	}
	for _, line := range []string{"switching the TDE master key", "is UPDATING", "now uses Azure key"} {
		if !raStatusLine(env, line) {
			t.Errorf("no status line with %q:\n%s", line, env.logs.All())
		}
	}
	if len(env.Pauses()) == 0 {
		t.Error("no recorded pauses: the waits did not go through the plugin's sleep")
	}
}

func TestEncryptionKeyRerunChangesNothing(t *testing.T) {
	env, fake := newOCIEnv(t)
	in := ekInputs(ekVault, ekKey)
	resp := env.mustCreate(ekType, in)
	checked, err := env.check(ekType, in, in)
	if err != nil {
		t.Fatal(err)
	}

	// A refresh then a diff, as `pulumi up --refresh` runs them: no switch is planned (they are rate-limited).
	read, err := env.read(ekType, resp.ID, resp.Properties, checked.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := env.diff(ekType, resp.ID, read.Properties, checked.Inputs, checked.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if diff.HasChanges {
		t.Errorf("a rerun plans changes: %+v", diff.DetailedDiff)
	}
	if n := fake.Changes(); n != 1 {
		t.Errorf("%d changing requests, want only the create's", n)
	}
}

func TestEncryptionKeyUpdateToANewKeySwitchesInPlace(t *testing.T) {
	env, fake := newOCIEnv(t)
	in := ekInputs(ekVault, ekKey)
	resp := env.mustCreate(ekType, in)
	next := ekInputs(ekVault, "rotated-key")

	diff, err := env.diff(ekType, resp.ID, resp.Properties, in, next)
	if err != nil {
		t.Fatal(err)
	}
	if !diff.HasChanges || diff.DetailedDiff["keyName"].Kind != p.Update {
		t.Fatalf("diff = %+v, want an in-place update of keyName", diff.DetailedDiff)
	}
	for name, d := range diff.DetailedDiff {
		if d.Kind == p.UpdateReplace {
			t.Errorf("%s plans a replacement", name)
		}
	}
	checked, err := env.check(ekType, in, next)
	if err != nil {
		t.Fatal(err)
	}
	up, err := env.update(ekType, resp.ID, resp.Properties, in, checked.Inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := up.Properties.Get("keyName").AsString(); got != "rotated-key" {
		t.Errorf("state keyName = %q", got)
	}
	if d, _ := fake.Database(ekDB); d.Key.KeyName != "rotated-key" || fake.KeySwitches(ekDB) != 2 {
		t.Errorf("fake key %+v after %d switches", d.Key, fake.KeySwitches(ekDB))
	}

	// Only revertOnDelete changes: an update, but no switch.
	quiet := ekInputs(ekVault, "rotated-key", false)
	checkedQuiet, err := env.check(ekType, checked.Inputs, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.update(ekType, resp.ID, up.Properties, checked.Inputs, checkedQuiet.Inputs, false); err != nil {
		t.Fatal(err)
	}
	if n := fake.Requests(fakeoci.OpUpdateAutonomousDatabase); n != 2 {
		t.Errorf("%d PUTs, want 2: changing revertOnDelete must not switch the key", n)
	}
}

func TestEncryptionKeyReadShowsDrift(t *testing.T) {
	for _, tc := range []struct {
		name     string
		key      fakeoci.Key
		provider string
	}{
		{"another-azure-key", fakeoci.Key{Provider: "AZURE", VaultURI: ekVault, KeyName: "someone-elses"}, "AZURE"},
		{"back-to-oracle-managed", fakeoci.Key{Provider: "ORACLE_MANAGED"}, "ORACLE_MANAGED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Create, the drift and the restoring update are three switches: more than OCI takes in a day.
			env, fake := newOCIEnv(t, fakeoci.WithKeySwitchLimit(0, 0))
			in := ekInputs(ekVault, ekKey)
			resp := env.mustCreate(ekType, in)
			fake.SetKey(ekDB, tc.key)

			read, err := env.read(ekType, resp.ID, resp.Properties, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := read.Properties.Get("keyProvider").AsString(); got != tc.provider {
				t.Errorf("read keyProvider = %q, want %q", got, tc.provider)
			}
			if got := read.Properties.Get("keyName").AsString(); got != tc.key.KeyName {
				t.Errorf("read keyName = %q, want the drifted %q", got, tc.key.KeyName)
			}
			diff, err := env.diff(ekType, resp.ID, read.Properties, in, in)
			if err != nil {
				t.Fatal(err)
			}
			if !diff.HasChanges || diff.DetailedDiff["keyName"].Kind != p.Update {
				t.Fatalf("diff after drift = %+v, want an in-place update of keyName", diff.DetailedDiff)
			}
			if _, err := env.update(ekType, resp.ID, read.Properties, in, in, false); err != nil {
				t.Fatal(err)
			}
			if d, _ := fake.Database(ekDB); d.Key.KeyName != ekKey {
				t.Errorf("update did not restore the key: %+v", d.Key)
			}
		})
	}
}

func TestEncryptionKeyDeleteRevertsToOracleManaged(t *testing.T) {
	env, fake := newOCIEnv(t)
	resp := env.mustCreate(ekType, ekInputs(ekVault, ekKey))

	if err := env.delete(ekType, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}
	if d, _ := fake.Database(ekDB); d.Key.Provider != "ORACLE_MANAGED" {
		t.Errorf("after delete the database uses %+v", d.Key)
	}
	body := lastPutBody(fake)
	if !strings.Contains(body, `"provider":"ORACLE_MANAGED"`) {
		t.Errorf("revert PUT body %q", body)
	}
}

func TestEncryptionKeyDeleteWithoutRevertKeepsTheKey(t *testing.T) {
	env, fake := newOCIEnv(t)
	in := ekInputs(ekVault, ekKey, false)
	resp := env.mustCreate(ekType, in)
	before := len(fake.RequestLog())

	if err := env.delete(ekType, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}
	if d, _ := fake.Database(ekDB); d.Key.KeyName != ekKey {
		t.Errorf("the key was not kept: %+v", d.Key)
	}
	if n := len(fake.RequestLog()) - before; n != 0 {
		t.Errorf("delete made %d requests", n)
	}
	if !raWarned(env, "keeps its TDE master key") {
		t.Errorf("no warning that the key stays:\n%s", env.logs.All())
	}
}

func TestEncryptionKeyDeleteLeavesAnotherKeyAlone(t *testing.T) {
	env, fake := newOCIEnv(t)
	resp := env.mustCreate(ekType, ekInputs(ekVault, ekKey))
	fake.SetKey(ekDB, fakeoci.Key{Provider: "AZURE", VaultURI: ekVault, KeyName: "someone-elses"})

	if err := env.delete(ekType, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}
	if d, _ := fake.Database(ekDB); d.Key.KeyName != "someone-elses" {
		t.Errorf("delete replaced another key: %+v", d.Key)
	}
	if !raWarned(env, "left as it is") {
		t.Errorf("no warning:\n%s", env.logs.All())
	}
}

// inPlace is a fake whose database already uses the test's key, as after a switch made by hand or by an
// earlier stack.
func inPlace(t *testing.T) (*testEnv, *fakeoci.Server) {
	return newOCIEnv(t, fakeoci.WithDatabase(fakeoci.Database{ID: ekDB,
		Key: fakeoci.Key{Provider: "AZURE", VaultURI: ekVault, KeyName: ekKey}}))
}

func TestEncryptionKeyCreateOnADatabaseAlreadyUsingTheKeySendsNoSwitch(t *testing.T) {
	env, fake := inPlace(t)

	// Twice: a create, and a create again as a rerun after a failed update of the stack sends it.
	for run := 1; run <= 2; run++ {
		resp := env.mustCreate(ekType, ekInputs(ekVault, ekKey))
		if resp.Properties.Get("switched").AsBool() {
			t.Errorf("run %d: switched = true for a key found in place", run)
		}
		if got := resp.Properties.Get("keyProvider").AsString(); got != "AZURE" {
			t.Errorf("run %d: keyProvider = %q", run, got)
		}
	}
	if n := fake.Requests(fakeoci.OpUpdateAutonomousDatabase); n != 0 {
		t.Errorf("%d UpdateAutonomousDatabase calls on a database already using the key, want none", n)
	}
	if fake.KeySwitches(ekDB) != 0 {
		t.Errorf("%d key switches", fake.KeySwitches(ekDB))
	}
}

func TestEncryptionKeyDeleteLeavesAKeyItFoundInPlace(t *testing.T) {
	env, fake := inPlace(t)
	resp := env.mustCreate(ekType, ekInputs(ekVault, ekKey))

	if err := env.delete(ekType, resp.ID, resp.Properties); err != nil {
		t.Fatal(err)
	}
	if d, _ := fake.Database(ekDB); d.Key.KeyName != ekKey {
		t.Errorf("delete reverted a key this resource did not switch: %+v", d.Key)
	}
	if n := fake.Changes(); n != 0 {
		t.Errorf("%d changing requests, want none", n)
	}
	if !raWarned(env, "switched nothing and so reverts nothing") {
		t.Errorf("no warning that the key stays:\n%s", env.logs.All())
	}
}

func TestEncryptionKeyUpdateThatSwitchesMakesDeleteRevert(t *testing.T) {
	env, fake := inPlace(t)
	in := ekInputs(ekVault, ekKey)
	resp := env.mustCreate(ekType, in)
	next := ekInputs(ekVault, "rotated-key")
	checked, err := env.check(ekType, in, next)
	if err != nil {
		t.Fatal(err)
	}

	up, err := env.update(ekType, resp.ID, resp.Properties, in, checked.Inputs, false)
	if err != nil {
		t.Fatal(err)
	}
	if !up.Properties.Get("switched").AsBool() {
		t.Fatal("switched = false after an update that switched the key")
	}
	read, err := env.read(ekType, resp.ID, up.Properties, checked.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if !read.Properties.Get("switched").AsBool() {
		t.Fatal("a refresh forgot that this resource switched the key")
	}
	if err := env.delete(ekType, resp.ID, read.Properties); err != nil {
		t.Fatal(err)
	}
	if d, _ := fake.Database(ekDB); d.Key.Provider != "ORACLE_MANAGED" {
		t.Errorf("after delete the database uses %+v", d.Key)
	}
}

func TestEncryptionKeyPreviewMakesNoRequest(t *testing.T) {
	env, fake := newOCIEnv(t)
	in := ekInputs(ekVault, ekKey)

	resp, err := env.create(ekType, in, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.update(ekType, resp.ID, resp.Properties, in, ekInputs(ekVault, "other"), true); err != nil {
		t.Fatal(err)
	}
	if log := fake.RequestLog(); len(log) != 0 {
		t.Errorf("preview made %d requests: %+v", len(log), log)
	}
}

func TestEncryptionKeyAnotherDatabaseIsAReplacement(t *testing.T) {
	env, _ := newOCIEnv(t)
	in := ekInputs(ekVault, ekKey)
	resp := env.mustCreate(ekType, in)
	moved := in.Set("databaseOcid", property.New("ocid1.autonomousdatabase.oc1.iad.anotherdatabase"))

	diff, err := env.diff(ekType, resp.ID, resp.Properties, in, moved)
	if err != nil {
		t.Fatal(err)
	}
	if diff.DetailedDiff["databaseOcid"].Kind != p.UpdateReplace {
		t.Errorf("another database does not plan a replacement: %+v", diff.DetailedDiff)
	}
}

func TestEncryptionKeySwitchLimitIsReported(t *testing.T) {
	env, fake := newOCIEnv(t, fakeoci.WithFaults(fakeoci.TooManyKeySwitches(http.StatusTooManyRequests)))

	_, err := env.create(ekType, ekInputs(ekVault, ekKey), false)
	if err == nil || !strings.Contains(err.Error(), "limit of encryption key switches") {
		t.Fatalf("err = %v, want the key switch limit", err)
	}
	if n := fake.Requests(fakeoci.OpUpdateAutonomousDatabase); n != 1 {
		t.Errorf("%d PUTs, want 1", n)
	}
}

func TestEncryptionKeyCheck(t *testing.T) {
	env, _ := newOCIEnv(t)
	for _, tc := range []struct {
		name, property string
		in             property.Map
	}{
		{"not-an-adb-ocid", "databaseOcid", ekInputs(ekVault, ekKey).Set("databaseOcid",
			property.New("ocid1.autonomouscontainerdatabase.oc1.iad.abc"))},
		{"vault-with-key-path", "vaultUri", ekInputs(ekVault+"keys/"+ekKey, ekKey)},
		{"empty-host", "vaultUri", ekInputs("https:///", ekKey)},
		{"plain-http", "vaultUri", ekInputs("http://hsm-odaa-demo.managedhsm.azure.net", ekKey)},
		{"ip-address", "vaultUri", ekInputs("https://10.0.2.4", ekKey)},
		{"another-host", "vaultUri", ekInputs("https://example.com", ekKey)},
		{"bad-key-name", "keyName", ekInputs(ekVault, "key_with_underscore")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := env.check(ekType, property.Map{}, tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Failures) != 1 || resp.Failures[0].Property != tc.property {
				t.Errorf("failures %+v, want one for %s", resp.Failures, tc.property)
			}
		})
	}
	unknown := ekInputs(ekVault, ekKey).Set("vaultUri", property.New(property.Computed)).
		Set("keyName", property.New(property.Computed))
	if resp, err := env.check(ekType, property.Map{}, unknown); err != nil || len(resp.Failures) != 0 {
		t.Errorf("inputs unknown in a preview were judged: %v %+v", err, resp.Failures)
	}
	for _, vault := range []string{ekVault, "https://kv-odaa-demo.vault.azure.net",
		"https://hsm-x1.managedhsm.azure.cn/"} {
		resp, err := env.check(ekType, property.Map{}, ekInputs(vault, ekKey))
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Failures) != 0 {
			t.Errorf("%s refused: %+v", vault, resp.Failures)
		}
	}
}

func TestEncryptionKeyWithoutOCICredentialsSaysWhereToPutThem(t *testing.T) {
	env := newTestEnvWith(t, nil, Options{OCI: OCIOptions{
		ConfigProvider: common.NewRawConfigurationProvider("", "", "", "", "", nil)}})

	if _, err := env.create(ekType, ekInputs(ekVault, ekKey), true); err != nil {
		t.Fatalf("preview needs no credentials: %v", err)
	}
	_, err := env.create(ekType, ekInputs(ekVault, ekKey), false)
	if err == nil || !strings.Contains(err.Error(), "finding OCI credentials") ||
		!strings.Contains(err.Error(), "~/.oci/config") {
		t.Fatalf("err = %v, want one saying where OCI credentials are looked for", err)
	}
}

func lastPutBody(fake *fakeoci.Server) string {
	body := ""
	for _, r := range fake.RequestLog() {
		if r.Operation == fakeoci.OpUpdateAutonomousDatabase {
			body = r.Body
		}
	}
	return body
}
