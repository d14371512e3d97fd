// This file holds the management-plane (ARM) side of the fake: the Microsoft.KeyVault/managedHSMs resource with
// its activation status and network settings, PATCH with an optional long-running operation, the network
// rules that the data plane enforces from those settings, and the location's soft-deleted HSMs with their
// purge (deletedManagedHSMs, api-version 2024-11-01).

package fakehsm

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Network settings of the ARM resource.
const (
	AccessEnabled  = "Enabled"
	AccessDisabled = "Disabled"
	ActionAllow    = "Allow"
	ActionDeny     = "Deny"
)

// Activation statuses of properties.securityDomainProperties.activationStatus.
const (
	ActivationActive       = "Active"
	ActivationNotActivated = "NotActivated"
)

// Network is the HSM's public network setting as the ARM resource holds it.
type Network struct {
	PublicNetworkAccess string
	DefaultAction       string
	Bypass              string
}

// armOperation is a long-running PATCH or purge: how many polls still answer InProgress, and what it applies
// (the network settings, or for a purge the deleted HSM it removes).
type armOperation struct {
	pollsLeft int
	apply     Network
	purge     string
	done      bool
}

// armState is the management-plane state of the HSM.
type armState struct {
	network    Network
	operations map[string]*armOperation
	opSeq      int
	patches    int
	// gone is set once the served HSM is soft-deleted: ARM then answers 404 for it.
	gone bool
	// deleted are the location's soft-deleted HSMs, keyed by deletedKey.
	deleted map[string]DeletedHSM
}

func (st *armState) init() {
	st.network = Network{PublicNetworkAccess: AccessEnabled, DefaultAction: ActionAllow, Bypass: "AzureServices"}
	st.operations = map[string]*armOperation{}
	st.deleted = map[string]DeletedHSM{}
}

// DeletedHSM is a soft-deleted managed HSM: its name stays reserved in the subscription until ScheduledPurgeDate
// or a purge, and a purge is refused while PurgeProtection is on.
type DeletedHSM struct {
	Name               string
	Location           string
	DeletionDate       time.Time
	ScheduledPurgeDate time.Time
	PurgeProtection    bool
}

// deletedKey is how ARM finds a deleted HSM: by location and name, both case-insensitive.
func deletedKey(location, name string) string {
	return strings.ToLower(location) + "/" + strings.ToLower(name)
}

// WithDeletedHSM adds a soft-deleted HSM to its location, as a name left by an earlier stack.
func WithDeletedHSM(d DeletedHSM) Option {
	return func(c *config) { c.deleted = append(c.deleted, d) }
}

// WithPurgeProtection creates the served HSM with purge protection on, which its soft-deleted form keeps.
func WithPurgeProtection() Option { return func(c *config) { c.purgeProtection = true } }

// DeleteHSM soft-deletes the served HSM, as the azure-native provider's delete does: ARM answers 404 for it from
// then on and lists it among the location's deleted HSMs for the retention period.
func (s *Server) DeleteHSM() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	s.arm.gone = true
	s.arm.deleted[deletedKey(s.cfg.location, s.cfg.name)] = DeletedHSM{Name: s.cfg.name, Location: s.cfg.location,
		DeletionDate: now, ScheduledPurgeDate: now.AddDate(0, 0, s.cfg.retentionDays),
		PurgeProtection: s.cfg.purgeProtection}
}

// DeletedHSMs lists the soft-deleted HSMs not yet purged.
func (s *Server) DeletedHSMs() []DeletedHSM {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]DeletedHSM, 0, len(s.arm.deleted))
	for _, d := range s.arm.deleted {
		out = append(out, d)
	}
	return out
}

// WithNetwork starts the HSM with the given network settings instead of open access.
func WithNetwork(n Network) Option {
	return func(c *config) { c.network = &n }
}

// Network returns the current network settings of the ARM resource.
func (s *Server) Network() Network {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arm.network
}

// Patches reports how many PATCH requests changed the ARM resource (whether answered at once or async).
func (s *Server) Patches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.arm.patches
}

