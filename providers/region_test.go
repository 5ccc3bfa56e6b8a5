package providers

import (
	"testing"

	"github.com/regcred/regcred/providers/ecr"
	"github.com/regcred/regcred/registry"
)

// TestOneRegionTable: a record's region passes Validate exactly when the ECR provider takes
// it: one AWS region table for both (registry.AWSPartition), the sovereign and isolated
// partitions included.
func TestOneRegionTable(t *testing.T) {
	for _, region := range []string{
		"us-east-1", "eu-west-3", "ap-southeast-7", "mx-central-1", "cn-north-1", "cn-northwest-1",
		"us-gov-west-1", "eusc-de-east-1", "us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1", "us-isof-south-1",
		"eu-paris-1", "us-east-1a", "EU-WEST-1", "europe-west1", "us-east", "", "moon-base-1",
	} {
		r := registry.Registry{Name: "e", Kind: registry.KindECR, Fields: map[string]string{"region": region}}
		verr := r.Validate()
		_, perr := ecr.New(region)
		if (verr == nil) != (perr == nil) {
			t.Errorf("region %q: Validate %v, ecr.New %v: they disagree", region, verr, perr)
		}
	}
}
