// This file holds local RBAC: role assignments (create, get, delete, list with $filter), the role
// definition endpoints, the authorization check every data-plane handler makes, and the simulated delays of
// Entra replication and RBAC propagation.

package fakehsm

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// roleAssignmentType and roleDefinitionType are the "type" members of the RBAC resources.
const (
	roleAssignmentType = "Microsoft.Authorization/roleAssignments"
	roleDefinitionType = "Microsoft.Authorization/roleDefinitions"
)

// assignment is one role assignment.
type assignment struct {
	name      string
	scope     string
	role      string // role GUID
	principal string
	// pendingDenials is how many more authorization checks it would grant are refused (propagation delay).
	pendingDenials int
}

// rbacState is the local RBAC state of the HSM.
type rbacState struct {
	assignments []*assignment
	// attempts counts role assignment PUTs per principal, for the simulated directory replication.
	attempts map[string]int
}

// init gives every initial administrator the Administrator role at "/".
func (st *rbacState) init(s *Server) {
	st.attempts = map[string]int{}
	for _, p := range s.cfg.admins {
		st.assignments = append(st.assignments, &assignment{name: derivedGUID("admin", p), scope: "/",
			role: RoleAdministrator, principal: p})
	}
}

// derivedGUID returns a deterministic GUID-shaped name from parts.
func derivedGUID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	h := fmt.Sprintf("%x", sum[:16])
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// RoleAssignment is a role assignment as the server holds it.
type RoleAssignment struct {
	Name        string
	Scope       string
	RoleID      string // role definition GUID
	PrincipalID string
}

// RoleAssignments returns the current role assignments, the administrators' first.
func (s *Server) RoleAssignments() []RoleAssignment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]RoleAssignment, len(s.rbac.assignments))
	for i, a := range s.rbac.assignments {
		out[i] = RoleAssignment{Name: a.name, Scope: a.scope, RoleID: a.role, PrincipalID: a.principal}
	}
	return out
}

// Assign gives principalID the role (a Role constant) at scope directly, effective at once, as if it had been
// assigned before the test. It returns the assignment name and panics on an unknown role or invalid scope.
func (s *Server) Assign(principalID, roleGUID, scope string) string {
	if _, ok := findRole(roleGUID); !ok {
		panic(fmt.Sprintf("fakehsm: unknown role %q", roleGUID))
	}
	if !validScope(scope) {
		panic(fmt.Sprintf("fakehsm: invalid scope %q", scope))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := derivedGUID("assign", principalID, roleGUID, scope, fmt.Sprint(len(s.rbac.assignments)))
	s.rbac.assignments = append(s.rbac.assignments, &assignment{name: name, scope: normalizeScope(scope),
		role: strings.ToLower(roleGUID), principal: principalID})
	return name
}

// authorize refuses the call unless its principal holds a role granting action at a scope covering target.
// An assignment still in its propagation delay grants nothing and uses up one denial.
func (s *Server) authorize(c *call, action, target string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	var granting []*assignment
	for _, a := range s.rbac.assignments {
		if !strings.EqualFold(a.principal, c.principal) || !covers(a.scope, target) {
			continue
		}
		if role, ok := findRole(a.role); ok && role.grants(action) {
			granting = append(granting, a)
		}
	}
	for _, a := range granting {
		if a.pendingDenials == 0 {
			return nil
		}
	}
	if len(granting) > 0 {
		granting[0].pendingDenials--
	}
	return newAPIError(http.StatusForbidden, CodeAccessDenied,
		fmt.Sprintf("Not authorized to access %s on %s", action, target))
}

// roleAssignmentJSON is the RoleAssignment resource.
type roleAssignmentJSON struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties roleAssignmentProperties `json:"properties"`
}

type roleAssignmentProperties struct {
	PrincipalID      string `json:"principalId"`
	RoleDefinitionID string `json:"roleDefinitionId"`
	Scope            string `json:"scope"`
}

