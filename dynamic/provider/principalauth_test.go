// This file tests PrincipalAuth through the in-process provider server against sqlmock: ENABLE once, adoption
// for the same tenant, no re-enabling on update, reconciling a new database, drift, and DISABLE on delete of only
// what the resource enabled.
package provider

import (
	"database/sql"
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
	testTenant      = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	otherTestTenant = "11111111-2222-3333-4444-555555555555"
	testAppClientID = "d46a3a1a-9a0d-4f1c-8d4e-b4e2b7a3c0f0"
	testAppName     = "ADBS_APP_OCID1.AUTONOMOUSDATABASE.OC1.IAD.ANUWCLJEXAMPLE"
	testConsentURL  = "https://login.microsoftonline.com/" + testTenant + "/oauth2/v2.0/authorize?client_id=" +
		testAppClientID + "&response_type=code&scope=User.read"
	selectIntegrations = "SELECT PARAM_NAME, PARAM_VALUE FROM CLOUD_INTEGRATIONS " +
		"WHERE PARAM_NAME IN ('azure_tenantid', 'azure_app_name', 'azure_consent_url')"
)

func principalInputs(tenant string) property.Map {
	return connectionInputs(map[string]property.Value{
		"provider": property.New("AZURE"),
		"tenantId": property.New(tenant),
	})
}

// integrations answers one read of CLOUD_INTEGRATIONS: Azure principal auth for tenant, or none for "".
func integrations(mock sqlmock.Sqlmock, tenant string) {
	rows := sqlmock.NewRows([]string{"PARAM_NAME", "PARAM_VALUE"})
	if tenant != "" {
		rows.AddRow("azure_tenantid", tenant).AddRow("azure_app_name", testAppName).
			AddRow("azure_consent_url", testConsentURL)
	}
	mock.ExpectQuery(selectIntegrations).WithoutArgs().WillReturnRows(rows)
}

func expectEnable(mock sqlmock.Sqlmock, tenant string) {
	mock.ExpectExec("BEGIN DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH(provider => 'AZURE', " +
		"params => JSON_OBJECT('azure_tenantid' value :tenant)); END;").WithArgs(sql.Named("tenant", tenant)).
		WillReturnResult(sqlmock.NewResult(0, 0))
}

func expectDisable(mock sqlmock.Sqlmock) {
	mock.ExpectExec("BEGIN DBMS_CLOUD_ADMIN.DISABLE_PRINCIPAL_AUTH(provider => 'AZURE'); END;").WithoutArgs().
		WillReturnResult(sqlmock.NewResult(0, 0))
}

func TestPrincipalAuthEnablesOnceAndReportsTheApplication(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	integrations(create, "")
	expectEnable(create, testTenant)
	integrations(create, testTenant)
	in := principalInputs(testTenant)

	resp := env.mustCreate(odaa.PrincipalAuthType, in)

	assert.Equal(t, testAppClientID, resp.Properties.Get("appClientId").AsString())
	assert.Equal(t, testAppName, resp.Properties.Get("appName").AsString())
	assert.Equal(t, testConsentURL, resp.Properties.Get("consentUrl").AsString())

	t.Run("second-run-reads-only", func(t *testing.T) {
		diff, err := env.diff(odaa.PrincipalAuthType, resp.ID, resp.Properties, in, in)
		require.NoError(t, err)
		assert.False(t, diff.HasChanges)
		refresh := db.expect()
		integrations(refresh, testTenant)
		read, err := env.read(odaa.PrincipalAuthType, resp.ID, resp.Properties, in)
		require.NoError(t, err)
		assert.Equal(t, resp.ID, read.ID)
		assert.Equal(t, testAppClientID, read.Properties.Get("appClientId").AsString())
		assert.True(t, read.Properties.Get("enabledByResource").AsBool(), "a refresh dropped the ownership")
	})

	t.Run("new-connection-never-re-enables", func(t *testing.T) {
		news := in.Set("password", property.New("Rotated-Pass-2026").WithSecret(true))
		diff, err := env.diff(odaa.PrincipalAuthType, resp.ID, resp.Properties, in, news)
		require.NoError(t, err)
		assert.Equal(t, p.Update, diff.DetailedDiff["password"].Kind)
		assert.False(t, diff.DeleteBeforeReplace)
		opened := db.opened()
		up, err := env.update(odaa.PrincipalAuthType, resp.ID, resp.Properties, in, news, false)
		require.NoError(t, err)
		assert.Equal(t, opened, db.opened(), "the update connected")
		assert.Equal(t, testAppClientID, up.Properties.Get("appClientId").AsString())
	})

	t.Run("new-tenant-replaces-deleting-first", func(t *testing.T) {
		diff, err := env.diff(odaa.PrincipalAuthType, resp.ID, resp.Properties, in, principalInputs(otherTestTenant))
		require.NoError(t, err)
		assert.Equal(t, p.UpdateReplace, diff.DetailedDiff["tenantId"].Kind)
		assert.True(t, diff.DeleteBeforeReplace)
	})

	t.Run("delete-disables", func(t *testing.T) {
		del := db.expect()
		integrations(del, testTenant)
		expectDisable(del)
		require.NoError(t, env.delete(odaa.PrincipalAuthType, resp.ID, resp.Properties))
	})
	db.verify()
}

