// This file tests DatabaseProperty through the in-process provider server against sqlmock: the allow-list, the
// restart only when the value really changed and only when asked, drift, restoring on delete, partial state
// after a failure that follows the ALTER, and reconciling another database behind a new connect string.
package provider

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/oracle/oci-go-sdk/v65/common"
	p "github.com/pulumi/pulumi-go-provider"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakeoci"
	"github.com/odaa-platform/adbs-hsm/dynamic/odaa"
)

const selectProperty = "SELECT PROPERTY_VALUE FROM DATABASE_PROPERTIES WHERE PROPERTY_NAME = :name"

func routingInputs(value string, restart bool) property.Map {
	return connectionInputs(map[string]property.Value{
		"name":            property.New("ROUTE_OUTBOUND_CONNECTIONS"),
		"value":           property.New(value),
		"restartOnChange": property.New(restart),
		"databaseOcid":    property.New(testDatabaseOcid),
	})
}

// routing answers one read of ROUTE_OUTBOUND_CONNECTIONS; "" is a database that has no row for it.
func routing(mock sqlmock.Sqlmock, value string) {
	rows := sqlmock.NewRows([]string{"PROPERTY_VALUE"})
	if value != "" {
		rows.AddRow(value)
	}
	mock.ExpectQuery(selectProperty).WithArgs(sql.Named("name", "ROUTE_OUTBOUND_CONNECTIONS")).WillReturnRows(rows)
}

func setRouting(mock sqlmock.Sqlmock, value string) {
	mock.ExpectExec("ALTER DATABASE PROPERTY SET ROUTE_OUTBOUND_CONNECTIONS = '" + value + "'").WithoutArgs().
		WillReturnResult(sqlmock.NewResult(0, 0))
}

func TestDatabasePropertyRestartsOnlyWhenTheValueReallyChangedAndWhenAsked(t *testing.T) {
	for _, tc := range []struct {
		name     string
		found    string
		restart  bool
		restarts int
	}{
		{"changed-and-asked", "", true, 1},
		{"changed-not-asked", "", false, 0},
		{"unchanged-and-asked", "PRIVATE_ENDPOINT", true, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			restarter := &recordingRestarter{}
			env, db := newSQLEnv(t, restarter)
			mock := db.expect()
			routing(mock, tc.found)
			if tc.found != "PRIVATE_ENDPOINT" {
				setRouting(mock, "PRIVATE_ENDPOINT")
				routing(mock, "PRIVATE_ENDPOINT")
			}

			resp := env.mustCreate(odaa.DatabasePropertyType, routingInputs("PRIVATE_ENDPOINT", tc.restart))

			assert.Equal(t, tc.found, resp.Properties.Get("previousValue").AsString())
			assert.Len(t, restarter.Restarts(), tc.restarts)
			if tc.restarts > 0 {
				assert.Equal(t, []string{testDatabaseOcid}, restarter.Restarts())
			}
			db.verify()
		})
	}
}

// The restart goes through the plugin's own OCI client: signed requests to a fake OCI endpoint, the database
// passing through RESTARTING and back to AVAILABLE before the create returns.
func TestDatabasePropertyRestartsThroughOCI(t *testing.T) {
	id, err := fakeoci.NewIdentity()
	require.NoError(t, err)
	fake := fakeoci.New(t, fakeoci.WithIdentity(id), fakeoci.WithTransitionPolls(2))
	db := &sqlSessions{t: t}
	env := newTestEnvWith(t, nil, Options{openDB: db.open, OCI: OCIOptions{
		ConfigProvider: id.ConfigProvider("us-ashburn-1"), Endpoint: fake.Endpoint(), HTTPClient: fake.Client()}})
	mock := db.expect()
	routing(mock, "")
	setRouting(mock, "PRIVATE_ENDPOINT")
	routing(mock, "PRIVATE_ENDPOINT")
	in := routingInputs("PRIVATE_ENDPOINT", true).Set("databaseOcid", property.New(fakeoci.DefaultDatabaseID))

	env.mustCreate(odaa.DatabasePropertyType, in)

	assert.Equal(t, 1, fake.Restarts(fakeoci.DefaultDatabaseID))
	dbState, ok := fake.Database(fakeoci.DefaultDatabaseID)
	require.True(t, ok)
	assert.Equal(t, "AVAILABLE", dbState.State)
	assert.Contains(t, fake.StatesServed(fakeoci.DefaultDatabaseID), "RESTARTING")
	db.verify()
}

