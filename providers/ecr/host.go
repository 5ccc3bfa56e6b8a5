package ecr

import (
	"net"
	"strings"

	ecrapi "github.com/awslabs/amazon-ecr-credential-helper/ecr-login/api"

	"github.com/regcred/regcred/registry"
)

// PublicHost is ECR Public's registry host. Its API lives in us-east-1 only.
const PublicHost = "public.ecr.aws"

// PublicDualStackHost is ECR Public's dual-stack (IPv4 and IPv6) registry host.
const PublicDualStackHost = "ecr-public.aws.com"

// PublicRegion is the only region of the ECR Public API.
const PublicRegion = "us-east-1"

// hostSuffixes are the DNS suffixes of ECR registry hosts, with the AWS partitions they
// serve and whether they are the dual-stack ("dkr-ecr") form:
//
//	ACCOUNT.dkr.ecr.REGION.amazonaws.com                (commercial, GovCloud)
//	ACCOUNT.dkr.ecr-fips.REGION.amazonaws.com           (FIPS)
//	ACCOUNT.dkr.ecr.REGION.amazonaws.com.cn             (China)
//	ACCOUNT.dkr.ecr.REGION.amazonaws.eu                 (European Sovereign Cloud)
//	ACCOUNT.dkr-ecr.REGION.on.aws                       (dual-stack)
//	ACCOUNT.dkr-ecr-fips.REGION.on.aws                  (dual-stack FIPS)
//	ACCOUNT.dkr-ecr.REGION.on.amazonwebservices.com.cn  (dual-stack China)
//	ACCOUNT.dkr.ecr.REGION.c2s.ic.gov, .sc2s.sgov.gov, .cloud.adc-e.uk, .csp.hci.ic.gov
//	                                                    (isolated partitions)
var hostSuffixes = map[string]struct {
	partitions []string
	dualStack  bool
}{
	"amazonaws.com":               {[]string{"aws", "aws-us-gov"}, false},
	"amazonaws.com.cn":            {[]string{"aws-cn"}, false},
	"amazonaws.eu":                {[]string{"aws-eusc"}, false},
	"on.aws":                      {[]string{"aws", "aws-us-gov"}, true},
	"on.amazonwebservices.com.cn": {[]string{"aws-cn"}, true},
	"c2s.ic.gov":                  {[]string{"aws-iso"}, false},
	"sc2s.sgov.gov":               {[]string{"aws-iso-b"}, false},
	"cloud.adc-e.uk":              {[]string{"aws-iso-e"}, false},
	"csp.hci.ic.gov":              {[]string{"aws-iso-f"}, false},
}

// Host is an ECR registry host, parsed.
type Host struct {
	Name       string // the host name, lower case, without scheme, port or path
	RegistryID string // the 12-digit account ID; "" for ECR Public
	Region     string // the region of its API (PublicRegion for ECR Public)
	Partition  string // the AWS partition of Region ("aws", "aws-cn", ...)
	FIPS       bool   // a FIPS endpoint (dkr.ecr-fips, dkr-ecr-fips)
	DualStack  bool   // a dual-stack endpoint (dkr-ecr...on.aws, ecr-public.aws.com)
	Public     bool   // ECR Public (public.ecr.aws or ecr-public.aws.com)
}

// Parse reads an ECR registry host ("123456789012.dkr.ecr.eu-west-3.amazonaws.com", with or
// without a scheme, port or path). The host shapes are those amazon-ecr-credential-helper
// recognizes (its ecr-login/api.ExtractRegistry decides); on top, and unlike the helper,
// the region must be an AWS region (registry.AWSPartition) of the partition the host's DNS
// suffix serves ("123456789012.dkr.ecr.moon.amazonaws.com" or a China region under
// .amazonaws.com would only fail later, as a DNS error). Anything else is a
// *registry.FieldError for field "url" that quotes no part of the input.
func Parse(server string) (Host, error) {
	h := strings.ToLower(strings.TrimSpace(server))
	if i := strings.Index(h, "://"); i >= 0 {
		h = h[i+3:]
	}
	h, _, _ = strings.Cut(h, "/")
	if at := strings.LastIndexByte(h, '@'); at >= 0 {
		h = h[at+1:]
	}
	if hp, _, err := net.SplitHostPort(h); err == nil {
		h = hp
	}
	notECR := &registry.FieldError{Field: "url", Reason: "is not an Amazon ECR registry host",
		Hint: "ACCOUNT.dkr.ecr.REGION.amazonaws.com (or .amazonaws.com.cn, .amazonaws.eu, ecr-fips, the dual-stack ACCOUNT.dkr-ecr.REGION.on.aws), or public.ecr.aws / ecr-public.aws.com"}
	if h == "" || strings.ContainsAny(h, " \t\r\n") {
		return Host{}, notECR
	}
	reg, err := ecrapi.ExtractRegistry(h)
	if err != nil {
		return Host{}, notECR
	}
	if reg.Service == ecrapi.ServiceECRPublic {
		return Host{Name: h, Region: PublicRegion, Partition: "aws", Public: true, DualStack: h == PublicDualStackHost}, nil
	}
	out := Host{Name: h, RegistryID: reg.ID, Region: reg.Region, FIPS: reg.FIPS}
	// The helper leaves the region and the suffix unchecked: ID.LABELS.REGION.SUFFIX.
	rest := strings.TrimPrefix(h, reg.ID+".")
	labels, suffix, ok := strings.Cut(rest, "."+reg.Region+".")
	s, known := hostSuffixes[suffix]
	if !ok || !known {
		return Host{}, notECR
	}
	// The helper takes dkr.ecr and dkr-ecr under every suffix (its table has
	// ACCOUNT.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn); so does Parse.
	out.DualStack = s.dualStack || strings.HasPrefix(labels, "dkr-ecr")
	partition, ok := registry.AWSPartition(reg.Region)
	if !ok {
		return Host{}, &registry.FieldError{Field: "url", Reason: "names no AWS region in the ECR host",
			Hint: "the part before the domain is the region, e.g. 123456789012.dkr.ecr.eu-west-3.amazonaws.com"}
	}
	for _, p := range s.partitions {
		if p == partition {
			out.Partition = partition
			return out, nil
		}
	}
	return Host{}, &registry.FieldError{Field: "url", Reason: "puts a region of the " + partition + " partition under another partition's domain",
		Hint: "China regions use .amazonaws.com.cn, the European Sovereign Cloud .amazonaws.eu, the others .amazonaws.com"}
}

// ParseHost is Parse in parts: the registry (account) ID, the region, whether it is a FIPS
// endpoint, and whether it is ECR Public.
func ParseHost(host string) (registryID, region string, fips, public bool, err error) {
	h, err := Parse(host)
	return h.RegistryID, h.Region, h.FIPS, h.Public, err
}

func checkRegion(region string) error {
	if _, ok := registry.AWSPartition(region); !ok {
		return &registry.FieldError{Field: "region", Reason: "is not an AWS region",
			Hint: "e.g. us-east-1, eu-west-3, cn-north-1, us-gov-west-1, eusc-de-east-1"}
	}
	return nil
}
