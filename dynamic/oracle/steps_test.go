// This file tests the other SQL steps: the outbound-routing property, Azure principal auth and the keystore
// check, each against the exact statements.
package oracle

import (
	"context"
	"database/sql"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	selectRoute = "SELECT PROPERTY_VALUE FROM DATABASE_PROPERTIES WHERE PROPERTY_NAME = :name"
	tenant      = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
	otherTenant = "11111111-2222-3333-4444-555555555555"
	appClientID = "d46a3a1a-9a0d-4f1c-8d4e-b4e2b7a3c0f0"
	consentURL  = "https://login.microsoftonline.com/" + tenant + "/oauth2/v2.0/authorize?client_id=" +
		appClientID + "&response_type=code&scope=User.read"
	selectAzure = "SELECT PARAM_NAME, PARAM_VALUE FROM CLOUD_INTEGRATIONS " +
		"WHERE PARAM_NAME IN ('azure_tenantid', 'azure_app_name', 'azure_consent_url')"
	enableAzureSQL = "BEGIN DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH(provider => 'AZURE', " +
		"params => JSON_OBJECT('azure_tenantid' value :tenant)); END;"
)

func integrationRows(tenantID string) *sqlmock.Rows {
	rows := sqlmock.NewRows([]string{"PARAM_NAME", "PARAM_VALUE"})
	if tenantID != "" {
		rows.AddRow("azure_tenantid", tenantID).AddRow("azure_app_name", "ADBS_APP_OCID1.AUTONOMOUSDATABASE.X").
			AddRow("azure_consent_url", consentURL)
	}
	return rows
}

func TestSetPropertyAllowsOnlyListedValues(t *testing.T) {
	for _, tc := range []struct {
		name, property, value, want string
	}{
		{"private-endpoint", RouteOutboundConnections, "PRIVATE_ENDPOINT",
			"ALTER DATABASE PROPERTY SET ROUTE_OUTBOUND_CONNECTIONS = 'PRIVATE_ENDPOINT'"},
		{"enforce", RouteOutboundConnections, "ENFORCE_PRIVATE_ENDPOINT",
			"ALTER DATABASE PROPERTY SET ROUTE_OUTBOUND_CONNECTIONS = 'ENFORCE_PRIVATE_ENDPOINT'"},
		{"reset", RouteOutboundConnections, "", "ALTER DATABASE PROPERTY SET ROUTE_OUTBOUND_CONNECTIONS = ''"},
		{"injection", RouteOutboundConnections, "PRIVATE_ENDPOINT'; DROP USER ADMIN; --", ""},
		{"lower-case", RouteOutboundConnections, "private_endpoint", ""},
		{"other-property", "DEFAULT_TEMP_TABLESPACE", "TEMP", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := SetProperty(tc.property, tc.value)
			if tc.want == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, s.SQL)
			assert.Empty(t, s.Binds)
		})
	}
}

func TestEnsurePropertySetsOnlyWhenItDiffers(t *testing.T) {
	name := sql.Named("name", RouteOutboundConnections)
	t.Run("changes-and-reads-back", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectQuery(selectRoute).WithArgs(name).WillReturnRows(sqlmock.NewRows([]string{"PROPERTY_VALUE"}))
		mock.ExpectExec("ALTER DATABASE PROPERTY SET ROUTE_OUTBOUND_CONNECTIONS = 'PRIVATE_ENDPOINT'").
			WithoutArgs().WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectQuery(selectRoute).WithArgs(name).
			WillReturnRows(sqlmock.NewRows([]string{"PROPERTY_VALUE"}).AddRow("PRIVATE_ENDPOINT"))

		before, changed, err := EnsureProperty(context.Background(), NewDB(db, "test", nil),
			RouteOutboundConnections, "PRIVATE_ENDPOINT")

		require.NoError(t, err)
		assert.Equal(t, "", before)
		assert.True(t, changed)
		assert.NoError(t, mock.ExpectationsWereMet())
	})
	t.Run("already-set-reads-only", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectQuery(selectRoute).WithArgs(name).
			WillReturnRows(sqlmock.NewRows([]string{"PROPERTY_VALUE"}).AddRow("PRIVATE_ENDPOINT"))

		_, changed, err := EnsureProperty(context.Background(), NewDB(db, "test", nil), RouteOutboundConnections,
			"PRIVATE_ENDPOINT")

		require.NoError(t, err)
		assert.False(t, changed)
		assert.NoError(t, mock.ExpectationsWereMet())
	})
	t.Run("not-taken", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectQuery(selectRoute).WithArgs(name).WillReturnRows(sqlmock.NewRows([]string{"PROPERTY_VALUE"}))
		mock.ExpectExec("ALTER DATABASE PROPERTY SET ROUTE_OUTBOUND_CONNECTIONS = 'PRIVATE_ENDPOINT'").
			WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectQuery(selectRoute).WithArgs(name).WillReturnRows(sqlmock.NewRows([]string{"PROPERTY_VALUE"}))

		_, _, err := EnsureProperty(context.Background(), NewDB(db, "test", nil), RouteOutboundConnections,
			"PRIVATE_ENDPOINT")

		require.Error(t, err)
		assert.Contains(t, err.Error(), "did not take the value")
	})
}

