package provider

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/property"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakehsm"
)

// BenchmarkActivation measures a security-domain activation against the fake HSM, from the download request
// to the HSM reporting itself active: the wall time of the protocol and crypto (ns/op), and the time the
// service's Retry-After (2 s here, two InProgress polls) would make a real run wait (paced-s/op), which the
// benchmark records instead of sleeping. Certificates are made once, outside the loop: key generation is the
// holders' work, not the activation's.
func BenchmarkActivation(b *testing.B) {
	certs, _ := userKeys(b, 3)
	values := make([]property.Value, len(certs))
	for i, c := range certs {
		values[i] = property.New(c)
	}
	var paced time.Duration
	for b.Loop() {
		b.StopTimer()
		fake := fakehsm.New(b, fakehsm.WithRetryAfter("2"), fakehsm.WithPendingPolls(2))
		env := newTestEnv(b, fake, fakehsm.DefaultAdministratorID)
		in := property.NewMap(map[string]property.Value{
			"hsmUri":        property.New(fake.URL()),
			"hsmResourceId": property.New(fake.ARMID()),
			"certificates":  property.New(property.NewArray(values)),
			"quorum":        property.New(2.0),
			"outputPath":    property.New(filepath.Join(b.TempDir(), "sd.json")),
		})
		b.StartTimer()

		env.mustCreate(sdToken, in)

		b.StopTimer()
		for _, d := range env.Pauses() {
			paced += d
		}
		if !fake.Activated() {
			b.Fatal("not activated")
		}
		b.StartTimer()
	}
	b.ReportMetric(paced.Seconds()/float64(b.N), "paced-s/op")
}
