// This file holds NetworkAcl: host ACEs that let a database user reach a host and port range (field case 7).
// DBA_HOST_ACES is read first and only the missing privileges are appended; delete removes exactly those this
// resource appended, leaving grants that were there before, and never drops or re-creates an ACL.
//
// In script mode (Options.SQLScript) DBA_HOST_ACES cannot be read, so no ACE is assumed to exist: every
// requested privilege is written as appended (APPEND_HOST_ACE adds to an existing grant harmlessly), and delete
// writes the removal of all of them. The state says scripted, so that the next real run reads and appends.
package provider

import (
	"context"
	"fmt"
	"slices"
	"strings"

	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/oracle"
)

// NetworkACL is the resource; its methods are the CRUD the engine calls.
type NetworkACL struct{ env *env }

// NetworkACLArgs are the inputs.
type NetworkACLArgs struct {
	OracleConnection
	Host       string   `pulumi:"host"`
	LowerPort  int      `pulumi:"lowerPort"`
	UpperPort  int      `pulumi:"upperPort"`
	Principal  string   `pulumi:"principal"`
	Privileges []string `pulumi:"privileges"`
}

// NetworkACLState is what the engine stores. Privileges are those the database grants of the requested ones.
type NetworkACLState struct {
	NetworkACLArgs
	// Appended are the privileges this resource added; those that already existed are left alone on delete.
	Appended []string `pulumi:"appended"`
	// Scripted says the last change was written to the script instead of run; the next real run does it.
	Scripted bool `pulumi:"scripted"`
}

// Annotate sets the token the program registers.
func (r *NetworkACL) Annotate(a infer.Annotator) {
	a.SetToken("oracle", "NetworkAcl")
	a.Describe(r, "Host ACEs of an Oracle database user, appended with DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE "+
		"for the privileges not granted yet.")
}

// Annotate documents the inputs.
func (a *NetworkACLArgs) Annotate(an infer.Annotator) {
	describeConnection(an, &a.OracleConnection)
	an.Describe(&a.Host, "Fully qualified host name, never an IP address: <hsm>.managedhsm.azure.net.")
	an.Describe(&a.LowerPort, "Lowest port, 1–65535: 443 for HTTPS.")
	an.Describe(&a.UpperPort, "Highest port, at least lowerPort.")
	an.Describe(&a.Principal, "Database user or role; stored upper-case.")
	an.Describe(&a.Privileges, "Host privileges: connect, resolve, http, http_proxy, smtp, jdwp.")
}

// Annotate documents the outputs.
func (s *NetworkACLState) Annotate(an infer.Annotator) {
	an.Describe(&s.Appended, "Privileges this resource appended, and removes on delete.")
	an.Describe(&s.Scripted, "Whether the last change was written to the script file (ODAA_SQL_SCRIPT) "+
		"instead of run; the next run without script mode reads the database and does it.")
}

// Check validates the inputs and upper-cases the principal and lower-cases the privileges, so that preview
// already reports mistakes and the state holds what the database stores.
func (r *NetworkACL) Check(ctx context.Context, req infer.CheckRequest) (infer.CheckResponse[NetworkACLArgs],
	error) {
	in, failures, err := infer.DefaultCheck[NetworkACLArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[NetworkACLArgs]{Inputs: in, Failures: failures}, err
	}
	known := func(property string) bool { return !req.NewInputs.Get(property).HasComputed() }
	fail := func(property string, err error) {
		failures = append(failures, p.CheckFailure{Property: property, Reason: err.Error()})
	}
	failures = append(failures, checkConnection(req, in.OracleConnection)...)

	g := in.grant().Normalize()
	in.Principal, in.Privileges = g.Principal, g.Privileges
	if known("host") {
		if err := oracle.CheckHost(in.Host); err != nil {
			fail("host", err)
		}
	}
	if known("lowerPort") && known("upperPort") {
		if err := oracle.CheckPorts(in.LowerPort, in.UpperPort); err != nil {
			fail("lowerPort", err)
		}
	}
	if known("principal") && in.Principal == "" {
		fail("principal", fmt.Errorf("is required: the database user, such as ADMIN"))
	}
	if known("privileges") {
		if len(in.Privileges) == 0 {
			fail("privileges", fmt.Errorf("at least one privilege is required, such as connect"))
		}
		for i, priv := range in.Privileges {
			if err := oracle.CheckPrivilege(priv); err != nil {
				fail(fmt.Sprintf("privileges[%d]", i), err)
			}
		}
	}
	return infer.CheckResponse[NetworkACLArgs]{Inputs: in, Failures: failures}, nil
}

