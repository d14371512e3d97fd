// This file holds principal authentication: DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH for Azure, which makes an
// Oracle-owned multi-tenant Azure application for the database, and CLOUD_INTEGRATIONS, where the database
// reports that application. Each ENABLE makes a new application, so it is never called when the view already
// shows Azure principal auth for the tenant.
package oracle

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// AzureProvider is the only principal-auth provider this package enables.
const AzureProvider = "AZURE"

// tenantID is the GUID form of an Entra tenant ID.
var tenantID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// CheckTenantID accepts an Entra tenant ID, a GUID.
func CheckTenantID(id string) error {
	if !tenantID.MatchString(id) {
		return fmt.Errorf("tenant ID must be a GUID such as 00000000-0000-0000-0000-000000000000, not %q", id)
	}
	return nil
}

// AzureIntegration is what CLOUD_INTEGRATIONS reports for Azure principal auth. TenantID is empty when it is
// not enabled.
type AzureIntegration struct {
	TenantID   string
	AppName    string
	ConsentURL string
	// ClientID is the application's client ID, the client_id parameter of ConsentURL.
	ClientID string
}

// Enabled reports whether the database has Azure principal auth.
func (a AzureIntegration) Enabled() bool { return a.TenantID != "" }

// SelectAzureIntegration reads the Azure rows of CLOUD_INTEGRATIONS.
func SelectAzureIntegration() Statement {
	return Statement{
		Label: "reading CLOUD_INTEGRATIONS",
		SQL: "SELECT PARAM_NAME, PARAM_VALUE FROM CLOUD_INTEGRATIONS " +
			"WHERE PARAM_NAME IN ('azure_tenantid', 'azure_app_name', 'azure_consent_url')",
	}
}

// EnablePrincipalAuth enables Azure principal auth for tenant.
func EnablePrincipalAuth(tenant string) Statement {
	return Statement{
		Label: "enabling Azure principal auth for tenant " + tenant,
		SQL: "BEGIN DBMS_CLOUD_ADMIN.ENABLE_PRINCIPAL_AUTH(provider => 'AZURE', " +
			"params => JSON_OBJECT('azure_tenantid' value :tenant)); END;",
		Binds: []sql.NamedArg{sql.Named("tenant", tenant)},
	}
}

// DisablePrincipalAuth disables Azure principal auth.
func DisablePrincipalAuth() Statement {
	return Statement{
		Label: "disabling Azure principal auth",
		SQL:   "BEGIN DBMS_CLOUD_ADMIN.DISABLE_PRINCIPAL_AUTH(provider => 'AZURE'); END;",
	}
}

// ReadAzureIntegration returns what CLOUD_INTEGRATIONS reports for Azure.
func ReadAzureIntegration(ctx context.Context, ex Executor) (AzureIntegration, error) {
	var a AzureIntegration
	err := ex.Query(ctx, SelectAzureIntegration(), func(scan func(...any) error) error {
		var name, value sql.NullString
		if err := scan(&name, &value); err != nil {
			return err
		}
		v := strings.TrimSpace(value.String)
		switch strings.ToLower(name.String) {
		case "azure_tenantid":
			a.TenantID = v
		case "azure_app_name":
			a.AppName = v
		case "azure_consent_url":
			a.ConsentURL = v
		}
		return nil
	})
	if err != nil {
		return a, err
	}
	if a.ConsentURL != "" {
		if a.ClientID, err = ClientIDFromConsentURL(a.ConsentURL); err != nil {
			return a, err
		}
	}
	return a, nil
}

// ClientIDFromConsentURL returns the client_id parameter of an Entra consent URL.
func ClientIDFromConsentURL(consent string) (string, error) {
	u, err := url.Parse(consent)
	if err != nil {
		return "", fmt.Errorf("reading the client ID from azure_consent_url: %w", err)
	}
	id := u.Query().Get("client_id")
	if !tenantID.MatchString(id) {
		return "", fmt.Errorf("reading the client ID from azure_consent_url %q: no client_id GUID in it", consent)
	}
	return id, nil
}

// EnsureAzurePrincipalAuth enables Azure principal auth for tenant unless CLOUD_INTEGRATIONS already shows it
// for that tenant, in which case the application is adopted. It refuses when it is enabled for another tenant:
// disabling it would cut off whatever uses that application. adopted says no ENABLE was issued.
func EnsureAzurePrincipalAuth(ctx context.Context, ex Executor, tenant string) (AzureIntegration, bool, error) {
	if err := CheckTenantID(tenant); err != nil {
		return AzureIntegration{}, false, err
	}
	found, err := ReadAzureIntegration(ctx, ex)
	if err != nil {
		return found, false, err
	}
	switch {
	case found.Enabled() && strings.EqualFold(found.TenantID, tenant):
		return found, true, nil
	case found.Enabled():
		return found, false, fmt.Errorf("principal auth for Azure is already enabled for tenant %s, not %s: a "+
			"database has one; disable it first (DBMS_CLOUD_ADMIN.DISABLE_PRINCIPAL_AUTH(provider => 'AZURE')) "+
			"if nothing uses application %s, or set the tenant to %s", found.TenantID, tenant, found.AppName,
			found.TenantID)
	}
	if err := ex.Exec(ctx, EnablePrincipalAuth(tenant)); err != nil {
		return found, false, err
	}
	after, err := ReadAzureIntegration(ctx, ex)
	if err != nil {
		return after, false, err
	}
	if !strings.EqualFold(after.TenantID, tenant) || after.ClientID == "" {
		return after, false, fmt.Errorf("after enabling Azure principal auth for tenant %s, CLOUD_INTEGRATIONS "+
			"shows tenant %q and consent URL %q: expected the tenant and a consent URL with a client_id", tenant,
			after.TenantID, after.ConsentURL)
	}
	return after, false, nil
}
