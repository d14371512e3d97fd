// This file tests NetworkAcl (field case 7) through the in-process provider server against sqlmock: APPEND only
// for what is missing, reads only on a second run, drift, removal of exactly what was appended.
package provider

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

const (
	aclHost        = "hsm-odaa-demo.managedhsm.azure.net"
	selectHostACEs = "SELECT HOST, LOWER_PORT, UPPER_PORT, PRINCIPAL, PRIVILEGE, GRANT_TYPE FROM DBA_HOST_ACES " +
		"WHERE LOWER(HOST) = :host AND PRINCIPAL = :principal"
)

func aclInputs(principal string, privileges ...string) property.Map {
	return connectionInputs(map[string]property.Value{
		"host":       property.New(aclHost),
		"lowerPort":  property.New(443.0),
		"upperPort":  property.New(443.0),
		"principal":  property.New(principal),
		"privileges": stringArray(privileges...),
	})
}

// hostACEs answers the read of DBA_HOST_ACES with ADMIN holding privileges (upper-case, as Oracle stores them)
// on the HSM's port 443, and RESOLVE without ports, as Oracle needs it.
func hostACEs(mock sqlmock.Sqlmock, privileges ...string) {
	rows := sqlmock.NewRows([]string{"HOST", "LOWER_PORT", "UPPER_PORT", "PRINCIPAL", "PRIVILEGE", "GRANT_TYPE"})
	for _, priv := range privileges {
		if priv == "RESOLVE" {
			rows.AddRow(aclHost, nil, nil, "ADMIN", priv, "GRANT")
			continue
		}
		rows.AddRow(aclHost, 443, 443, "ADMIN", priv, "GRANT")
	}
	mock.ExpectQuery(selectHostACEs).WithArgs(sql.Named("host", aclHost), sql.Named("principal", "ADMIN")).
		WillReturnRows(rows)
}

// hostACEChange expects APPEND_HOST_ACE or REMOVE_HOST_ACE of ADMIN on the HSM's port 443 for privileges.
func hostACEChange(mock sqlmock.Sqlmock, procedure string, privileges ...string) {
	hostACEChangeOn(mock, procedure, 443, privileges...)
}

// resolveChange expects APPEND_HOST_ACE or REMOVE_HOST_ACE of resolve for ADMIN on the HSM without ports.
func resolveChange(mock sqlmock.Sqlmock, procedure string) {
	hostACEChangeOn(mock, procedure, nil, "resolve")
}

// hostACEChangeOn expects APPEND_HOST_ACE or REMOVE_HOST_ACE of ADMIN on the HSM with port as both bounds.
func hostACEChangeOn(mock sqlmock.Sqlmock, procedure string, port any, privileges ...string) {
	names := ""
	args := []driver.Value{sql.Named("host", aclHost), sql.Named("lower_port", port), sql.Named("upper_port", port)}
	for i, priv := range privileges {
		if i > 0 {
			names += ", "
		}
		name := "privilege" + string(rune('1'+i))
		names += ":" + name
		args = append(args, sql.Named(name, priv))
	}
	args = append(args, sql.Named("principal", "ADMIN"))
	extra := ""
	if procedure == "REMOVE_HOST_ACE" {
		extra = ", remove_empty_acl => FALSE"
	}
	mock.ExpectExec("BEGIN DBMS_NETWORK_ACL_ADMIN." + procedure + "(host => :host, lower_port => :lower_port, " +
		"upper_port => :upper_port, ace => xs$ace_type(privilege_list => xs$name_list(" + names + "), " +
		"principal_name => :principal, principal_type => xs_acl.ptype_db)" + extra + "); END;").
		WithArgs(args...).WillReturnResult(sqlmock.NewResult(0, 0))
}