func (a NetworkACLArgs) grant() oracle.HostGrant {
	return oracle.HostGrant{Host: a.Host, LowerPort: a.LowerPort, UpperPort: a.UpperPort, Principal: a.Principal,
		Privileges: a.Privileges}.Normalize()
}

func aclID(g oracle.HostGrant) string {
	return fmt.Sprintf("%s:%d-%d/%s", g.Host, g.LowerPort, g.UpperPort, g.Principal)
}

// Create appends an ACE for the privileges the principal lacks on the host; when it has them all, nothing is
// appended and nothing will be removed. Nothing connects on preview.
func (r *NetworkACL) Create(ctx context.Context, req infer.CreateRequest[NetworkACLArgs]) (
	infer.CreateResponse[NetworkACLState], error) {
	g := req.Inputs.grant()
	resp := infer.CreateResponse[NetworkACLState]{ID: aclID(g),
		Output: NetworkACLState{NetworkACLArgs: req.Inputs, Appended: []string{}}}
	if req.DryRun {
		return resp, nil
	}

	appended, scripted, err := r.ensure(ctx, req.Inputs.OracleConnection, g, "oracle:NetworkAcl "+req.Name)
	if err != nil && len(appended) > 0 {
		// Some entries were appended before the failure: the state keeps them, so that delete removes them and
		// the next run appends only the rest.
		resp.Output.Appended, resp.Output.Scripted = appended, scripted
		return resp, infer.ResourceInitFailedError{Reasons: []string{err.Error()}}
	}
	if err != nil {
		return resp, err
	}
	resp.Output.Appended, resp.Output.Scripted = appended, scripted
	return resp, nil
}

// ensure appends what g lacks and reports it, and whether it was only written to the script.
func (r *NetworkACL) ensure(ctx context.Context, c OracleConnection, g oracle.HostGrant, who string) ([]string,
	bool, error) {
	db, done, err := r.env.database(ctx, c, who)
	if err != nil {
		return nil, false, err
	}
	defer done()
	appended, err := oracle.EnsureHostACE(ctx, db, g)
	if err != nil {
		return appended, db.Scripted, err
	}
	log := p.GetLogger(ctx)
	if len(appended) == 0 {
		log.Infof("%s already has %s: nothing appended", g, strings.Join(g.Privileges, ", "))
		return []string{}, db.Scripted, nil
	}
	log.Infof("%s: appended %s", g, strings.Join(appended, ", "))
	return appended, db.Scripted, nil
}

// Read reports which of the requested privileges the database grants now, so that an ACE removed outside
// Pulumi shows as drift and the next update appends it again.
func (r *NetworkACL) Read(ctx context.Context, req infer.ReadRequest[NetworkACLArgs, NetworkACLState]) (
	infer.ReadResponse[NetworkACLArgs, NetworkACLState], error) {
	resp := infer.ReadResponse[NetworkACLArgs, NetworkACLState](req)
	if r.env.scripting() {
		p.GetLogger(ctx).Warningf("%s: script mode cannot read DBA_HOST_ACES; the state stays as it is", req.ID)
		return resp, nil
	}
	g := req.State.grant()
	db, done, err := r.env.database(ctx, req.State.OracleConnection, "oracle:NetworkAcl "+req.ID)
	if err != nil {
		return resp, err
	}
	defer done()
	aces, err := oracle.ReadHostACEs(ctx, db, g)
	if err != nil {
		return resp, err
	}
	granted := oracle.Granted(g, aces)
	if granted == nil {
		granted = []string{}
	}
	if missing := oracle.Missing(g, granted); len(missing) > 0 {
		p.GetLogger(ctx).Warningf("%s no longer has %s", g, strings.Join(missing, ", "))
	}
	resp.State.Privileges = granted
	return resp, nil
}

