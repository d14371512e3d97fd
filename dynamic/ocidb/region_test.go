package ocidb

import (
	"testing"

	"github.com/odaa-platform/adbs-hsm/dynamic/internal/fakeoci"
)

// A database lives in one region and answers only at that region's endpoint: calls follow the OCID, not the
// region of the OCI profile, which may name another (the stack's oci:region is not the plugin's).
func TestCallsGoToTheRegionTheOCIDNames(t *testing.T) {
	id, err := fakeoci.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{ConfigProvider: id.ConfigProvider("us-phoenix-1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ocid, wantDB, wantWR string }{
		{"ocid1.autonomousdatabase.oc1.iad.anuwcljexample", "https://database.us-ashburn-1.oraclecloud.com",
			"https://iaas.us-ashburn-1.oraclecloud.com"},
		{"ocid1.autonomousdatabase.oc1.eu-frankfurt-1.anuwcljexample",
			"https://database.eu-frankfurt-1.oraclecloud.com", "https://iaas.eu-frankfurt-1.oraclecloud.com"},
		{"not-an-ocid", "https://database.us-phoenix-1.oraclecloud.com", "https://iaas.us-phoenix-1.oraclecloud.com"},
	} {
		if got := c.dbFor(tc.ocid).Host; got != tc.wantDB {
			t.Errorf("database host for %s = %s, want %s", tc.ocid, got, tc.wantDB)
		}
		if got := c.wrFor(tc.ocid).Host; got != tc.wantWR {
			t.Errorf("work request host for %s = %s, want %s", tc.ocid, got, tc.wantWR)
		}
	}
	if c.db.Host != "https://database.us-phoenix-1.oraclecloud.com" {
		t.Errorf("the shared client was changed: %s", c.db.Host)
	}

	local, err := New(Options{ConfigProvider: id.ConfigProvider("us-phoenix-1"), Endpoint: "https://127.0.0.1:9"})
	if err != nil {
		t.Fatal(err)
	}
	if got := local.dbFor("ocid1.autonomousdatabase.oc1.iad.x").Host; got != "https://127.0.0.1:9" {
		t.Errorf("with an endpoint set, host = %s", got)
	}
}
