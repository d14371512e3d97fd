package tests

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/components"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// This file tests the Audit component and its place in the stack: what config fixes in each resource, how the
// pieces are wired to each other and to the HSM, and that the audit trail never holds up the HSM's data plane.

const existingActionGroup = "/subscriptions/" + mockcloud.SubscriptionID +
	"/resourceGroups/rg-ops/providers/microsoft.insights/actionGroups/ag-secops"

func auditedStack(t *testing.T) *result {
	t.Helper()
	cfg := devConfig(t)
	cfg.patch(t, "audit", map[string]any{
		"retentionDays": 90, "alertEmails": []string{"secops@contoso.com", "dba@contoso.com"},
		"actionGroupId": existingActionGroup, "failureThreshold": 3, "failureWindowMinutes": 30,
	})
	cloud := mockcloud.New()
	require.NoError(t, cfg.run(t, cloud))
	return newResult(cloud)
}

func TestAuditSettingsReachTheirResources(t *testing.T) {
	r := auditedStack(t)
	hsm := r.get(t, "hsm-hsm")
	hsmName := str(in(hsm, "name"))
	ws := r.get(t, "audit-workspace")
	diag := r.get(t, "audit-hsm-diagnostics")
	group := r.get(t, "audit-action-group")
	rule := r.get(t, "audit-failed-key-operations")

	t.Run("workspace", func(t *testing.T) {
		assert.Equal(t, "log-"+hsmName, str(in(ws, "workspaceName")))
		assert.Equal(t, 90.0, num(in(ws, "retentionInDays")))
		assert.Equal(t, "PerGB2018", str(in(ws, "sku.name")))
		assert.Equal(t, "rg-odaa-managedhsm-demo", str(in(ws, "resourceGroupName")))
		assert.Equal(t, "eastus", str(in(ws, "location")))
		assert.Contains(t, ws.DependsOn, "network-rg", "the workspace waits for its resource group")
	})

	t.Run("diagnostic-setting", func(t *testing.T) {
		assert.Equal(t, hsm.ID, str(in(diag, "resourceUri")), "the setting targets the HSM")
		assert.Contains(t, hsm.ID, "/providers/Microsoft.KeyVault/managedHSMs/")
		assert.Equal(t, ws.ID, str(in(diag, "workspaceId")), "the setting sends to the workspace")
		assert.Equal(t, "Dedicated", str(in(diag, "logAnalyticsDestinationType")),
			"resource-specific tables, which the alert's query reads")
		logs := plain(in(diag, "logs")).ArrayValue()
		require.Len(t, logs, 1)
		assert.Equal(t, "AuditEvent", str(field(logs[0], "category")))
		assert.True(t, plain(field(logs[0], "enabled")).BoolValue())
		metrics := plain(in(diag, "metrics")).ArrayValue()
		require.Len(t, metrics, 1)
		assert.Equal(t, "AllMetrics", str(field(metrics[0], "category")))
		assert.True(t, plain(field(metrics[0], "enabled")).BoolValue())
	})

	t.Run("action-group", func(t *testing.T) {
		receivers := plain(in(group, "emailReceivers")).ArrayValue()
		require.Len(t, receivers, 2)
		assert.Equal(t, "secops@contoso.com", str(field(receivers[0], "emailAddress")))
		assert.Equal(t, "dba@contoso.com", str(field(receivers[1], "emailAddress")))
		assert.NotEqual(t, str(field(receivers[0], "name")), str(field(receivers[1], "name")))
		assert.LessOrEqual(t, len(str(in(group, "groupShortName"))), 12, "Azure allows 12 characters")
		assert.True(t, plain(in(group, "enabled")).BoolValue())
	})

	t.Run("alert-rule", func(t *testing.T) {
		assert.Equal(t, []string{ws.ID}, strs(in(rule, "scopes")), "the rule queries the workspace")
		assert.Equal(t, []string{group.ID, existingActionGroup}, strs(in(rule, "actions.actionGroups")))
		assert.Equal(t, "PT30M", str(in(rule, "windowSize")))
		assert.Equal(t, "PT5M", str(in(rule, "evaluationFrequency")))
		assert.True(t, plain(in(rule, "enabled")).BoolValue())
		conditions := plain(in(rule, "criteria.allOf")).ArrayValue()
		require.Len(t, conditions, 1)
		c := conditions[0]
		assert.Equal(t, 3.0, num(field(c, "threshold")))
		assert.Equal(t, "GreaterThanOrEqual", str(field(c, "operator")))
		assert.Equal(t, "Count", str(field(c, "timeAggregation")))
		query := str(field(c, "query"))
		assert.True(t, strings.HasPrefix(query, "AZKVAuditLogs\n"), "the query reads the HSM's audit table")
		for _, want := range []string{
			`ResultType != "Success" or HttpStatusCode >= 400`, `OperationName startswith "Key"`,
			`_ResourceId =~ "` + hsm.ID + `"`,
		} {
			assert.Contains(t, query, want)
		}
	})
}

