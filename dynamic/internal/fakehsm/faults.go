// This file holds fault injection and the request log: faults answer a configured number of requests to a
// route with an error instead of serving them, and every request is logged and counted by route.

package fakehsm

import (
	"net/http"
	"strings"
)

// Fault makes the server answer the next Times authenticated requests to Route with Status instead of
// serving them. Faults are consumed in the order they were added; a faulted request changes no state.
type Fault struct {
	// Route is the route name (one of the Route constants); "" matches every route.
	Route string
	// Status is the HTTP status to answer, for example 429 or 503.
	Status int
	// Times is how many matching requests get the fault.
	Times int
	// RetryAfter is the Retry-After header value in seconds ("0" is allowed); "" sends no header.
	RetryAfter string
	// RetryAfterMs, when positive, sends the retry-after-ms header (milliseconds), which azcore's retry policy
	// honours before Retry-After: throttling tests can then carry a hint without waiting whole seconds.
	RetryAfterMs int
	// Code and Message make the error body; empty values are derived from Status.
	Code    string
	Message string
}

// Throttle answers times requests to route with 429 Too Many Requests and Retry-After: retryAfter.
func Throttle(route string, times int, retryAfter string) Fault {
	return Fault{Route: route, Status: http.StatusTooManyRequests, Times: times, RetryAfter: retryAfter,
		Code: CodeThrottled, Message: "Request was not processed because too many requests were received."}
}

// Unavailable answers times requests to route with 503 Service Unavailable.
func Unavailable(route string, times int) Fault {
	return Fault{Route: route, Status: http.StatusServiceUnavailable, Times: times, Code: CodeServiceUnavailable,
		Message: "The service is temporarily unavailable. Please retry later."}
}

// PoolCreationDisabled answers times requests to route with the 503 Azure sends when a region has no HSM
// capacity ("Pool creation is disabled in this region").
func PoolCreationDisabled(route string, times int) Fault {
	return Fault{Route: route, Status: http.StatusServiceUnavailable, Times: times, Code: CodeServiceUnavailable,
		Message: PoolCreationDisabledMessage}
}

// InternalError answers times requests to route with a transient 500 Internal Server Error.
func InternalError(route string, times int) Fault {
	return Fault{Route: route, Status: http.StatusInternalServerError, Times: times, Code: CodeInternalServerError,
		Message: "An unexpected error occurred while processing the request."}
}

// WithRetryAfterMs returns the fault with a retry-after-ms hint of ms milliseconds (see Fault.RetryAfterMs).
func (f Fault) WithRetryAfterMs(ms int) Fault {
	f.RetryAfterMs = ms
	return f
}

// apiError is the answer the fault gives.
func (f Fault) apiError() *apiError {
	code, msg := f.Code, f.Message
	if code == "" {
		code = strings.ReplaceAll(http.StatusText(f.Status), " ", "")
	}
	if msg == "" {
		msg = http.StatusText(f.Status)
	}
	return newAPIError(f.Status, code, msg)
}

// faultState is a configured fault and how many times it may still fire.
type faultState struct {
	fault     Fault
	remaining int
}

// AddFault adds faults at run time, after those given with WithFaults.
func (s *Server) AddFault(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addFaultsLocked(faults)
}

func (s *Server) addFaultsLocked(faults []Fault) {
	for _, f := range faults {
		if f.Times > 0 {
			s.faults = append(s.faults, &faultState{fault: f, remaining: f.Times})
		}
	}
}

// takeFault consumes and returns the first pending fault for route, if any.
func (s *Server) takeFault(route string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fs := range s.faults {
		if fs.remaining > 0 && (fs.fault.Route == "" || fs.fault.Route == route) {
			fs.remaining--
			return fs.fault, true
		}
	}
	return Fault{}, false
}

// PendingFaults reports how many injected faults have not fired yet, over all routes.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, fs := range s.faults {
		n += fs.remaining
	}
	return n
}

// Request is one logged request. Bodies are never logged: they may hold key material or security domains.
type Request struct {
	// Method and Path are the HTTP method and the URL path as received.
	Method string
	Path   string
	// Route is the matched route name, "" when no route matched.
	Route string
	// Principal is the principal of the bearer token, "" when the request was not authenticated.
	Principal string
	// Authenticated reports whether the request carried a token this server issued.
	Authenticated bool
	// Status is the HTTP status of the answer.
	Status int
}

// Requests returns how many authenticated requests reached the given routes (summed). Token-less probes
// answered with the authentication challenge are not counted; RequestLog has them.
func (s *Server) Requests(routes ...string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, r := range routes {
		n += s.counts[r]
	}
	return n
}

// RequestLog returns every request the server answered, oldest first.
func (s *Server) RequestLog() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}
