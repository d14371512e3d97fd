// Package httprec holds what the local stand-in servers (fakehsm, fakeoci) share to record their answers.
package httprec

import "net/http"

// StatusRecorder is a ResponseWriter that remembers the status its handler answered with.
type StatusRecorder struct {
	http.ResponseWriter
	// Status is the first status written, 200 when the handler wrote a body without one, 0 before either.
	Status int
}

// WriteHeader records the first status and passes it on.
func (sr *StatusRecorder) WriteHeader(status int) {
	if sr.Status == 0 {
		sr.Status = status
	}
	sr.ResponseWriter.WriteHeader(status)
}

// Write records the implicit 200 of a body written without a status.
func (sr *StatusRecorder) Write(b []byte) (int, error) {
	if sr.Status == 0 {
		sr.Status = http.StatusOK
	}
	return sr.ResponseWriter.Write(b)
}
