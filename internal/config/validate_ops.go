// This file holds the rules of the operations settings: the audit trail (audit), the key's rotation policy
// (hsm.key.rotation) and the rotation of the service principal's secret (servicePrincipal.secretRotationDays).
package config

import (
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/odaa-platform/adbs-hsm/internal/isoduration"
)

// Azure's minimums for a key rotation policy: a version must live at least 28 days (Microsoft's "Configure key
// auto-rotation in Azure Managed HSM": expiry time, minimum 28 days), and rotation may come no sooner than 7 days
// after creation and no later than 7 days before expiry (the rotation time rule of Key Vault's auto-rotation
// page, which the plugin's Key applies too). The program cannot import the plugin, hence the second copy.
const (
	minKeyExpiry         = 28 * 24 * time.Hour
	minRotationSpan      = 7 * 24 * time.Hour
	minSecretRotation    = 7
	maxSecretRotation    = 365
	maxSecretLifetimeDay = 730
)

// AlertWindowsMinutes are the look-back windows a scheduled query rule accepts in this program: Azure Monitor's
// own list of window sizes up to a day.
var AlertWindowsMinutes = []int{5, 10, 15, 30, 45, 60, 120, 180, 240, 300, 360, 1440}

var (
	actionGroupIDPattern = regexp.MustCompile(`(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}` +
		`/providers/microsoft\.insights/actionGroups/[^/]{1,260}$`)
)

func (c Config) validateKeyRotation(p *Problems) {
	r := c.Hsm.Key.Rotation
	key := func(field string) string { return KeyHsm + ".key.rotation." + field }
	parse := func(field, value string, least time.Duration, leastText string) (time.Duration, bool) {
		if value == "" {
			return 0, false
		}
		d, err := isoduration.Parse(value)
		if err != nil {
			p.add(key(field), "%v", err)
			return 0, false
		}
		if d < least {
			p.add(key(field), "must be at least %s (Azure's minimum), not %s", leastText, value)
			return 0, false
		}
		return d, true
	}
	expiry, hasExpiry := parse("expiryTime", r.ExpiryTime, minKeyExpiry, "28 days (P28D)")
	after, hasAfter := parse("rotateAfterCreate", r.RotateAfterCreate, minRotationSpan, "7 days (P7D)")
	before, hasBefore := parse("rotateBeforeExpiry", r.RotateBeforeExpiry, minRotationSpan, "7 days (P7D)")
	if r.RotateAfterCreate != "" && r.RotateBeforeExpiry != "" {
		p.add(key("rotateBeforeExpiry"), "set either rotateAfterCreate or rotateBeforeExpiry, not both")
	}
	if r.RotateBeforeExpiry != "" && r.ExpiryTime == "" {
		p.add(key("rotateBeforeExpiry"), "needs expiryTime: it counts back from a version's expiry")
	}
	if hasExpiry && hasBefore && expiry-before < minRotationSpan {
		p.add(key("rotateBeforeExpiry"), "must leave at least 7 days after creation: %s before an expiry of %s "+
			"rotates too early", r.RotateBeforeExpiry, r.ExpiryTime)
	}
	if hasExpiry && hasAfter && expiry-after < minRotationSpan {
		p.add(key("rotateAfterCreate"), "must come at least 7 days before expiry: %s after creation with an "+
			"expiry of %s is too late", r.RotateAfterCreate, r.ExpiryTime)
	}
}

func (c Config) validateSecretRotation(p *Problems) {
	s := c.ServicePrincipal
	key := KeyServicePrincipal + ".secretRotationDays"
	if s.SecretRotationDays == 0 {
		return
	}
	if s.SecretRotationDays < minSecretRotation || s.SecretRotationDays > maxSecretRotation {
		p.add(key, "must be 0 (no rotation) or %d–%d days, not %d", minSecretRotation, maxSecretRotation,
			s.SecretRotationDays)
	} else if 2*s.SecretRotationDays > maxSecretLifetimeDay {
		p.add(key, "each secret lives two periods, which must stay within %d days", maxSecretLifetimeDay)
	}
	if s.SecretEndDate != "" {
		p.add(KeyServicePrincipal+".secretEndDate", "must be empty when secretRotationDays is set: rotated "+
			"secrets end two periods after their period starts; set secretRotationDays to 0 for a fixed end date")
	}
}

func (c Config) validateAudit(p *Problems) {
	a := c.Audit
	key := func(field string) string { return KeyAudit + "." + field }
	if !a.Enabled {
		return
	}
	if a.RetentionDays < 30 || a.RetentionDays > 730 {
		p.add(key("retentionDays"), "must be 30–730 days, not %d", a.RetentionDays)
	}
	for i, email := range a.AlertEmails {
		if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email || addr.Name != "" {
			p.add(fmt.Sprintf("%s[%d]", key("alertEmails"), i), "must be a bare e-mail address such as "+
				"secops@contoso.com")
		}
	}
	if a.ActionGroupID != "" && !actionGroupIDPattern.MatchString(a.ActionGroupID) {
		p.add(key("actionGroupId"), "must be an action group's ARM ID: /subscriptions/<id>/resourceGroups/<rg>/"+
			"providers/microsoft.insights/actionGroups/<name>")
	}
	if a.FailureThreshold < 1 || a.FailureThreshold > 10000 {
		p.add(key("failureThreshold"), "must be 1–10000 failed operations, not %d", a.FailureThreshold)
	}
	if !slices.Contains(AlertWindowsMinutes, a.FailureWindowMinutes) {
		p.add(key("failureWindowMinutes"), "must be one of %s minutes, not %d", joinInts(AlertWindowsMinutes),
			a.FailureWindowMinutes)
	}
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ", ")
}
