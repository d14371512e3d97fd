// This file holds fault injection: faults answer a configured number of requests to an operation with an
// error instead of serving them, and some change state as they fire (a concurrent change) or mark the next
// work request to fail.
package fakeoci

import (
	"net/http"
	"strings"
)

// Fault makes the server answer the next Times signed requests to Operation with Status instead of serving
// them. Faults are consumed in the order they were added.
type Fault struct {
	// Operation is one of the Op constants; "" matches every operation.
	Operation string
	// Status, Code and Message make the answer; empty Code and Message are derived from Status.
	Status  int
	Code    string
	Message string
	// RetryAfter is the Retry-After header value in seconds; "" sends none (OCI documents none for 429).
	RetryAfter string
	Times      int

	// busy makes the database of the request start a change of its own before the answer.
	busy bool
	// failWorkRequest, when set, lets the request through and makes the work request it starts fail.
	failWorkRequest *WorkRequestError
	// served serves the request, then answers the fault's error instead of the result.
	served bool
}

// WorkRequestError is one error of a failed work request, as ListWorkRequestErrors lists it.
type WorkRequestError struct {
	Code    string
	Message string
}

// Throttle answers times requests to op with 429 TooManyRequests, with Retry-After: retryAfter unless empty.
func Throttle(op string, times int, retryAfter string) Fault {
	return Fault{Operation: op, Status: http.StatusTooManyRequests, Code: CodeTooManyRequests,
		Message: "User-rate limit exceeded.", RetryAfter: retryAfter, Times: times}
}

// Unavailable answers times requests to op with 503 ServiceUnavailable.
func Unavailable(op string, times int) Fault {
	return Fault{Operation: op, Status: http.StatusServiceUnavailable, Code: CodeServiceUnavailable,
		Message: "The service is currently unavailable.", Times: times}
}

// InternalError answers times requests to op with 500 InternalServerError.
func InternalError(op string, times int) Fault {
	return Fault{Operation: op, Status: http.StatusInternalServerError, Code: CodeInternalServerError,
		Message: "Internal error.", Times: times}
}

// ConcurrentChange answers the next request to op (UpdateAutonomousDatabase or RestartAutonomousDatabase)
// with 409 IncorrectState, as if another change had started just before it: the database is UPDATING for the
// configured number of reads, then AVAILABLE again, unchanged.
func ConcurrentChange(op string) Fault {
	return Fault{Operation: op, Status: http.StatusConflict, Code: CodeIncorrectState, Times: 1, busy: true,
		Message: "The Autonomous Database is in the UPDATING state. Wait for it to be AVAILABLE and try again."}
}

// TooManyKeySwitches answers the next UpdateAutonomousDatabase as OCI does past its limit of key switches,
// with status (429 or 409) and a Retry-After of a day, whatever the switches counted so far.
func TooManyKeySwitches(status int) Fault {
	return Fault{Operation: OpUpdateAutonomousDatabase, Status: status, Code: limitCode(status), Times: 1,
		RetryAfter: "86400", Message: keySwitchLimitMessage(DefaultKeySwitchLimit)}
}

// LostAnswer serves the next request to op, so that its change is made, and then answers 500 as if the
// answer had been lost: the client cannot tell whether the change happened.
func LostAnswer(op string) Fault {
	f := InternalError(op, 1)
	f.served = true
	return f
}

// FailWorkRequest lets the next request to op through and makes the work request it starts end FAILED with
// the given error; the database returns to AVAILABLE unchanged.
func FailWorkRequest(op, code, message string) Fault {
	return Fault{Operation: op, Times: 1, failWorkRequest: &WorkRequestError{Code: code, Message: message}}
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
	e := newAPIError(f.Status, code, msg)
	if f.RetryAfter != "" {
		e.headers = map[string]string{"Retry-After": f.RetryAfter}
	}
	return e
}

// faultState is a configured fault and how many times it may still fire.
type faultState struct {
	fault     Fault
	remaining int
}

// AddFault adds faults at run time, after those already configured.
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

// takeFault consumes the first pending fault for the request and returns the answer it gives, if any, and
// whether the request is to be served all the same. A work-request fault gives none: it is remembered for the
// handler.
func (s *Server) takeFault(rt route) (*apiError, bool, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, fs := range s.faults {
		if fs.remaining == 0 || fs.fault.Operation != "" && fs.fault.Operation != rt.op {
			continue
		}
		fs.remaining--
		f := fs.fault
		if f.failWorkRequest != nil {
			s.failNext = append(s.failNext, *f.failWorkRequest)
			return nil, false, true
		}
		if db, ok := s.databases[rt.id]; ok && f.busy && !db.busy() {
			s.beginLocked(db, []string{StateUpdating}, nil)
		}
		return f.apiError(), true, f.served
	}
	return nil, false, true
}

// PendingFaults reports how many injected faults have not fired yet.
func (s *Server) PendingFaults() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, fs := range s.faults {
		n += fs.remaining
	}
	return n
}
