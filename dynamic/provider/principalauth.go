// This file holds PrincipalAuth: the database's own Azure identity, enabled with
// DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH and reported by CLOUD_INTEGRATIONS. Each ENABLE makes a new Azure
// application, whose consent and key role would then be lost, so ENABLE is never issued when the database
// already shows principal auth for the tenant: it is adopted instead, and nothing but a new tenant re-enables.
// Only what this resource enabled is disabled on delete: an adopted integration may be another stack's.
//
// In script mode (Options.SQLScript) CLOUD_INTEGRATIONS cannot be read: the ENABLE is written once, by create,
// and the application Oracle makes is unknown until a DBA runs it. appClientId and appName are then
// scriptedAppPlaceholder, which is not a GUID, so that the downstream consent and role assignment fail loudly
// rather than act on a made-up identity; script mode is for the SQL steps, and consent needs the real value,
// which the next run without script mode reads (the state says scripted, so that run reads the database).
package provider

import (
	"context"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// scriptedAppPlaceholder stands for the application ID and name in script mode: never a valid GUID.
const scriptedAppPlaceholder = "SCRIPTED-unknown-run-the-script-then-pulumi-up-without-ODAA_SQL_SCRIPT"

// PrincipalAuth is the resource; its methods are the CRUD the engine calls.
type PrincipalAuth struct{ env *env }

// PrincipalAuthArgs are the inputs.
type PrincipalAuthArgs struct {
	OracleConnection
	Provider string `pulumi:"provider"`
	TenantID string `pulumi:"tenantId"`
}

// PrincipalAuthState is what the engine stores: the application CLOUD_INTEGRATIONS reports.
type PrincipalAuthState struct {
	PrincipalAuthArgs
	AppClientID string `pulumi:"appClientId"`
	AppName     string `pulumi:"appName"`
	ConsentURL  string `pulumi:"consentUrl"`
	// EnabledByResource says this resource issued the ENABLE that made the application; only then does delete
	// disable it. An adopted application, or one of another tenant, leaves it false.
	EnabledByResource bool `pulumi:"enabledByResource"`
	// ReportedTenantID is the tenant CLOUD_INTEGRATIONS reports; another than TenantID is drift that the next
	// update reports as an error instead of replacing the resource.
	ReportedTenantID string `pulumi:"reportedTenantId"`
	// Scripted says the ENABLE was written to the script instead of run; the next real run reads the database.
	Scripted bool `pulumi:"scripted"`
}

// Annotate sets the token the program registers.
func (r *PrincipalAuth) Annotate(a infer.Annotator) {
	a.SetToken("oracle", "PrincipalAuth")
	a.Describe(r, "Azure principal authentication of an Autonomous Database: the multi-tenant Azure application "+
		"Oracle makes for it.")
}

// Annotate documents the inputs.
func (a *PrincipalAuthArgs) Annotate(an infer.Annotator) {
	describeConnection(an, &a.OracleConnection)
	an.Describe(&a.Provider, "AZURE, the only provider.")
	an.Describe(&a.TenantID, "Entra tenant ID (a GUID) of the tenant that holds the HSM.")
}

// Annotate documents the outputs.
func (s *PrincipalAuthState) Annotate(an infer.Annotator) {
	an.Describe(&s.AppClientID, "Client ID of Oracle's application for the database, from azure_consent_url.")
	an.Describe(&s.AppName, "Name of that application, azure_app_name.")
	an.Describe(&s.ConsentURL, "Admin-consent URL, azure_consent_url.")
	an.Describe(&s.EnabledByResource, "Whether this resource enabled principal auth (false when it adopted "+
		"it); delete disables only what it enabled.")
	an.Describe(&s.ReportedTenantID, "Tenant that CLOUD_INTEGRATIONS reports, azure_tenantid.")
	an.Describe(&s.Scripted, "Whether the ENABLE was written to the script file (ODAA_SQL_SCRIPT) instead of "+
		"run; appClientId is then a placeholder, and the next run without script mode reads the database.")
}

// Check validates the provider and tenant.
func (r *PrincipalAuth) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[PrincipalAuthArgs], error) {
	in, failures, err := infer.DefaultCheck[PrincipalAuthArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[PrincipalAuthArgs]{Inputs: in, Failures: failures}, err
	}
	known := func(property string) bool { return !req.NewInputs.Get(property).HasComputed() }
	failures = append(failures, checkConnection(req, in.OracleConnection)...)
	in.Provider = strings.ToUpper(strings.TrimSpace(in.Provider))
	if known("provider") && in.Provider != oracle.AzureProvider {
		failures = append(failures, p.CheckFailure{Property: "provider",
			Reason: fmt.Sprintf("must be AZURE, not %q", in.Provider)})
	}
	in.TenantID = strings.ToLower(strings.TrimSpace(in.TenantID))
	if known("tenantId") {
		if err := oracle.CheckTenantID(in.TenantID); err != nil {
			failures = append(failures, p.CheckFailure{Property: "tenantId", Reason: err.Error()})
		}
	}
	return infer.CheckResponse[PrincipalAuthArgs]{Inputs: in, Failures: failures}, nil
}

