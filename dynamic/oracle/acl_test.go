// This file tests host ACEs (field case 7): the exact statements, APPEND only for what is missing, a second run
// that changes nothing, resolve granted, counted and removed only without a port range, and the checks on host,
// ports and principal.
package oracle

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	hsmHost    = "hsm-odaa-demo.managedhsm.azure.net"
	selectACEs = "SELECT HOST, LOWER_PORT, UPPER_PORT, PRINCIPAL, PRIVILEGE, GRANT_TYPE FROM DBA_HOST_ACES " +
		"WHERE LOWER(HOST) = :host AND PRINCIPAL = :principal"
	appendTwoSQL = "BEGIN DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE(host => :host, lower_port => :lower_port, " +
		"upper_port => :upper_port, ace => xs$ace_type(privilege_list => xs$name_list(:privilege1, :privilege2), " +
		"principal_name => :principal, principal_type => xs_acl.ptype_db)); END;"
	appendOneSQL = "BEGIN DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE(host => :host, lower_port => :lower_port, " +
		"upper_port => :upper_port, ace => xs$ace_type(privilege_list => xs$name_list(:privilege1), " +
		"principal_name => :principal, principal_type => xs_acl.ptype_db)); END;"
)

// expectAppend expects one APPEND_HOST_ACE of privileges for ADMIN on the HSM host, on 443 when ranged and with
// NULL ports otherwise.
func expectAppend(mock sqlmock.Sqlmock, ranged bool, privileges ...string) {
	var lower, upper any
	if ranged {
		lower, upper = 443, 443
	}
	args := []driver.Value{sql.Named("host", hsmHost), sql.Named("lower_port", lower), sql.Named("upper_port", upper)}
	for i, p := range privileges {
		args = append(args, sql.Named(fmt.Sprintf("privilege%d", i+1), p))
	}
	args = append(args, sql.Named("principal", "ADMIN"))
	text := appendOneSQL
	if len(privileges) == 2 {
		text = appendTwoSQL
	}
	mock.ExpectExec(text).WithArgs(args...).WillReturnResult(sqlmock.NewResult(0, 0))
}

func aceRows() *sqlmock.Rows {
	return sqlmock.NewRows([]string{"HOST", "LOWER_PORT", "UPPER_PORT", "PRINCIPAL", "PRIVILEGE", "GRANT_TYPE"})
}

func hsmGrant() HostGrant {
	return HostGrant{Host: hsmHost, LowerPort: 443, UpperPort: 443, Principal: "admin",
		Privileges: []string{"connect", "resolve", "http"}}.Normalize()
}

func TestFieldCase7AppendsOnlyMissingPrivilegesForTheUpperCasedPrincipal(t *testing.T) {
	db, mock := newMock(t)
	g := HostGrant{Host: "HSM-ODAA-DEMO.managedhsm.azure.net.", LowerPort: 443, UpperPort: 443, Principal: "admin",
		Privileges: []string{"Connect", "resolve", "http", "connect"}}.Normalize()
	require.Equal(t, "ADMIN", g.Principal)
	require.Equal(t, hsmHost, g.Host)
	require.Equal(t, []string{"connect", "resolve", "http"}, g.Privileges)

	// Someone granted connect before; it is detected and left out of the append.
	mock.ExpectQuery(selectACEs).WithArgs(sql.Named("host", hsmHost), sql.Named("principal", "ADMIN")).
		WillReturnRows(aceRows().AddRow(hsmHost, 443, 443, "ADMIN", "CONNECT", "GRANT"))
	expectAppend(mock, true, "http")
	expectAppend(mock, false, "resolve")

	appended, err := EnsureHostACE(context.Background(), NewDB(db, "test", nil), g)

	require.NoError(t, err)
	assert.Equal(t, []string{"resolve", "http"}, appended)
	assert.NoError(t, mock.ExpectationsWereMet())
}

