package isoduration

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"P90D", 90 * day}, {"P1Y", 365 * day}, {"P3M", 90 * day}, {"P2W", 14 * day}, {"PT72H", 72 * time.Hour},
		{"P1Y10D", 375 * day}, {"P1DT12H30M15S", day + 12*time.Hour + 30*time.Minute + 15*time.Second},
	} {
		got, err := Parse(tc.in)
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	for _, bad := range []string{"", "P", "PT", "P0D", "90D", "P-1D", "P1.5D", "p90d", "P90DT"} {
		_, err := Parse(bad)
		assert.Error(t, err, bad)
	}
}
