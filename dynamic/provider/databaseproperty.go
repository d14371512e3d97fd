// This file holds DatabaseProperty: ROUTE_OUTBOUND_CONNECTIONS, set with ALTER DATABASE PROPERTY, read back from
// DATABASE_PROPERTIES, restored to the value found before on delete, and optionally followed by a restart of
// the database through OCI when the value really changed. A failure after the ALTER returns partial state
// with the true value found before and a pending restart, which the next update carries out.
//
// In script mode (Options.SQLScript) the value before cannot be read: the ALTER is always written, the value
// before is recorded as unknownPreviousValue (which delete never writes back: it asks for a restore by hand),
// and the restart is written as an OCI command. The state says scripted, so that the next real run does it.
package provider

import (
	"context"
	"fmt"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// databaseRestarter restarts an Autonomous Database through OCI (stop, start) and waits until it is
// AVAILABLE again, reporting progress lines.
type databaseRestarter interface {
	Restart(ctx context.Context, databaseOcid string) error
}

// unknownPreviousValue is the previous value script mode records: it is not a value the property can take.
const unknownPreviousValue = "UNKNOWN (script mode: not read)"

// restarter returns the client that restarts databases: the OCI client, unless a test handed in its own; in
// script mode, the writer of OCI commands, which names resource.
func (e *env) restarter(resource string) (databaseRestarter, error) {
	if e.script != nil {
		return scriptOCI{file: e.script, resource: resource}, nil
	}
	if e.opts.restart != nil {
		return e.opts.restart, nil
	}
	client, err := e.databases()
	if err != nil {
		return nil, fmt.Errorf("restarting the database after the property change: %w", err)
	}
	return client, nil
}

// DatabaseProperty is the resource; its methods are the CRUD the engine calls.
type DatabaseProperty struct{ env *env }

// DatabasePropertyArgs are the inputs.
type DatabasePropertyArgs struct {
	OracleConnection
	Name            string `pulumi:"name"`
	Value           string `pulumi:"value"`
	RestartOnChange bool   `pulumi:"restartOnChange,optional"`
	DatabaseOcid    string `pulumi:"databaseOcid,optional"`
}

// DatabasePropertyState is what the engine stores.
type DatabasePropertyState struct {
	DatabasePropertyArgs
	// PreviousValue is the value found before the first change, restored on delete.
	PreviousValue string `pulumi:"previousValue"`
	// RestartPending says the value changed but the restart restartOnChange asks for has not happened yet.
	RestartPending bool `pulumi:"restartPending"`
	// Scripted says the last change was written to the script instead of run; the next real run does it.
	Scripted bool `pulumi:"scripted"`
}

// Annotate sets the token the program registers.
func (r *DatabaseProperty) Annotate(a infer.Annotator) {
	a.SetToken("oracle", "DatabaseProperty")
	a.Describe(r, "A database property of an Autonomous Database, such as ROUTE_OUTBOUND_CONNECTIONS.")
}

// Annotate documents the inputs.
func (a *DatabasePropertyArgs) Annotate(an infer.Annotator) {
	describeConnection(an, &a.OracleConnection)
	an.Describe(&a.Name, "Property name: ROUTE_OUTBOUND_CONNECTIONS.")
	an.Describe(&a.Value, "PRIVATE_ENDPOINT, ENFORCE_PRIVATE_ENDPOINT, or '' to reset.")
	an.Describe(&a.RestartOnChange, "Restart the database through OCI when the value really changed. "+
		"Default false.")
	an.Describe(&a.DatabaseOcid, "OCI ID of the database; required with restartOnChange.")
}

// Annotate documents the outputs.
func (s *DatabasePropertyState) Annotate(an infer.Annotator) {
	an.Describe(&s.PreviousValue, "Value found before the first change; delete restores it.")
	an.Describe(&s.RestartPending, "Whether the value changed but the database has not been restarted yet; the "+
		"next update restarts it.")
	an.Describe(&s.Scripted, "Whether the last change was written to the script file (ODAA_SQL_SCRIPT) "+
		"instead of run; the next run without script mode reads the database and does it.")
}

// Check validates the property and value against the allow-list (the ALTER cannot bind them) and that a restart
// has a database to restart.
func (r *DatabaseProperty) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[DatabasePropertyArgs], error) {
	in, failures, err := infer.DefaultCheck[DatabasePropertyArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[DatabasePropertyArgs]{Inputs: in, Failures: failures}, err
	}
	known := func(property string) bool { return !req.NewInputs.Get(property).HasComputed() }
	failures = append(failures, checkConnection(req, in.OracleConnection)...)

	in.Name = strings.ToUpper(strings.TrimSpace(in.Name))
	in.Value = strings.ToUpper(strings.TrimSpace(in.Value))
	if known("name") && known("value") {
		if err := oracle.CheckProperty(in.Name, in.Value); err != nil {
			property := "value"
			if _, ok := oracle.PropertyValues[in.Name]; !ok {
				property = "name"
			}
			failures = append(failures, p.CheckFailure{Property: property, Reason: err.Error()})
		}
	}
	if in.RestartOnChange && known("databaseOcid") &&
		!strings.HasPrefix(in.DatabaseOcid, "ocid1.autonomousdatabase.") {
		failures = append(failures, p.CheckFailure{Property: "databaseOcid", Reason: fmt.Sprintf("restartOnChange "+
			"needs the database's OCI ID, ocid1.autonomousdatabase...., not %q", in.DatabaseOcid)})
	}
	return infer.CheckResponse[DatabasePropertyArgs]{Inputs: in, Failures: failures}, nil
}

