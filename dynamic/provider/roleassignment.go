// This file holds RoleAssignment: a Managed HSM local RBAC role assignment, named deterministically so that a
// rerun finds it again, retried while Entra ID catches up with a new principal, and adopted rather than
// duplicated when the same grant already exists under another name.
package provider

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azadmin/rbac"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi-go-provider/infer"

	"github.com/odaa-platform/adbs-hsm/dynamic/hsm"
	"github.com/odaa-platform/adbs-hsm/dynamic/hsmrbac"
)

// RoleAssignment is the resource; its methods are the CRUD the engine calls. Every input change replaces it:
// the data plane refuses to change an assignment's principal, role or scope.
type RoleAssignment struct{ env *env }

// RoleAssignmentArgs are the inputs.
type RoleAssignmentArgs struct {
	HsmURI      string `pulumi:"hsmUri"`
	Role        string `pulumi:"role"`
	Scope       string `pulumi:"scope"`
	PrincipalID string `pulumi:"principalId"`
}

// RoleAssignmentState is what the engine stores.
type RoleAssignmentState struct {
	RoleAssignmentArgs
	AssignmentName   string `pulumi:"assignmentName"`
	RoleDefinitionID string `pulumi:"roleDefinitionId"`
	// Adopted marks an assignment that existed before this resource, under another name; Delete leaves it.
	Adopted bool `pulumi:"adopted"`
}

// Annotate sets the token the program registers.
func (r *RoleAssignment) Annotate(a infer.Annotator) {
	a.SetToken("hsm", "RoleAssignment")
	a.Describe(r, "A local RBAC role assignment on an activated Managed HSM. Its name is derived from the HSM, "+
		"scope, role and principal, so a rerun never duplicates it; an identical grant made elsewhere is adopted "+
		"and left in place on delete.")
}

// Annotate documents the inputs.
func (a *RoleAssignmentArgs) Annotate(an infer.Annotator) {
	an.Describe(&a.HsmURI, "Data plane URI of the HSM, https://<name>.managedhsm.azure.net/.")
	an.Describe(&a.Role, "Built-in role name, such as \"Managed HSM Crypto User\", or role definition GUID.")
	an.Describe(&a.Scope, "\"/\" (the whole HSM), \"/keys\" (every key) or \"/keys/<name>\" (one key).")
	an.Describe(&a.PrincipalID, "Object ID of the user, group or service principal. For an application, the "+
		"object ID of its service principal: neither its client ID nor its application object ID.")
}

// Annotate documents the outputs.
func (s *RoleAssignmentState) Annotate(an infer.Annotator) {
	an.Describe(&s.AssignmentName, "Name (GUID) of the role assignment in the HSM.")
	an.Describe(&s.RoleDefinitionID, "Role definition ID the assignment carries.")
	an.Describe(&s.Adopted, "True when the grant already existed under another name: deleting this resource "+
		"then leaves it in place.")
}

// Check validates the inputs before anything runs, so that preview already reports them. Inputs still unknown
// in a preview (an HSM or a service principal not created yet) are checked on the next call.
func (r *RoleAssignment) Check(ctx context.Context, req infer.CheckRequest) (
	infer.CheckResponse[RoleAssignmentArgs], error) {
	in, failures, err := infer.DefaultCheck[RoleAssignmentArgs](ctx, req.NewInputs)
	if err != nil || len(failures) > 0 {
		return infer.CheckResponse[RoleAssignmentArgs]{Inputs: in, Failures: failures}, err
	}
	fail := func(property string, reason error) {
		if reason != nil && !req.NewInputs.Get(property).IsComputed() {
			failures = append(failures, p.CheckFailure{Property: property, Reason: reason.Error()})
		}
	}
	_, err = roleAssignmentHost(in.HsmURI)
	fail("hsmUri", err)
	_, err = hsmrbac.RoleID(in.Role)
	fail("role", err)
	fail("scope", hsmrbac.ValidateScope(in.Scope))
	if !hsmrbac.IsGUID(in.PrincipalID) {
		fail("principalId", fmt.Errorf("%q is not a GUID: give the object ID of the user, group or service "+
			"principal (for an application, its service principal's object ID, `az ad sp show --id <client id> "+
			"--query id`), never the application's client ID", in.PrincipalID))
	}
	return infer.CheckResponse[RoleAssignmentArgs]{Inputs: in, Failures: failures}, nil
}

