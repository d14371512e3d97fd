// This file holds the Server: its options, construction on an httptest TLS listener, the routes with OCI's
// paths, the request pipeline (signature, log, faults, handler) and the request log tests assert on.
package fakeoci

import (
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/httprec"
)

// APIVersion is the path prefix of the database service and of work requests (the SDK clients' BasePath).
const APIVersion = "20160918"

// Operations the fake serves, named as the SDK names them; Fault.Operation and Requests take these.
const (
	OpGetAutonomousDatabase     = "GetAutonomousDatabase"
	OpUpdateAutonomousDatabase  = "UpdateAutonomousDatabase"
	OpRestartAutonomousDatabase = "RestartAutonomousDatabase"
	OpGetWorkRequest            = "GetWorkRequest"
	OpListWorkRequestErrors     = "ListWorkRequestErrors"
)

// Defaults of a Server built without options.
const (
	// DefaultDatabaseID is the OCID of the database a Server holds unless WithDatabase names others.
	DefaultDatabaseID = "ocid1.autonomousdatabase.oc1.iad.anuwcljtfakeocidatabase00000000000000000000000000000"
	// DefaultCompartmentID is the compartment of every database and work request.
	DefaultCompartmentID = "ocid1.compartment.oc1..aaaaaaaafakeocicompartment0000000000000000000000000000000"
	// DefaultTransitionPolls is how many reads of a database answer each transitional state.
	DefaultTransitionPolls = 2
	// DefaultWorkRequestPolls is how many reads of a work request answer before it finishes: the first
	// ACCEPTED, the others IN_PROGRESS.
	DefaultWorkRequestPolls = 2
	// DefaultKeySwitchLimit is how many key switches a database takes in 24 hours (field reports: 2).
	DefaultKeySwitchLimit = 2
)

// config is what the options set.
type config struct {
	keyID            string
	publicKey        *rsa.PublicKey
	transitionPolls  int
	workRequestPolls int
	keySwitchLimit   int
	keySwitchStatus  int
	stopStartRestart bool
	clock            func() time.Time
	databases        []Database
	faults           []Fault
}

// Option configures a Server.
type Option func(*config)

// WithIdentity makes the server accept signatures of id, verified with its public key. Without it every
// request is refused.
func WithIdentity(id Identity) Option {
	return func(c *config) { c.keyID, c.publicKey = id.KeyID(), &id.Key.PublicKey }
}

// WithTransitionPolls sets how many reads of a database answer each transitional state (UPDATING, RESTARTING,
// STOPPING, STARTING) of a change before the next state. The default is DefaultTransitionPolls.
func WithTransitionPolls(n int) Option { return func(c *config) { c.transitionPolls = max(n, 0) } }

// WithWorkRequestPolls sets how many reads of a work request answer before it finishes: the first ACCEPTED,
// the others IN_PROGRESS. The default is DefaultWorkRequestPolls.
func WithWorkRequestPolls(n int) Option { return func(c *config) { c.workRequestPolls = max(n, 0) } }

// WithKeySwitchLimit sets how many key switches a database takes in 24 hours, and the status (429 or 409) of
// the refusal past it. The default is DefaultKeySwitchLimit with 429; a limit of 0 or less means no limit.
func WithKeySwitchLimit(n, status int) Option {
	return func(c *config) { c.keySwitchLimit, c.keySwitchStatus = n, status }
}

// WithStopStartRestart makes a restart pass through STOPPING, STOPPED and STARTING instead of RESTARTING.
func WithStopStartRestart() Option { return func(c *config) { c.stopStartRestart = true } }

// WithClock sets the clock of signatures' dates, key switch counting and timestamps; the default is time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithDatabase adds a database; without any, the server holds one AVAILABLE database, DefaultDatabaseID, with
// Oracle-managed keys. Empty fields of d take those defaults.
func WithDatabase(d Database) Option { return func(c *config) { c.databases = append(c.databases, d) } }

// WithFaults injects faults (see Fault and its constructors).
func WithFaults(faults ...Fault) Option {
	return func(c *config) { c.faults = append(c.faults, faults...) }
}

// Server is a fake OCI database service and work request API on one HTTPS listener on 127.0.0.1.
type Server struct {
	ts    *httptest.Server
	cfg   config
	close sync.Once

	mu           sync.Mutex
	seq          int
	databases    map[string]*dbState
	workRequests map[string]*workRequest
	faults       []*faultState
	failNext     []WorkRequestError
	log          []Request
}

// New starts a fake OCI endpoint and, when t is not nil, closes it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	cfg := config{
		transitionPolls:  DefaultTransitionPolls,
		workRequestPolls: DefaultWorkRequestPolls,
		keySwitchLimit:   DefaultKeySwitchLimit,
		keySwitchStatus:  http.StatusTooManyRequests,
		clock:            time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.databases) == 0 {
		cfg.databases = []Database{{}}
	}
	s := &Server{cfg: cfg, databases: map[string]*dbState{}, workRequests: map[string]*workRequest{}}
	for _, d := range cfg.databases {
		s.addDatabaseLocked(d)
	}
	s.addFaultsLocked(cfg.faults)
	s.ts = httptest.NewTLSServer(http.HandlerFunc(s.serveHTTP))
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

// Close shuts the server down; it is safe to call more than once.
func (s *Server) Close() { s.close.Do(s.ts.Close) }

