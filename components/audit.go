// This file holds Audit: a Log Analytics workspace receiving a Managed HSM's audit logs and metrics, an action
// group, and an alert on failed key operations.
package components

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-azure-native-sdk/insights/v2"
	insightsrules "github.com/pulumi/pulumi-azure-native-sdk/insights/v2/v20231201"
	"github.com/pulumi/pulumi-azure-native-sdk/operationalinsights/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// AuditType is the type token of Audit.
const AuditType = typePrefix + "Audit"

// AuditLogCategory is the one log category of Microsoft.KeyVault/managedHSMs (Microsoft's "Managed HSM logging"
// page: logs land in the container insights-logs-auditevent; the scenario guide enables the same category).
const AuditLogCategory = "AuditEvent"

// AuditMetricCategory takes every platform metric of the HSM.
const AuditMetricCategory = "AllMetrics"

// alertEvaluationFrequency is how often the rule runs; Azure wants it no longer than the window, and the
// smallest window allowed here is five minutes.
const alertEvaluationFrequency = "PT5M"

// AuditArgs describe where an HSM's audit trail goes and when it alerts.
type AuditArgs struct {
	// ResourceGroupName, Location and Tags place the workspace, action group and rule. Required but Tags.
	ResourceGroupName pulumi.StringInput
	Location          string
	Tags              pulumi.StringMapInput
	// WorkspaceName of the Log Analytics workspace, unique in the resource group. Required.
	WorkspaceName string
	// RetentionDays of the workspace's data, 30–730. Required.
	RetentionDays int
	// HsmName names the HSM in the alert's texts; HsmID is its ARM ID, the diagnostic setting's target. Required.
	HsmName string
	HsmID   pulumi.StringInput
	// AlertEmails get an action group of e-mail receivers. Optional.
	AlertEmails []string
	// ActionGroupID is an existing action group the alert also goes to. Optional.
	ActionGroupID string
	// FailureThreshold failed key operations within FailureWindowMinutes raise the alert. Required, at least 1.
	FailureThreshold     int
	FailureWindowMinutes int
}

// Audit is the HSM's audit trail and its alert.
type Audit struct {
	pulumi.ResourceState

	// WorkspaceID is the workspace's ARM ID; WorkspaceCustomerID the GUID that `az monitor log-analytics query`
	// takes.
	WorkspaceID         pulumi.StringOutput `pulumi:"workspaceId"`
	WorkspaceCustomerID pulumi.StringOutput `pulumi:"workspaceCustomerId"`
	// ActionGroupIDs the alert goes to: the created one, then the given one; empty without receivers.
	ActionGroupIDs pulumi.StringArrayOutput `pulumi:"actionGroupIds"`
	AlertRuleID    pulumi.StringOutput      `pulumi:"alertRuleId"`
	// DiagnosticSetting sends the HSM's logs and metrics to the workspace.
	DiagnosticSetting *insights.DiagnosticSetting
}

// AuditTable is where the diagnostic setting sends the HSM's AuditEvent logs: the resource-specific Key Vault
// audit table, chosen with the destination type AuditDestinationType. Sources: Microsoft's Azure Monitor
// reference "Supported logs for microsoft.keyvault/managedhsms" (category AuditEvent, log table AZKVAuditLogs)
// and the AZKVAuditLogs table reference (resource types microsoft.keyvault/vaults and
// microsoft.keyvault/managedhsms). Without that destination type the same records land in AzureDiagnostics.
const AuditTable = "AZKVAuditLogs"

// AuditDestinationType selects resource-specific tables, rather than AzureDiagnostics, in the workspace.
const AuditDestinationType = "Dedicated"

