// This file holds KeystoreCheck: after the key switch, V$ENCRYPTION_WALLET must report an open keystore in
// Azure. It changes nothing in the database; it fails the run, saying what it saw, when the switch did not take.
//
// In script mode (Options.SQLScript) the query is written for the DBA to run after the key switch, nothing is
// checked, and the state says scripted with empty keystore fields, so that the next real run checks.
package provider

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// KeystoreCheck is the resource; its methods are the CRUD the engine calls.
type KeystoreCheck struct{ env *env }

// KeystoreCheckArgs are the inputs.
type KeystoreCheckArgs struct {
	OracleConnection
	KeyID string `pulumi:"keyId"`
}

// KeystoreCheckState is what V$ENCRYPTION_WALLET reported.
type KeystoreCheckState struct {
	KeystoreCheckArgs
	WrlType    string `pulumi:"wrlType"`
	WalletType string `pulumi:"walletType"`
	Status     string `pulumi:"status"`
	// Scripted says the check was written to the script instead of run; the next real run checks.
	Scripted bool `pulumi:"scripted"`
}

// Annotate sets the token the program registers.
func (r *KeystoreCheck) Annotate(a infer.Annotator) {
	a.SetToken("oracle", "KeystoreCheck")
	a.Describe(r, "A check that an Autonomous Database's TDE keystore is open and in Azure.")
}

// Annotate documents the inputs.
func (a *KeystoreCheckArgs) Annotate(an infer.Annotator) {
	describeConnection(an, &a.OracleConnection)
	an.Describe(&a.KeyID, "Key the database should use, https://<hsm>/keys/<name>[/<version>]; a change checks "+
		"again.")
}

// Annotate documents the outputs.
func (s *KeystoreCheckState) Annotate(an infer.Annotator) {
	an.Describe(&s.WrlType, "WRL_TYPE: AZURE_KEY_VAULT or AZURE_MANAGEDHSM.")
	an.Describe(&s.WalletType, "WALLET_TYPE, such as CLOUD.")
	an.Describe(&s.Status, "STATUS: OPEN when the database can use its key.")
	an.Describe(&s.Scripted, "Whether the check's query was written to the script file (ODAA_SQL_SCRIPT) "+
		"instead of run; the next run without script mode checks.")
}

// Check validates the key ID's shape.
func (r *KeystoreCheck) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[KeystoreCheckArgs], error) {
	in, failures, err := infer.DefaultCheck[KeystoreCheckArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[KeystoreCheckArgs]{Inputs: in, Failures: failures}, err
	}
	failures = append(failures, checkConnection(req, in.OracleConnection)...)
	if !req.NewInputs.Get("keyId").HasComputed() {
		u, err := url.Parse(in.KeyID)
		if err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasPrefix(u.Path, "/keys/") {
			failures = append(failures, p.CheckFailure{Property: "keyId", Reason: fmt.Sprintf("must be a key "+
				"identifier, https://<hsm>.managedhsm.azure.net/keys/<name>/<version>, not %q", in.KeyID)})
		}
	}
	return infer.CheckResponse[KeystoreCheckArgs]{Inputs: in, Failures: failures}, nil
}

// Create reads V$ENCRYPTION_WALLET and fails unless it shows an open keystore in Azure. Nothing connects on
// preview.
func (r *KeystoreCheck) Create(ctx context.Context, req infer.CreateRequest[KeystoreCheckArgs]) (
	infer.CreateResponse[KeystoreCheckState], error) {
	resp := infer.CreateResponse[KeystoreCheckState]{ID: req.Inputs.KeyID,
		Output: KeystoreCheckState{KeystoreCheckArgs: req.Inputs}}
	if req.DryRun {
		return resp, nil
	}
	st, err := r.check(ctx, req.Inputs, "oracle:KeystoreCheck "+req.Name)
	resp.Output = st
	return resp, err
}

// check reads the keystore and returns it, with an error unless it is an open keystore in Azure; in script
// mode it only writes the query.
func (r *KeystoreCheck) check(ctx context.Context, in KeystoreCheckArgs, who string) (KeystoreCheckState, error) {
	st := KeystoreCheckState{KeystoreCheckArgs: in}
	k, refused, scripted, err := r.read(ctx, in.OracleConnection, who)
	if err != nil {
		return st, err
	}
	if scripted {
		st.Scripted = true
		p.GetLogger(ctx).Warningf("keystore for key %s not checked: the query was written to the script; run it "+
			"after the key switch, and run again without script mode to check", in.KeyID)
		return st, nil
	}
	st.WrlType, st.WalletType, st.Status = k.WrlType, k.WalletType, k.Status
	if refused != nil {
		return st, refused
	}
	p.GetLogger(ctx).Infof("keystore for key %s: %s", in.KeyID, k)
	return st, nil
}

