// This file holds the Autonomous Databases: their state, the JSON shape of GetAutonomousDatabase, and the
// changes UpdateAutonomousDatabase (a key switch) and RestartAutonomousDatabase start, which pass through
// transitional states one read at a time.
package fakeoci

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Lifecycle states and key providers, as OCI spells them.
const (
	StateAvailable  = "AVAILABLE"
	StateUpdating   = "UPDATING"
	StateRestarting = "RESTARTING"
	StateStopping   = "STOPPING"
	StateStopped    = "STOPPED"
	StateStarting   = "STARTING"

	ProviderAzure         = "AZURE"
	ProviderOracleManaged = "ORACLE_MANAGED"
)

// Key is a database's encryption key.
type Key struct {
	Provider string `json:"provider"`
	VaultURI string `json:"vaultUri,omitempty"`
	KeyName  string `json:"keyName,omitempty"`
}

// Database is an Autonomous Database as the fake holds it.
type Database struct {
	ID            string
	CompartmentID string
	DisplayName   string
	DBName        string
	// State is the lifecycle state; AVAILABLE unless set.
	State string
	// Key is the encryption key; Oracle-managed unless set.
	Key Key
}

// dbState is a database and the change it is going through.
type dbState struct {
	Database
	created time.Time
	// steps are the states still to report, the first for left more reads, each later one for the configured
	// number of reads; done applies the change when they run out.
	steps []string
	left  int
	done  func()
	// history holds the keys with the time each became active, as encryptionKeyHistoryEntry reports them.
	history  []keyEntry
	switches []time.Time
	restarts int
	etag     int
	// served lists the states every read answered, for tests.
	served []string
}

type keyEntry struct {
	key       Key
	activated time.Time
}

func (d *dbState) busy() bool { return len(d.steps) > 0 || d.done != nil }

func (s *Server) addDatabaseLocked(d Database) {
	if d.ID == "" {
		d.ID = DefaultDatabaseID
	}
	if d.CompartmentID == "" {
		d.CompartmentID = DefaultCompartmentID
	}
	if d.DBName == "" {
		d.DBName = "adbhsmdemo"
	}
	if d.DisplayName == "" {
		d.DisplayName = d.DBName
	}
	if d.State == "" {
		d.State = StateAvailable
	}
	if d.Key.Provider == "" {
		d.Key = Key{Provider: ProviderOracleManaged}
	}
	now := s.now()
	s.databases[d.ID] = &dbState{Database: d, created: now, history: []keyEntry{{d.Key, now}}, etag: 1}
}

// beginLocked starts a change: the database reports each of states for the configured number of reads, then
// done runs (nil: the database is AVAILABLE again, unchanged).
func (s *Server) beginLocked(d *dbState, states []string, done func()) {
	d.steps, d.left = nil, s.cfg.transitionPolls
	if d.left > 0 {
		d.steps = states
	}
	d.State = states[0]
	if done == nil {
		done = func() { d.State = StateAvailable }
	}
	d.done = done
	d.etag++
}

// readLocked advances the database's change by one read; polls is the configured reads per state.
func (d *dbState) readLocked(polls int) {
	switch {
	case len(d.steps) > 0:
		d.State = d.steps[0]
		if d.left--; d.left == 0 {
			d.steps, d.left = d.steps[1:], polls
		}
	case d.done != nil:
		done := d.done
		d.done = nil
		done()
		d.etag++
	}
	d.served = append(d.served, d.State)
}

// adbJSON is the AutonomousDatabase model's JSON: the fields the SDK requires and those a key switch touches.
type adbJSON struct {
	ID                        string         `json:"id"`
	CompartmentID             string         `json:"compartmentId"`
	LifecycleState            string         `json:"lifecycleState"`
	LifecycleDetails          string         `json:"lifecycleDetails,omitempty"`
	DBName                    string         `json:"dbName"`
	DisplayName               string         `json:"displayName"`
	DataStorageSizeInTBs      int            `json:"dataStorageSizeInTBs"`
	ComputeModel              string         `json:"computeModel"`
	ComputeCount              float32        `json:"computeCount"`
	DBWorkload                string         `json:"dbWorkload"`
	DBVersion                 string         `json:"dbVersion"`
	IsDedicated               bool           `json:"isDedicated"`
	TimeCreated               string         `json:"timeCreated"`
	EncryptionKey             Key            `json:"encryptionKey"`
	EncryptionKeyHistoryEntry []historyEntry `json:"encryptionKeyHistoryEntry"`
}