func TestPrincipalAuthAdoptsWhatIsAlreadyEnabledForTheTenant(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	integrations(create, testTenant)

	resp := env.mustCreate(odaa.PrincipalAuthType, principalInputs(testTenant))

	assert.Equal(t, testAppClientID, resp.Properties.Get("appClientId").AsString())
	assert.True(t, env.logs.Contains("adopting application"))
	db.verify()
}

func TestPrincipalAuthDeleteLeavesAnAdoptedIntegrationEnabled(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	integrations(create, testTenant)
	in := principalInputs(testTenant)
	resp := env.mustCreate(odaa.PrincipalAuthType, in)
	require.False(t, resp.Properties.Get("enabledByResource").AsBool())

	t.Run("refresh-keeps-it-adopted", func(t *testing.T) {
		read := db.expect()
		integrations(read, testTenant)
		got, err := env.read(odaa.PrincipalAuthType, resp.ID, resp.Properties, in)
		require.NoError(t, err)
		assert.False(t, got.Properties.Get("enabledByResource").AsBool())
	})

	// Both a plain delete and the delete half of a replacement for a new tenant (deleting first) end here;
	// the old URN's delete after a rename that adopted it under the new one does too.
	t.Run("delete-leaves-it", func(t *testing.T) {
		require.NoError(t, env.delete(odaa.PrincipalAuthType, resp.ID, resp.Properties))
		assert.True(t, env.logs.Contains("not enabled by this resource"))
	})

	t.Run("replacement-for-a-new-tenant-then-fails-clearly", func(t *testing.T) {
		again := db.expect()
		integrations(again, testTenant)
		_, err := env.create(odaa.PrincipalAuthType, principalInputs(otherTestTenant), false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "already enabled for tenant "+testTenant)
	})
	db.verify()
}

func TestPrincipalAuthImportAdoptsWhatTheDatabaseReports(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	read := db.expect()
	integrations(read, testTenant)
	conn := connectionInputs(map[string]property.Value{})

	got, err := env.read(odaa.PrincipalAuthType, "AZURE/"+testTenant, conn, conn)

	require.NoError(t, err)
	assert.Equal(t, "AZURE/"+testTenant, got.ID)
	assert.Equal(t, testTenant, got.Properties.Get("tenantId").AsString())
	assert.Equal(t, testTenant, got.Inputs.Get("tenantId").AsString())
	assert.False(t, got.Properties.Get("enabledByResource").AsBool(), "an import claims the integration")
	db.verify()
}

func TestPrincipalAuthNewDatabaseIsReconciled(t *testing.T) {
	moved := func(in property.Map) property.Map {
		return in.Set("connectString", property.New(strings.Replace(testDescriptor, "adbhsmdemo", "adbhsmnew", 1)))
	}
	for _, tc := range []struct {
		name   string
		answer func(m sqlmock.Sqlmock)
		owned  bool
	}{
		{"without-principal-auth-enables-it", func(m sqlmock.Sqlmock) {
			integrations(m, "")
			expectEnable(m, testTenant)
			integrations(m, testTenant)
		}, true},
		{"with-the-same-application-keeps-it", func(m sqlmock.Sqlmock) { integrations(m, testTenant) }, true},
		{"with-another-application-adopts-it", func(m sqlmock.Sqlmock) {
			m.ExpectQuery(selectIntegrations).WithoutArgs().WillReturnRows(
				sqlmock.NewRows([]string{"PARAM_NAME", "PARAM_VALUE"}).AddRow("azure_tenantid", testTenant).
					AddRow("azure_app_name", "ADBS_APP_OTHER").AddRow("azure_consent_url",
					strings.Replace(testConsentURL, testAppClientID, "00000000-1111-2222-3333-444444444444", 1)))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, db := newSQLEnv(t, nil)
			create := db.expect()
			integrations(create, "")
			expectEnable(create, testTenant)
			integrations(create, testTenant)
			in := principalInputs(testTenant)
			resp := env.mustCreate(odaa.PrincipalAuthType, in)
			news := moved(in)

			diff, err := env.diff(odaa.PrincipalAuthType, resp.ID, resp.Properties, in, news)
			require.NoError(t, err)
			assert.Equal(t, p.Update, diff.DetailedDiff["connectString"].Kind)
			tc.answer(db.expect())
			up, err := env.update(odaa.PrincipalAuthType, resp.ID, resp.Properties, in, news, false)
			require.NoError(t, err)
			assert.Equal(t, tc.owned, up.Properties.Get("enabledByResource").AsBool())
			assert.Equal(t, testTenant, up.Properties.Get("reportedTenantId").AsString())
			db.verify()
		})
	}
}

