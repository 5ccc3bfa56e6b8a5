package ecr_test

import (
	"fmt"

	"github.com/regcred/regcred/providers/ecr"
)

func ExampleParseHost() {
	for _, host := range []string{
		"123456789012.dkr.ecr.eu-west-3.amazonaws.com",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
		"public.ecr.aws",
		"ecr-public.aws.com",
		"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
		"ghcr.io",
	} {
		id, region, fips, public, err := ecr.ParseHost(host)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("id=%q region=%s fips=%t public=%t\n", id, region, fips, public)
	}
	// Output:
	// id="123456789012" region=eu-west-3 fips=false public=false
	// id="123456789012" region=us-gov-west-1 fips=true public=false
	// id="123456789012" region=cn-north-1 fips=false public=false
	// id="" region=us-east-1 fips=false public=true
	// id="" region=us-east-1 fips=false public=true
	// id="123456789012" region=eusc-de-east-1 fips=false public=false
	// field url: is not an Amazon ECR registry host (ACCOUNT.dkr.ecr.REGION.amazonaws.com (or .amazonaws.com.cn, .amazonaws.eu, ecr-fips, the dual-stack ACCOUNT.dkr-ecr.REGION.on.aws), or public.ecr.aws / ecr-public.aws.com)
}

func ExampleNew() {
	_, err := ecr.New("eu-paris-1")
	fmt.Println(err)
	p, _ := ecr.New("eu-west-3", ecr.WithStaticKeys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""))
	fmt.Println(p)
	// Output:
	// field region: is not an AWS region (e.g. us-east-1, eu-west-3, cn-north-1, us-gov-west-1, eusc-de-east-1)
	// ecr eu-west-3 (access key AKIAIOSFODNN7EXAMPLE)
}
