// Package timeline runs a Pulumi program under the mock engine with each resource taking a scaled provisioning
// time, records when every registration started and ended, and analyses the result: wall time, the critical
// path the declared dependencies imply, the sum of all steps, and a Gantt picture.
//
// The mock engine calls NewResource only once the SDK has resolved the resource's inputs and the URNs of its
// explicit dependencies and parent, so a registration's start is the moment the engine released it; its end is
// when its outputs, and with them everything waiting on it, are released in turn.
package timeline

import (
	"sort"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Span is one registration: what it was, what it waited for, and when it ran.
type Span struct {
	Name   string
	Type   string
	Custom bool
	// Parent is the parent's name, "" at the top.
	Parent string
	// DependsOn are the names of resources it depends on: explicit ones and those its inputs came from.
	DependsOn []string
	// Minutes is the cloud time the table gives it.
	Minutes Minutes
	// Start and End are offsets from the recorder's creation, in real time.
	Start, End time.Duration
}

// Deps are every resource the span waited for: its dependencies and its parent.
func (s Span) Deps() []string {
	if s.Parent == "" {
		return s.DependsOn
	}
	return append(append([]string{}, s.DependsOn...), s.Parent)
}

// Recorder is a pulumi.MockResourceMonitor that delays each registration by its scaled provisioning time before
// passing it to the monitor it wraps, and records its span.
type Recorder struct {
	inner pulumi.MockResourceMonitor
	// scale is the real time one minute of cloud time takes; zero runs without delay.
	scale time.Duration
	t0    time.Time

	mu    sync.Mutex
	spans []Span
}

// NewRecorder wraps inner so that one minute of cloud time takes scale.
func NewRecorder(inner pulumi.MockResourceMonitor, scale time.Duration) *Recorder {
	return &Recorder{inner: inner, scale: scale, t0: time.Now()}
}

// NewResource implements pulumi.MockResourceMonitor.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	start := time.Since(r.t0)
	s := Span{Name: args.Name, Type: args.TypeToken, Custom: args.Custom, Start: start,
		Minutes: Duration(args.TypeToken, args.Custom, args.Inputs)}
	if rpc := args.RegisterRPC; rpc != nil {
		// The stack is registered by the mock engine itself, at once, never through NewResource.
		if parent := rpc.GetParent(); parent != "" && resource.URN(parent).Type() != resource.RootStackType {
			s.Parent = urnName(parent)
		}
		seen := map[string]bool{}
		add := func(urn string) {
			if n := urnName(urn); n != "" && !seen[n] {
				seen[n] = true
				s.DependsOn = append(s.DependsOn, n)
			}
		}
		for _, d := range rpc.GetDependencies() {
			add(d)
		}
		for _, deps := range rpc.GetPropertyDependencies() {
			for _, d := range deps.GetUrns() {
				add(d)
			}
		}
	}
	if d := time.Duration(float64(s.Minutes) * float64(r.scale)); d > 0 {
		time.Sleep(d)
	}
	id, outputs, err := r.inner.NewResource(args)
	s.End = time.Since(r.t0)
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
	return id, outputs, err
}

// Call implements pulumi.MockResourceMonitor. Invokes (look-ups) answer at once: they take seconds in the
// clouds, and none of them lies on the critical path longer than that.
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return r.inner.Call(args)
}

// Spans returns the recorded spans ordered by start.
func (r *Recorder) Spans() []Span {
	r.mu.Lock()
	spans := append([]Span(nil), r.spans...)
	r.mu.Unlock()
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].Start < spans[j].Start })
	return spans
}

func urnName(urn string) string {
	if urn == "" {
		return ""
	}
	return resource.URN(urn).Name()
}
