// This file holds host ACEs (field case 7): what DBA_HOST_ACES already grants a principal on a host and port
// range, APPEND_HOST_ACE for only the missing privileges, and REMOVE_HOST_ACE for exactly those a resource
// appended. ACLs are never dropped or created: re-creating one wipes the grants others made. resolve takes
// effect only in an ACE without a port range (DBMS_NETWORK_ACL_ADMIN), so it is appended, counted and removed
// with NULL ports, and the other privileges with the grant's range.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
)

// HostPrivileges are the host ACL privileges a principal may be granted.
var HostPrivileges = []string{"connect", "resolve", "http", "http_proxy", "smtp", "jdwp"}

// HostACE is one row of DBA_HOST_ACES. A NULL port bound is 0: the ACE covers every port.
type HostACE struct {
	Host       string
	LowerPort  int
	UpperPort  int
	Principal  string
	Privilege  string
	GrantType  string
	portsKnown bool
}

// HostGrant is what a NetworkAcl asks for: privileges for a principal on a host and port range.
type HostGrant struct {
	Host       string
	LowerPort  int
	UpperPort  int
	Principal  string
	Privileges []string
}

func (g HostGrant) String() string {
	return fmt.Sprintf("%s on %s:%d-%d", g.Principal, g.Host, g.LowerPort, g.UpperPort)
}

var label = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// CheckHost accepts a fully qualified host name and refuses an IP address: the database reaches the HSM by
// name, through the private DNS zone, and the HSM's certificate names the host.
func CheckHost(host string) error {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if ip := net.ParseIP(strings.Trim(h, "[]")); ip != nil {
		return fmt.Errorf("%q is an IP address: give the fully qualified host name, such as "+
			"<hsm>.managedhsm.azure.net, which the database resolves through private DNS", host)
	}
	labels := strings.Split(h, ".")
	if len(h) > 253 || len(labels) < 2 {
		return fmt.Errorf("%q is not a fully qualified host name, such as <hsm>.managedhsm.azure.net", host)
	}
	for _, l := range labels {
		if !label.MatchString(l) {
			return fmt.Errorf("%q is not a fully qualified host name: label %q is not 1–63 letters, digits and "+
				"inner hyphens", host, l)
		}
	}
	return nil
}

// CheckPorts accepts 1 <= lower <= upper <= 65535.
func CheckPorts(lower, upper int) error {
	if lower < 1 || lower > 65535 || upper < 1 || upper > 65535 {
		return fmt.Errorf("ports must be 1–65535, not %d-%d", lower, upper)
	}
	if lower > upper {
		return fmt.Errorf("lower port %d is above upper port %d", lower, upper)
	}
	return nil
}

// CheckPrivilege accepts a host ACL privilege, in any case.
func CheckPrivilege(privilege string) error {
	if !slices.Contains(HostPrivileges, strings.ToLower(privilege)) {
		return fmt.Errorf("%q is not a host ACL privilege (%s)", privilege, strings.Join(HostPrivileges, ", "))
	}
	return nil
}

// Normalize returns g with the principal upper-cased (database user names are stored upper-case, and
// 'admin' fails with ORA-01435), the host lower-cased and privileges lower-cased without repeats.
func (g HostGrant) Normalize() HostGrant {
	g.Principal = strings.ToUpper(strings.TrimSpace(g.Principal))
	g.Host = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(g.Host)), ".")
	var privs []string
	for _, p := range g.Privileges {
		if p = strings.ToLower(strings.TrimSpace(p)); !slices.Contains(privs, p) {
			privs = append(privs, p)
		}
	}
	g.Privileges = privs
	return g
}

// SelectHostACEs reads the ACEs of principal on host.
func SelectHostACEs(host, principal string) Statement {
	return Statement{
		Label: "reading host ACEs of " + principal + " on " + host,
		SQL: "SELECT HOST, LOWER_PORT, UPPER_PORT, PRINCIPAL, PRIVILEGE, GRANT_TYPE FROM DBA_HOST_ACES " +
			"WHERE LOWER(HOST) = :host AND PRINCIPAL = :principal",
		Binds: []sql.NamedArg{sql.Named("host", host), sql.Named("principal", principal)},
	}
}

// portless reports whether privilege is granted without a port range: resolve, the only one Oracle ignores
// in an ACE with ports.
func portless(privilege string) bool { return strings.EqualFold(privilege, "resolve") }

// byShape splits privileges into those granted on a port range and those granted without one, leaving out an
// empty group.
func byShape(privileges []string) [][]string {
	var ranged, anyPort []string
	for _, p := range privileges {
		if portless(p) {
			anyPort = append(anyPort, p)
		} else {
			ranged = append(ranged, p)
		}
	}
	return slices.DeleteFunc([][]string{ranged, anyPort}, func(g []string) bool { return len(g) == 0 })
}

// hostACEStatements builds APPEND_HOST_ACE or REMOVE_HOST_ACE for privileges: one statement with g's port range
// for those that take one, and one with NULL ports for resolve.
func hostACEStatements(procedure, label string, g HostGrant, privileges []string) []Statement {
	var out []Statement
	for _, group := range byShape(privileges) {
		out = append(out, hostACEStatement(procedure, label, g, group, !portless(group[0])))
	}
	return out
}