func TestEnsureAzurePrincipalAuth(t *testing.T) {
	t.Run("enables-once-and-reads-the-app", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectQuery(selectAzure).WithoutArgs().WillReturnRows(integrationRows(""))
		mock.ExpectExec(enableAzureSQL).WithArgs(sql.Named("tenant", tenant)).WillReturnResult(sqlmock.NewResult(0, 0))
		mock.ExpectQuery(selectAzure).WithoutArgs().WillReturnRows(integrationRows(tenant))

		got, adopted, err := EnsureAzurePrincipalAuth(context.Background(), NewDB(db, "test", nil), tenant)

		require.NoError(t, err)
		assert.False(t, adopted)
		assert.Equal(t, AzureIntegration{TenantID: tenant, AppName: "ADBS_APP_OCID1.AUTONOMOUSDATABASE.X",
			ConsentURL: consentURL, ClientID: appClientID}, got)
		assert.NoError(t, mock.ExpectationsWereMet())
	})
	t.Run("adopts-for-the-same-tenant", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectQuery(selectAzure).WillReturnRows(integrationRows(tenant))

		got, adopted, err := EnsureAzurePrincipalAuth(context.Background(), NewDB(db, "test", nil), tenant)

		require.NoError(t, err)
		assert.True(t, adopted)
		assert.Equal(t, appClientID, got.ClientID)
		assert.NoError(t, mock.ExpectationsWereMet(), "ENABLE was issued again")
	})
	t.Run("refuses-another-tenant", func(t *testing.T) {
		db, mock := newMock(t)
		mock.ExpectQuery(selectAzure).WillReturnRows(integrationRows(otherTenant))

		_, _, err := EnsureAzurePrincipalAuth(context.Background(), NewDB(db, "test", nil), tenant)

		require.Error(t, err)
		assert.Contains(t, err.Error(), "already enabled for tenant "+otherTenant)
		assert.NoError(t, mock.ExpectationsWereMet())
	})
	t.Run("tenant-must-be-a-guid", func(t *testing.T) {
		_, _, err := EnsureAzurePrincipalAuth(context.Background(), nil, "contoso.onmicrosoft.com")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "GUID")
	})
}

func TestClientIDFromConsentURL(t *testing.T) {
	id, err := ClientIDFromConsentURL(consentURL)
	require.NoError(t, err)
	assert.Equal(t, appClientID, id)
	_, err = ClientIDFromConsentURL("https://login.microsoftonline.com/common/oauth2/v2.0/authorize?scope=x")
	assert.ErrorContains(t, err, "no client_id")
}

func TestPickKeystore(t *testing.T) {
	for _, tc := range []struct {
		name string
		rows []Keystore
		want string // empty: accepted
	}{
		{"key-vault-open", []Keystore{{"AZURE_KEY_VAULT", "CLOUD", "OPEN"}}, ""},
		{"managed-hsm-open", []Keystore{{"AZURE_MANAGEDHSM", "CLOUD", "OPEN"}}, ""},
		{"oracle-managed", []Keystore{{"FILE", "AUTOLOGIN", "OPEN"}},
			"WRL_TYPE=FILE WALLET_TYPE=AUTOLOGIN STATUS=OPEN"},
		{"closed", []Keystore{{"AZURE_KEY_VAULT", "CLOUD", "CLOSED"}}, "STATUS=CLOSED"},
		{"no-rows", nil, "no rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := PickKeystore(tc.rows)
			if tc.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
