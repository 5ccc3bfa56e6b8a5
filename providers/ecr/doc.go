// Package ecr is the Amazon ECR credential provider: it calls GetAuthorizationToken (the
// private registry API "ecr", or "ecr-public" for public.ecr.aws) through aws-sdk-go-v2 and
// decodes the base64 "AWS:password" token into registry.Credentials with the expiry AWS
// returns (12 hours). Token also returns the proxy endpoint the token was issued for.
//
// Rules:
//   - Credentials: an access key ID and secret (plus the session token of temporary ASIA
//     keys) with WithStaticKeys; without keys the default AWS credential chain
//     (environment, shared files, web identity, ECS/EC2 roles); WithRole assumes an IAM
//     role through sts:AssumeRole on top of either ("role-based" access).
//   - The region is positional and checked before any network call against
//     registry.AWSPartition, the one region table of regcred (commercial, China, GovCloud,
//     the European Sovereign Cloud's eusc- regions, isolated partitions): a
//     *registry.FieldError for "region". ECR Public always calls us-east-1. WithFIPS uses
//     the FIPS endpoint; every partition's endpoints resolve through the SDK.
//   - Parse (and ParseHost) reads registry hosts with amazon-ecr-credential-helper's
//     ecr-login/api.ExtractRegistry, the host table docker-credential-ecr-login uses
//     (private hosts: commercial, FIPS, China, European Sovereign Cloud, dual-stack
//     dkr-ecr...on.aws, isolated partitions; ECR Public: public.ecr.aws and its dual-stack
//     ecr-public.aws.com), then checks what the helper leaves open: the region is an AWS
//     region of the partition the host's domain serves. providers.For uses it to check
//     that a record's server and region agree.
//   - The token's proxy endpoint names the concrete registry host; Credentials.Server
//     carries it, so a record saved as keys and region (the wildcard server
//     *.dkr.ecr.REGION.amazonaws.com) gets a docker config or Kubernetes Secret for that
//     host without extra options.
//   - The provider does not cache and makes one attempt per call (the SDK retryer is off):
//     wrap it with providers/cache, which owns refresh timing and back-off.
//   - Errors are *registry.Error{Op: "refresh"} wrapping ErrUnauthorized (keys rejected),
//     ErrForbidden (IAM denies ecr:GetAuthorizationToken or sts:AssumeRole), ErrUnavailable
//     (5xx, throttling, timeouts, DNS, malformed answers) or ErrInvalid (unusable shared
//     config). Messages carry the AWS error code and a hint, never AWS's message text or a
//     secret.
//   - Tests run against internal/fakecloud, which speaks AWS JSON 1.1 and the
//     STS query protocol and verifies every SigV4 signature with the secret key.
package ecr