func TestFieldCase7SecondRunChangesNothing(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectQuery(selectACEs).WithArgs(sql.Named("host", hsmHost), sql.Named("principal", "ADMIN")).
		WillReturnRows(aceRows().
			AddRow(hsmHost, 443, 443, "ADMIN", "CONNECT", "GRANT").
			AddRow(hsmHost, nil, nil, "ADMIN", "RESOLVE", "GRANT").
			AddRow(hsmHost, 443, 443, "ADMIN", "HTTP", "GRANT"))

	appended, err := EnsureHostACE(context.Background(), NewDB(db, "test", nil), hsmGrant())

	require.NoError(t, err)
	assert.Empty(t, appended)
	assert.NoError(t, mock.ExpectationsWereMet(), "a statement other than the read was issued")
}

func TestResolveOnAPortRangeIsNotCountedAndIsAppendedWithoutPorts(t *testing.T) {
	db, mock := newMock(t)
	// As the earlier code appended it: resolve on 443, where Oracle ignores it.
	mock.ExpectQuery(selectACEs).WithArgs(sql.Named("host", hsmHost), sql.Named("principal", "ADMIN")).
		WillReturnRows(aceRows().
			AddRow(hsmHost, 443, 443, "ADMIN", "CONNECT", "GRANT").
			AddRow(hsmHost, 443, 443, "ADMIN", "RESOLVE", "GRANT").
			AddRow(hsmHost, 443, 443, "ADMIN", "HTTP", "GRANT"))
	expectAppend(mock, false, "resolve")

	appended, err := EnsureHostACE(context.Background(), NewDB(db, "test", nil), hsmGrant())

	require.NoError(t, err)
	assert.Equal(t, []string{"resolve"}, appended)
	assert.NoError(t, mock.ExpectationsWereMet())
}

func TestFieldCase7IPAddressIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name, host string
		ok         bool
	}{
		{"hsm-fqdn", hsmHost, true},
		{"login-host", "login.microsoftonline.com", true},
		{"ipv4-private-endpoint", "10.0.2.4", false},
		{"ipv6", "fd00::4", false},
		{"bracketed-ipv6", "[fd00::4]", false},
		{"single-label", "hsm-odaa-demo", false},
		{"underscore", "hsm_odaa.managedhsm.azure.net", false},
		{"empty", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckHost(tc.host)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			if tc.name != "single-label" && tc.name != "underscore" && tc.name != "empty" {
				assert.Contains(t, err.Error(), "is an IP address")
			}
		})
	}
}

func TestCheckPortsAndPrivileges(t *testing.T) {
	for _, tc := range []struct {
		name         string
		lower, upper int
		ok           bool
	}{
		{"https", 443, 443, true}, {"range", 1, 65535, true}, {"zero", 0, 443, false},
		{"too-high", 443, 65536, false}, {"inverted", 444, 443, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.ok, CheckPorts(tc.lower, tc.upper) == nil)
		})
	}
	assert.NoError(t, CheckPrivilege("HTTP"))
	assert.Error(t, CheckPrivilege("https"))
}

func TestGrantedCountsOnlyCoveringGrants(t *testing.T) {
	g := hsmGrant()
	for _, tc := range []struct {
		name string
		aces []HostACE
		want []string
	}{
		{"none", nil, nil},
		{"all-ports", []HostACE{{Host: hsmHost, Principal: "ADMIN", Privilege: "HTTP", GrantType: "GRANT"}},
			[]string{"http"}},
		{"wider-range", []HostACE{{Host: hsmHost, LowerPort: 1, UpperPort: 1000, portsKnown: true,
			Principal: "ADMIN", Privilege: "CONNECT", GrantType: "GRANT"}}, []string{"connect"}},
		{"other-port", []HostACE{{Host: hsmHost, LowerPort: 80, UpperPort: 80, portsKnown: true,
			Principal: "ADMIN", Privilege: "CONNECT", GrantType: "GRANT"}}, nil},
		{"deny", []HostACE{{Host: hsmHost, LowerPort: 443, UpperPort: 443, portsKnown: true, Principal: "ADMIN",
			Privilege: "CONNECT", GrantType: "DENY"}}, nil},
		{"resolve-on-ports", []HostACE{{Host: hsmHost, LowerPort: 1, UpperPort: 65535, portsKnown: true,
			Principal: "ADMIN", Privilege: "RESOLVE", GrantType: "GRANT"}}, nil},
		{"resolve-without-ports", []HostACE{{Host: hsmHost, Principal: "ADMIN", Privilege: "RESOLVE",
			GrantType: "GRANT"}}, []string{"resolve"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Granted(g, tc.aces))
		})
	}
}