type historyEntry struct {
	EncryptionKey Key    `json:"encryptionKey"`
	TimeActivated string `json:"timeActivated"`
}

func (d *dbState) json() adbJSON {
	out := adbJSON{ID: d.ID, CompartmentID: d.CompartmentID, LifecycleState: d.State, DBName: d.DBName,
		DisplayName: d.DisplayName, DataStorageSizeInTBs: 1, ComputeModel: "ECPU", ComputeCount: 2,
		DBWorkload: "OLTP", DBVersion: "19c", TimeCreated: d.created.UTC().Format(time.RFC3339Nano),
		EncryptionKey: d.Key}
	for _, h := range d.history {
		out.EncryptionKeyHistoryEntry = append(out.EncryptionKeyHistoryEntry,
			historyEntry{EncryptionKey: h.key, TimeActivated: h.activated.UTC().Format(time.RFC3339Nano)})
	}
	return out
}

func notFound() *apiError {
	return newAPIError(http.StatusNotFound, CodeNotAuthorizedOrNotFound,
		"Authorization failed or requested resource not found.")
}

func busyError(d *dbState) *apiError {
	return newAPIError(http.StatusConflict, CodeIncorrectState, fmt.Sprintf("The Autonomous Database %s is in "+
		"the %s state. Wait for it to be AVAILABLE and try again.", d.ID, d.State))
}

// getDatabase serves GetAutonomousDatabase; each read moves a change one step on.
func (s *Server) getDatabase(w http.ResponseWriter, id string) *apiError {
	s.mu.Lock()
	d, ok := s.databases[id]
	if !ok {
		s.mu.Unlock()
		return notFound()
	}
	d.readLocked(s.cfg.transitionPolls)
	body, etag := d.json(), d.etag
	s.mu.Unlock()
	w.Header().Set("etag", strconv.Itoa(etag))
	writeJSON(w, body)
	return nil
}