func TestFieldCase7NetworkAclAppendsOnlyWhatIsMissing(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	// connect was granted before this stack; 'admin' is how the field wrote the principal.
	first := db.expect()
	hostACEs(first, "CONNECT")
	hostACEChange(first, "APPEND_HOST_ACE", "http")
	resolveChange(first, "APPEND_HOST_ACE")
	in := aclInputs("admin", "connect", "resolve", "http")

	resp := env.mustCreate(odaa.NetworkACLType, in)

	assert.Equal(t, "ADMIN", resp.Properties.Get("principal").AsString())
	assert.Equal(t, []string{"resolve", "http"}, stringsOf(resp.Properties.Get("appended")))
	assert.Equal(t, aclHost+":443-443/ADMIN", resp.ID)

	t.Run("second-run-reads-only", func(t *testing.T) {
		checked, err := env.check(odaa.NetworkACLType, resp.Properties, in)
		require.NoError(t, err)
		diff, err := env.diff(odaa.NetworkACLType, resp.ID, resp.Properties, checked.Inputs, checked.Inputs)
		require.NoError(t, err)
		assert.False(t, diff.HasChanges, "unchanged inputs plan %v", diff.DetailedDiff)

		refresh := db.expect()
		hostACEs(refresh, "CONNECT", "RESOLVE", "HTTP")
		read, err := env.read(odaa.NetworkACLType, resp.ID, resp.Properties, checked.Inputs)
		require.NoError(t, err)
		assert.Equal(t, []string{"connect", "resolve", "http"}, stringsOf(read.Properties.Get("privileges")))
	})

	t.Run("another-stack-finds-everything-granted", func(t *testing.T) {
		other := db.expect()
		hostACEs(other, "CONNECT", "RESOLVE", "HTTP")
		again := env.mustCreate(odaa.NetworkACLType, in)
		assert.Empty(t, stringsOf(again.Properties.Get("appended")))
	})

	t.Run("delete-removes-only-what-was-appended", func(t *testing.T) {
		del := db.expect()
		hostACEs(del, "CONNECT", "RESOLVE", "HTTP")
		hostACEChange(del, "REMOVE_HOST_ACE", "http")
		resolveChange(del, "REMOVE_HOST_ACE")
		require.NoError(t, env.delete(odaa.NetworkACLType, resp.ID, resp.Properties))
	})
	db.verify()
	assert.NotContains(t, env.logs.All(), testAdminPassword)
}

func TestFieldCase7NetworkAclRefusesAnIPAddress(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	in := aclInputs("admin", "connect").Set("host", property.New("10.0.2.4"))

	resp, err := env.check(odaa.NetworkACLType, property.Map{}, in)

	require.NoError(t, err)
	require.Len(t, resp.Failures, 1)
	assert.Equal(t, "host", resp.Failures[0].Property)
	assert.Contains(t, resp.Failures[0].Reason, "is an IP address")
	assert.Equal(t, 0, db.opened())
}

func TestNetworkAclCheckNamesBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       property.Map
		property string
	}{
		{"single-label-host", aclInputs("ADMIN", "connect").Set("host", property.New("hsm")), "host"},
		{"port-zero", aclInputs("ADMIN", "connect").Set("lowerPort", property.New(0.0)), "lowerPort"},
		{"port-too-high", aclInputs("ADMIN", "connect").Set("upperPort", property.New(70000.0)), "lowerPort"},
		{"lower-above-upper", aclInputs("ADMIN", "connect").Set("lowerPort", property.New(444.0)), "lowerPort"},
		{"unknown-privilege", aclInputs("ADMIN", "connect", "https"), "privileges[1]"},
		{"no-privileges", aclInputs("ADMIN"), "privileges"},
		{"no-password", aclInputs("ADMIN", "connect").Set("password", property.New("")), "password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := newSQLEnv(t, nil)
			resp, err := env.check(odaa.NetworkACLType, property.Map{}, tc.in)
			require.NoError(t, err)
			var got []string
			for _, f := range resp.Failures {
				got = append(got, f.Property)
			}
			assert.Contains(t, got, tc.property)
		})
	}
}