// Create sets the property unless it already has the value, remembers the value found before, and restarts
// the database when asked and the value really changed. Nothing connects on preview. A failure after the ALTER
// is a partial create, so that the next run knows the true previous value and finishes the restart.
func (r *DatabaseProperty) Create(ctx context.Context, req infer.CreateRequest[DatabasePropertyArgs]) (
	infer.CreateResponse[DatabasePropertyState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[DatabasePropertyState]{ID: in.Name,
		Output: DatabasePropertyState{DatabasePropertyArgs: in}}
	if req.DryRun {
		return resp, nil
	}

	out, err := r.apply(ctx, in, false, "oracle:DatabaseProperty "+req.Name)
	resp.Output.PreviousValue = out.before
	resp.Output.RestartPending = out.restartPending
	resp.Output.Scripted = out.scripted
	if err != nil && out.changed {
		resp.Output.Value = out.current(in)
		return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return resp, err
}

// propertyChange is what apply did.
type propertyChange struct {
	// before is the value found before the ALTER; changed says the ALTER ran.
	before  string
	changed bool
	// verified says the value was read back as set.
	verified bool
	// restartPending says a restart is asked for and has not happened.
	restartPending bool
	// scripted says the change was written to the script, not run.
	scripted bool
}

// current is the value to record for inputs in: the value set when it was read back, otherwise the value
// found before, so that the next run reads the database again.
func (c propertyChange) current(in DatabasePropertyArgs) string {
	if c.verified {
		return in.Value
	}
	return c.before
}

// apply sets the value unless the database has it, and restarts the database when restartOnChange asks and the
// value changed now or pending says an earlier change still waits for its restart. In script mode the ALTER is
// written unread, and the restart written when restartOnChange asks.
func (r *DatabaseProperty) apply(ctx context.Context, in DatabasePropertyArgs, pending bool, who string) (
	propertyChange, error) {
	out := propertyChange{restartPending: pending && in.RestartOnChange}
	db, done, err := r.env.database(ctx, in.OracleConnection, who)
	if err != nil {
		return out, err
	}
	defer done()
	out.scripted = db.Scripted
	if db.Scripted {
		out.before, out.changed, err = unknownPreviousValue, true, scriptProperty(ctx, db, in.Name, in.Value)
	} else {
		out.before, out.changed, err = oracle.EnsureProperty(ctx, db, in.Name, in.Value)
	}
	out.restartPending = out.restartPending || out.changed && in.RestartOnChange
	if err != nil {
		return out, err
	}
	out.verified = true
	log := p.GetLogger(ctx)
	if out.changed {
		log.Infof("%s changed from %q to %q on %s", in.Name, out.before, in.Value, db.Where)
	} else {
		log.Infof("%s is already %q on %s: nothing changed", in.Name, in.Value, db.Where)
	}
	if !out.restartPending {
		return out, nil
	}
	restarter, err := r.env.restarter(who)
	if err != nil {
		return out, err
	}
	log.InfoStatusf("restarting database %s so that %s takes effect", in.DatabaseOcid, in.Name)
	if err := restarter.Restart(ctx, in.DatabaseOcid); err != nil {
		return out, fmt.Errorf("restarting database %s after changing %s: %w", in.DatabaseOcid, in.Name, err)
	}
	out.restartPending = false
	return out, nil
}

// scriptProperty writes the ALTER that sets name to value.
func scriptProperty(ctx context.Context, ex oracle.Executor, name, value string) error {
	stmt, err := oracle.SetProperty(name, value)
	if err != nil {
		return err
	}
	return ex.Exec(ctx, stmt)
}

// Read reports the value the database has now, so that a change made outside Pulumi shows as drift.
func (r *DatabaseProperty) Read(ctx context.Context,
	req infer.ReadRequest[DatabasePropertyArgs, DatabasePropertyState]) (
	infer.ReadResponse[DatabasePropertyArgs, DatabasePropertyState], error) {
	resp := infer.ReadResponse[DatabasePropertyArgs, DatabasePropertyState](req)
	if r.env.scripting() {
		p.GetLogger(ctx).Warningf("%s: script mode cannot read DATABASE_PROPERTIES; the state stays as it is",
			req.ID)
		return resp, nil
	}
	db, done, err := r.env.database(ctx, req.State.OracleConnection, "oracle:DatabaseProperty "+req.ID)
	if err != nil {
		return resp, err
	}
	defer done()
	value, err := oracle.ReadProperty(ctx, db, req.State.Name)
	if err != nil {
		return resp, err
	}
	resp.State.Value = value
	return resp, nil
}

// Diff replaces the resource for another property; a new value, restart setting or connection changes in
// place. A scripted state is an update once script mode is off, so that the real run does what the script
// only described.
func (r *DatabaseProperty) Diff(_ context.Context,
	req infer.DiffRequest[DatabasePropertyArgs, DatabasePropertyState]) (p.DiffResponse, error) {
	old, in := req.State, req.Inputs
	diff := map[string]p.PropertyDiff{}
	if !strings.EqualFold(old.Name, in.Name) {
		diff["name"] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
	}
	if !strings.EqualFold(old.Value, in.Value) {
		diff["value"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if old.RestartOnChange != in.RestartOnChange {
		diff["restartOnChange"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if old.DatabaseOcid != in.DatabaseOcid {
		diff["databaseOcid"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	if old.RestartPending && in.RestartOnChange {
		diff["restartPending"] = p.PropertyDiff{Kind: p.Update}
	}
	connectionDiff(diff, old.OracleConnection, in.OracleConnection)
	if old.Scripted && !r.env.scripting() {
		diff["scripted"] = p.PropertyDiff{Kind: p.Update}
	}
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Update sets a new value (or the same value again after drift) and restarts when asked and it really changed,
// or when an earlier restart is pending; the value found before the first change stays the one delete
// restores. Another connect string or wallet may name another database (a replaced one): it is read, set when
// its value differs, and then its own value before is the one to restore. Another user or password runs
// nothing. A scripted state, outside script mode, reads the database and sets what it lacks; the value found
// then replaces an unknown previous value only when it is the value before a change this run makes.
func (r *DatabaseProperty) Update(ctx context.Context,
	req infer.UpdateRequest[DatabasePropertyArgs, DatabasePropertyState]) (
	infer.UpdateResponse[DatabasePropertyState], error) {
	old, in := req.State, req.Inputs
	resp := infer.UpdateResponse[DatabasePropertyState]{Output: DatabasePropertyState{
		DatabasePropertyArgs: in, PreviousValue: old.PreviousValue,
		RestartPending: old.RestartPending && in.RestartOnChange, Scripted: old.Scripted}}
	moved := anotherDatabase(old.OracleConnection, in.OracleConnection)
	redo := old.Scripted && !r.env.scripting()
	if req.DryRun || strings.EqualFold(old.Value, in.Value) && !resp.Output.RestartPending && !moved && !redo {
		return resp, nil
	}

	out, err := r.apply(ctx, in, resp.Output.RestartPending, "oracle:DatabaseProperty "+req.ID)
	if (moved || old.PreviousValue == unknownPreviousValue) && out.changed {
		resp.Output.PreviousValue = out.before
	}
	resp.Output.RestartPending = out.restartPending
	resp.Output.Scripted = out.scripted
	if err != nil && (out.changed || out.restartPending) {
		resp.Output.Value = out.current(in)
		return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	return resp, err
}

// Delete restores the value found before the first change. A property that already has it is success with a
// warning. No restart: the database is usually being torn down with it, and the restored value takes effect at
// its next restart. A previous value script mode could not read is not restored: a warning asks for it by hand.
// In script mode the restore is written unread.
func (r *DatabaseProperty) Delete(ctx context.Context, req infer.DeleteRequest[DatabasePropertyState]) (
	infer.DeleteResponse, error) {
	st := req.State
	log := p.GetLogger(ctx)
	if st.PreviousValue == unknownPreviousValue {
		log.Warningf("%s was set in script mode, which could not read its value before: nothing restored; set "+
			"it by hand with ALTER DATABASE PROPERTY if it must change", st.Name)
		return infer.DeleteResponse{}, nil
	}
	stmt, err := oracle.SetProperty(st.Name, st.PreviousValue)
	if err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("restoring %s to %q: %w; set it by hand with ALTER DATABASE "+
			"PROPERTY", st.Name, st.PreviousValue, err)
	}
	db, done, err := r.env.database(ctx, st.OracleConnection, "oracle:DatabaseProperty "+req.ID)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	defer done()
	if db.Scripted {
		return infer.DeleteResponse{}, db.Exec(ctx, stmt)
	}
	current, err := oracle.ReadProperty(ctx, db, st.Name)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	if strings.EqualFold(current, st.PreviousValue) {
		log.Warningf("%s is already %q, the value before this resource, on %s: nothing to restore", st.Name,
			current, db.Where)
		return infer.DeleteResponse{}, nil
	}
	if err := db.Exec(ctx, stmt); err != nil {
		return infer.DeleteResponse{}, err
	}
	if st.RestartOnChange {
		log.Warningf("%s is %q again on %s; it takes effect at the database's next restart", st.Name,
			st.PreviousValue, db.Where)
	}
	return infer.DeleteResponse{}, nil
}
