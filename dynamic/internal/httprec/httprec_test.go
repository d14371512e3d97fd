package httprec

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestStatusRecorder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter)
		want    int
	}{
		{"explicit-status", func(w http.ResponseWriter) { w.WriteHeader(429); w.WriteHeader(500) }, 429},
		{"body-without-status", func(w http.ResponseWriter) { _, _ = w.Write([]byte("x")) }, http.StatusOK},
		{"nothing-written", func(http.ResponseWriter) {}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &StatusRecorder{ResponseWriter: httptest.NewRecorder()}
			tc.handler(rec)
			if rec.Status != tc.want {
				t.Errorf("Status = %d, want %d", rec.Status, tc.want)
			}
		})
	}
}