// FailedKeyOperationsQuery is the alert's KQL for one HSM: its failed key operations. A failure is a ResultType
// other than Success or an HTTP status of 400 or more; key operations are named Key* (KeyCreate, KeyGet, KeyWrap,
// KeyUnwrap, ...). _ResourceId keeps one HSM's records apart when several HSMs share a workspace.
func FailedKeyOperationsQuery(hsmID string) string {
	return strings.Join([]string{
		AuditTable,
		`| where _ResourceId =~ "` + hsmID + `"`,
		`| where OperationName startswith "Key"`,
		`| where ResultType != "Success" or HttpStatusCode >= 400`,
		"| project TimeGenerated, OperationName, ResultType, HttpStatusCode, CallerIpAddress, Id",
	}, "\n")
}

// NewAudit creates the workspace, the HSM's diagnostic setting, the action group and the alert rule.
func NewAudit(ctx *pulumi.Context, name string, args *AuditArgs, opts ...pulumi.ResourceOption) (*Audit, error) {
	if args == nil {
		return nil, fmt.Errorf("audit %s: %w", name, errNilArgs)
	}
	if args.HsmID == nil || args.WorkspaceName == "" || args.FailureThreshold < 1 || args.FailureWindowMinutes < 5 {
		return nil, fmt.Errorf("audit %s: %w", name, errors.New("HsmID, WorkspaceName, a threshold of at least 1 "+
			"and a window of at least 5 minutes are required"))
	}
	comp := &Audit{}
	if err := ctx.RegisterComponentResource(AuditType, name, comp, opts...); err != nil {
		return nil, fmt.Errorf("registering audit component %s: %w", name, err)
	}
	parent := pulumi.Parent(comp)

	ws, err := operationalinsights.NewWorkspace(ctx, name+"-workspace", &operationalinsights.WorkspaceArgs{
		ResourceGroupName: args.ResourceGroupName,
		Location:          pulumi.String(args.Location),
		Tags:              args.Tags,
		WorkspaceName:     pulumi.String(args.WorkspaceName),
		RetentionInDays:   pulumi.Int(args.RetentionDays),
		Sku:               &operationalinsights.WorkspaceSkuArgs{Name: pulumi.String("PerGB2018")},
	}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating log analytics workspace %s: %w", args.WorkspaceName, err)
	}
	workspaceID := ws.ID().ToStringOutput()

	// The setting needs only the HSM's ARM resource: it is not held up by activation or the key, and nothing in
	// the data plane waits for it.
	comp.DiagnosticSetting, err = insights.NewDiagnosticSetting(ctx, name+"-hsm-diagnostics",
		&insights.DiagnosticSettingArgs{
			Name:                        pulumi.String(name + "-to-" + args.WorkspaceName),
			ResourceUri:                 args.HsmID,
			WorkspaceId:                 workspaceID,
			LogAnalyticsDestinationType: pulumi.String(AuditDestinationType),
			Logs: insights.LogSettingsArray{
				&insights.LogSettingsArgs{Category: pulumi.String(AuditLogCategory), Enabled: pulumi.Bool(true)},
			},
			Metrics: insights.MetricSettingsArray{
				&insights.MetricSettingsArgs{Category: pulumi.String(AuditMetricCategory), Enabled: pulumi.Bool(true)},
			},
		}, parent)
	if err != nil {
		return nil, fmt.Errorf("creating diagnostic setting of managed HSM %s: %w", args.HsmName, err)
	}

	var groups pulumi.StringArray
	if len(args.AlertEmails) > 0 {
		receivers := insights.EmailReceiverArray{}
		for i, email := range args.AlertEmails {
			receivers = append(receivers, &insights.EmailReceiverArgs{
				Name:                 pulumi.Sprintf("email-%d", i+1),
				EmailAddress:         pulumi.String(email),
				UseCommonAlertSchema: pulumi.Bool(true),
			})
		}
		group, err := insights.NewActionGroup(ctx, name+"-action-group", &insights.ActionGroupArgs{
			ResourceGroupName: args.ResourceGroupName,
			ActionGroupName:   pulumi.String(name + "-" + args.HsmName),
			// Short names are at most 12 characters and appear in the e-mails' subject.
			GroupShortName: pulumi.String("hsm-audit"),
			Location:       pulumi.String("Global"),
			Enabled:        pulumi.Bool(true),
			EmailReceivers: receivers,
			Tags:           args.Tags,
		}, parent)
		if err != nil {
			return nil, fmt.Errorf("creating action group for managed HSM %s: %w", args.HsmName, err)
		}
		groups = append(groups, group.ID().ToStringOutput())
	}
	if args.ActionGroupID != "" {
		groups = append(groups, pulumi.String(args.ActionGroupID))
	}

	window := fmt.Sprintf("PT%dM", args.FailureWindowMinutes)
	ruleArgs := &insightsrules.ScheduledQueryRuleArgs{
		ResourceGroupName: args.ResourceGroupName,
		Location:          pulumi.String(args.Location),
		Tags:              args.Tags,
		RuleName:          pulumi.String(name + "-failed-key-operations-" + args.HsmName),
		DisplayName:       pulumi.String("Failed key operations on " + args.HsmName),
		Description: pulumi.Sprintf("%d or more failed key operations on managed HSM %s within %d minutes",
			args.FailureThreshold, args.HsmName, args.FailureWindowMinutes),
		Kind:                pulumi.String("LogAlert"),
		Enabled:             pulumi.Bool(true),
		Severity:            pulumi.Float64(1),
		Scopes:              pulumi.StringArray{workspaceID},
		EvaluationFrequency: pulumi.String(alertEvaluationFrequency),
		WindowSize:          pulumi.String(window),
		AutoMitigate:        pulumi.Bool(true),
		// A new workspace has seen no audit records yet; without this the service can refuse the rule as
		// querying a table it cannot resolve.
		SkipQueryValidation: pulumi.Bool(true),
		Criteria: &insightsrules.ScheduledQueryRuleCriteriaArgs{
			AllOf: insightsrules.ConditionArray{&insightsrules.ConditionArgs{
				Query:           args.HsmID.ToStringOutput().ApplyT(FailedKeyOperationsQuery).(pulumi.StringOutput),
				TimeAggregation: pulumi.String("Count"),
				Operator:        pulumi.String("GreaterThanOrEqual"),
				Threshold:       pulumi.Float64(float64(args.FailureThreshold)),
				FailingPeriods: &insightsrules.ConditionFailingPeriodsArgs{
					NumberOfEvaluationPeriods: pulumi.Float64(1),
					MinFailingPeriodsToAlert:  pulumi.Float64(1),
				},
			}},
		},
	}
	if len(groups) > 0 {
		ruleArgs.Actions = &insightsrules.ActionsArgs{ActionGroups: groups}
	}
	// The diagnostic setting comes first, so that the rule never watches a workspace nothing feeds.
	rule, err := insightsrules.NewScheduledQueryRule(ctx, name+"-failed-key-operations", ruleArgs, parent,
		pulumi.DependsOn([]pulumi.Resource{comp.DiagnosticSetting}))
	if err != nil {
		return nil, fmt.Errorf("creating failed key operations alert for managed HSM %s: %w", args.HsmName, err)
	}

	comp.WorkspaceID = workspaceID
	comp.WorkspaceCustomerID = ws.CustomerId
	comp.ActionGroupIDs = groups.ToStringArrayOutput()
	comp.AlertRuleID = rule.ID().ToStringOutput()
	if err := ctx.RegisterResourceOutputs(comp, pulumi.Map{
		"workspaceId":         comp.WorkspaceID,
		"workspaceCustomerId": comp.WorkspaceCustomerID,
		"actionGroupIds":      comp.ActionGroupIDs,
		"alertRuleId":         comp.AlertRuleID,
	}); err != nil {
		return nil, fmt.Errorf("registering outputs of audit for managed HSM %s: %w", args.HsmName, err)
	}
	return comp, nil
}