// updateDatabase serves UpdateAutonomousDatabase for encryptionKey and displayName.
func (s *Server) updateDatabase(w http.ResponseWriter, id string, body []byte) *apiError {
	var req struct {
		EncryptionKey *Key    `json:"encryptionKey"`
		DisplayName   *string `json:"displayName"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return newAPIError(http.StatusBadRequest, CodeCannotParseRequest, "The request body is not valid JSON.")
	}
	if req.EncryptionKey == nil && req.DisplayName == nil {
		return newAPIError(http.StatusBadRequest, CodeMissingParameter, "The request names nothing to update "+
			"(the fake updates encryptionKey and displayName).")
	}
	if req.EncryptionKey != nil {
		if err := checkKey(*req.EncryptionKey); err != nil {
			return err
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.databases[id]
	switch {
	case !ok:
		return notFound()
	case d.busy() || d.State != StateAvailable:
		return busyError(d)
	}
	want := d.Key
	if req.EncryptionKey != nil {
		want = *req.EncryptionKey
	}
	switching := want != d.Key
	if switching {
		if err := s.checkSwitchLimitLocked(d); err != nil {
			return err
		}
	}
	if req.DisplayName != nil {
		d.DisplayName = *req.DisplayName
	}

	wr := s.newWorkRequestLocked(opTypeUpdate, d)
	s.beginLocked(d, []string{StateUpdating}, func() {
		d.State = StateAvailable
		if switching && wr.fail == nil {
			now := s.now()
			d.Key = want
			d.history = append(d.history, keyEntry{want, now})
			d.switches = append(d.switches, now)
		}
	})
	w.Header().Set("opc-work-request-id", wr.id)
	w.Header().Set("etag", strconv.Itoa(d.etag))
	writeJSON(w, d.json())
	return nil
}

// checkKey refuses keys OCI would refuse, and providers the fake does not serve.
func checkKey(k Key) *apiError {
	switch k.Provider {
	case ProviderOracleManaged:
		return nil
	case ProviderAzure:
		if u, err := url.Parse(k.VaultURI); err != nil || u.Scheme != "https" || u.Host == "" {
			return newAPIError(http.StatusBadRequest, CodeInvalidParameter,
				fmt.Sprintf("encryptionKey.vaultUri %q is not an https URI.", k.VaultURI))
		}
		if k.KeyName == "" {
			return newAPIError(http.StatusBadRequest, CodeMissingParameter, "encryptionKey.keyName is required.")
		}
		return nil
	}
	return newAPIError(http.StatusBadRequest, CodeInvalidParameter,
		fmt.Sprintf("encryptionKey.provider %q is not served by the fake (AZURE, ORACLE_MANAGED).", k.Provider))
}

// checkSwitchLimitLocked refuses a key switch past the limit within 24 hours, with the retry hint of when the
// oldest counted switch leaves the window.
func (s *Server) checkSwitchLimitLocked(d *dbState) *apiError {
	if s.cfg.keySwitchLimit <= 0 {
		return nil
	}
	now := s.now()
	var recent []time.Time
	for _, t := range d.switches {
		if now.Sub(t) < 24*time.Hour {
			recent = append(recent, t)
		}
	}
	if len(recent) < s.cfg.keySwitchLimit {
		return nil
	}
	e := newAPIError(s.cfg.keySwitchStatus, limitCode(s.cfg.keySwitchStatus),
		keySwitchLimitMessage(s.cfg.keySwitchLimit))
	wait := recent[0].Add(24 * time.Hour).Sub(now)
	e.headers = map[string]string{"Retry-After": strconv.Itoa(int(wait.Seconds()) + 1)}
	return e
}

func keySwitchLimitMessage(limit int) string {
	return fmt.Sprintf("The encryption key of this Autonomous Database was changed %d times in the last 24 hours, "+
		"the maximum allowed. Try again later.", limit)
}

func limitCode(status int) string {
	if status == http.StatusConflict {
		return CodeConflict
	}
	return CodeTooManyRequests
}

// restartDatabase serves RestartAutonomousDatabase.
func (s *Server) restartDatabase(w http.ResponseWriter, id string) *apiError {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.databases[id]
	switch {
	case !ok:
		return notFound()
	case d.busy() || d.State != StateAvailable:
		return busyError(d)
	}
	states := []string{StateRestarting}
	if s.cfg.stopStartRestart {
		states = []string{StateStopping, StateStopped, StateStarting}
	}
	wr := s.newWorkRequestLocked(opTypeRestart, d)
	s.beginLocked(d, states, func() {
		d.State = StateAvailable
		if wr.fail == nil {
			d.restarts++
		}
	})
	w.Header().Set("opc-work-request-id", wr.id)
	w.Header().Set("etag", strconv.Itoa(d.etag))
	writeJSON(w, d.json())
	return nil
}

// Database returns the database id as the fake holds it now, without moving a change on.
func (s *Server) Database(id string) (Database, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.databases[id]
	if !ok {
		return Database{}, false
	}
	return d.Database, true
}

// SetKey changes the key of database id at once, as a change made outside Pulumi would; it counts as a switch.
func (s *Server) SetKey(id string, k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.databases[id]
	now := s.now()
	d.Key = k
	d.history = append(d.history, keyEntry{k, now})
	d.switches = append(d.switches, now)
	d.etag++
}

// BeginUpdate makes database id start a change of its own (UPDATING for the configured number of reads), as
// another client's update would.
func (s *Server) BeginUpdate(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.beginLocked(s.databases[id], []string{StateUpdating}, nil)
}

// KeySwitches counts the key switches database id went through.
func (s *Server) KeySwitches(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.databases[id].switches)
}

// Restarts counts the restarts database id went through.
func (s *Server) Restarts(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.databases[id].restarts
}

// StatesServed lists the lifecycle state every GetAutonomousDatabase of id answered, oldest first.
func (s *Server) StatesServed(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.databases[id].served...)
}
