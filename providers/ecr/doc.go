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
//   - The region is positional and checked before any network call (a *registry.FieldError
//     for "region"); ECR Public always calls us-east-1. WithFIPS uses the FIPS endpoint;
//     China and GovCloud regions resolve to their partitions' endpoints through the SDK.
//   - ParseHost reads private hosts (commercial, FIPS, China, dual-stack, isolated
//     partitions) and public.ecr.aws; providers.For uses it to check that a record's
//     server and region agree.
//   - The provider does not cache and makes one attempt per call (the SDK retryer is off):
//     wrap it with providers/cache, which owns refresh timing and back-off.
//   - Errors are *registry.Error{Op: "refresh"} wrapping ErrUnauthorized (keys rejected),
//     ErrForbidden (IAM denies ecr:GetAuthorizationToken or sts:AssumeRole), ErrUnavailable
//     (5xx, throttling, timeouts, DNS, malformed answers) or ErrInvalid (unusable shared
//     config). Messages carry the AWS error code and a hint, never AWS's message text or a
//     secret.
//   - Tests run against providers/internal/fakecloud, which speaks AWS JSON 1.1 and the
//     STS query protocol and verifies every SigV4 signature with the secret key.
package ecr