func (a *assignment) toJSON() roleAssignmentJSON {
	prefix := a.scope
	if prefix == "/" {
		prefix = ""
	}
	return roleAssignmentJSON{ID: prefix + "/providers/Microsoft.Authorization/roleAssignments/" + a.name,
		Name: a.name, Type: roleAssignmentType, Properties: roleAssignmentProperties{PrincipalID: a.principal,
			RoleDefinitionID: RoleDefinitionID(a.role), Scope: a.scope}}
}

// checkScope validates the scope of a role route.
func checkScope(c *call) *apiError {
	if !validScope(c.scope) {
		return badParameter("The scope %s is not valid: use /, /keys or /keys/<key name>.", c.scope)
	}
	c.scope = normalizeScope(c.scope)
	return nil
}

// createRoleAssignment is PUT {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
func (s *Server) createRoleAssignment(c *call) *apiError {
	if err := checkScope(c); err != nil {
		return err
	}
	if !isGUID(c.name) {
		return badParameter("The role assignment name %s is not a valid GUID.", c.name)
	}
	if err := s.authorize(c, actionRoleAssignmentsWrite, c.scope); err != nil {
		return err
	}
	var body struct {
		Properties struct {
			RoleDefinitionID string `json:"roleDefinitionId"`
			PrincipalID      string `json:"principalId"`
		} `json:"properties"`
	}
	if err := decodeJSON(c.r, &body); err != nil {
		return err
	}
	roleGUID, ok := parseRoleDefinitionID(body.Properties.RoleDefinitionID)
	if !ok {
		return badParameter("The role definition ID %q is not valid.", body.Properties.RoleDefinitionID)
	}
	if _, ok := findRole(roleGUID); !ok {
		return newAPIError(http.StatusBadRequest, CodeRoleDefinitionNotFound,
			fmt.Sprintf("The role definition %s does not exist.", roleGUID))
	}
	principal := body.Properties.PrincipalID
	if !isGUID(principal) {
		return badParameter("The principal ID %q is not a valid GUID.", principal)
	}
	a := &assignment{name: c.name, scope: c.scope, role: roleGUID, principal: principal}

	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.principalKnownLocked(principal) {
		return newAPIError(http.StatusBadRequest, CodePrincipalNotFound, fmt.Sprintf("Principal %s does not exist "+
			"in the directory %s. Check that you have the correct principal ID. If you are creating this principal "+
			"and then immediately assigning a role, this error might be related to a replication delay.",
			strings.ReplaceAll(principal, "-", ""), s.cfg.tenant))
	}
	for _, existing := range s.rbac.assignments {
		if strings.EqualFold(existing.name, a.name) {
			if sameGrant(existing, a) {
				writeJSON(c.w, http.StatusCreated, existing.toJSON())
				return nil
			}
			return newAPIError(http.StatusConflict, CodeRoleAssignmentUpdateNotPermitted,
				"Tenant ID, application ID, principal ID, and scope are not allowed to be updated.")
		}
	}
	for _, existing := range s.rbac.assignments {
		if sameGrant(existing, a) {
			return newAPIError(http.StatusConflict, CodeRoleAssignmentExists, fmt.Sprintf(
				"The role assignment already exists. The ID of the existing role assignment is %s.",
				strings.ReplaceAll(existing.name, "-", "")))
		}
	}
	a.pendingDenials = s.cfg.assignmentDelay
	s.rbac.assignments = append(s.rbac.assignments, a)
	writeJSON(c.w, http.StatusCreated, a.toJSON())
	return nil
}

// sameGrant reports whether two assignments give the same role to the same principal at the same scope.
func sameGrant(a, b *assignment) bool {
	return strings.EqualFold(a.scope, b.scope) && strings.EqualFold(a.role, b.role) &&
		strings.EqualFold(a.principal, b.principal)
}

// principalKnownLocked counts an assignment attempt for the principal and reports whether the directory
// knows it yet.
func (s *Server) principalKnownLocked(principal string) bool {
	p := strings.ToLower(principal)
	s.rbac.attempts[p]++
	if s.cfg.propagationAttempts > 0 && (s.cfg.propagationPrincipals == nil || s.cfg.propagationPrincipals[p]) &&
		s.rbac.attempts[p] <= s.cfg.propagationAttempts {
		return false
	}
	if s.cfg.knownPrincipals == nil || s.cfg.knownPrincipals[p] {
		return true
	}
	for _, admin := range s.cfg.admins {
		if strings.EqualFold(admin, p) {
			return true
		}
	}
	return false
}