// Create assigns the role under a name derived from the inputs. A grant that already exists under that name is
// success; one that exists under another name is adopted. Preview makes no request.
func (r *RoleAssignment) Create(ctx context.Context, req infer.CreateRequest[RoleAssignmentArgs]) (
	infer.CreateResponse[RoleAssignmentState], error) {
	in := req.Inputs
	resp := infer.CreateResponse[RoleAssignmentState]{Output: RoleAssignmentState{RoleAssignmentArgs: in}}
	roleGUID, err := hsmrbac.RoleID(in.Role)
	if err != nil && !req.DryRun {
		return resp, err
	}
	host, err := roleAssignmentHost(in.HsmURI)
	if err != nil && !req.DryRun {
		return resp, err
	}
	name := roleAssignmentName(host, in.Scope, roleGUID, in.PrincipalID)
	resp.ID = name
	if req.DryRun {
		return resp, nil
	}
	log := p.GetLogger(ctx)
	hsmName := roleAssignmentHSMName(host)
	client, err := r.client(in.HsmURI)
	if err != nil {
		return resp, err
	}

	what := fmt.Sprintf("assigning %s at %s to %s on managed HSM %s", in.Role, in.Scope, in.PrincipalID, hsmName)
	params := rbac.RoleAssignmentCreateParameters{Properties: &rbac.RoleAssignmentProperties{
		PrincipalID: &in.PrincipalID, RoleDefinitionID: new(hsmrbac.RoleDefinitionID(roleGUID))}}
	attempts, last := 0, error(nil)
	err = r.env.retry(ctx, what).Do(ctx, func(ctx context.Context) error {
		attempts++
		_, last = client.CreateRoleAssignment(ctx, rbac.RoleScope(in.Scope), name, params, nil)
		return last
	})
	switch {
	case err == nil:
		resp.Output.AssignmentName, resp.Output.RoleDefinitionID = name, *params.Properties.RoleDefinitionID
		log.Infof("assigned %s at %s to %s on managed HSM %s as %s", in.Role, in.Scope, in.PrincipalID, hsmName,
			name)
		return resp, nil
	case roleAssignmentErrorCode(err) == "RoleAssignmentExists":
		return r.adopt(ctx, client, resp, roleGUID, hsmName)
	case roleAssignmentErrorCode(err) == "PrincipalNotFound":
		// Past the retries, the principal is either still replicating or not a principal at all; the second
		// is the frequent one: an application's client ID given for its service principal's object ID.
		return resp, fmt.Errorf("%s: the directory still does not know %s after %d attempts; unless it is brand "+
			"new, it is not a principal's object ID: for an application give its service principal's object ID "+
			"(`az ad sp show --id <client id> --query id`), not its client ID nor its application object ID: %w",
			what, in.PrincipalID, attempts, last)
	case hsm.Classify(err) == hsm.NotYetPropagated:
		return resp, err // Retry has said what failed, and how often.
	}
	return resp, fmt.Errorf("%s: %w", what, hsm.Explain(err, hsmName))
}

// adopt records the assignment that already gives the role at the scope to the principal, under the name
// someone else chose (the Azure CLI picks random ones). Adopted assignments outlive this resource.
func (r *RoleAssignment) adopt(ctx context.Context, client *rbac.Client,
	resp infer.CreateResponse[RoleAssignmentState], roleGUID, hsmName string) (
	infer.CreateResponse[RoleAssignmentState], error) {
	in := resp.Output.RoleAssignmentArgs
	want := roleGrant{scope: in.Scope, roleGUID: roleGUID, principal: in.PrincipalID}
	grant, ok, err := findRoleGrant(ctx, client, want)
	if err != nil {
		return resp, fmt.Errorf("finding the existing assignment of %s at %s to %s on managed HSM %s: %w",
			in.Role, in.Scope, in.PrincipalID, hsmName, hsm.Explain(err, hsmName))
	}
	if !ok {
		return resp, fmt.Errorf("assigning %s at %s to %s on managed HSM %s: the HSM says the assignment exists "+
			"but lists none at that scope", in.Role, in.Scope, in.PrincipalID, hsmName)
	}
	ours := resp.ID
	resp.ID = grant.name
	resp.Output.AssignmentName, resp.Output.RoleDefinitionID = grant.name, grant.roleDefinitionID
	if strings.EqualFold(grant.name, ours) {
		// An earlier run made it and lost its state; services that answer a repeated PUT with 409 say so.
		return resp, nil
	}
	resp.Output.Adopted = true
	p.GetLogger(ctx).Warningf("%s already holds %s at %s on managed HSM %s, as assignment %s made outside this "+
		"stack: adopted; deleting this resource leaves it in place", in.PrincipalID, in.Role, in.Scope, hsmName,
		grant.name)
	return resp, nil
}