// read returns the keystore V$ENCRYPTION_WALLET shows and, in refused, why it is not an open one in Azure; err
// is a failure to read it at all. scripted says the query was only written (script mode): nothing was read.
func (r *KeystoreCheck) read(ctx context.Context, c OracleConnection, who string) (k oracle.Keystore, refused error,
	scripted bool, err error) {
	db, done, err := r.env.database(ctx, c, who)
	if err != nil {
		return k, nil, false, err
	}
	defer done()
	rows, err := oracle.ReadKeystores(ctx, db)
	if err != nil || db.Scripted {
		return k, nil, db.Scripted, err
	}
	k, refused = oracle.PickKeystore(rows)
	if refused != nil {
		refused = fmt.Errorf("checking the keystore of %s: %w", db.Where, refused)
	}
	return k, refused, false, nil
}

// Read reports what V$ENCRYPTION_WALLET shows now, without failing on what it shows: a closed keystore shows as
// drift, and the next run checks again.
func (r *KeystoreCheck) Read(ctx context.Context, req infer.ReadRequest[KeystoreCheckArgs, KeystoreCheckState]) (
	infer.ReadResponse[KeystoreCheckArgs, KeystoreCheckState], error) {
	resp := infer.ReadResponse[KeystoreCheckArgs, KeystoreCheckState](req)
	if r.env.scripting() {
		p.GetLogger(ctx).Warningf("%s: script mode cannot read V$ENCRYPTION_WALLET; the state stays as it is",
			req.ID)
		return resp, nil
	}
	k, refused, _, err := r.read(ctx, req.State.OracleConnection, "oracle:KeystoreCheck "+req.ID)
	if err != nil {
		return resp, err
	}
	if refused != nil {
		p.GetLogger(ctx).Warning(refused.Error())
	}
	resp.State.WrlType, resp.State.WalletType, resp.State.Status = k.WrlType, k.WalletType, k.Status
	return resp, nil
}

// Diff checks again, in place, for a new key or connection, and when the state shows a keystore that is not an
// open one in Azure, except a scripted state in script mode, which has nothing to check again.
func (r *KeystoreCheck) Diff(_ context.Context, req infer.DiffRequest[KeystoreCheckArgs, KeystoreCheckState]) (
	p.DiffResponse, error) {
	old, in := req.State, req.Inputs
	diff := map[string]p.PropertyDiff{}
	if old.KeyID != in.KeyID {
		diff["keyId"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	settled := (oracle.Keystore{WrlType: old.WrlType, Status: old.Status}).Open() || old.Scripted && r.env.scripting()
	if !settled {
		diff["status"] = p.PropertyDiff{Kind: p.Update}
	}
	connectionDiff(diff, old.OracleConnection, in.OracleConnection)
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Update checks again.
func (r *KeystoreCheck) Update(ctx context.Context, req infer.UpdateRequest[KeystoreCheckArgs, KeystoreCheckState]) (
	infer.UpdateResponse[KeystoreCheckState], error) {
	if req.DryRun {
		return infer.UpdateResponse[KeystoreCheckState]{Output: KeystoreCheckState{KeystoreCheckArgs: req.Inputs,
			WrlType: req.State.WrlType, WalletType: req.State.WalletType, Status: req.State.Status,
			Scripted: req.State.Scripted}}, nil
	}
	st, err := r.check(ctx, req.Inputs, "oracle:KeystoreCheck "+req.ID)
	return infer.UpdateResponse[KeystoreCheckState]{Output: st}, err
}

// Delete changes nothing in the database: the check added nothing.
func (r *KeystoreCheck) Delete(ctx context.Context, req infer.DeleteRequest[KeystoreCheckState]) (
	infer.DeleteResponse, error) {
	p.GetLogger(ctx).Infof("keystore check for key %s removed; the database keeps its key", req.State.KeyID)
	return infer.DeleteResponse{}, nil
}