func TestPrincipalAuthRefusesWhenEnabledForAnotherTenant(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	integrations(create, otherTestTenant)

	_, err := env.create(odaa.PrincipalAuthType, principalInputs(testTenant), false)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "already enabled for tenant "+otherTestTenant)
	db.verify()
}

func TestPrincipalAuthReadShowsDrift(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	integrations(create, "")
	expectEnable(create, testTenant)
	integrations(create, testTenant)
	in := principalInputs(testTenant)
	resp := env.mustCreate(odaa.PrincipalAuthType, in)

	t.Run("another-tenant-is-not-claimed", func(t *testing.T) {
		read := db.expect()
		integrations(read, otherTestTenant)
		got, err := env.read(odaa.PrincipalAuthType, resp.ID, resp.Properties, in)
		require.NoError(t, err)
		assert.Equal(t, testTenant, got.Properties.Get("tenantId").AsString())
		assert.Equal(t, otherTestTenant, got.Properties.Get("reportedTenantId").AsString())
		assert.False(t, got.Properties.Get("enabledByResource").AsBool())

		diff, err := env.diff(odaa.PrincipalAuthType, resp.ID, got.Properties, in, in)
		require.NoError(t, err)
		assert.NotContains(t, diff.DetailedDiff, "tenantId")
		assert.Equal(t, p.Update, diff.DetailedDiff["reportedTenantId"].Kind)
		assert.False(t, diff.DeleteBeforeReplace)

		up := db.expect()
		integrations(up, otherTestTenant)
		_, err = env.update(odaa.PrincipalAuthType, resp.ID, got.Properties, in, in, false)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "already enabled for tenant "+otherTestTenant)

		opened := db.opened()
		require.NoError(t, env.delete(odaa.PrincipalAuthType, resp.ID, got.Properties))
		assert.Equal(t, opened, db.opened(), "delete connected to disable another tenant's integration")
		assert.True(t, env.logs.Contains("not enabled by this resource"))
	})

	t.Run("disabled-reads-as-gone", func(t *testing.T) {
		read := db.expect()
		integrations(read, "")
		got, err := env.read(odaa.PrincipalAuthType, resp.ID, resp.Properties, in)
		require.NoError(t, err)
		assert.Empty(t, got.ID)
	})

	t.Run("delete-of-disabled-warns", func(t *testing.T) {
		del := db.expect()
		integrations(del, "")
		require.NoError(t, env.delete(odaa.PrincipalAuthType, resp.ID, resp.Properties))
		assert.True(t, env.logs.Contains("already disabled"))
	})

	t.Run("delete-leaves-another-tenant-alone", func(t *testing.T) {
		del := db.expect()
		integrations(del, otherTestTenant)
		require.NoError(t, env.delete(odaa.PrincipalAuthType, resp.ID, resp.Properties))
		assert.True(t, env.logs.Contains("left alone"))
	})
	db.verify()
}

func TestPrincipalAuthCheck(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       property.Map
		property string
	}{
		{"other-provider", principalInputs(testTenant).Set("provider", property.New("OCI")), "provider"},
		{"tenant-domain", principalInputs("contoso.onmicrosoft.com"), "tenantId"},
		{"no-connect-string", principalInputs(testTenant).Set("connectString", property.New("")), "connectString"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, db := newSQLEnv(t, nil)
			resp, err := env.check(odaa.PrincipalAuthType, property.Map{}, tc.in)
			require.NoError(t, err)
			require.NotEmpty(t, resp.Failures)
			assert.Equal(t, tc.property, resp.Failures[0].Property)
			assert.Equal(t, 0, db.opened())
		})
	}
}

func TestPrincipalAuthPreviewOpensNoConnection(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	_, err := env.create(odaa.PrincipalAuthType, principalInputs(testTenant), true)
	require.NoError(t, err)
	assert.Equal(t, 0, db.opened())
}

func TestPrincipalAuthCloudAdminRefusalIsExplained(t *testing.T) {
	env, db := newSQLEnv(t, nil)
	create := db.expect()
	integrations(create, "")
	create.ExpectExec("BEGIN DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH(provider => 'AZURE', " +
		"params => JSON_OBJECT('azure_tenantid' value :tenant)); END;").WithArgs(sql.Named("tenant", testTenant)).
		WillReturnError(errors.New("ORA-20000: Principal authentication is not supported for this database"))

	_, err := env.create(odaa.PrincipalAuthType, principalInputs(testTenant), false)

	require.Error(t, err)
	assert.Contains(t, err.Error(), "enabling Azure principal auth for tenant "+testTenant)
	assert.Contains(t, err.Error(), "DBMS_CLOUD_ADMIN refused the call")
	assert.Contains(t, err.Error(), "ORA-20000")
	db.verify()
}