// Diff replaces the resource for another host, port range or principal, whose ACEs are other ACEs; other
// privileges change in place, as do the connection inputs. A scripted state is an update once script mode is
// off, so that the real run does what the script only described.
func (r *NetworkACL) Diff(_ context.Context, req infer.DiffRequest[NetworkACLArgs, NetworkACLState]) (
	p.DiffResponse, error) {
	old, in := req.State.grant(), req.Inputs.grant()
	diff := map[string]p.PropertyDiff{}
	replace := func(property string) { diff[property] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true} }
	if old.Host != in.Host {
		replace("host")
	}
	if old.LowerPort != in.LowerPort {
		replace("lowerPort")
	}
	if old.UpperPort != in.UpperPort {
		replace("upperPort")
	}
	if old.Principal != in.Principal {
		replace("principal")
	}
	if !sameSet(old.Privileges, in.Privileges) {
		diff["privileges"] = p.PropertyDiff{Kind: p.Update, InputDiff: true}
	}
	connectionDiff(diff, req.State.OracleConnection, req.Inputs.OracleConnection)
	if req.State.Scripted && !r.env.scripting() {
		diff["scripted"] = p.PropertyDiff{Kind: p.Update}
	}
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

// Update appends the privileges now missing, and removes those no longer requested that this resource had
// appended. Another connect string or wallet may name another database (a replaced one), so it is read and
// given what it lacks even when the privileges did not change; what this resource appended before stays
// recorded, as the same database reached another way still has it. Another user or password runs nothing. A
// scripted state, outside script mode, reads the database and appends what it lacks.
func (r *NetworkACL) Update(ctx context.Context, req infer.UpdateRequest[NetworkACLArgs, NetworkACLState]) (
	infer.UpdateResponse[NetworkACLState], error) {
	old, g := req.State, req.Inputs.grant()
	resp := infer.UpdateResponse[NetworkACLState]{Output: NetworkACLState{NetworkACLArgs: req.Inputs,
		Appended: old.Appended, Scripted: old.Scripted}}
	// The state's privileges are those the database granted at the last read: equal to the inputs, only the
	// connection changed.
	redo := old.Scripted && !r.env.scripting()
	if req.DryRun || sameSet(old.Privileges, g.Privileges) &&
		!anotherDatabase(old.OracleConnection, req.Inputs.OracleConnection) && !redo {
		return resp, nil
	}

	db, done, err := r.env.database(ctx, req.Inputs.OracleConnection, "oracle:NetworkAcl "+req.ID)
	if err != nil {
		return resp, err
	}
	defer done()
	resp.Output.Scripted = db.Scripted
	var dropped []string
	for _, priv := range old.Appended {
		if !slices.Contains(g.Privileges, priv) {
			dropped = append(dropped, priv)
		}
	}
	removed, err := oracle.RemoveHostACEs(ctx, db, g, dropped)
	kept := slices.DeleteFunc(slices.Clone(old.Appended), func(s string) bool { return slices.Contains(removed, s) })
	if err != nil {
		resp.Output.Appended = kept
		return resp, err
	}
	appended, err := oracle.EnsureHostACE(ctx, db, g)
	for _, priv := range appended {
		if !slices.Contains(kept, priv) {
			kept = append(kept, priv)
		}
	}
	if err != nil {
		resp.Output.Appended = kept
		return resp, err
	}
	if kept == nil {
		kept = []string{}
	}
	resp.Output.Appended = kept
	return resp, nil
}

// Delete removes the privileges this resource appended that the database still grants; privileges that were
// there before it stay. Nothing left to remove is success with a warning. In script mode the removal of every
// appended privilege is written, as the database cannot be read.
func (r *NetworkACL) Delete(ctx context.Context, req infer.DeleteRequest[NetworkACLState]) (infer.DeleteResponse,
	error) {
	st := req.State
	g := st.grant()
	log := p.GetLogger(ctx)
	if len(st.Appended) == 0 {
		log.Infof("%s: this resource appended nothing, so nothing is removed", g)
		return infer.DeleteResponse{}, nil
	}
	db, done, err := r.env.database(ctx, st.OracleConnection, "oracle:NetworkAcl "+req.ID)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	defer done()
	present := st.Appended
	if !db.Scripted {
		aces, err := oracle.ReadHostACEs(ctx, db, g)
		if err != nil {
			return infer.DeleteResponse{}, err
		}
		ours := g
		ours.Privileges = st.Appended
		present = oracle.Granted(ours, aces)
	}
	if len(present) == 0 {
		log.Warningf("%s: the privileges this resource appended (%s) are already gone", g,
			strings.Join(st.Appended, ", "))
		return infer.DeleteResponse{}, nil
	}
	if _, err := oracle.RemoveHostACEs(ctx, db, g, present); err != nil {
		return infer.DeleteResponse{}, err
	}
	log.Infof("%s: removed %s", g, strings.Join(present, ", "))
	return infer.DeleteResponse{}, nil
}

// sameSet reports whether a and b hold the same strings, ignoring order and repeats.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