// hostACEStatement builds APPEND_HOST_ACE or REMOVE_HOST_ACE for privileges, each a bind, with g's port range
// when ranged and NULL ports otherwise.
func hostACEStatement(procedure, label string, g HostGrant, privileges []string, ranged bool) Statement {
	var lower, upper any
	where := g.String()
	if ranged {
		lower, upper = g.LowerPort, g.UpperPort
	} else {
		where = fmt.Sprintf("%s on %s (no port range)", g.Principal, g.Host)
	}
	binds := []sql.NamedArg{sql.Named("host", g.Host), sql.Named("lower_port", lower),
		sql.Named("upper_port", upper)}
	names := make([]string, len(privileges))
	for i, p := range privileges {
		name := fmt.Sprintf("privilege%d", i+1)
		names[i] = ":" + name
		binds = append(binds, sql.Named(name, p))
	}
	binds = append(binds, sql.Named("principal", g.Principal))
	extra := ""
	if procedure == "REMOVE_HOST_ACE" {
		// The ACL may hold grants of others; an ACL emptied by this removal stays, as it was found.
		extra = ", remove_empty_acl => FALSE"
	}
	return Statement{
		Label: fmt.Sprintf("%s %s for %s", label, strings.Join(privileges, ", "), where),
		SQL: "BEGIN DBMS_NETWORK_ACL_ADMIN." + procedure + "(host => :host, lower_port => :lower_port, " +
			"upper_port => :upper_port, ace => xs$ace_type(privilege_list => xs$name_list(" +
			strings.Join(names, ", ") + "), principal_name => :principal, principal_type => xs_acl.ptype_db)" +
			extra + "); END;",
		Binds: binds,
	}
}

// AppendHostACE grants privileges to g's principal on g's host, adding to whatever ACL covers them: on g's
// ports, and resolve without ports.
func AppendHostACE(g HostGrant, privileges []string) []Statement {
	return hostACEStatements("APPEND_HOST_ACE", "appending host ACE", g, privileges)
}

// RemoveHostACE takes back privileges from g's principal on g's host, in the shapes AppendHostACE grants them.
func RemoveHostACE(g HostGrant, privileges []string) []Statement {
	return hostACEStatements("REMOVE_HOST_ACE", "removing host ACE", g, privileges)
}

// RemoveHostACEs runs RemoveHostACE's statements and returns the privileges removed, those of the statements
// that succeeded, with the first failure.
func RemoveHostACEs(ctx context.Context, ex Executor, g HostGrant, privileges []string) ([]string, error) {
	return execByShape(ctx, ex, g, privileges, RemoveHostACE)
}

// execByShape runs the statements of build for each shape of privileges in turn and returns the privileges
// of those that succeeded, in the order of privileges, with the first failure.
func execByShape(ctx context.Context, ex Executor, g HostGrant, privileges []string,
	build func(HostGrant, []string) []Statement) ([]string, error) {
	var done []string
	var err error
	for _, group := range byShape(privileges) {
		for _, s := range build(g, group) {
			if err = ex.Exec(ctx, s); err != nil {
				break
			}
		}
		if err != nil {
			break
		}
		done = append(done, group...)
	}
	return slices.DeleteFunc(slices.Clone(privileges), func(p string) bool { return !slices.Contains(done, p) }),
		err
}

// ReadHostACEs returns the ACEs of g's principal on g's host.
func ReadHostACEs(ctx context.Context, ex Executor, g HostGrant) ([]HostACE, error) {
	var out []HostACE
	err := ex.Query(ctx, SelectHostACEs(g.Host, g.Principal), func(scan func(...any) error) error {
		var a HostACE
		var lower, upper sql.NullInt64
		var grantType sql.NullString
		if err := scan(&a.Host, &lower, &upper, &a.Principal, &a.Privilege, &grantType); err != nil {
			return err
		}
		a.LowerPort, a.UpperPort, a.GrantType = int(lower.Int64), int(upper.Int64), grantType.String
		a.portsKnown = lower.Valid && upper.Valid
		out = append(out, a)
		return nil
	})
	return out, err
}

// Granted returns those of g's privileges that aces already grant on g's whole port range, in g's order. An
// ACE without ports covers every port; resolve counts only in an ACE without ports, the only one where it
// takes effect; a DENY grants nothing.
func Granted(g HostGrant, aces []HostACE) []string {
	var out []string
	for _, p := range g.Privileges {
		for _, a := range aces {
			if !strings.EqualFold(a.Privilege, p) || !strings.EqualFold(a.Host, g.Host) ||
				a.Principal != g.Principal || !strings.EqualFold(a.GrantType, "GRANT") {
				continue
			}
			if !a.portsKnown || !portless(p) && a.LowerPort <= g.LowerPort && a.UpperPort >= g.UpperPort {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Missing returns those of g's privileges that granted lacks, in g's order.
func Missing(g HostGrant, granted []string) []string {
	var out []string
	for _, p := range g.Privileges {
		if !slices.Contains(granted, p) {
			out = append(out, p)
		}
	}
	return out
}

// EnsureHostACE appends an ACE for the privileges of g that are not granted yet and returns them; nothing is
// appended when all are, so that a second run changes nothing. On a failure it returns those it did append.
func EnsureHostACE(ctx context.Context, ex Executor, g HostGrant) ([]string, error) {
	aces, err := ReadHostACEs(ctx, ex, g)
	if err != nil {
		return nil, err
	}
	missing := Missing(g, Granted(g, aces))
	if len(missing) == 0 {
		return nil, nil
	}
	return execByShape(ctx, ex, g, missing, AppendHostACE)
}