func TestNetworkAclDriftIsReadAndRepaired(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	hostACEs(create)
	hostACEChange(create, "APPEND_HOST_ACE", "connect", "http")
	resolveChange(create, "APPEND_HOST_ACE")
	in := aclInputs("ADMIN", "connect", "resolve", "http")
	resp := env.mustCreate(odaa.NetworkACLType, in)

	// Someone removed the http ACE by hand.
	read := db.expect()
	hostACEs(read, "CONNECT", "RESOLVE")
	got, err := env.read(odaa.NetworkACLType, resp.ID, resp.Properties, in)
	require.NoError(t, err)
	assert.Equal(t, []string{"connect", "resolve"}, stringsOf(got.Properties.Get("privileges")))
	assert.True(t, env.logs.Contains("no longer has http"))

	diff, err := env.diff(odaa.NetworkACLType, resp.ID, got.Properties, in, in)
	require.NoError(t, err)
	assert.Equal(t, p.Update, diff.DetailedDiff["privileges"].Kind)

	repair := db.expect()
	hostACEs(repair, "CONNECT", "RESOLVE")
	hostACEChange(repair, "APPEND_HOST_ACE", "http")
	up, err := env.update(odaa.NetworkACLType, resp.ID, got.Properties, in, in, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"connect", "resolve", "http"}, stringsOf(up.Properties.Get("appended")))
	db.verify()
}

func TestNetworkAclUpdateDropsOnlyItsOwnPrivileges(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	hostACEs(create, "CONNECT")
	hostACEChange(create, "APPEND_HOST_ACE", "http")
	resolveChange(create, "APPEND_HOST_ACE")
	in := aclInputs("ADMIN", "connect", "resolve", "http")
	resp := env.mustCreate(odaa.NetworkACLType, in)

	// connect was there before: dropping it from the inputs leaves it; http was appended: it is removed.
	fewer := aclInputs("ADMIN", "resolve")
	diff, err := env.diff(odaa.NetworkACLType, resp.ID, resp.Properties, in, fewer)
	require.NoError(t, err)
	assert.Equal(t, p.Update, diff.DetailedDiff["privileges"].Kind)
	upd := db.expect()
	hostACEChange(upd, "REMOVE_HOST_ACE", "http")
	hostACEs(upd, "CONNECT", "RESOLVE")
	up, err := env.update(odaa.NetworkACLType, resp.ID, resp.Properties, in, fewer, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"resolve"}, stringsOf(up.Properties.Get("appended")))
	db.verify()
}

func TestNetworkAclNewDatabaseGetsItsACEs(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	hostACEs(create)
	hostACEChange(create, "APPEND_HOST_ACE", "connect", "http")
	resolveChange(create, "APPEND_HOST_ACE")
	in := aclInputs("ADMIN", "connect", "resolve", "http")
	resp := env.mustCreate(odaa.NetworkACLType, in)

	t.Run("password-only-runs-nothing", func(t *testing.T) {
		news := in.Set("password", property.New("Rotated-Pass-2026").WithSecret(true))
		opened := db.opened()
		_, err := env.update(odaa.NetworkACLType, resp.ID, resp.Properties, in, news, false)
		require.NoError(t, err)
		assert.Equal(t, opened, db.opened(), "a password change connected")
	})

	t.Run("new-connect-string-appends-what-that-database-lacks", func(t *testing.T) {
		news := in.Set("connectString", property.New(strings.Replace(testDescriptor, "adbhsmdemo", "adbhsmnew", 1)))
		diff, err := env.diff(odaa.NetworkACLType, resp.ID, resp.Properties, in, news)
		require.NoError(t, err)
		assert.Equal(t, p.Update, diff.DetailedDiff["connectString"].Kind)
		// The replaced database has only connect, granted by its own setup.
		fresh := db.expect()
		hostACEs(fresh, "CONNECT")
		hostACEChange(fresh, "APPEND_HOST_ACE", "http")
		resolveChange(fresh, "APPEND_HOST_ACE")
		up, err := env.update(odaa.NetworkACLType, resp.ID, resp.Properties, in, news, false)
		require.NoError(t, err)
		assert.Equal(t, []string{"connect", "resolve", "http"}, stringsOf(up.Properties.Get("appended")))
	})
	db.verify()
}

