// This file holds EncryptionKey: an Autonomous Database's TDE master key switched to a key in an Azure Managed
// HSM (or Key Vault) through OCI's UpdateAutonomousDatabase, switched again in place when the key changes, and
// returned to Oracle-managed keys on delete when this resource made a switch, unless told otherwise. OCI allows
// few switches a day, so nothing is switched unless the key really changes.
//
// In script mode (Options.SQLScript) the database cannot be read: the switch is always written (as the REST
// request, see ociscript.go), the resource counts as having switched, the lifecycle state is recorded as
// unknown, and delete writes the return to Oracle-managed keys. The state says scripted, so that the next
// real run reads the database and switches when it still needs to.
package provider

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
	"github.com/odaa-platform/adbs-hsm/dynamic/ocidb"
)

// EncryptionKey is the resource; its methods are the CRUD the engine calls.
type EncryptionKey struct{ env *env }

// EncryptionKeyArgs are the inputs.
type EncryptionKeyArgs struct {
	DatabaseOcid   string `pulumi:"databaseOcid"`
	VaultURI       string `pulumi:"vaultUri"`
	KeyName        string `pulumi:"keyName"`
	RevertOnDelete *bool  `pulumi:"revertOnDelete,optional"`
}

// EncryptionKeyState is what the engine stores: the key as the database reports it.
type EncryptionKeyState struct {
	EncryptionKeyArgs
	KeyProvider    string `pulumi:"keyProvider"`
	LifecycleState string `pulumi:"lifecycleState"`
	// Switched says this resource switched the database's key; only then does delete revert it. A database
	// found already using the key is adopted with Switched false.
	Switched bool `pulumi:"switched"`
	// Scripted says the switch was written to the script instead of made; the next real run reads and makes it.
	Scripted bool `pulumi:"scripted"`
}

// Annotate sets the token the program registers.
func (r *EncryptionKey) Annotate(a infer.Annotator) {
	a.SetToken("oracle", "EncryptionKey")
	a.Describe(r, "The TDE master key of an Autonomous Database, switched to a key in Azure through OCI's "+
		"UpdateAutonomousDatabase. OCI allows about two switches per database a day.")
}

// Annotate documents the inputs.
func (a *EncryptionKeyArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.DatabaseOcid, "OCID of the Autonomous Database, ocid1.autonomousdatabase.<realm>.<region>.<id>.")
	an.Describe(&a.VaultURI, "URI of the Managed HSM (https://<name>.managedhsm.azure.net) or Key Vault "+
		"(https://<name>.vault.azure.net) holding the key, without a path.")
	an.Describe(&a.KeyName, "Name of the key: 1–127 letters, digits and hyphens.")
	an.Describe(&a.RevertOnDelete, "Return the database to Oracle-managed keys on delete. Default true; when "+
		"false the database keeps the key, which must then stay reachable.")
}

// Annotate documents the outputs.
func (s *EncryptionKeyState) Annotate(an infer.Annotator) {
	an.Describe(&s.KeyProvider, "Key provider the database reports: AZURE after the switch.")
	an.Describe(&s.LifecycleState, "Lifecycle state of the database after the switch: AVAILABLE.")
	an.Describe(&s.Switched, "Whether this resource switched the key (false when it found the key in place); "+
		"delete reverts only a switch it made.")
	an.Describe(&s.Scripted, "Whether the switch was written to the script file (ODAA_SQL_SCRIPT) instead of "+
		"made; the next run without script mode reads the database and makes it.")
}

var (
	// adbOCID is the shape of an Autonomous Database's OCID: ocid1.autonomousdatabase.<realm>.<region>.<id>.
	adbOCID = regexp.MustCompile(`^ocid1\.autonomousdatabase\.[a-z0-9]+\.[a-z0-9-]*\.[a-z0-9]+$`)
	// vaultName is the first label of a Managed HSM's or Key Vault's host: 3–24 letters, digits and hyphens,
	// starting with a letter and not ending with a hyphen.
	vaultName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
)

