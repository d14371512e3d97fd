// This file tests script mode through the in-process provider server: every SQL resource and OCI step writes
// exactly the expected text to the script file, connects to no database and sends no OCI request, the file is
// its owner's only, the password never appears, quotes in binds are doubled, and a later run without script
// mode does the real work.
package provider

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakeoci"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

// scriptPassword has what a careless writer would break on or leak: quotes, a semicolon, a comment, an &.
const scriptPassword = `Pa'ss"w&rd;--/*x*/`

// scriptWhere is how the header names testDescriptor's database: no password.
const scriptWhere = "database abc_adbhsmdemo_high.adb.oraclecloud.com on adb.eastus.oraclecloud.com as ADMIN"

// scriptEnv serves a provider in script mode writing to a file in a test directory, with a fixed clock, SQL
// sessions that fail the test when opened, a restarter and a fake OCI that record every call.
type scriptEnv struct {
	*testEnv
	path    string
	db      *sqlSessions
	restart *recordingRestarter
	oci     *fakeoci.Server
}

func newScriptEnv(t *testing.T) scriptEnv {
	t.Helper()
	id, err := fakeoci.NewIdentity()
	require.NoError(t, err)
	fake := fakeoci.New(t, fakeoci.WithIdentity(id))
	s := scriptEnv{path: filepath.Join(t.TempDir(), "odaa.sql"), db: &sqlSessions{t: t},
		restart: &recordingRestarter{}, oci: fake}
	s.testEnv = newTestEnvWith(t, nil, Options{
		SQLScript: s.path,
		now:       func() time.Time { return time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC) },
		openDB:    s.db.open,
		restart:   s.restart,
		OCI: OCIOptions{ConfigProvider: id.ConfigProvider("us-ashburn-1"), Endpoint: fake.Endpoint(),
			HTTPClient: fake.Client()},
	})
	return s
}

// script returns the file's text after checking it is its owner's only and holds no password, and that
// nothing reached a database or OCI.
func (s scriptEnv) script() string {
	s.t.Helper()
	info, err := os.Stat(s.path)
	require.NoError(s.t, err)
	assert.Equal(s.t, os.FileMode(0o600), info.Mode().Perm())
	b, err := os.ReadFile(s.path)
	require.NoError(s.t, err)
	for _, secret := range []string{scriptPassword, "Pa'ss", "Pa''ss", "w&rd"} {
		assert.NotContains(s.t, string(b), secret)
	}
	assert.Zero(s.t, s.db.opened(), "script mode connected to a database")
	assert.Empty(s.t, s.restart.Restarts(), "script mode restarted through the restarter")
	assert.Empty(s.t, s.oci.RequestLog(), "script mode sent OCI requests")
	return string(b)
}

func scriptConnection(m map[string]property.Value) property.Map {
	c := connectionInputs(m)
	return c.Set("password", property.New(scriptPassword).WithSecret(true))
}

func header(resource string) string {
	return "-- " + resource + "\n-- " + scriptWhere + "\n-- 2026-12-04T08:00:00Z\n"
}

const (
	scriptSelectACEs = "SET DEFINE OFF\nSELECT HOST, LOWER_PORT, UPPER_PORT, PRINCIPAL, PRIVILEGE, GRANT_TYPE FROM " +
		"DBA_HOST_ACES WHERE LOWER(HOST) = 'hsm-odaa-demo.managedhsm.azure.net' AND PRINCIPAL = 'O''BRIEN';\n\n"
	scriptAppend = "SET DEFINE OFF\nBEGIN DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE(host => " +
		"'hsm-odaa-demo.managedhsm.azure.net', lower_port => 443, upper_port => 443, ace => xs$ace_type(" +
		"privilege_list => xs$name_list('connect'), principal_name => 'O''BRIEN', principal_type => " +
		"xs_acl.ptype_db)); END;\n/\n\n"
	scriptAppendResolve = "SET DEFINE OFF\nBEGIN DBMS_NETWORK_ACL_ADMIN.APPEND_HOST_ACE(host => " +
		"'hsm-odaa-demo.managedhsm.azure.net', lower_port => NULL, upper_port => NULL, ace => xs$ace_type(" +
		"privilege_list => xs$name_list('resolve'), principal_name => 'O''BRIEN', principal_type => " +
		"xs_acl.ptype_db)); END;\n/\n\n"
)

func TestScriptModeNetworkACLThenPropertyAppendInOrder(t *testing.T) {
	s := newScriptEnv(t)
	acl := scriptConnection(map[string]property.Value{"host": property.New(aclHost),
		"lowerPort": property.New(443.0), "upperPort": property.New(443.0), "principal": property.New("o'brien"),
		"privileges": stringArray("connect", "resolve")})
	resp := s.mustCreate(odaa.NetworkACLType, acl)
	assert.True(t, resp.Properties.Get("scripted").AsBool())
	assert.Equal(t, []property.Value{property.New("connect"), property.New("resolve")},
		resp.Properties.Get("appended").AsArray().AsSlice(), "with no ACE readable, all are appended")

	prop := s.mustCreate(odaa.DatabasePropertyType, scriptConnection(map[string]property.Value{
		"name": property.New("ROUTE_OUTBOUND_CONNECTIONS"), "value": property.New("PRIVATE_ENDPOINT"),
		"restartOnChange": property.New(true), "databaseOcid": property.New(testDatabaseOcid)}))
	assert.True(t, prop.Properties.Get("scripted").AsBool())
	assert.Equal(t, unknownPreviousValue, prop.Properties.Get("previousValue").AsString())
	assert.False(t, prop.Properties.Get("restartPending").AsBool())

	aclHeader, propHeader := header("oracle:NetworkAcl test"), header("oracle:DatabaseProperty test")
	want := aclHeader + "-- reading host ACEs of O'BRIEN on hsm-odaa-demo.managedhsm.azure.net (a read: script " +
		"mode assumed no rows)\n" + scriptSelectACEs +
		aclHeader + "-- appending host ACE connect for O'BRIEN on hsm-odaa-demo.managedhsm.azure.net:443-443\n" +
		scriptAppend +
		aclHeader + "-- appending host ACE resolve for O'BRIEN on hsm-odaa-demo.managedhsm.azure.net (no port " +
		"range)\n" + scriptAppendResolve +
		propHeader + "-- setting database property ROUTE_OUTBOUND_CONNECTIONS to PRIVATE_ENDPOINT\n" +
		"SET DEFINE OFF\nBEGIN\n  EXECUTE IMMEDIATE 'ALTER DATABASE PROPERTY SET ROUTE_OUTBOUND_CONNECTIONS = " +
		"''PRIVATE_ENDPOINT''';\nEND;\n/\n\n" +
		"-- oracle:DatabaseProperty test\n-- OCI Autonomous Database " + testDatabaseOcid +
		"\n-- 2026-12-04T08:00:00Z\n" +
		"-- restarting the database so that the property takes effect; run in a shell:\n" +
		"-- oci db autonomous-database restart --autonomous-database-id '" + testDatabaseOcid + "'\n" +
		"-- (the REST request: POST /20160918/autonomousDatabases/" + testDatabaseOcid + "/actions/restart)\n" +
		"-- and wait until its lifecycle state is AVAILABLE again\n\n"
	assert.Equal(t, want, s.script())
}