func TestDatabasePropertyRestartWithoutOCICredentialsFailsClearly(t *testing.T) {
	db := &sqlSessions{t: t}
	env := newTestEnvWith(t, nil, Options{openDB: db.open, OCI: OCIOptions{
		ConfigProvider: common.NewRawConfigurationProvider("", "", "", "", "", nil)}})
	mock := db.expect()
	routing(mock, "")
	setRouting(mock, "ENFORCE_PRIVATE_ENDPOINT")
	routing(mock, "ENFORCE_PRIVATE_ENDPOINT")

	resp, err := env.create(odaa.DatabasePropertyType, routingInputs("ENFORCE_PRIVATE_ENDPOINT", true), false)

	require.Error(t, err)
	assert.Contains(t, partialReasons(t, resp.PartialState),
		"restarting the database after the property change: finding OCI credentials")
	db.verify()
}

func TestDatabasePropertyRestartFailureIsNamed(t *testing.T) {
	restarter := &recordingRestarter{err: errors.New("database did not become AVAILABLE")}
	env, db := newSQLEnv(t, restarter)
	mock := db.expect()
	routing(mock, "")
	setRouting(mock, "PRIVATE_ENDPOINT")
	routing(mock, "PRIVATE_ENDPOINT")

	resp, err := env.create(odaa.DatabasePropertyType, routingInputs("PRIVATE_ENDPOINT", true), false)

	require.Error(t, err)
	assert.Contains(t, partialReasons(t, resp.PartialState), "restarting database "+testDatabaseOcid+
		" after changing ROUTE_OUTBOUND_CONNECTIONS")
	db.verify()
}

// partialReasons returns the reasons of a partial create or update, failing the test when there is none.
func partialReasons(t *testing.T, partial *p.InitializationFailed) string {
	t.Helper()
	require.NotNil(t, partial, "no partial state: the engine would record nothing of what was changed")
	return strings.Join(partial.Reasons, "\n")
}

func TestDatabasePropertyFailedRestartLeavesPartialStateAndTheNextUpdateRestarts(t *testing.T) {
	restarter := &recordingRestarter{err: errors.New("database did not become AVAILABLE")}
	env, db := newSQLEnv(t, restarter)
	create := db.expect()
	routing(create, "")
	setRouting(create, "PRIVATE_ENDPOINT")
	routing(create, "PRIVATE_ENDPOINT")
	in := routingInputs("PRIVATE_ENDPOINT", true)

	resp, err := env.create(odaa.DatabasePropertyType, in, false)

	require.Error(t, err)
	partialReasons(t, resp.PartialState)
	assert.Equal(t, "", resp.Properties.Get("previousValue").AsString())
	assert.True(t, resp.Properties.Get("restartPending").AsBool())

	// The retry: the value is in place, so no ALTER, but the restart is still owed.
	restarter.mu.Lock()
	restarter.err = nil
	restarter.mu.Unlock()
	diff, err := env.diff(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, in)
	require.NoError(t, err)
	assert.True(t, diff.HasChanges, "a pending restart plans nothing")
	retry := db.expect()
	routing(retry, "PRIVATE_ENDPOINT")
	up, err := env.update(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, in, false)
	require.NoError(t, err)
	assert.Len(t, restarter.Restarts(), 2)
	assert.False(t, up.Properties.Get("restartPending").AsBool())
	assert.Equal(t, "", up.Properties.Get("previousValue").AsString(), "the retry lost the value to restore")

	del := db.expect()
	routing(del, "PRIVATE_ENDPOINT")
	setRouting(del, "")
	require.NoError(t, env.delete(odaa.DatabasePropertyType, resp.ID, up.Properties))
	db.verify()
}

func TestDatabasePropertyFailedReadBackKeepsTheTrueValueBefore(t *testing.T) {
	env, db := newSQLEnv(t, &recordingRestarter{})
	create := db.expect()
	routing(create, "")
	setRouting(create, "PRIVATE_ENDPOINT")
	create.ExpectQuery(selectProperty).WithArgs(sql.Named("name", "ROUTE_OUTBOUND_CONNECTIONS")).
		WillReturnError(errors.New("ORA-03113: end-of-file on communication channel"))
	in := routingInputs("PRIVATE_ENDPOINT", false)

	resp, err := env.create(odaa.DatabasePropertyType, in, false)

	require.Error(t, err)
	assert.Contains(t, partialReasons(t, resp.PartialState), "ORA-03113")
	assert.Equal(t, "", resp.Properties.Get("previousValue").AsString())
	diff, err := env.diff(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, in)
	require.NoError(t, err)
	assert.Equal(t, p.Update, diff.DetailedDiff["value"].Kind, "the unconfirmed value is not read again")

	retry := db.expect()
	routing(retry, "PRIVATE_ENDPOINT")
	up, err := env.update(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, in, false)
	require.NoError(t, err)
	assert.Equal(t, "", up.Properties.Get("previousValue").AsString())
	assert.Equal(t, "PRIVATE_ENDPOINT", up.Properties.Get("value").AsString())
	db.verify()
}