type managedHsmJSON struct {
	ID         string               `json:"id"`
	Name       string               `json:"name"`
	Type       string               `json:"type"`
	Location   string               `json:"location"`
	Sku        map[string]string    `json:"sku"`
	Properties managedHsmProperties `json:"properties"`
}

type managedHsmProperties struct {
	TenantID                  string            `json:"tenantId"`
	InitialAdminObjectIDs     []string          `json:"initialAdminObjectIds"`
	HsmURI                    string            `json:"hsmUri"`
	EnableSoftDelete          bool              `json:"enableSoftDelete"`
	SoftDeleteRetentionInDays int               `json:"softDeleteRetentionInDays"`
	ProvisioningState         string            `json:"provisioningState"`
	StatusMessage             string            `json:"statusMessage"`
	PublicNetworkAccess       string            `json:"publicNetworkAccess"`
	NetworkACLs               map[string]string `json:"networkAcls"`
	SecurityDomainProperties  map[string]string `json:"securityDomainProperties"`
}

// resourceLocked renders the ARM resource.
func (s *Server) resourceLocked() managedHsmJSON {
	status, message := ActivationNotActivated, "Managed HSM is provisioned and not yet activated."
	if s.sd.activated {
		status, message = ActivationActive, "Managed HSM is activated."
	}
	// While a PATCH runs, ARM shows the resource Updating; clients read a terminal state in a 202 body as done.
	provisioning := "Succeeded"
	for _, op := range s.arm.operations {
		if !op.done {
			provisioning = "Updating"
		}
	}
	return managedHsmJSON{
		ID: s.ARMID(), Name: s.cfg.name, Type: "Microsoft.KeyVault/managedHSMs", Location: s.cfg.location,
		Sku: map[string]string{"family": "B", "name": "Standard_B1"},
		Properties: managedHsmProperties{
			TenantID: s.cfg.tenant, InitialAdminObjectIDs: append([]string(nil), s.cfg.admins...),
			HsmURI: s.base, EnableSoftDelete: true, SoftDeleteRetentionInDays: s.cfg.retentionDays,
			ProvisioningState: provisioning, StatusMessage: message,
			PublicNetworkAccess: s.arm.network.PublicNetworkAccess,
			NetworkACLs: map[string]string{"defaultAction": s.arm.network.DefaultAction,
				"bypass": s.arm.network.Bypass},
			SecurityDomainProperties: map[string]string{"activationStatus": status,
				"activationStatusMessage": message},
		},
	}
}

// checkResource refuses ARM requests for any resource but this server's HSM, as ARM answers a missing one; the
// HSM itself is missing once soft-deleted.
func (s *Server) checkResource(c *call) *apiError {
	s.mu.Lock()
	gone := s.arm.gone
	s.mu.Unlock()
	if gone || !strings.EqualFold(c.r.URL.Path, "/"+strings.TrimPrefix(s.ARMID(), "/")) {
		return newAPIError(http.StatusNotFound, CodeResourceNotFound, fmt.Sprintf("The Resource "+
			"'Microsoft.KeyVault/managedHSMs/%s' under resource group was not found.", c.name))
	}
	return nil
}

// getManagedHSM is GET of the ARM resource.
func (s *Server) getManagedHSM(c *call) *apiError {
	if err := s.checkResource(c); err != nil {
		return err
	}
	s.mu.Lock()
	body := s.resourceLocked()
	s.mu.Unlock()
	writeJSON(c.w, http.StatusOK, body)
	return nil
}