// The diagnostic setting needs the HSM's ARM resource only; the HSM's data plane work never waits for audit.
func TestAuditDoesNotDelayTheDataPlane(t *testing.T) {
	r := auditedStack(t)
	assert.True(t, r.dependsOn("audit-hsm-diagnostics", "hsm-hsm"))
	for _, dataPlane := range []string{"hsm-security-domain", "hsm-deployer-crypto-role", "hsm-key",
		"hsm-network-lock", "service-principal-hsm-role", "cmek-adbhsmdemo-key-role"} {
		assert.Falsef(t, r.dependsOn("audit-hsm-diagnostics", dataPlane), "the diagnostic setting waits for %s",
			dataPlane)
		for _, reg := range r.regs {
			if strings.HasPrefix(reg.Name, "audit") {
				assert.Falsef(t, r.dependsOn(dataPlane, reg.Name), "%s waits for %s", dataPlane, reg.Name)
			}
		}
	}
	assert.True(t, r.dependsOn("audit-failed-key-operations", "audit-hsm-diagnostics"))
	assert.True(t, r.dependsOn("audit-failed-key-operations", "audit-action-group"))
}

func TestAuditDefaultsAndDisabled(t *testing.T) {
	t.Run("defaults-have-no-receivers", func(t *testing.T) {
		r := deployed(t)
		assert.Empty(t, r.ofType("azure-native:insights:ActionGroup"), "no e-mails, no action group")
		rule := r.get(t, "audit-failed-key-operations")
		assert.Empty(t, strs(in(rule, "actions.actionGroups")))
		assert.Equal(t, "PT15M", str(in(rule, "windowSize")))
		assert.Equal(t, 5.0, num(field(plain(in(rule, "criteria.allOf")).ArrayValue()[0], "threshold")))
		assert.Equal(t, 30.0, num(in(r.get(t, "audit-workspace"), "retentionInDays")))
	})
	t.Run("disabled", func(t *testing.T) {
		cfg := devConfig(t)
		cfg.patch(t, "audit", map[string]any{"enabled": false})
		cloud := mockcloud.New()
		require.NoError(t, cfg.run(t, cloud))
		for _, reg := range newResult(cloud).regs {
			assert.Falsef(t, strings.HasPrefix(reg.Name, "audit"), "%s registered with audit disabled", reg.Name)
		}
	})
	t.Run("invalid-settings-are-reported-together", func(t *testing.T) {
		cfg := devConfig(t)
		cfg.patch(t, "audit", map[string]any{"retentionDays": 7, "alertEmails": []string{"nobody"},
			"failureThreshold": 0})
		cloud := mockcloud.New()
		err := cfg.run(t, cloud)
		require.Error(t, err)
		for _, key := range []string{"audit.retentionDays", "audit.alertEmails[0]", "audit.failureThreshold"} {
			assert.Contains(t, err.Error(), key)
		}
		assert.Empty(t, cloud.Registrations(), "nothing is registered")
	})
}

func TestTwoAuditsDoNotCollide(t *testing.T) {
	cloud := mockcloud.New()
	const hsmID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.KeyVault/managedHSMs/h"
	program := func(ctx *pulumi.Context) error {
		for _, name := range []string{"audit-a", "audit-b"} {
			if _, err := components.NewAudit(ctx, name, &components.AuditArgs{
				ResourceGroupName: pulumi.String("rg"), Location: "eastus", WorkspaceName: "log-" + name,
				RetentionDays: 30, HsmName: "hsm-" + name,
				HsmID:       pulumi.String(hsmID),
				AlertEmails: []string{"secops@contoso.com"}, FailureThreshold: 1, FailureWindowMinutes: 5,
			}); err != nil {
				return err
			}
		}
		return nil
	}
	require.NoError(t, pulumi.RunErr(program, pulumi.WithMocks(project, "dev", cloud)))

	azureNames := map[string]string{}
	for _, reg := range cloud.Registrations() {
		if !reg.Custom {
			continue
		}
		other, taken := azureNames[reg.ID]
		assert.Falsef(t, taken, "%s and %s share the Azure ID %s", reg.Name, other, reg.ID)
		azureNames[reg.ID] = reg.Name
	}
	assert.Len(t, azureNames, 8, "two workspaces, settings, action groups and rules")
}

func TestAuditRejectsMissingArgs(t *testing.T) {
	program := func(ctx *pulumi.Context) error {
		_, err := components.NewAudit(ctx, "audit", nil)
		assert.ErrorContains(t, err, "args are required")
		_, err = components.NewAudit(ctx, "audit", &components.AuditArgs{WorkspaceName: "w", FailureThreshold: 1,
			FailureWindowMinutes: 5})
		assert.ErrorContains(t, err, "HsmID")
		return nil
	}
	require.NoError(t, pulumi.RunErr(program, pulumi.WithMocks(project, "dev", mockcloud.New())))
}