func TestDatabasePropertyFailedRestartOnUpdateIsRetried(t *testing.T) {
	restarter := &recordingRestarter{}
	env, db := newSQLEnv(t, restarter)
	create := db.expect()
	routing(create, "")
	setRouting(create, "PRIVATE_ENDPOINT")
	routing(create, "PRIVATE_ENDPOINT")
	in := routingInputs("PRIVATE_ENDPOINT", true)
	resp := env.mustCreate(odaa.DatabasePropertyType, in)

	restarter.mu.Lock()
	restarter.err = errors.New("database did not become AVAILABLE")
	restarter.mu.Unlock()
	news := routingInputs("ENFORCE_PRIVATE_ENDPOINT", true)
	upd := db.expect()
	routing(upd, "PRIVATE_ENDPOINT")
	setRouting(upd, "ENFORCE_PRIVATE_ENDPOINT")
	routing(upd, "ENFORCE_PRIVATE_ENDPOINT")
	up, err := env.update(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, news, false)
	require.Error(t, err)
	partialReasons(t, up.PartialState)
	assert.True(t, up.Properties.Get("restartPending").AsBool())
	assert.Equal(t, "", up.Properties.Get("previousValue").AsString())

	restarter.mu.Lock()
	restarter.err = nil
	restarter.mu.Unlock()
	retry := db.expect()
	routing(retry, "ENFORCE_PRIVATE_ENDPOINT")
	again, err := env.update(odaa.DatabasePropertyType, resp.ID, up.Properties, news, news, false)
	require.NoError(t, err)
	assert.False(t, again.Properties.Get("restartPending").AsBool())
	assert.Len(t, restarter.Restarts(), 3)
	db.verify()
}

func TestDatabasePropertyNewDatabaseIsReconciled(t *testing.T) {
	restarter := &recordingRestarter{}
	env, db := newSQLEnv(t, restarter)
	create := db.expect()
	routing(create, "")
	setRouting(create, "PRIVATE_ENDPOINT")
	routing(create, "PRIVATE_ENDPOINT")
	in := routingInputs("PRIVATE_ENDPOINT", true)
	resp := env.mustCreate(odaa.DatabasePropertyType, in)

	t.Run("password-only-runs-nothing", func(t *testing.T) {
		news := in.Set("password", property.New("Rotated-Pass-2026").WithSecret(true))
		opened := db.opened()
		_, err := env.update(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, news, false)
		require.NoError(t, err)
		assert.Equal(t, opened, db.opened(), "a password change connected")
	})

	t.Run("new-connect-string-sets-and-restarts", func(t *testing.T) {
		news := in.Set("connectString", property.New(strings.Replace(testDescriptor, "adbhsmdemo", "adbhsmnew", 1)))
		diff, err := env.diff(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, news)
		require.NoError(t, err)
		assert.Equal(t, p.Update, diff.DetailedDiff["connectString"].Kind)
		// The new database enforced private endpoints: that is what delete restores there.
		fresh := db.expect()
		routing(fresh, "ENFORCE_PRIVATE_ENDPOINT")
		setRouting(fresh, "PRIVATE_ENDPOINT")
		routing(fresh, "PRIVATE_ENDPOINT")
		up, err := env.update(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, news, false)
		require.NoError(t, err)
		assert.Equal(t, "ENFORCE_PRIVATE_ENDPOINT", up.Properties.Get("previousValue").AsString())
		assert.Len(t, restarter.Restarts(), 2)
	})

	t.Run("new-connect-string-to-a-database-that-has-the-value-sets-nothing", func(t *testing.T) {
		news := in.Set("connectString", property.New(strings.Replace(testDescriptor, "_high", "_low", 1)))
		same := db.expect()
		routing(same, "PRIVATE_ENDPOINT")
		up, err := env.update(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, news, false)
		require.NoError(t, err)
		assert.Equal(t, "", up.Properties.Get("previousValue").AsString())
		assert.Len(t, restarter.Restarts(), 2)
	})
	db.verify()
}

