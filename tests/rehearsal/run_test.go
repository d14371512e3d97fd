// This file tests the rehearsal's own judgement: which tag-change plans pass, and which databases need a
// password, without the engine.
package rehearsal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckTagPreview(t *testing.T) {
	hsmUpdate := Step{Op: "update", Type: hsmType, URN: "hsm", Diffs: []string{"tags"}}
	vnetUpdate := Step{Op: "update", Type: "azure-native:network:VirtualNetwork", URN: "vnet",
		Diffs: []string{"tags"}}
	tagged := map[string]bool{"hsm": true, "vnet": true}
	require.NoError(t, checkTagPreview([]Step{hsmUpdate, vnetUpdate}, tagged))

	for name, steps := range map[string][]Step{
		"tagged not updated": {hsmUpdate},
		"untagged updated": {hsmUpdate, vnetUpdate,
			{Op: "update", Type: "t", URN: "untagged", Diffs: []string{"tags"}}},
		"hsm replaced":      {{Op: "replace", Type: hsmType, URN: "hsm", Keys: []string{"tags"}}},
		"hsm untouched":     {vnetUpdate},
		"more than tags":    {hsmUpdate, {Op: "update", Type: "t", URN: "x", Diffs: []string{"tags", "sku"}}},
		"something created": {hsmUpdate, {Op: "create", Type: "t", URN: "new"}},
	} {
		assert.Error(t, checkTagPreview(steps, tagged), name)
	}
}

func TestDatabaseNames(t *testing.T) {
	settings := []byte(`config:
  odaa-adbs-hsm:location: eastus
  odaa-adbs-hsm:databases:
    - name: first
      workload: OLTP
    # a comment
    - name: second
  odaa-adbs-hsm:servicePrincipal:
    displayName: not-a-database
`)
	names, err := databaseNames(settings)
	require.NoError(t, err)
	assert.Equal(t, []string{"first", "second"}, names)
}