// Check validates the inputs before anything runs, so that preview already reports them. Inputs still unknown
// in a preview are not judged. revertOnDelete defaults to true.
func (r *EncryptionKey) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[EncryptionKeyArgs],
	error) {
	in, failures, err := infer.DefaultCheck[EncryptionKeyArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[EncryptionKeyArgs]{Inputs: in, Failures: failures}, err
	}
	known := func(property string) bool { return !req.NewInputs.Get(property).HasComputed() }
	fail := func(property, format string, args ...any) {
		failures = append(failures, p.CheckFailure{Property: property, Reason: fmt.Sprintf(format, args...)})
	}

	if known("databaseOcid") && !adbOCID.MatchString(in.DatabaseOcid) {
		fail("databaseOcid", "must be an Autonomous Database OCID, ocid1.autonomousdatabase.<realm>.<region>.<id>, "+
			"not %q", in.DatabaseOcid)
	}
	if known("vaultUri") {
		if reason := checkVaultURI(in.VaultURI); reason != "" {
			fail("vaultUri", "%s", reason)
		}
	}
	if known("keyName") && !hsmrbac.IsKeyName(in.KeyName) {
		fail("keyName", "must be 1–127 letters, digits and hyphens, not %q", in.KeyName)
	}
	if in.RevertOnDelete == nil {
		in.RevertOnDelete = new(true)
	}
	return infer.CheckResponse[EncryptionKeyArgs]{Inputs: in, Failures: failures}, nil
}

// checkVaultURI says what is wrong with a vault URI, "" when nothing: an https URL whose host is
// <name>.managedhsm.<cloud suffix> or <name>.vault.<cloud suffix>, with no port, path, query or fragment.
func checkVaultURI(s string) string {
	const want = "must be https://<name>.managedhsm.azure.net (or a Key Vault's https://<name>.vault.azure.net)"
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return fmt.Sprintf("%s, not %q", want, s)
	}
	if u.User != nil || u.Port() != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Sprintf("%s without user, port, path or query: OCI takes the vault's URI, not a key's, not %q",
			want, s)
	}
	host := strings.ToLower(u.Hostname())
	labels := strings.Split(host, ".")
	if net.ParseIP(host) != nil || len(labels) < 4 || labels[1] != "managedhsm" && labels[1] != "vault" {
		return fmt.Sprintf("%s: the database reaches the vault by this name, so it cannot be an IP address "+
			"or another host, not %q", want, s)
	}
	if !vaultName.MatchString(labels[0]) {
		return fmt.Sprintf("%q is not a vault name: 3–24 letters, digits and hyphens, starting with a letter",
			labels[0])
	}
	return ""
}