func TestDatabasePropertyDriftUpdateAndDelete(t *testing.T) {
	restarter := &recordingRestarter{}
	env, db := newSQLEnv(t, restarter)
	create := db.expect()
	routing(create, "")
	setRouting(create, "PRIVATE_ENDPOINT")
	routing(create, "PRIVATE_ENDPOINT")
	in := routingInputs("PRIVATE_ENDPOINT", true)
	resp := env.mustCreate(odaa.DatabasePropertyType, in)
	require.Len(t, restarter.Restarts(), 1)

	t.Run("second-run-reads-only", func(t *testing.T) {
		diff, err := env.diff(odaa.DatabasePropertyType, resp.ID, resp.Properties, in, in)
		require.NoError(t, err)
		assert.False(t, diff.HasChanges)
		refresh := db.expect()
		routing(refresh, "PRIVATE_ENDPOINT")
		read, err := env.read(odaa.DatabasePropertyType, resp.ID, resp.Properties, in)
		require.NoError(t, err)
		assert.Equal(t, "PRIVATE_ENDPOINT", read.Properties.Get("value").AsString())
	})

	// Someone reset the property by hand: the read shows it, and the update sets it again and restarts.
	drift := db.expect()
	routing(drift, "")
	read, err := env.read(odaa.DatabasePropertyType, resp.ID, resp.Properties, in)
	require.NoError(t, err)
	assert.Equal(t, "", read.Properties.Get("value").AsString())
	diff, err := env.diff(odaa.DatabasePropertyType, resp.ID, read.Properties, in, in)
	require.NoError(t, err)
	assert.Equal(t, p.Update, diff.DetailedDiff["value"].Kind)

	repair := db.expect()
	routing(repair, "")
	setRouting(repair, "PRIVATE_ENDPOINT")
	routing(repair, "PRIVATE_ENDPOINT")
	up, err := env.update(odaa.DatabasePropertyType, resp.ID, read.Properties, in, in, false)
	require.NoError(t, err)
	assert.Equal(t, "", up.Properties.Get("previousValue").AsString())
	assert.Len(t, restarter.Restarts(), 2)

	t.Run("new-value-updates-in-place", func(t *testing.T) {
		news := routingInputs("ENFORCE_PRIVATE_ENDPOINT", true)
		diff, err := env.diff(odaa.DatabasePropertyType, resp.ID, up.Properties, in, news)
		require.NoError(t, err)
		assert.Equal(t, p.Update, diff.DetailedDiff["value"].Kind)
		_, replaced := diff.DetailedDiff["name"]
		assert.False(t, replaced)
	})

	t.Run("delete-restores-the-previous-value", func(t *testing.T) {
		del := db.expect()
		routing(del, "PRIVATE_ENDPOINT")
		setRouting(del, "")
		require.NoError(t, env.delete(odaa.DatabasePropertyType, resp.ID, up.Properties))
		assert.Len(t, restarter.Restarts(), 2, "delete restarted the database")
	})

	t.Run("delete-when-already-restored-warns", func(t *testing.T) {
		del := db.expect()
		routing(del, "")
		require.NoError(t, env.delete(odaa.DatabasePropertyType, resp.ID, up.Properties))
		assert.True(t, env.logs.Contains("nothing to restore"))
	})
	db.verify()
}

func TestDatabasePropertyCheckUsesTheAllowList(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       property.Map
		property string
	}{
		{"unknown-value", routingInputs("PUBLIC", false), "value"},
		{"injection", routingInputs("PRIVATE_ENDPOINT'; DROP USER ADMIN CASCADE; --", false), "value"},
		{"other-property", routingInputs("PRIVATE_ENDPOINT", false).Set("name", property.New("MAX_STRING_SIZE")),
			"name"},
		{"restart-without-ocid", routingInputs("PRIVATE_ENDPOINT", true).Set("databaseOcid", property.New("")),
			"databaseOcid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, db := newSQLEnv(t, nil)
			resp, err := env.check(odaa.DatabasePropertyType, property.Map{}, tc.in)
			require.NoError(t, err)
			require.NotEmpty(t, resp.Failures)
			assert.Equal(t, tc.property, resp.Failures[0].Property)
			assert.Equal(t, 0, db.opened())
		})
	}
	t.Run("reset-is-allowed", func(t *testing.T) {
		env, _ := newSQLEnv(t, nil)
		resp, err := env.check(odaa.DatabasePropertyType, property.Map{}, routingInputs("", false))
		require.NoError(t, err)
		assert.Empty(t, resp.Failures)
	})
}

func TestDatabasePropertyPreviewOpensNoConnection(t *testing.T) {
	restarter := &recordingRestarter{}
	env, db := newSQLEnv(t, restarter)

	_, err := env.create(odaa.DatabasePropertyType, routingInputs("PRIVATE_ENDPOINT", true), true)

	require.NoError(t, err)
	assert.Equal(t, 0, db.opened())
	assert.Empty(t, restarter.Restarts())
}