// principalState is the state for inputs in and what CLOUD_INTEGRATIONS reports, a; enabled says whether this
// resource made a.
func principalState(in PrincipalAuthArgs, a oracle.AzureIntegration, enabled bool) PrincipalAuthState {
	return PrincipalAuthState{PrincipalAuthArgs: in, AppClientID: a.ClientID, AppName: a.AppName,
		ConsentURL: a.ConsentURL, EnabledByResource: enabled, ReportedTenantID: strings.ToLower(a.TenantID)}
}

// Create enables Azure principal auth for the tenant, or adopts it when the database already has it for that
// tenant. Nothing connects on preview.
func (r *PrincipalAuth) Create(ctx context.Context, req infer.CreateRequest[PrincipalAuthArgs]) (
	infer.CreateResponse[PrincipalAuthState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[PrincipalAuthState]{ID: in.Provider + "/" + in.TenantID,
		Output: PrincipalAuthState{PrincipalAuthArgs: in}}
	if req.DryRun {
		return resp, nil
	}

	st, err := r.ensure(ctx, in, PrincipalAuthState{}, "oracle:PrincipalAuth "+req.Name)
	if err != nil {
		return resp, err
	}
	resp.Output = st
	return resp, nil
}

// ensure enables principal auth for in's tenant on the database in names, unless CLOUD_INTEGRATIONS already
// shows it for that tenant, and returns the state. old is the state before an update: an application it
// enabled that the database still reports stays this resource's, as does one for the tenant found after a
// scripted ENABLE (the script this resource wrote made it); any other found in place is adopted. In script
// mode the ENABLE is written unread, with placeholders for what it would report.
func (r *PrincipalAuth) ensure(ctx context.Context, in PrincipalAuthArgs, old PrincipalAuthState, who string) (
	PrincipalAuthState, error) {
	db, done, err := r.env.database(ctx, in.OracleConnection, who)
	if err != nil {
		return old, err
	}
	defer done()
	if db.Scripted {
		if err := db.Exec(ctx, oracle.EnablePrincipalAuth(in.TenantID)); err != nil {
			return old, err
		}
		st := principalState(in, oracle.AzureIntegration{TenantID: in.TenantID, ClientID: scriptedAppPlaceholder,
			AppName: scriptedAppPlaceholder}, true)
		st.Scripted = true
		p.GetLogger(ctx).Warningf("Azure principal auth for %s written to the script, not run: appClientId is "+
			"a placeholder until a run without script mode reads CLOUD_INTEGRATIONS", db.Where)
		return st, nil
	}
	found, adopted, err := oracle.EnsureAzurePrincipalAuth(ctx, db, in.TenantID)
	if err != nil {
		return old, fmt.Errorf("principal auth on %s: %w", db.Where, err)
	}
	log := p.GetLogger(ctx)
	if !adopted {
		log.Infof("Azure principal auth enabled on %s: application %s (%s); consent follows", db.Where,
			found.AppName, found.ClientID)
		return principalState(in, found, true), nil
	}
	if old.EnabledByResource && (found.ClientID == old.AppClientID || old.Scripted) {
		return principalState(in, found, true), nil
	}
	log.Warningf("Azure principal auth for tenant %s was already enabled on %s: adopting application %s (%s) "+
		"instead of enabling it again, which would make a new application; delete will leave it enabled",
		in.TenantID, db.Where, found.AppName, found.ClientID)
	return principalState(in, found, false), nil
}

// Read reports what CLOUD_INTEGRATIONS shows now, and principal auth disabled outside Pulumi reads as gone, so
// that the next run enables it again. Another tenant's integration is never taken for this resource's: the
// tenant input stays, reportedTenantId shows the other, and the resource no longer owns what it would disable.
// An application for the tenant other than the one this resource enabled was made outside it: not owned either.
func (r *PrincipalAuth) Read(ctx context.Context, req infer.ReadRequest[PrincipalAuthArgs, PrincipalAuthState]) (
	infer.ReadResponse[PrincipalAuthArgs, PrincipalAuthState], error) {
	resp := infer.ReadResponse[PrincipalAuthArgs, PrincipalAuthState](req)
	if r.env.scripting() {
		p.GetLogger(ctx).Warningf("%s: script mode cannot read CLOUD_INTEGRATIONS; the state stays as it is",
			req.ID)
		return resp, nil
	}
	db, done, err := r.env.database(ctx, req.State.OracleConnection, "oracle:PrincipalAuth "+req.ID)
	if err != nil {
		return resp, err
	}
	defer done()
	found, err := oracle.ReadAzureIntegration(ctx, db)
	if err != nil {
		return resp, err
	}
	if !found.Enabled() {
		p.GetLogger(ctx).Warningf("Azure principal auth is no longer enabled on %s", db.Where)
		return infer.ReadResponse[PrincipalAuthArgs, PrincipalAuthState]{}, nil
	}
	if req.State.TenantID == "" {
		// An import: the integration is adopted as found, and never disabled by this resource.
		in := req.State.PrincipalAuthArgs
		in.Provider, in.TenantID = oracle.AzureProvider, strings.ToLower(found.TenantID)
		return infer.ReadResponse[PrincipalAuthArgs, PrincipalAuthState]{ID: in.Provider + "/" + in.TenantID,
			Inputs: in, State: principalState(in, found, false)}, nil
	}
	owned := req.State.EnabledByResource && strings.EqualFold(found.TenantID, req.State.TenantID) &&
		found.ClientID == req.State.AppClientID
	if !strings.EqualFold(found.TenantID, req.State.TenantID) {
		p.GetLogger(ctx).Warningf("Azure principal auth on %s is enabled for tenant %s, not %s: not this "+
			"resource's, so delete leaves it and the next update fails until it is resolved", db.Where,
			found.TenantID, req.State.TenantID)
	}
	resp.State = principalState(req.State.PrincipalAuthArgs, found, owned)
	return resp, nil
}

// Diff replaces the resource, deleting first, for another provider or tenant: a database has one Azure
// principal auth. Connection inputs change in place; a database reporting another tenant is an update, which
// fails explaining the conflict, rather than a replacement that would act on the other tenant's application. A
// scripted state is an update once script mode is off, so that the real run reads the application.
func (r *PrincipalAuth) Diff(_ context.Context, req infer.DiffRequest[PrincipalAuthArgs, PrincipalAuthState]) (
	p.DiffResponse, error) {
	old, in := req.State, req.Inputs
	diff := map[string]p.PropertyDiff{}
	if !strings.EqualFold(old.Provider, in.Provider) {
		diff["provider"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if !strings.EqualFold(old.TenantID, in.TenantID) {
		diff["tenantId"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if old.ReportedTenantID != "" && !strings.EqualFold(old.ReportedTenantID, in.TenantID) {
		diff["reportedTenantId"] = p.PropertyDiff{Kind: p.Update}
	}
	connectionDiff(diff, old.OracleConnection, in.OracleConnection)
	if old.Scripted && !r.env.scripting() {
		diff["scripted"] = p.PropertyDiff{Kind: p.Update}
	}
	_, replacing := diff["tenantId"]
	if _, ok := diff["provider"]; ok {
		replacing = true
	}
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff, DeleteBeforeReplace: replacing}, nil
}

// Update reconciles when the connection names another database (connect string or wallet) or the database
// reported another tenant: it enables principal auth only when CLOUD_INTEGRATIONS does not show it for the
// tenant, so a database is never enabled twice, and fails when another tenant holds it. Another user or
// password for the same database runs nothing. A scripted state, outside script mode, reads the database.
func (r *PrincipalAuth) Update(ctx context.Context, req infer.UpdateRequest[PrincipalAuthArgs, PrincipalAuthState]) (
	infer.UpdateResponse[PrincipalAuthState], error) {
	st := req.State
	st.OracleConnection = req.Inputs.OracleConnection
	drifted := st.ReportedTenantID != "" && !strings.EqualFold(st.ReportedTenantID, req.Inputs.TenantID)
	redo := st.Scripted && !r.env.scripting()
	if req.DryRun || !drifted && !redo && !anotherDatabase(req.State.OracleConnection,
		req.Inputs.OracleConnection) {
		return infer.UpdateResponse[PrincipalAuthState]{Output: st}, nil
	}
	st, err := r.ensure(ctx, req.Inputs, req.State, "oracle:PrincipalAuth "+req.ID)
	return infer.UpdateResponse[PrincipalAuthState]{Output: st}, err
}

// Delete disables Azure principal auth when this resource enabled it and it is still enabled for this
// resource's tenant. Already disabled is success with a warning; adopted, or enabled for another tenant, is
// left alone with a warning, as it is not this resource's. In script mode the DISABLE is written unread.
func (r *PrincipalAuth) Delete(ctx context.Context, req infer.DeleteRequest[PrincipalAuthState]) (
	infer.DeleteResponse, error) {
	st := req.State
	log := p.GetLogger(ctx)
	if !st.EnabledByResource {
		log.Warningf("Azure principal auth for tenant %s (application %s) was not enabled by this resource: "+
			"left enabled; disable it with DBMS_CLOUD_ADMIN.DISABLE_PRINCIPAL_AUTH once nothing uses it",
			st.TenantID, st.AppName)
		return infer.DeleteResponse{}, nil
	}
	db, done, err := r.env.database(ctx, st.OracleConnection, "oracle:PrincipalAuth "+req.ID)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	defer done()
	if db.Scripted {
		return infer.DeleteResponse{}, db.Exec(ctx, oracle.DisablePrincipalAuth())
	}
	found, err := oracle.ReadAzureIntegration(ctx, db)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	switch {
	case !found.Enabled():
		log.Warningf("Azure principal auth is already disabled on %s", db.Where)
		return infer.DeleteResponse{}, nil
	case !strings.EqualFold(found.TenantID, st.TenantID):
		log.Warningf("Azure principal auth on %s is enabled for tenant %s, not %s: left alone", db.Where,
			found.TenantID, st.TenantID)
		return infer.DeleteResponse{}, nil
	}
	if err := db.Exec(ctx, oracle.DisablePrincipalAuth()); err != nil {
		return infer.DeleteResponse{}, err
	}
	log.Infof("Azure principal auth disabled on %s: application %s no longer acts for the database", db.Where,
		found.AppName)
	return infer.DeleteResponse{}, nil
}