// Create switches the database's key and waits until it is AVAILABLE with the key. Nothing is called on
// preview. A database that already uses the key is adopted without a switch.
func (r *EncryptionKey) Create(ctx context.Context, req infer.CreateRequest[EncryptionKeyArgs]) (
	infer.CreateResponse[EncryptionKeyState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[EncryptionKeyState]{ID: in.DatabaseOcid + "/encryptionKey",
		Output: EncryptionKeyState{EncryptionKeyArgs: in, KeyProvider: ocidb.ProviderAzure,
			LifecycleState: ocidb.StateAvailable}}
	if req.DryRun {
		return resp, nil
	}
	state, err := r.apply(ctx, in, "oracle:EncryptionKey "+req.Name)
	resp.Output = state
	return resp, err
}

// Update switches to the new key in place. Inputs that name the key the database already reports (only
// revertOnDelete changed, say) make no call that changes anything.
func (r *EncryptionKey) Update(ctx context.Context,
	req infer.UpdateRequest[EncryptionKeyArgs, EncryptionKeyState]) (infer.UpdateResponse[EncryptionKeyState], error) {
	in := req.Inputs
	if req.DryRun {
		return infer.UpdateResponse[EncryptionKeyState]{Output: EncryptionKeyState{EncryptionKeyArgs: in,
			KeyProvider: ocidb.ProviderAzure, LifecycleState: ocidb.StateAvailable, Switched: req.State.Switched}}, nil
	}
	redo := req.State.Scripted && !r.env.scripting()
	if sameKey(in, req.State) && req.State.LifecycleState == ocidb.StateAvailable && !redo ||
		sameKey(in, req.State) && req.State.Scripted && r.env.scripting() {
		return infer.UpdateResponse[EncryptionKeyState]{Output: EncryptionKeyState{EncryptionKeyArgs: in,
			KeyProvider: req.State.KeyProvider, LifecycleState: req.State.LifecycleState,
			Switched: req.State.Switched, Scripted: req.State.Scripted}}, nil
	}
	state, err := r.apply(ctx, in, "oracle:EncryptionKey "+req.ID)
	state.Switched = state.Switched || req.State.Switched
	return infer.UpdateResponse[EncryptionKeyState]{Output: state}, err
}

// Diff replaces the resource only for another database; a new vault or key name is a new switch, in place.
// Vault URIs compare without case and trailing slash, so that the form OCI reports back is no change. A
// scripted state is an update once script mode is off, so that the real run makes the switch.
func (r *EncryptionKey) Diff(_ context.Context, req infer.DiffRequest[EncryptionKeyArgs, EncryptionKeyState]) (
	p.DiffResponse, error) {
	diff := map[string]p.PropertyDiff{}
	in, st := req.Inputs, req.State
	if in.DatabaseOcid != st.DatabaseOcid {
		diff["databaseOcid"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if !strings.EqualFold(strings.TrimSuffix(in.VaultURI, "/"), strings.TrimSuffix(st.VaultURI, "/")) {
		diff["vaultUri"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if !strings.EqualFold(in.KeyName, st.KeyName) {
		diff["keyName"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if st.KeyProvider != ocidb.ProviderAzure {
		diff["keyProvider"] = p.PropertyDiff{Kind: p.Update}
	}
	if revertOnDelete(in) != revertOnDelete(st.EncryptionKeyArgs) {
		diff["revertOnDelete"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if st.Scripted && !r.env.scripting() {
		diff["scripted"] = p.PropertyDiff{Kind: p.Update}
	}
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Read reports the key and state the database has now, so that a switch made outside Pulumi shows as drift.
// A database that is gone reads as an empty ID.
func (r *EncryptionKey) Read(ctx context.Context, req infer.ReadRequest[EncryptionKeyArgs, EncryptionKeyState]) (
	infer.ReadResponse[EncryptionKeyArgs, EncryptionKeyState], error) {
	resp := infer.ReadResponse[EncryptionKeyArgs, EncryptionKeyState](req)
	if r.env.scripting() {
		p.GetLogger(ctx).Warningf("%s: script mode cannot read the database from OCI; the state stays as it is",
			req.ID)
		return resp, nil
	}
	ocid := req.State.DatabaseOcid
	if ocid == "" {
		ocid = strings.TrimSuffix(req.ID, "/encryptionKey")
	}
	c, err := r.env.databases()
	if err != nil {
		return resp, err
	}
	db, err := c.Get(ctx, ocid)
	if ocidb.IsNotFound(err) {
		return infer.ReadResponse[EncryptionKeyArgs, EncryptionKeyState]{}, nil
	}
	if err != nil {
		return resp, err
	}
	resp.State = stateOf(req.State.EncryptionKeyArgs, db)
	resp.State.Switched = req.State.Switched
	if resp.State.DatabaseOcid == "" {
		// An import: the inputs come from what the database reports.
		resp.State.DatabaseOcid = ocid
		resp.Inputs = resp.State.EncryptionKeyArgs
	}
	return resp, nil
}

// Delete returns the database to Oracle-managed keys when this resource switched it, revertOnDelete is true and
// the database still uses this resource's key; otherwise the key stays as it is, with a warning. A database
// that is gone needs nothing. In script mode the return is written unread.
func (r *EncryptionKey) Delete(ctx context.Context, req infer.DeleteRequest[EncryptionKeyState]) (
	infer.DeleteResponse, error) {
	st := req.State
	log := p.GetLogger(ctx)
	ours := ocidb.Key{Provider: ocidb.ProviderAzure, VaultURI: st.VaultURI, KeyName: st.KeyName}
	if !revertOnDelete(st.EncryptionKeyArgs) {
		log.Warningf("database %s keeps its TDE master key %s in %s (revertOnDelete is false): keep the key, its "+
			"HSM and the database's access to them, or the database becomes inaccessible", st.DatabaseOcid,
			st.KeyName, st.VaultURI)
		return infer.DeleteResponse{}, nil
	}
	if !st.Switched {
		log.Warningf("database %s keeps its TDE master key %s in %s: it was in place before this resource, "+
			"which switched nothing and so reverts nothing", st.DatabaseOcid, st.KeyName, st.VaultURI)
		return infer.DeleteResponse{}, nil
	}
	c, err := r.env.keys("oracle:EncryptionKey " + req.ID)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	db, err := c.Get(ctx, st.DatabaseOcid)
	if ocidb.IsNotFound(err) {
		log.Warningf("database %s is already gone: no key to return", st.DatabaseOcid)
		return infer.DeleteResponse{}, nil
	}
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if !r.env.scripting() && !db.Key.Same(ours) {
		log.Warningf("database %s now uses %s, not %s: left as it is", st.DatabaseOcid, db.Key, ours)
		return infer.DeleteResponse{}, nil
	}
	if _, err := c.SetOracleManagedKey(ctx, st.DatabaseOcid); err != nil {
		return infer.DeleteResponse{}, err
	}
	log.Infof("database %s uses Oracle-managed keys again", st.DatabaseOcid)
	return infer.DeleteResponse{}, nil
}

// apply switches the database to the inputs' key and returns the state the database reports afterwards, with
// Switched set when the database used another key before. SetAzureKey is called even for a database that
// already uses the key: it waits out a change in progress and sends no switch then. In script mode the switch
// is written and counts as made.
func (r *EncryptionKey) apply(ctx context.Context, in EncryptionKeyArgs, who string) (EncryptionKeyState, error) {
	state := EncryptionKeyState{EncryptionKeyArgs: in}
	c, err := r.env.keys(who)
	if err != nil {
		return state, err
	}
	want := ocidb.Key{Provider: ocidb.ProviderAzure, VaultURI: in.VaultURI, KeyName: in.KeyName}
	before, err := c.Get(ctx, in.DatabaseOcid)
	if err != nil {
		return state, err
	}
	db, err := c.SetAzureKey(ctx, in.DatabaseOcid, in.VaultURI, in.KeyName)
	if err != nil {
		return state, err
	}
	state = stateOf(in, db)
	state.Switched = !before.Key.Same(want)
	state.Scripted = r.env.scripting()
	if !state.Switched {
		p.GetLogger(ctx).Warningf("database %s already used %s: adopted without a switch, so delete will not "+
			"revert it", in.DatabaseOcid, want)
	}
	return state, nil
}

// stateOf is the state that the database db reports, for inputs in: the key fields are what the database
// reports, so that drift shows in the next diff.
func stateOf(in EncryptionKeyArgs, db ocidb.Database) EncryptionKeyState {
	st := EncryptionKeyState{EncryptionKeyArgs: in, KeyProvider: db.Key.Provider, LifecycleState: db.LifecycleState}
	st.VaultURI, st.KeyName = db.Key.VaultURI, db.Key.KeyName
	if in.VaultURI != "" && db.Key.Same(ocidb.Key{Provider: ocidb.ProviderAzure, VaultURI: in.VaultURI,
		KeyName: in.KeyName}) {
		// The inputs' spelling, so that state and inputs read the same.
		st.VaultURI, st.KeyName = in.VaultURI, in.KeyName
	}
	return st
}

// sameKey reports whether the inputs name the key the state says the database uses.
func sameKey(in EncryptionKeyArgs, st EncryptionKeyState) bool {
	return st.KeyProvider == ocidb.ProviderAzure && ocidb.Key{Provider: ocidb.ProviderAzure, VaultURI: in.VaultURI,
		KeyName: in.KeyName}.Same(ocidb.Key{Provider: st.KeyProvider, VaultURI: st.VaultURI, KeyName: st.KeyName})
}

func revertOnDelete(a EncryptionKeyArgs) bool { return a.RevertOnDelete == nil || *a.RevertOnDelete }