// updateManagedHSM is PATCH of the ARM resource; only the network settings may change, the rest is create-only
// or ignored, as the fake needs no more.
func (s *Server) updateManagedHSM(c *call) *apiError {
	if err := s.checkResource(c); err != nil {
		return err
	}
	var body struct {
		Properties struct {
			PublicNetworkAccess *string `json:"publicNetworkAccess"`
			NetworkACLs         *struct {
				DefaultAction *string `json:"defaultAction"`
				Bypass        *string `json:"bypass"`
			} `json:"networkAcls"`
		} `json:"properties"`
	}
	if err := decodeJSON(c.r, &body); err != nil {
		return err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.arm.network
	if v := body.Properties.PublicNetworkAccess; v != nil {
		if *v != AccessEnabled && *v != AccessDisabled {
			return badParameter("publicNetworkAccess must be Enabled or Disabled, not %q", *v)
		}
		next.PublicNetworkAccess = *v
	}
	if acls := body.Properties.NetworkACLs; acls != nil {
		if v := acls.DefaultAction; v != nil {
			if *v != ActionAllow && *v != ActionDeny {
				return badParameter("networkAcls.defaultAction must be Allow or Deny, not %q", *v)
			}
			next.DefaultAction = *v
		}
		if v := acls.Bypass; v != nil {
			if *v != "AzureServices" && *v != "None" {
				return badParameter("networkAcls.bypass must be AzureServices or None, not %q", *v)
			}
			next.Bypass = *v
		}
	}
	s.arm.patches++
	if s.cfg.asyncUpdatePolls < 0 {
		s.arm.network = next
		writeJSON(c.w, http.StatusOK, s.resourceLocked())
		return nil
	}
	s.arm.opSeq++
	id := fmt.Sprintf("op-%s-%d", s.instance, s.arm.opSeq)
	s.arm.operations[id] = &armOperation{pollsLeft: s.cfg.asyncUpdatePolls, apply: next}
	opBase := fmt.Sprintf("%ssubscriptions/%s/providers/Microsoft.KeyVault/locations/%s/", s.base,
		s.cfg.subscription, s.cfg.location)
	query := "?api-version=" + c.r.URL.Query().Get("api-version")
	c.w.Header().Set("Azure-AsyncOperation", opBase+"operationStatuses/"+id+query)
	c.w.Header().Set("Location", opBase+"operationResults/"+id+query)
	s.paceLRO(c.w)
	writeJSON(c.w, http.StatusAccepted, s.resourceLocked())
	return nil
}

// armOperationStatus reports a long-running PATCH; the change applies when it reports Succeeded.
func (s *Server) armOperationStatus(c *call) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.arm.operations[c.name]
	if !ok {
		return newAPIError(http.StatusNotFound, CodeNotFound, "The operation "+c.name+" was not found.")
	}
	status := "InProgress"
	if op.pollsLeft > 0 && !op.done {
		op.pollsLeft--
		s.paceLRO(c.w)
	} else {
		s.finishLocked(op)
		status = "Succeeded"
	}
	writeJSON(c.w, http.StatusOK, map[string]string{"id": c.r.URL.Path, "name": c.name, "status": status})
	return nil
}

// finishLocked applies a finished operation once.
func (s *Server) finishLocked(op *armOperation) {
	if op.done {
		return
	}
	op.done = true
	if op.purge != "" {
		delete(s.arm.deleted, op.purge)
		return
	}
	s.arm.network = op.apply
}

