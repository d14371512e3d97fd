// This file tests script mode through the in-process provider server: every SQL resource and OCI step writes
// exactly the expected text to the script file, connects to no database and sends no OCI request, the file is
// its owner's only, the password never appears, quotes in binds are doubled, and a later run without script
// mode does the real work.
package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	p "github.com/pulumi/pulumi-go-provider"
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

func TestScriptModePrincipalAuthKeystoreAndKeySwitch(t *testing.T) {
	s := newScriptEnv(t)
	pa := s.mustCreate(odaa.PrincipalAuthType, scriptConnection(map[string]property.Value{
		"provider": property.New("AZURE"), "tenantId": property.New(testTenant)}))
	ks := s.mustCreate(odaa.KeystoreCheckType, scriptConnection(map[string]property.Value{
		"keyId": property.New(testKeyID)}))
	ek := s.mustCreate(odaa.EncryptionKeyType, ekInputs(ekVault, "okey"))

	clientID := pa.Properties.Get("appClientId").AsString()
	assert.Equal(t, scriptedAppPlaceholder, clientID)
	assert.False(t, guid.MatchString(clientID), "the placeholder must not pass for an application ID")
	assert.True(t, pa.Properties.Get("enabledByResource").AsBool())
	for _, r := range []property.Map{pa.Properties, ks.Properties, ek.Properties} {
		assert.True(t, r.Get("scripted").AsBool())
	}
	assert.Empty(t, ks.Properties.Get("status").AsString(), "nothing was checked")
	assert.True(t, ek.Properties.Get("switched").AsBool())

	require.NoError(t, s.delete(odaa.EncryptionKeyType, ek.ID, ek.Properties))
	require.NoError(t, s.delete(odaa.PrincipalAuthType, pa.ID, pa.Properties))

	paHeader, ksHeader := header("oracle:PrincipalAuth test"), header("oracle:KeystoreCheck test")
	ekHeader := "-- oracle:EncryptionKey %s\n-- OCI Autonomous Database " + ekDB + "\n-- 2026-12-04T08:00:00Z\n"
	want := paHeader + "-- enabling Azure principal auth for tenant " + testTenant + "\nSET DEFINE OFF\n" +
		"BEGIN DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH(provider => 'AZURE', params => JSON_OBJECT(" +
		"'azure_tenantid' value '" + testTenant + "')); END;\n/\n\n" +
		ksHeader + "-- reading V$ENCRYPTION_WALLET (a read: script mode assumed no rows)\nSET DEFINE OFF\n" +
		"SELECT WRL_TYPE, WALLET_TYPE, STATUS FROM V$ENCRYPTION_WALLET;\n\n" +
		strings.Replace(ekHeader, "%s", "test", 1) + "-- switching the TDE master key to okey in " + ekVault +
		"; make this OCI request (UpdateAutonomousDatabase), then wait until the database is AVAILABLE:\n" +
		"-- PUT /20160918/autonomousDatabases/" + ekDB + "\n" +
		`-- {"encryptionKey":{"keyName":"okey","provider":"AZURE","vaultUri":"` + ekVault + `"}}` + "\n\n" +
		strings.Replace(ekHeader, "%s", ek.ID, 1) + "-- returning the database to Oracle-managed keys; make " +
		"this OCI request (UpdateAutonomousDatabase), then wait until the database is AVAILABLE:\n" +
		"-- PUT /20160918/autonomousDatabases/" + ekDB + "\n" +
		`-- {"encryptionKey":{"provider":"ORACLE_MANAGED"}}` + "\n\n" +
		header("oracle:PrincipalAuth "+pa.ID) + "-- disabling Azure principal auth\nSET DEFINE OFF\n" +
		"BEGIN DBMS_CLOUD_ADMIN.DISABLE_PRINCIPAL_AUTH(provider => 'AZURE'); END;\n/\n\n"
	assert.Equal(t, want, s.script())
}

// guid is the shape of an Entra application (client) ID.
var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func TestScriptedStateMakesTheNextRealRunDoTheWork(t *testing.T) {
	s := newScriptEnv(t)
	aclIn, propIn := aclInputs("ADMIN", "connect", "resolve"), routingInputs("PRIVATE_ENDPOINT", false)
	paIn := principalInputs(testTenant)
	acl := s.mustCreate(odaa.NetworkACLType, aclIn)
	prop := s.mustCreate(odaa.DatabasePropertyType, propIn)
	pa := s.mustCreate(odaa.PrincipalAuthType, paIn)
	s.script()

	t.Run("script-mode-again-changes-nothing", func(t *testing.T) {
		for _, r := range []struct {
			token string
			resp  p.CreateResponse
			in    property.Map
		}{{odaa.NetworkACLType, acl, aclIn}, {odaa.DatabasePropertyType, prop, propIn},
			{odaa.PrincipalAuthType, pa, paIn}} {
			diff, err := s.diff(r.token, r.resp.ID, r.resp.Properties, r.in, r.in)
			require.NoError(t, err)
			assert.False(t, diff.HasChanges, r.token)
		}
	})

	real, db := newSQLEnv(t, nil)
	session := db.expect()
	hostACEs(session)
	hostACEChange(session, "APPEND_HOST_ACE", "connect")
	resolveChange(session, "APPEND_HOST_ACE")
	session = db.expect()
	routing(session, "")
	setRouting(session, "PRIVATE_ENDPOINT")
	routing(session, "PRIVATE_ENDPOINT")
	session = db.expect()
	integrations(session, testTenant)

	diff, err := real.diff(odaa.NetworkACLType, acl.ID, acl.Properties, aclIn, aclIn)
	require.NoError(t, err)
	assert.True(t, diff.HasChanges, "a scripted ACL must be done for real")
	up, err := real.update(odaa.NetworkACLType, acl.ID, acl.Properties, aclIn, aclIn, false)
	require.NoError(t, err)
	assert.False(t, up.Properties.Get("scripted").AsBool())

	diff, err = real.diff(odaa.DatabasePropertyType, prop.ID, prop.Properties, propIn, propIn)
	require.NoError(t, err)
	assert.True(t, diff.HasChanges, "a scripted property must be set for real")
	up, err = real.update(odaa.DatabasePropertyType, prop.ID, prop.Properties, propIn, propIn, false)
	require.NoError(t, err)
	assert.False(t, up.Properties.Get("scripted").AsBool())
	assert.Equal(t, "", up.Properties.Get("previousValue").AsString(), "the real value before replaces unknown")

	diff, err = real.diff(odaa.PrincipalAuthType, pa.ID, pa.Properties, paIn, paIn)
	require.NoError(t, err)
	assert.True(t, diff.HasChanges, "a scripted principal auth must be read for real")
	up, err = real.update(odaa.PrincipalAuthType, pa.ID, pa.Properties, paIn, paIn, false)
	require.NoError(t, err)
	assert.Equal(t, testAppClientID, up.Properties.Get("appClientId").AsString())
	assert.True(t, up.Properties.Get("enabledByResource").AsBool(), "the scripted ENABLE was this resource's")
	assert.False(t, up.Properties.Get("scripted").AsBool())
	db.verify()
}
