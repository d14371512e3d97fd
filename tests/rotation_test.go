package tests

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/components"
	"github.com/odaa-platform/adbs-hsm/internal/stack"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// This file tests rotation: the key's rotation policy from config, and the service principal's two alternating
// secrets across a rotation period's boundary, with the clock fixed on either side.

// rotationRun is what one run at a fixed time registered and exported about the client secrets.
type rotationRun struct {
	keeper, end   map[string]string // by slot: rotateWhenChanged.periodStart and endDate inputs
	secret        string            // the exported servicePrincipalSecret
	secretEnd     string            // the exported servicePrincipalSecretEndDate
	endDates      map[string]string // the exported servicePrincipalSecretEndDates
	secretIsSecet bool
}

func runAt(t *testing.T, cfg *stackConfig, now time.Time) rotationRun {
	t.Helper()
	cloud := mockcloud.New()
	var got map[string]any
	run := rotationRun{keeper: map[string]string{}, end: map[string]string{}}
	program := func(ctx *pulumi.Context) error {
		outputs, err := stack.ComposeAt(ctx, now)
		if err != nil {
			return err
		}
		run.secretIsSecet = pulumi.IsSecret(outputs["servicePrincipalSecret"].(pulumi.StringOutput))
		outputs.ToMapOutput().ApplyT(func(m map[string]any) map[string]any {
			got = m
			return m
		})
		return nil
	}
	require.NoError(t, cfg.runProgram(t, cloud, program))
	require.NotNil(t, got)
	r := newResult(cloud)
	for _, slot := range []string{"a", "b"} {
		reg := r.get(t, "service-principal-secret-"+slot)
		run.keeper[slot] = str(in(reg, "rotateWhenChanged.periodStart"))
		run.end[slot] = str(in(reg, "endDate"))
		assert.True(t, reg.Outputs["value"].IsSecret(), "slot %s's value is a secret", slot)
	}
	run.secret, _ = got["servicePrincipalSecret"].(string)
	run.secretEnd, _ = got["servicePrincipalSecretEndDate"].(string)
	run.endDates, _ = got["servicePrincipalSecretEndDates"].(map[string]string)
	return run
}

func TestSecretRotationAcrossAPeriodBoundary(t *testing.T) {
	const periodDays = 90
	period := periodDays * 24 * time.Hour
	boundary := time.Unix(229*int64(period/time.Second), 0).UTC() // generation 229 starts: slot b
	before, after := boundary.Add(-time.Minute), boundary.Add(time.Minute)
	cfg := devConfig(t)

	first := runAt(t, cfg, before.Add(-10*24*time.Hour))
	same := runAt(t, cfg, before)
	assert.Equal(t, first.keeper, same.keeper, "runs within one period change nothing")
	assert.Equal(t, first.end, same.end)

	next := runAt(t, cfg, after)
	assert.Equal(t, same.keeper["a"], next.keeper["a"], "slot a (generation 228) is kept")
	assert.Equal(t, same.end["a"], next.end["a"])
	assert.NotEqual(t, same.keeper["b"], next.keeper["b"], "slot b moves to generation 229")
	assert.Equal(t, boundary.Format(time.RFC3339), next.keeper["b"])

	for name, run := range map[string]struct {
		r   rotationRun
		now time.Time
	}{"before": {same, before}, "after": {next, after}} {
		// Both secrets are valid at once: the overlap that lets consumers move to the newest without a gap.
		for slot, end := range run.r.end {
			endTime, err := time.Parse(time.RFC3339, end)
			require.NoError(t, err)
			assert.Truef(t, endTime.After(run.now), "%s: slot %s (ends %s) is still valid", name, slot, end)
			assert.Equal(t, end, run.r.endDates[slot], "%s: slot %s's end date is exported", name, slot)
		}
		assert.True(t, run.r.secretIsSecet, "%s: the exported secret is a secret", name)
	}
	// The newest secret is the exported one: slot a before the boundary, slot b after.
	assert.Equal(t, same.end["a"], same.secretEnd)
	assert.Equal(t, "mock~client~secret~service-principal-secret-a", same.secret)
	assert.Equal(t, next.end["b"], next.secretEnd)
	assert.Equal(t, "mock~client~secret~service-principal-secret-b", next.secret)
	assert.Equal(t, boundary.Add(2*period).Format(time.RFC3339), next.end["b"], "each secret lives two periods")
	assert.Equal(t, boundary.Add(period).Format(time.RFC3339), next.end["a"])
}

func TestSecretSchedule(t *testing.T) {
	day := 24 * time.Hour
	start := time.Unix(1000*7*86400, 0).UTC() // generation 1000 of a 7-day period: slot a
	newest, previous, err := components.SecretSchedule(start, 7)
	require.NoError(t, err)
	assert.Equal(t, components.SecretSlot{Name: "a", Generation: 1000, Start: start, End: start.Add(14 * day)},
		newest)
	assert.Equal(t, components.SecretSlot{Name: "b", Generation: 999, Start: start.Add(-7 * day),
		End: start.Add(7 * day)}, previous)

	last, _, err := components.SecretSchedule(start.Add(-time.Second), 7)
	require.NoError(t, err)
	assert.Equal(t, previous, last, "one second earlier, the other slot is the newest")

	_, _, err = components.SecretSchedule(start, 0)
	assert.Error(t, err)
}

// Users who turn rotation off keep the single secret, ended by the date or lifetime they chose.
func TestSecretRotationOff(t *testing.T) {
	cfg := devConfig(t)
	cfg.patch(t, "servicePrincipal", map[string]any{"secretRotationDays": 0, "secretLifetimeDays": 30})
	cloud := mockcloud.New()
	require.NoError(t, cfg.run(t, cloud))
	r := newResult(cloud)
	pw := r.get(t, "service-principal-secret")
	assert.Equal(t, "720h", str(in(pw, "endDateRelative")))
	assert.Empty(t, str(in(pw, "rotateWhenChanged.periodStart")))
	assert.Len(t, r.ofType("azuread:index/applicationPassword:ApplicationPassword"), 1)
}

func TestKeyRotationPolicyReachesTheKey(t *testing.T) {
	cfg := devConfig(t)
	cfg.patch(t, "hsm", map[string]any{"key": map[string]any{"rotation": map[string]any{
		"expiryTime": "P1Y", "rotateBeforeExpiry": "P30D"}}})
	cloud := mockcloud.New()
	require.NoError(t, cfg.run(t, cloud))
	key := newResult(cloud).get(t, "hsm-key")
	assert.Equal(t, "P1Y", str(in(key, "rotationPolicy.expiryTime")))
	assert.Equal(t, "P30D", str(in(key, "rotationPolicy.rotateBeforeExpiry")))
	assert.True(t, in(key, "rotationPolicy.rotateAfterCreate").IsNull(), "an unset trigger is not sent")

	// Without a policy in config, the key carries none.
	assert.True(t, in(deployed(t).get(t, "hsm-key"), "rotationPolicy").IsNull())
}