func TestNetworkAclDiffReplacesForAnotherHostPortOrPrincipal(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	hostACEs(create)
	hostACEChange(create, "APPEND_HOST_ACE", "connect")
	in := aclInputs("ADMIN", "connect")
	resp := env.mustCreate(odaa.NetworkACLType, in)

	for _, tc := range []struct {
		name, property string
		news           property.Map
		kind           p.DiffKind
	}{
		{"host", "host", in.Set("host", property.New("login.microsoftonline.com")), p.UpdateReplace},
		{"port", "upperPort", in.Set("upperPort", property.New(444.0)), p.UpdateReplace},
		{"principal", "principal", in.Set("principal", property.New("APP_USER")), p.UpdateReplace},
		{"password", "password", in.Set("password", property.New("Another-Pass-2026").WithSecret(true)), p.Update},
	} {
		t.Run(tc.name, func(t *testing.T) {
			diff, err := env.diff(odaa.NetworkACLType, resp.ID, resp.Properties, in, tc.news)
			require.NoError(t, err)
			assert.Equal(t, tc.kind, diff.DetailedDiff[tc.property].Kind)
		})
	}
	db.verify()
}

func TestNetworkAclDeleteOfWhatIsGoneWarns(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	hostACEs(create)
	hostACEChange(create, "APPEND_HOST_ACE", "connect", "http")
	resp := env.mustCreate(odaa.NetworkACLType, aclInputs("ADMIN", "connect", "http"))

	del := db.expect()
	hostACEs(del)
	require.NoError(t, env.delete(odaa.NetworkACLType, resp.ID, resp.Properties))
	assert.True(t, env.logs.Contains("already gone"))
	db.verify()
}

func TestNetworkAclPreviewOpensNoConnection(t *testing.T) {
	env, db := newSQLEnv(t, nil)

	resp, err := env.create(odaa.NetworkACLType, aclInputs("admin", "connect"), true)

	require.NoError(t, err)
	assert.Equal(t, "ADMIN", resp.Properties.Get("principal").AsString())
	assert.Equal(t, 0, db.opened())
}

func TestNetworkAclUnknownPrincipalIsExplained(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	mock := db.expect()
	hostACEs(mock)
	mock.ExpectExec("BEGIN DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE(host => :host, lower_port => :lower_port, " +
		"upper_port => :upper_port, ace => xs$ace_type(privilege_list => xs$name_list(:privilege1), " +
		"principal_name => :principal, principal_type => xs_acl.ptype_db)); END;").
		WillReturnError(errors.New("ORA-01435: user does not exist"))

	_, err := env.create(odaa.NetworkACLType, aclInputs("ADMIN", "connect"), false)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "appending host ACE connect for ADMIN on "+aclHost+":443-443")
	assert.Contains(t, err.Error(), "principals are upper-case")
	assert.Contains(t, err.Error(), "ORA-01435")
	db.verify()
}

// A failure part way keeps what was appended before it in the state: delete removes it, and the next run
// appends only the rest.
func TestNetworkAclKeepsWhatItAppendedBeforeAFailure(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	mock := db.expect()
	hostACEs(mock)
	hostACEChange(mock, "APPEND_HOST_ACE", "connect", "http")
	mock.ExpectExec("BEGIN DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE(host => :host, lower_port => :lower_port, " +
		"upper_port => :upper_port, ace => xs$ace_type(privilege_list => xs$name_list(:privilege1), " +
		"principal_name => :principal, principal_type => xs_acl.ptype_db)); END;").
		WillReturnError(errors.New("ORA-01031: insufficient privileges"))

	resp, err := env.create(odaa.NetworkACLType, aclInputs("ADMIN", "connect", "resolve", "http"), false)

	require.Error(t, err)
	require.NotNil(t, resp.PartialState, "what was appended must reach the state")
	assert.Equal(t, []string{"connect", "http"}, stringsOf(resp.Properties.Get("appended")))
	assert.Contains(t, strings.Join(resp.PartialState.Reasons, "\n"), "ORA-01031")
	db.verify()
}
