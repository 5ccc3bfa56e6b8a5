package registry_test

import (
	"fmt"
	"testing"

	"github.com/regcred/regcred/registry"
)

func TestAWSPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-3": "aws", "ap-southeast-7": "aws", "mx-central-1": "aws", "il-central-1": "aws",
		"ap-southeast-9":  "aws", // not listed yet: placed by its shape, as the SDKs do
		"cn-north-1":      "aws-cn",
		"cn-northwest-1":  "aws-cn",
		"us-gov-west-1":   "aws-us-gov",
		"us-gov-east-1":   "aws-us-gov",
		"eusc-de-east-1":  "aws-eusc",
		"eusc-de-north-2": "aws-eusc",
		"us-iso-east-1":   "aws-iso",
		"us-isob-east-1":  "aws-iso-b",
		"eu-isoe-west-1":  "aws-iso-e",
		"us-isof-south-1": "aws-iso-f",
		"":                "",
		"us-east":         "",
		"US-EAST-1":       "",
		"us-east-1a":      "",
		"xx-east-1":       "",
		"eusc-fr-east-1":  "", // the sovereign cloud's pattern names its country
		"us-gov-west":     "",
		"useast1":         "",
		"us-east-1 ":      "",
		"us-ea$t-1":       "",
		"aws-global":      "",
		"eu-paris-1":      "", // not a direction: a typo, not a new region
	} {
		got, ok := registry.AWSPartition(region)
		if got != want || ok != (want != "") {
			t.Errorf("AWSPartition(%q) = %q, %v; want %q", region, got, ok, want)
		}
	}
	for partition, want := range map[string]string{"aws": "amazonaws.com", "aws-cn": "amazonaws.com.cn", "aws-eusc": "amazonaws.eu",
		"aws-us-gov": "amazonaws.com", "aws-iso-b": "sc2s.sgov.gov", "nope": ""} {
		if got := registry.AWSDNSSuffix(partition); got != want {
			t.Errorf("AWSDNSSuffix(%q) = %q, want %q", partition, got, want)
		}
	}
}

func ExampleAWSPartition() {
	for _, r := range []string{"eu-west-3", "cn-north-1", "eusc-de-east-1", "moon-base-1"} {
		p, ok := registry.AWSPartition(r)
		fmt.Println(r, p, ok, registry.AWSDNSSuffix(p))
	}
	// Output:
	// eu-west-3 aws true amazonaws.com
	// cn-north-1 aws-cn true amazonaws.com.cn
	// eusc-de-east-1 aws-eusc true amazonaws.eu
	// moon-base-1  false
}