// Endpoint is the server's base URL, "https://127.0.0.1:<port>", to set as the SDK clients' Host.
func (s *Server) Endpoint() string { return s.ts.URL }

// Client returns an HTTP client trusting the server's certificate; it is an SDK HTTPRequestDispatcher.
func (s *Server) Client() *http.Client { return s.ts.Client() }

func (s *Server) now() time.Time { return s.cfg.clock() }

// nextIDLocked returns a fresh number for request and work request IDs.
func (s *Server) nextIDLocked() int {
	s.seq++
	return s.seq
}

// route is a matched request: its operation and the OCID in its path.
type route struct {
	op string
	id string
}

// match maps a method and path to an operation, with the paths of the SDK clients' endpoint templates.
func match(method, path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/"+APIVersion+"/")
	if !ok {
		return route{}, false
	}
	segs := strings.Split(rest, "/")
	switch {
	case len(segs) == 2 && segs[0] == "autonomousDatabases" && method == http.MethodGet:
		return route{OpGetAutonomousDatabase, segs[1]}, true
	case len(segs) == 2 && segs[0] == "autonomousDatabases" && method == http.MethodPut:
		return route{OpUpdateAutonomousDatabase, segs[1]}, true
	case len(segs) == 4 && segs[0] == "autonomousDatabases" && segs[2] == "actions" && segs[3] == "restart" &&
		method == http.MethodPost:
		return route{OpRestartAutonomousDatabase, segs[1]}, true
	case len(segs) == 2 && segs[0] == "workRequests" && method == http.MethodGet:
		return route{OpGetWorkRequest, segs[1]}, true
	case len(segs) == 3 && segs[0] == "workRequests" && segs[2] == "errors" && method == http.MethodGet:
		return route{OpListWorkRequestErrors, segs[1]}, true
	}
	return route{}, false
}

// serveHTTP runs every request through the signature check, the log and the faults before its handler.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &httprec.StatusRecorder{ResponseWriter: w}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(rec, newAPIError(http.StatusBadRequest, CodeCannotParseRequest, "The body could not be read."))
		return
	}
	rt, matched := match(r.Method, r.URL.Path)
	keyID, authErr := s.verify(r, body)

	s.mu.Lock()
	requestID := fmt.Sprintf("fakeoci-%06d", s.nextIDLocked())
	s.mu.Unlock()
	rec.Header().Set("opc-request-id", requestID)
	entry := Request{Method: r.Method, Path: r.URL.Path, Operation: rt.op, KeyID: keyID, Authenticated: authErr == nil}
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		entry.Body = string(body)
	}
	if authErr != nil {
		entry.AuthError = authErr.Error()
	}
	defer func() {
		entry.Status = rec.Status
		s.mu.Lock()
		s.log = append(s.log, entry)
		s.mu.Unlock()
	}()

	if authErr != nil {
		writeError(rec, newAPIError(http.StatusUnauthorized, CodeNotAuthenticated,
			"The required information to complete authentication was not provided or was incorrect."))
		return
	}
	if !matched {
		writeError(rec, newAPIError(http.StatusNotFound, CodeNotFound,
			"There is no operation supported at the URI path and HTTP method you specified in the request."))
		return
	}
	fault, faulted, serve := s.takeFault(rt)
	if serve {
		var out http.ResponseWriter = rec
		if faulted {
			// The answer is lost: the change happens, the client gets the fault.
			out = httptest.NewRecorder()
		}
		s.serveOperation(out, rt, body)
	}
	if faulted {
		writeError(rec, fault)
	}
}

// serveOperation runs the handler of a matched, signed request.
func (s *Server) serveOperation(w http.ResponseWriter, rt route, body []byte) {
	var apiErr *apiError
	switch rt.op {
	case OpGetAutonomousDatabase:
		apiErr = s.getDatabase(w, rt.id)
	case OpUpdateAutonomousDatabase:
		apiErr = s.updateDatabase(w, rt.id, body)
	case OpRestartAutonomousDatabase:
		apiErr = s.restartDatabase(w, rt.id)
	case OpGetWorkRequest:
		apiErr = s.getWorkRequest(w, rt.id)
	case OpListWorkRequestErrors:
		apiErr = s.listWorkRequestErrors(w, rt.id)
	}
	if apiErr != nil {
		writeError(w, apiErr)
	}
}

// Request is one logged request.
type Request struct {
	Method    string
	Path      string
	Operation string
	// KeyID is the keyId the signature named, "" when there was none.
	KeyID string
	// Authenticated reports whether the signature verified; AuthError says why not.
	Authenticated bool
	AuthError     string
	// Body is the body of a PUT or POST; these carry no secrets here.
	Body   string
	Status int
}

// RequestLog returns every request the server answered, oldest first.
func (s *Server) RequestLog() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Requests counts the authenticated requests to the given operations.
func (s *Server) Requests(ops ...string) int {
	n := 0
	for _, r := range s.RequestLog() {
		for _, op := range ops {
			if r.Authenticated && r.Operation == op {
				n++
			}
		}
	}
	return n
}

// Changes counts the authenticated requests that may change something (PUT and POST), answered or not.
func (s *Server) Changes() int {
	return s.Requests(OpUpdateAutonomousDatabase, OpRestartAutonomousDatabase)
}