// AddKnownPrincipals adds principals to the directory at run time (see WithKnownPrincipals).
func (s *Server) AddKnownPrincipals(principalIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.knownPrincipals == nil {
		return // every principal is already known
	}
	for _, p := range principalIDs {
		s.cfg.knownPrincipals[strings.ToLower(p)] = true
	}
}

func (s *Server) findAssignmentLocked(name string) (int, *assignment) {
	for i, a := range s.rbac.assignments {
		if strings.EqualFold(a.name, name) {
			return i, a
		}
	}
	return -1, nil
}

func roleAssignmentNotFound() *apiError {
	return newAPIError(http.StatusNotFound, CodeRoleAssignmentNotFound, "Requested role assignment not found")
}

// getRoleAssignment is GET {scope}/providers/Microsoft.Authorization/roleAssignments/{name}.
func (s *Server) getRoleAssignment(c *call) *apiError {
	if err := checkScope(c); err != nil {
		return err
	}
	if err := s.authorize(c, actionRoleAssignmentsRead, c.scope); err != nil {
		return err
	}
	s.mu.Lock()
	_, a := s.findAssignmentLocked(c.name)
	var out roleAssignmentJSON
	if a != nil {
		out = a.toJSON()
	}
	s.mu.Unlock()
	if a == nil {
		return roleAssignmentNotFound()
	}
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// deleteRoleAssignment is DELETE {scope}/providers/Microsoft.Authorization/roleAssignments/{name}; it
// answers the deleted assignment.
func (s *Server) deleteRoleAssignment(c *call) *apiError {
	if err := checkScope(c); err != nil {
		return err
	}
	s.mu.Lock()
	_, a := s.findAssignmentLocked(c.name)
	target := c.scope
	if a != nil {
		target = a.scope
	}
	s.mu.Unlock()
	if err := s.authorize(c, actionRoleAssignmentsDelete, target); err != nil {
		return err
	}
	s.mu.Lock()
	i, a := s.findAssignmentLocked(c.name)
	if a == nil {
		s.mu.Unlock()
		return roleAssignmentNotFound()
	}
	s.rbac.assignments = append(s.rbac.assignments[:i], s.rbac.assignments[i+1:]...)
	out := a.toJSON()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, out)
	return nil
}

// assignmentFilter is a parsed role assignment $filter.
type assignmentFilter struct {
	atScope   bool
	principal string
}

var (
	filterPrincipalEq = regexp.MustCompile(`(?i)^principalId\s+eq\s+'([^']*)'$`)
	filterAssignedTo  = regexp.MustCompile(`(?i)^assignedTo\('([^']*)'\)$`)
	filterAtScope     = regexp.MustCompile(`(?i)^atScope\(\)$`)
	filterAnd         = regexp.MustCompile(`(?i)\s+and\s+`)
)

// parseAssignmentFilter understands atScope(), principalId eq '<id>' and assignedTo('<id>'), joined by and.
func parseAssignmentFilter(raw string) (assignmentFilter, *apiError) {
	var f assignmentFilter
	if strings.TrimSpace(raw) == "" {
		return f, nil
	}
	for _, clause := range filterAnd.Split(strings.TrimSpace(raw), -1) {
		clause = strings.TrimSpace(clause)
		switch {
		case filterAtScope.MatchString(clause):
			f.atScope = true
		case filterPrincipalEq.MatchString(clause):
			f.principal = filterPrincipalEq.FindStringSubmatch(clause)[1]
		case filterAssignedTo.MatchString(clause):
			f.principal = filterAssignedTo.FindStringSubmatch(clause)[1]
		default:
			return f, badParameter("The $filter %q is not supported.", raw)
		}
	}
	return f, nil
}

