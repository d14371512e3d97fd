// This file holds work requests: one per change, with the JSON shapes of GetWorkRequest and
// ListWorkRequestErrors, going ACCEPTED, IN_PROGRESS, then SUCCEEDED (or FAILED) one read at a time.
package fakeoci

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Operation types of the work requests the fake starts.
const (
	opTypeUpdate  = "UPDATE_AUTONOMOUS_DATABASE"
	opTypeRestart = "RESTART_AUTONOMOUS_DATABASE"
)

// Work request states, as OCI spells them.
const (
	WorkRequestAccepted   = "ACCEPTED"
	WorkRequestInProgress = "IN_PROGRESS"
	WorkRequestSucceeded  = "SUCCEEDED"
	WorkRequestFailed     = "FAILED"
)

// workRequest is one change's work request.
type workRequest struct {
	id          string
	opType      string
	compartment string
	database    string
	accepted    time.Time
	reads       int
	// fail, when set, ends the work request FAILED with this error.
	fail *WorkRequestError
	// served lists the status every read answered, for tests.
	served []string
}

// newWorkRequestLocked starts the work request of a change to d, failing if a FailWorkRequest fault asked.
func (s *Server) newWorkRequestLocked(opType string, d *dbState) *workRequest {
	wr := &workRequest{
		id:          fmt.Sprintf("ocid1.coreservicesworkrequest.oc1.iad.fakeoci%08d", s.nextIDLocked()),
		opType:      opType,
		compartment: d.CompartmentID,
		database:    d.ID,
		accepted:    s.now(),
	}
	if len(s.failNext) > 0 {
		wr.fail = &s.failNext[0]
		s.failNext = s.failNext[1:]
	}
	s.workRequests[wr.id] = wr
	return wr
}

// statusLocked moves the work request one read on and returns its status and percentage.
func (s *Server) statusLocked(wr *workRequest) (string, float32) {
	wr.reads++
	polls := s.cfg.workRequestPolls
	var status string
	var pct float32
	switch {
	case wr.reads > polls && wr.fail != nil:
		status, pct = WorkRequestFailed, 100
	case wr.reads > polls:
		status, pct = WorkRequestSucceeded, 100
	case wr.reads == 1:
		status = WorkRequestAccepted
	default:
		status, pct = WorkRequestInProgress, float32(100*(wr.reads-1)/polls)
	}
	wr.served = append(wr.served, status)
	return status, pct
}

type wrResource struct {
	EntityType string `json:"entityType"`
	ActionType string `json:"actionType"`
	Identifier string `json:"identifier"`
	EntityURI  string `json:"entityUri"`
}

type wrJSON struct {
	ID              string       `json:"id"`
	OperationType   string       `json:"operationType"`
	Status          string       `json:"status"`
	CompartmentID   string       `json:"compartmentId"`
	Resources       []wrResource `json:"resources"`
	PercentComplete float32      `json:"percentComplete"`
	TimeAccepted    string       `json:"timeAccepted"`
	TimeStarted     string       `json:"timeStarted,omitempty"`
	TimeFinished    string       `json:"timeFinished,omitempty"`
}

// getWorkRequest serves GetWorkRequest.
func (s *Server) getWorkRequest(w http.ResponseWriter, id string) *apiError {
	s.mu.Lock()
	wr, ok := s.workRequests[id]
	if !ok {
		s.mu.Unlock()
		return notFound()
	}
	status, pct := s.statusLocked(wr)
	now := s.now().UTC().Format(time.RFC3339Nano)
	action := "IN_PROGRESS"
	body := wrJSON{ID: wr.id, OperationType: wr.opType, Status: status, CompartmentID: wr.compartment,
		PercentComplete: pct, TimeAccepted: wr.accepted.UTC().Format(time.RFC3339Nano)}
	if status != WorkRequestAccepted {
		body.TimeStarted = now
	}
	switch status {
	case WorkRequestSucceeded:
		action, body.TimeFinished = "UPDATED", now
	case WorkRequestFailed:
		action, body.TimeFinished = "FAILED", now
	}
	body.Resources = []wrResource{{EntityType: "autonomousDatabase", ActionType: action, Identifier: wr.database,
		EntityURI: "/" + APIVersion + "/autonomousDatabases/" + wr.database}}
	s.mu.Unlock()
	writeJSON(w, body)
	return nil
}

type wrErrorJSON struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
}

// listWorkRequestErrors serves ListWorkRequestErrors: a JSON array, empty unless the work request failed.
func (s *Server) listWorkRequestErrors(w http.ResponseWriter, id string) *apiError {
	s.mu.Lock()
	wr, ok := s.workRequests[id]
	if !ok {
		s.mu.Unlock()
		return notFound()
	}
	items := []wrErrorJSON{}
	if wr.fail != nil && wr.reads > s.cfg.workRequestPolls {
		items = append(items, wrErrorJSON{Code: wr.fail.Code, Message: wr.fail.Message,
			Timestamp: s.now().UTC().Format(time.RFC3339Nano)})
	}
	s.mu.Unlock()
	writeJSON(w, items)
	return nil
}

// WorkRequestStatuses lists, per work request in the order they started, the status every read answered.
func (s *Server) WorkRequestStatuses() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*workRequest
	for _, wr := range s.workRequests {
		all = append(all, wr)
	}
	// IDs carry the start sequence, zero-padded, so they sort in start order.
	slices.SortFunc(all, func(a, b *workRequest) int { return strings.Compare(a.id, b.id) })
	out := make([][]string, len(all))
	for i, wr := range all {
		out[i] = append([]string(nil), wr.served...)
	}
	return out
}