// Read reports the assignment as the HSM holds it: an empty ID when it is gone, so that the engine plans to
// create it again, and the real principal, role and scope otherwise, so that drift shows in the next diff.
func (r *RoleAssignment) Read(ctx context.Context, req infer.ReadRequest[RoleAssignmentArgs, RoleAssignmentState]) (
	infer.ReadResponse[RoleAssignmentArgs, RoleAssignmentState], error) {
	st := req.State
	resp := infer.ReadResponse[RoleAssignmentArgs, RoleAssignmentState]{ID: req.ID, Inputs: req.Inputs, State: st}
	hsmName := roleAssignmentHSMName(roleAssignmentHostOrEmpty(st.HsmURI))
	client, err := r.client(st.HsmURI)
	if err != nil {
		return resp, err
	}
	got, err := client.GetRoleAssignment(ctx, rbac.RoleScope(st.Scope), st.AssignmentName, nil)
	if hsm.IsNotFound(err) {
		p.GetLogger(ctx).Warningf("role assignment %s (%s at %s to %s) is gone from managed HSM %s; the next "+
			"update creates it again", st.AssignmentName, st.Role, st.Scope, st.PrincipalID, hsmName)
		return infer.ReadResponse[RoleAssignmentArgs, RoleAssignmentState]{}, nil
	}
	if err != nil {
		return resp, fmt.Errorf("reading role assignment %s on managed HSM %s: %w", st.AssignmentName, hsmName,
			hsm.Explain(err, hsmName))
	}

	held := roleGrantOf(&got.RoleAssignment)
	// Keep the inputs as written (a role name, say) when they mean what the HSM holds.
	if id, err := hsmrbac.RoleID(st.Role); err != nil || !strings.EqualFold(id, held.roleGUID) {
		resp.State.Role = held.roleGUID
	}
	if !strings.EqualFold(st.Scope, held.scope) && held.scope != "" {
		resp.State.Scope = held.scope
	}
	if !strings.EqualFold(st.PrincipalID, held.principal) {
		resp.State.PrincipalID = held.principal
	}
	resp.State.RoleDefinitionID = held.roleDefinitionID
	resp.Inputs = resp.State.RoleAssignmentArgs
	return resp, nil
}

// Delete removes the assignment. One already gone is success, with a warning; an adopted one stays.
func (r *RoleAssignment) Delete(ctx context.Context, req infer.DeleteRequest[RoleAssignmentState]) (
	infer.DeleteResponse, error) {
	st := req.State
	log := p.GetLogger(ctx)
	hsmName := roleAssignmentHSMName(roleAssignmentHostOrEmpty(st.HsmURI))
	if st.Adopted {
		log.Warningf("role assignment %s (%s at %s to %s) on managed HSM %s existed before this stack adopted it: "+
			"left in place; remove it with `az keyvault role assignment delete --hsm-name %s --name %s` if it is "+
			"no longer wanted", st.AssignmentName, st.Role, st.Scope, st.PrincipalID, hsmName, hsmName,
			st.AssignmentName)
		return infer.DeleteResponse{}, nil
	}
	client, err := r.client(st.HsmURI)
	if err != nil {
		return infer.DeleteResponse{}, err
	}
	_, err = client.DeleteRoleAssignment(ctx, rbac.RoleScope(st.Scope), st.AssignmentName, nil)
	if hsm.IsNotFound(err) {
		log.Warningf("role assignment %s on managed HSM %s was already gone", st.AssignmentName, hsmName)
		return infer.DeleteResponse{}, nil
	}
	if err != nil {
		return infer.DeleteResponse{}, fmt.Errorf("deleting role assignment %s on managed HSM %s: %w",
			st.AssignmentName, hsmName, hsm.Explain(err, hsmName))
	}
	return infer.DeleteResponse{}, nil
}

// Diff replaces the assignment when the HSM, role, scope or principal changes. Spellings of the same grant (a
// role's name or its GUID, a GUID's case, a trailing slash) are no change.
func (r *RoleAssignment) Diff(_ context.Context, req infer.DiffRequest[RoleAssignmentArgs, RoleAssignmentState]) (
	p.DiffResponse, error) {
	in, old := req.Inputs, req.State.RoleAssignmentArgs
	diff := map[string]p.PropertyDiff{}
	replace := func(name string, changed bool) {
		if changed {
			diff[name] = p.PropertyDiff{Kind: p.UpdateReplace, InputDiff: true}
		}
	}
	replace("hsmUri", !strings.EqualFold(strings.TrimSuffix(in.HsmURI, "/"), strings.TrimSuffix(old.HsmURI, "/")))
	replace("role", !sameRole(in.Role, old.Role))
	replace("scope", !strings.EqualFold(in.Scope, old.Scope))
	replace("principalId", !strings.EqualFold(in.PrincipalID, old.PrincipalID))
	return p.DiffResponse{HasChanges: len(diff) > 0, DetailedDiff: diff}, nil
}