// listRoleAssignments is GET {scope}/providers/Microsoft.Authorization/roleAssignments: the assignments at,
// above and below the scope (only at it with atScope()), optionally for one principal.
func (s *Server) listRoleAssignments(c *call) *apiError {
	if err := checkScope(c); err != nil {
		return err
	}
	f, ferr := parseAssignmentFilter(c.r.URL.Query().Get("$filter"))
	if ferr != nil {
		return ferr
	}
	if err := s.authorize(c, actionRoleAssignmentsRead, c.scope); err != nil {
		return err
	}
	s.mu.Lock()
	out := []roleAssignmentJSON{}
	for _, a := range s.rbac.assignments {
		related := covers(a.scope, c.scope) || covers(c.scope, a.scope)
		if f.atScope {
			related = strings.EqualFold(a.scope, c.scope)
		}
		if related && (f.principal == "" || strings.EqualFold(f.principal, a.principal)) {
			out = append(out, a.toJSON())
		}
	}
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// roleDefinitionJSON is the RoleDefinition resource.
type roleDefinitionJSON struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties roleDefinitionProperties `json:"properties"`
}

type roleDefinitionProperties struct {
	AssignableScopes []string         `json:"assignableScopes"`
	Description      string           `json:"description"`
	Permissions      []permissionJSON `json:"permissions"`
	RoleName         string           `json:"roleName"`
	Type             string           `json:"type"`
}

type permissionJSON struct {
	Actions        []string `json:"actions"`
	DataActions    []string `json:"dataActions"`
	NotActions     []string `json:"notActions"`
	NotDataActions []string `json:"notDataActions"`
}

func (r roleDefinition) toJSON() roleDefinitionJSON {
	return roleDefinitionJSON{ID: RoleDefinitionID(r.id), Name: r.id, Type: roleDefinitionType,
		Properties: roleDefinitionProperties{AssignableScopes: []string{"/"}, Description: "",
			Permissions: []permissionJSON{{Actions: []string{}, DataActions: append([]string(nil), r.dataActions...),
				NotActions: []string{}, NotDataActions: []string{}}},
			RoleName: r.roleName, Type: "AKVBuiltInRole"}}
}

var filterRoleName = regexp.MustCompile(`(?i)^roleName\s+eq\s+'([^']*)'$`)

// listRoleDefinitions is GET {scope}/providers/Microsoft.Authorization/roleDefinitions, with an optional
// roleName eq '<name>' $filter.
func (s *Server) listRoleDefinitions(c *call) *apiError {
	if err := checkScope(c); err != nil {
		return err
	}
	roleName := ""
	if raw := strings.TrimSpace(c.r.URL.Query().Get("$filter")); raw != "" {
		m := filterRoleName.FindStringSubmatch(raw)
		if m == nil {
			return badParameter("The $filter %q is not supported.", raw)
		}
		roleName = m[1]
	}
	if err := s.authorize(c, actionRoleDefinitionsRead, c.scope); err != nil {
		return err
	}
	out := []roleDefinitionJSON{}
	for _, r := range builtinRoles {
		if roleName == "" || strings.EqualFold(roleName, r.roleName) {
			out = append(out, r.toJSON())
		}
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"value": out})
	return nil
}

// getRoleDefinition is GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{name}.
func (s *Server) getRoleDefinition(c *call) *apiError {
	if err := checkScope(c); err != nil {
		return err
	}
	if err := s.authorize(c, actionRoleDefinitionsRead, c.scope); err != nil {
		return err
	}
	r, ok := findRole(c.name)
	if !ok {
		return newAPIError(http.StatusNotFound, CodeRoleDefinitionNotFound, "Requested role definition not found")
	}
	writeJSON(c.w, http.StatusOK, r.toJSON())
	return nil
}

// writeRoleDefinition refuses custom role definitions, which the fake does not model, after the same
// authorization the service applies.
func (s *Server) writeRoleDefinition(c *call) *apiError {
	if err := checkScope(c); err != nil {
		return err
	}
	action := actionRoleDefinitionsWrite
	if c.r.Method == http.MethodDelete {
		action = actionRoleDefinitionsDelete
	}
	if err := s.authorize(c, action, c.scope); err != nil {
		return err
	}
	return newAPIError(http.StatusNotImplemented, CodeNotImplemented,
		"Custom role definitions are not supported by the fake managed HSM.")
}