// armOperationResult answers the resource once the operation is done, 202 before. A purge is polled here only
// (its 202 carries a Location header and nothing else), so this poll advances it, and its result has no body.
func (s *Server) armOperationResult(c *call) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	op, ok := s.arm.operations[c.name]
	if !ok {
		return newAPIError(http.StatusNotFound, CodeNotFound, "The operation "+c.name+" was not found.")
	}
	if op.purge != "" {
		if op.pollsLeft > 0 && !op.done {
			op.pollsLeft--
			s.paceLRO(c.w)
			c.w.WriteHeader(http.StatusAccepted)
			return nil
		}
		s.finishLocked(op)
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if !op.done {
		s.paceLRO(c.w)
		c.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	writeJSON(c.w, http.StatusOK, s.resourceLocked())
	return nil
}

// checkNetwork applies the resource's network settings to a data-plane request: with public access disabled,
// or with default action Deny, only requests through the private endpoint get through.
func (s *Server) checkNetwork(c *call) *apiError {
	if c.r.Header.Get(PrivateEndpointHeader) == "true" {
		return nil
	}
	s.mu.Lock()
	n := s.arm.network
	s.mu.Unlock()
	switch {
	case n.PublicNetworkAccess == AccessDisabled:
		e := newAPIError(http.StatusForbidden, CodeForbidden, PublicNetworkDisabledMessage)
		e.body.InnerError = &serviceError{Code: InnerCodeForbiddenByConnection}
		return e
	case n.DefaultAction == ActionDeny:
		e := newAPIError(http.StatusForbidden, CodeForbidden, FirewallDeniedMessage)
		e.body.InnerError = &serviceError{Code: InnerCodeForbiddenByFirewall}
		return e
	}
	return nil
}

type deletedManagedHsmJSON struct {
	ID         string                      `json:"id"`
	Name       string                      `json:"name"`
	Type       string                      `json:"type"`
	Properties deletedManagedHsmProperties `json:"properties"`
}

type deletedManagedHsmProperties struct {
	MhsmID                 string `json:"mhsmId"`
	Location               string `json:"location"`
	DeletionDate           string `json:"deletionDate"`
	ScheduledPurgeDate     string `json:"scheduledPurgeDate"`
	PurgeProtectionEnabled bool   `json:"purgeProtectionEnabled"`
}

// lookupDeleted finds the deleted HSM a deletedManagedHSMs request names, answering 404 as ARM does otherwise.
func (s *Server) lookupDeleted(c *call) (DeletedHSM, string, *apiError) {
	segs := splitPath(c.r.URL.Path)
	key := deletedKey(segs[5], c.name)
	s.mu.Lock()
	d, ok := s.arm.deleted[key]
	s.mu.Unlock()
	if !ok {
		return d, key, newAPIError(http.StatusNotFound, CodeResourceNotFound, fmt.Sprintf("The deleted managed "+
			"HSM '%s' in location '%s' was not found.", c.name, segs[5]))
	}
	return d, key, nil
}

// getDeletedManagedHSM is GET of a soft-deleted HSM in a location.
func (s *Server) getDeletedManagedHSM(c *call) *apiError {
	d, _, apiErr := s.lookupDeleted(c)
	if apiErr != nil {
		return apiErr
	}
	segs := splitPath(c.r.URL.Path)
	writeJSON(c.w, http.StatusOK, deletedManagedHsmJSON{
		ID: "/" + strings.Join(segs, "/"), Name: d.Name, Type: "Microsoft.KeyVault/deletedManagedHSMs",
		Properties: deletedManagedHsmProperties{
			MhsmID: fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.KeyVault/managedHSMs/%s",
				segs[1], s.cfg.resourceGroup, d.Name),
			Location: d.Location, DeletionDate: d.DeletionDate.UTC().Format(time.RFC3339),
			ScheduledPurgeDate:     d.ScheduledPurgeDate.UTC().Format(time.RFC3339),
			PurgeProtectionEnabled: d.PurgeProtection,
		},
	})
	return nil
}

// purgeDeletedManagedHSM is POST .../purge: refused under purge protection, otherwise a long-running operation
// answered 202 with a Location to poll, after which the name is free.
func (s *Server) purgeDeletedManagedHSM(c *call) *apiError {
	d, key, apiErr := s.lookupDeleted(c)
	if apiErr != nil {
		return apiErr
	}
	if d.PurgeProtection {
		return newAPIError(http.StatusConflict, "Conflict", fmt.Sprintf("Operation 'purge' is not allowed for "+
			"managed HSM '%s' since purge protection is enabled; it is purged on %s.", d.Name,
			d.ScheduledPurgeDate.UTC().Format(time.RFC3339)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.arm.opSeq++
	id := fmt.Sprintf("op-%s-%d", s.instance, s.arm.opSeq)
	s.arm.operations[id] = &armOperation{pollsLeft: max(s.cfg.asyncUpdatePolls, 0), purge: key}
	c.w.Header().Set("Location", fmt.Sprintf("%ssubscriptions/%s/providers/Microsoft.KeyVault/locations/%s/"+
		"operationResults/%s?api-version=%s", s.base, s.cfg.subscription, d.Location, id,
		c.r.URL.Query().Get("api-version")))
	s.paceLRO(c.w)
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}
