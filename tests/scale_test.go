// This file measures how the program scales with the number of databases sharing one HSM, under the mock engine
// with no simulated delay: the program's own time and memory, not the clouds'.
package tests

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/odaa-platform/adbs-hsm/internal/stack"
	"github.com/odaa-platform/adbs-hsm/tests/mockcloud"
)

// heapSampler records the peak of the heap's object bytes, read every millisecond from runtime/metrics (which,
// unlike runtime.ReadMemStats, does not stop the world).
type heapSampler struct {
	stop chan struct{}
	done sync.WaitGroup
	peak uint64
}

const heapObjects = "/memory/classes/heap/objects:bytes"

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	sample := []metrics.Sample{{Name: heapObjects}}
	read := func() {
		metrics.Read(sample)
		s.peak = max(s.peak, sample[0].Value.Uint64())
	}
	read()
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.stop:
				read()
				return
			case <-tick.C:
				read()
			}
		}
	}()
	return s
}

// Stop ends sampling and returns the peak in bytes.
func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	s.done.Wait()
	return s.peak
}

// BenchmarkManyDatabases deploys 1, 10 and 50 databases sharing one HSM with no simulated delay and reports the
// time per deployment (ns/op), allocations, the peak heap (sampled), the registrations made, and the time and
// allocation per registration, whose flatness across N shows the growth is linear.
func BenchmarkManyDatabases(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("databases=%d", n), func(b *testing.B) {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("adb%02d", i+1)
			}
			cfg := devConfig(b)
			withDatabases(b, cfg, names...)
			var peak uint64
			var regs int
			b.ReportAllocs()
			runtime.GC()
			for b.Loop() {
				cloud := mockcloud.New()
				sampler := startHeapSampler()
				require.NoError(b, cfg.runProgram(b, cloud, stack.Program))
				peak = max(peak, sampler.Stop())
				regs = len(cloud.Registrations())
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(regs), "registrations")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(regs), "ns/registration")
		})
	}
}
