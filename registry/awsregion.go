package registry

import "strings"

// awsPartitions is the one AWS region table of regcred, for the region field of ECR records
// and the ECR provider alike. It follows the partitions of the AWS SDKs (aws-sdk-go-v2
// internal/endpoints/awsrulesfn/partitions.json): a region belongs to the partition that
// lists it, else to the first whose name pattern it has (AWS opens regions faster than
// tables are updated, and the SDK resolves them by pattern too).
var awsPartitions = []struct {
	id, dnsSuffix string
	prefixes      []string // the region starts with one of these and then has -NAME-N
	regions       []string
}{
	{"aws", "amazonaws.com", []string{"us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"}, []string{
		"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
		"ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1",
		"ca-west-1", "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2",
		"eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1",
		"mx-central-1", "sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2"}},
	{"aws-cn", "amazonaws.com.cn", []string{"cn"}, []string{"cn-north-1", "cn-northwest-1"}},
	{"aws-eusc", "amazonaws.eu", []string{"eusc-de"}, []string{"eusc-de-east-1"}},
	{"aws-iso", "c2s.ic.gov", []string{"us-iso"}, []string{"us-iso-east-1", "us-iso-west-1"}},
	{"aws-iso-b", "sc2s.sgov.gov", []string{"us-isob"}, []string{"us-isob-east-1", "us-isob-west-1"}},
	{"aws-iso-e", "cloud.adc-e.uk", []string{"eu-isoe"}, []string{"eu-isoe-west-1"}},
	{"aws-iso-f", "csp.hci.ic.gov", []string{"us-isof"}, []string{"us-isof-east-1", "us-isof-south-1"}},
	{"aws-us-gov", "amazonaws.com", []string{"us-gov"}, []string{"us-gov-east-1", "us-gov-west-1"}},
}

// AWSPartition returns the AWS partition of region: "aws" (commercial), "aws-cn" (China),
// "aws-us-gov" (GovCloud), "aws-eusc" (the European Sovereign Cloud), or one of the
// isolated "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f". ok is false when region is
// not an AWS region name (lower case, PREFIX-DIRECTION-N as the SDKs define it, the
// direction one of east, west, north, south, central and their combinations). A region the
// table does not list yet is placed by its shape, as the AWS SDKs do.
func AWSPartition(region string) (partition string, ok bool) {
	if i := awsPartitionIndex(region); i >= 0 {
		return awsPartitions[i].id, true
	}
	return "", false
}

// AWSDNSSuffix returns the DNS suffix of the service endpoints of an AWS partition
// ("amazonaws.com", "amazonaws.com.cn", "amazonaws.eu", ...), "" for an unknown partition.
func AWSDNSSuffix(partition string) string {
	for _, p := range awsPartitions {
		if p.id == partition {
			return p.dnsSuffix
		}
	}
	return ""
}

func awsPartitionIndex(region string) int {
	for i, p := range awsPartitions {
		for _, r := range p.regions {
			if r == region {
				return i
			}
		}
	}
	for i, p := range awsPartitions {
		for _, pre := range p.prefixes {
			if rest, ok := strings.CutPrefix(region, pre+"-"); ok && awsRegionTail(rest) {
				return i
			}
		}
	}
	return -1
}

// awsRegionTail reports whether s is DIRECTION-N, the tail of every AWS region name
// ("east-1", "southeast-7"). The SDKs' patterns accept any word there; the directions
// catch a typo ("eu-paris-1") before it becomes a DNS failure at the first refresh.
func awsRegionTail(s string) bool {
	name, num, ok := strings.Cut(s, "-")
	if !ok || num == "" || len(num) > 3 {
		return false
	}
	switch name {
	case "east", "west", "north", "south", "central", "northeast", "northwest", "southeast", "southwest":
	default:
		return false
	}
	for _, c := range num {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
