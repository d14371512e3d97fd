// Package isoduration reads the ISO 8601 durations of Azure key rotation policies, for the program's
// configuration checks and the plugin's alike.
package isoduration

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var pattern = regexp.MustCompile(
	`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`)

// Parse reads an ISO 8601 duration such as P90D, P1Y2M or PT72H. Years count 365 days and months 30,
// which is how the minimums are compared; the string itself goes to Azure unchanged.
func Parse(s string) (time.Duration, error) {
	m := pattern.FindStringSubmatch(s)
	if m == nil || s == "P" || strings.HasSuffix(s, "T") {
		return 0, fmt.Errorf("%q is not an ISO 8601 duration such as P90D, P1Y or PT72H", s)
	}
	units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour,
		time.Hour, time.Minute, time.Second}
	var total time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.Atoi(m[i+1])
		if err != nil || n > 100000 {
			return 0, fmt.Errorf("%q has a number out of range", s)
		}
		total += time.Duration(n) * u
	}
	if total == 0 {
		return 0, fmt.Errorf("%q is a zero duration", s)
	}
	return total, nil
}