func (r *RoleAssignment) client(hsmURI string) (*rbac.Client, error) {
	cred, err := r.env.credential()
	if err != nil {
		return nil, err
	}
	return hsm.NewRBACClient(hsmURI, cred, r.env.opts.HSM)
}

// sameRole reports whether two role inputs name the same role definition.
func sameRole(a, b string) bool {
	ida, erra := hsmrbac.RoleID(a)
	idb, errb := hsmrbac.RoleID(b)
	if erra != nil || errb != nil {
		return a == b
	}
	return ida == idb
}

// roleAssignmentNamespace keeps this plugin's names apart from other name-based UUIDs of the same strings.
var roleAssignmentNamespace = [16]byte{0x6f, 0x1c, 0x2b, 0x4e, 0x3d, 0x9a, 0x4c, 0x8e, 0x9b, 0x71, 0x2f, 0x5a,
	0x0d, 0x3e, 0x8c, 0x14}

// roleAssignmentName derives the assignment's name from the HSM host, scope, role GUID and principal, compared
// case-insensitively: a name-based UUID with SHA-256 (version 8, RFC 9562 appendix B.2). The same grant gets
// the same name on every run and every machine, so that a rerun finds its assignment instead of adding one.
func roleAssignmentName(host, scope, roleGUID, principal string) string {
	h := sha256.New()
	h.Write(roleAssignmentNamespace[:])
	h.Write([]byte(strings.ToLower(strings.Join([]string{host, scope, roleGUID, principal}, "\x00"))))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x80 // version 8
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	s := hex.EncodeToString(u[:])
	return s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:]
}

// roleAssignmentHost returns the lower-cased host of an HSM URI, which must be https.
func roleAssignmentHost(hsmURI string) (string, error) {
	if strings.TrimSpace(hsmURI) == "" {
		return "", errors.New("is empty: the HSM's URI must be known before a role can be assigned on it")
	}
	u, err := url.Parse(hsmURI)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return "", fmt.Errorf("%q must be an https URL with a host, https://<name>.managedhsm.azure.net/", hsmURI)
	}
	host := strings.ToLower(u.Hostname())
	if strings.HasSuffix(host, ".vault.azure.net") {
		return "", fmt.Errorf("%q is a Key Vault URI: a Managed HSM's is https://<name>.managedhsm.azure.net/",
			hsmURI)
	}
	return host, nil
}

func roleAssignmentHostOrEmpty(hsmURI string) string {
	host, err := roleAssignmentHost(hsmURI)
	if err != nil {
		return ""
	}
	return host
}

// roleAssignmentHSMName is the HSM's name for messages: the first label of its host, or the host itself when
// that is an address.
func roleAssignmentHSMName(host string) string {
	if host == "" || net.ParseIP(host) != nil {
		return host
	}
	return strings.SplitN(host, ".", 2)[0]
}

// roleGrant is a role assignment as plain values.
type roleGrant struct {
	name, scope, roleGUID, principal, roleDefinitionID string
}

func roleGrantOf(a *rbac.RoleAssignment) roleGrant {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	g := roleGrant{name: deref(a.Name)}
	if props := a.Properties; props != nil {
		g.principal = deref(props.PrincipalID)
		g.roleDefinitionID = deref(props.RoleDefinitionID)
		if props.Scope != nil {
			g.scope = string(*props.Scope)
		}
	}
	g.roleGUID = strings.ToLower(g.roleDefinitionID[strings.LastIndex(g.roleDefinitionID, "/")+1:])
	return g
}

// findRoleGrant lists the principal's assignments and returns the one matching want's scope and role.
func findRoleGrant(ctx context.Context, client *rbac.Client, want roleGrant) (roleGrant, bool, error) {
	filter := fmt.Sprintf("principalId eq '%s'", want.principal)
	pager := client.NewListRoleAssignmentsPager(rbac.RoleScope(want.scope),
		&rbac.ListRoleAssignmentsOptions{Filter: &filter})
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return roleGrant{}, false, err
		}
		for _, a := range page.Value {
			if a == nil {
				continue
			}
			g := roleGrantOf(a)
			if strings.EqualFold(g.scope, want.scope) && strings.EqualFold(g.roleGUID, want.roleGUID) &&
				strings.EqualFold(g.principal, want.principal) {
				return g, true, nil
			}
		}
	}
	return roleGrant{}, false, nil
}

// roleAssignmentErrorCode is the service's error code of err, "" when err is no service answer.
func roleAssignmentErrorCode(err error) string {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}
