package ecr

import (
	"net"
	"regexp"
	"strconv"
	"strings"

	"github.com/regcred/regcred/registry"
)

// PublicHost is ECR Public's registry host. Its API lives in us-east-1 only.
const PublicHost = "public.ecr.aws"

// PublicRegion is the only region of the ECR Public API.
const PublicRegion = "us-east-1"

// privateHostRE matches the private registry hosts AWS documents:
//
//	ACCOUNT.dkr.ecr.REGION.amazonaws.com          (commercial, GovCloud)
//	ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com     (FIPS)
//	ACCOUNT.dkr.ecr.REGION.amazonaws.com.cn       (China)
//	ACCOUNT.dkr-ecr.REGION.on.aws                 (dual-stack)
//	ACCOUNT.dkr-ecr-fips.REGION.on.aws            (dual-stack FIPS)
//	ACCOUNT.dkr-ecr.REGION.on.amazonwebservices.com.cn (dual-stack China)
//	ACCOUNT.dkr.ecr.REGION.c2s.ic.gov, .sc2s.sgov.gov, .cloud.adc-e.uk, .csp.hci.ic.gov
//	                                              (isolated partitions)
var privateHostRE = regexp.MustCompile(`^([0-9]{12})\.dkr[.-]ecr(-fips)?\.([a-z0-9]+(?:-[a-z0-9]+)*-[0-9]{1,2})\.(amazonaws\.com|amazonaws\.com\.cn|amazonaws\.eu|on\.aws|on\.amazonwebservices\.com\.cn|c2s\.ic\.gov|sc2s\.sgov\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$`)

// ParseHost reads an ECR registry host ("123456789012.dkr.ecr.eu-west-3.amazonaws.com",
// with or without a scheme, port or path): the 12-digit registry (account) ID, the region,
// whether it is a FIPS endpoint, and whether it is ECR Public (public.ecr.aws, region
// us-east-1, no registry ID). Anything else is a *registry.FieldError for field "url".
func ParseHost(host string) (registryID, region string, fips, public bool, err error) {
	h := strings.ToLower(strings.TrimSpace(host))
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	h, _, _ = strings.Cut(h, "/")
	if hp, _, splitErr := net.SplitHostPort(h); splitErr == nil {
		h = hp
	}
	if h == PublicHost {
		return "", PublicRegion, false, true, nil
	}
	m := privateHostRE.FindStringSubmatch(h)
	if m == nil {
		return "", "", false, false, &registry.FieldError{Field: "url",
			Reason: strconv.Quote(host) + " is not an Amazon ECR registry host",
			Hint:   "ACCOUNT.dkr.ecr.REGION.amazonaws.com (or .amazonaws.com.cn, ecr-fips), or public.ecr.aws"}
	}
	return m[1], m[3], m[2] != "", false, nil
}

// regionRE is the shape of AWS region names in every documented partition.
var regionRE = regexp.MustCompile(`^(us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|eu-isoe|us-isof)-(east|west|north|south|central|northeast|northwest|southeast|southwest)-[1-9][0-9]?$`)

func checkRegion(region string) error {
	if !regionRE.MatchString(region) {
		return &registry.FieldError{Field: "region", Reason: strconv.Quote(region) + " is not an AWS region",
			Hint: "e.g. us-east-1, eu-west-3, cn-north-1, us-gov-west-1"}
	}
	return nil
}