func TestNullPortsReadAsEveryPort(t *testing.T) {
	db, mock := newMock(t)
	mock.ExpectQuery(selectACEs).WithArgs(sql.Named("host", hsmHost), sql.Named("principal", "ADMIN")).
		WillReturnRows(aceRows().AddRow(hsmHost, nil, nil, "ADMIN", "RESOLVE", "GRANT"))

	aces, err := ReadHostACEs(context.Background(), NewDB(db, "test", nil), hsmGrant())

	require.NoError(t, err)
	assert.Equal(t, []string{"resolve"}, Granted(hsmGrant(), aces))
	assert.NoError(t, mock.ExpectationsWereMet())
}

func TestRemoveHostACEStatementsRemoveTheShapesAppended(t *testing.T) {
	got := RemoveHostACE(hsmGrant(), []string{"resolve", "http"})
	require.Len(t, got, 2)
	const removeOne = "BEGIN DBMS_NETWORK_ACL_ADMIN.REMOVE_HOST_ACE(host => :host, lower_port => :lower_port, " +
		"upper_port => :upper_port, ace => xs$ace_type(privilege_list => xs$name_list(:privilege1), " +
		"principal_name => :principal, principal_type => xs_acl.ptype_db), remove_empty_acl => FALSE); END;"
	assert.Equal(t, removeOne, got[0].SQL)
	assert.Equal(t, []sql.NamedArg{sql.Named("host", hsmHost), sql.Named("lower_port", 443),
		sql.Named("upper_port", 443), sql.Named("privilege1", "http"), sql.Named("principal", "ADMIN")}, got[0].Binds)
	assert.Equal(t, removeOne, got[1].SQL)
	assert.Equal(t, []sql.NamedArg{sql.Named("host", hsmHost), sql.Named("lower_port", nil),
		sql.Named("upper_port", nil), sql.Named("privilege1", "resolve"), sql.Named("principal", "ADMIN")},
		got[1].Binds)
	assert.Contains(t, got[1].Label, "(no port range)")
	for _, s := range got {
		assert.NotContains(t, s.SQL, "DROP")
		assert.NotContains(t, s.SQL, "CREATE_ACL")
	}
}

func TestStatementErrorsAreExplained(t *testing.T) {
	for _, tc := range []struct {
		name  string
		err   string
		class Class
		want  string
	}{
		{"ora-01435-unknown-principal", "ORA-01435: user does not exist", UnknownUser, "upper-case (ADMIN, not admin)"},
		{"ora-01918-unknown-user", "ORA-01918: user 'admin' does not exist", UnknownUser, "must exist"},
		{"ora-24247-acl", "ORA-24247: network access denied by access control list (ACL)", NetworkAccessDenied,
			"host ACE"},
		{"ora-01031-privileges", "ORA-01031: insufficient privileges", InsufficientPrivileges, "connect as ADMIN"},
		{"ora-20000-cloud-admin", "ORA-20000: Azure principal authentication is already enabled", CloudAdmin,
			"DBMS_CLOUD_ADMIN refused"},
		{"other", "ORA-00600: internal error code", Other, "ORA-00600"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, mock := newMock(t)
			s := AppendHostACE(hsmGrant(), []string{"http"})[0]
			mock.ExpectExec(s.SQL).WillReturnError(errors.New(tc.err))

			err := NewDB(db, "database adbhsmdemo_high as ADMIN", nil).Exec(context.Background(), s)

			require.Error(t, err)
			assert.Equal(t, tc.class, ClassOf(err))
			assert.Contains(t, err.Error(), "appending host ACE http for ADMIN on "+hsmHost+":443-443 on database "+
				"adbhsmdemo_high as ADMIN")
			assert.Contains(t, err.Error(), tc.want)
			assert.NoError(t, mock.ExpectationsWereMet())
		})
	}
}
