package ecr

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecrpublic"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/regcred/regcred/registry"
)

// Option configures New.
type Option func(*options)

type options struct {
	keyID        string
	secret       registry.Secret
	session      registry.Secret
	roleARN      string
	sessionName  string
	externalID   string
	public       bool
	fips         bool
	endpoint     string
	stsEndpoint  string
	httpClient   *http.Client
	credProvider aws.CredentialsProvider
	name         string
}

// WithStaticKeys uses an IAM access key (and the session token of temporary ASIA keys)
// instead of the default credential chain.
func WithStaticKeys(accessKeyID string, secretAccessKey, sessionToken registry.Secret) Option {
	return func(o *options) { o.keyID, o.secret, o.session = accessKeyID, secretAccessKey, sessionToken }
}

// WithRole assumes the IAM role (sts:AssumeRole) with the static keys, or with the default
// chain when none are given, and calls ECR as that role ("role-based" access).
func WithRole(roleARN string) Option { return func(o *options) { o.roleARN = roleARN } }

// WithRoleSessionName names the assumed-role session (default "regcred").
func WithRoleSessionName(name string) Option { return func(o *options) { o.sessionName = name } }

// WithExternalID passes an external ID to sts:AssumeRole.
func WithExternalID(id string) Option { return func(o *options) { o.externalID = id } }

// WithPublic targets ECR Public (public.ecr.aws): the ecr-public API in us-east-1, whatever
// region New was given.
func WithPublic() Option { return func(o *options) { o.public = true } }

// WithFIPS calls the FIPS endpoint of the region (ecr-fips.REGION.amazonaws.com).
func WithFIPS() Option { return func(o *options) { o.fips = true } }

// WithEndpoint overrides the ECR (or ECR Public) API endpoint, e.g. a local emulator or a
// test server (aws BaseEndpoint). Requests are still SigV4-signed for the region.
func WithEndpoint(url string) Option { return func(o *options) { o.endpoint = url } }

// WithSTSEndpoint overrides the STS endpoint used by WithRole.
func WithSTSEndpoint(url string) Option { return func(o *options) { o.stsEndpoint = url } }

// WithHTTPClient sets the HTTP client of every AWS call (default: the SDK's).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.httpClient = c } }

// WithCredentialsProvider sets the AWS credentials directly (any aws.CredentialsProvider),
// taking precedence over WithStaticKeys and the default chain.
func WithCredentialsProvider(p aws.CredentialsProvider) Option {
	return func(o *options) { o.credProvider = p }
}

// WithName sets the registry name used in error texts (never a secret).
func WithName(name string) Option { return func(o *options) { o.name = name } }

// Token is one ECR authorization token, decoded.
type Token struct {
	registry.Credentials        // Username "AWS", Password the token, ExpiresAt as AWS returns it, Server the host of ProxyEndpoint
	ProxyEndpoint        string // the registry URL the token was issued for ("https://ACCOUNT.dkr.ecr.REGION.amazonaws.com"); empty for ECR Public
}

// Provider calls GetAuthorizationToken. It does not cache: wrap it with cache.New (which
// providers.For does). It is safe for concurrent use.
type Provider struct {
	region string
	o      options

	mu      sync.Mutex
	private *ecr.Client       // built on first use (the default chain reads files and the
	public  *ecrpublic.Client // environment); one of them, per WithPublic
}

var _ registry.Provider = (*Provider)(nil)

// New returns a provider of ECR pull credentials for region. With no keys, the default AWS
// credential chain is used (environment, shared files, web identity, ECS/EC2 roles). Bad
// inputs are *registry.FieldError naming the field, before any network call.
func New(region string, opts ...Option) (*Provider, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.public {
		region = PublicRegion
	}
	if err := checkRegion(region); err != nil {
		return nil, err
	}
	if (o.keyID == "") != (o.secret == "") {
		field := "secretAccessKey"
		if o.keyID == "" {
			field = "accessKeyId"
		}
		return nil, &registry.FieldError{Field: field, Reason: "is required when the other key field is given",
			Hint: "give both accessKeyId and secretAccessKey, or neither to use the default credential chain"}
	}
	if o.roleARN != "" && !strings.HasPrefix(o.roleARN, "arn:aws") {
		return nil, &registry.FieldError{Field: "roleArn", Reason: "is not an IAM role ARN", Hint: "arn:aws:iam::123456789012:role/NAME"}
	}
	if o.sessionName == "" {
		o.sessionName = "regcred"
	}
	if o.name == "" {
		o.name = "ecr " + region
		if o.public {
			o.name = PublicHost
		}
	}
	return &Provider{region: region, o: o}, nil
}

// Region is the region the provider calls.
func (p *Provider) Region() string { return p.region }

// String describes the provider without secrets.
func (p *Provider) String() string {
	via := "default credential chain"
	if p.o.keyID != "" {
		via = "access key " + p.o.keyID
	}
	if p.o.roleARN != "" {
		via += " as " + p.o.roleARN
	}
	api := "ecr"
	if p.o.public {
		api = "ecr-public"
	}
	return fmt.Sprintf("%s %s (%s)", api, p.region, via)
}

// GoString redacts for %#v.
func (p *Provider) GoString() string { return "ecr.Provider(" + p.String() + ")" }

// Credentials returns the decoded token as username/password with its expiry.
func (p *Provider) Credentials(ctx context.Context) (registry.Credentials, error) {
	t, err := p.Token(ctx)
	return t.Credentials, err
}

// Token calls GetAuthorizationToken and decodes the answer, with the proxy endpoint.
func (p *Provider) Token(ctx context.Context) (Token, error) {
	private, public, err := p.clients(ctx)
	if err != nil {
		return Token{}, p.fail(err)
	}
	var raw string
	var exp *time.Time
	var proxy string
	if p.o.public {
		out, err := public.GetAuthorizationToken(ctx, &ecrpublic.GetAuthorizationTokenInput{})
		if err != nil {
			return Token{}, p.fail(p.classify(err))
		}
		if out.AuthorizationData == nil {
			return Token{}, p.fail(fmt.Errorf("GetAuthorizationToken: ecr-public answered without authorizationData: %w", registry.ErrUnavailable))
		}
		raw, exp = aws.ToString(out.AuthorizationData.AuthorizationToken), out.AuthorizationData.ExpiresAt
	} else {
		out, err := private.GetAuthorizationToken(ctx, &ecr.GetAuthorizationTokenInput{})
		if err != nil {
			return Token{}, p.fail(p.classify(err))
		}
		if len(out.AuthorizationData) == 0 {
			return Token{}, p.fail(fmt.Errorf("GetAuthorizationToken: ecr answered without authorizationData: %w", registry.ErrUnavailable))
		}
		d := out.AuthorizationData[0]
		raw, exp, proxy = aws.ToString(d.AuthorizationToken), d.ExpiresAt, aws.ToString(d.ProxyEndpoint)
	}
	user, pass, err := decodeToken(raw)
	if err != nil {
		return Token{}, p.fail(err)
	}
	t := Token{Credentials: registry.Credentials{Username: user, Password: registry.Secret(pass)}, ProxyEndpoint: proxy}
	if proxy != "" {
		// The concrete registry host, for records saved with the wildcard server of their
		// region (keys and region, no URL): adapters write it in place of the wildcard.
		h, err := Parse(proxy)
		if err != nil {
			return Token{}, p.fail(fmt.Errorf("GetAuthorizationToken: the proxy endpoint in the answer is not an ECR registry host: %w", registry.ErrUnavailable))
		}
		t.Server = h.Name
	}
	if exp != nil {
		t.ExpiresAt = exp.UTC()
	}
	return t, nil
}

// decodeToken turns base64("AWS:password") into its parts.
func decodeToken(raw string) (user, pass string, err error) {
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return "", "", fmt.Errorf("GetAuthorizationToken: the authorization token in the answer is not base64: %w", registry.ErrUnavailable)
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok || user == "" || pass == "" {
		return "", "", fmt.Errorf("GetAuthorizationToken: the authorization token in the answer is not user:password: %w", registry.ErrUnavailable)
	}
	return user, pass, nil
}

func (p *Provider) fail(err error) error {
	return &registry.Error{Op: "refresh", Registry: p.o.name, Err: err}
}

// clients builds the SDK configuration and client once. Static keys and explicit
// providers need no I/O; the default chain loads the shared config files and environment.
// A failure is not kept: the next call tries again.
func (p *Provider) clients(ctx context.Context) (*ecr.Client, *ecrpublic.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.private != nil || p.public != nil {
		return p.private, p.public, nil
	}
	var cfg aws.Config
	switch {
	case p.o.credProvider != nil:
		cfg = aws.Config{Credentials: p.o.credProvider}
	case p.o.keyID != "":
		cfg = aws.Config{Credentials: credentials.NewStaticCredentialsProvider(p.o.keyID, p.o.secret.Reveal(), p.o.session.Reveal())}
	default:
		loaded, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: loading the default AWS configuration: %v; fix ~/.aws/config or give accessKeyId and secretAccessKey",
				registry.ErrInvalid, err)
		}
		cfg = loaded
	}
	cfg.Region = p.region
	// The cache above this provider owns retries (with back-off across calls); one
	// attempt per call keeps upstream calls countable and failures fast.
	cfg.Retryer = func() aws.Retryer { return aws.NopRetryer{} }
	if p.o.httpClient != nil {
		cfg.HTTPClient = p.o.httpClient
	}
	if p.o.roleARN != "" {
		stsClient := sts.NewFromConfig(cfg, func(so *sts.Options) {
			if p.o.stsEndpoint != "" {
				so.BaseEndpoint = aws.String(p.o.stsEndpoint)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, p.o.roleARN, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = p.o.sessionName
			if p.o.externalID != "" {
				ao.ExternalID = aws.String(p.o.externalID)
			}
		}))
	}
	if p.o.public {
		p.public = ecrpublic.NewFromConfig(cfg, func(eo *ecrpublic.Options) {
			if p.o.endpoint != "" {
				eo.BaseEndpoint = aws.String(p.o.endpoint)
			}
		})
	} else {
		p.private = ecr.NewFromConfig(cfg, func(eo *ecr.Options) {
			if p.o.endpoint != "" {
				eo.BaseEndpoint = aws.String(p.o.endpoint)
			}
			if p.o.fips {
				eo.EndpointOptions.UseFIPSEndpoint = aws.FIPSEndpointStateEnabled
			}
		})
	}
	return p.private, p.public, nil
}

// AWS error codes, by what they mean for the user.
var (
	unauthorizedCodes = map[string]bool{
		"UnrecognizedClientException": true, "InvalidClientTokenId": true, "InvalidSignatureException": true,
		"SignatureDoesNotMatch": true, "IncompleteSignature": true, "MissingAuthenticationToken": true,
		"ExpiredTokenException": true, "ExpiredToken": true, "InvalidAccessKeyId": true, "AuthFailure": true,
	}
	forbiddenCodes = map[string]bool{"AccessDeniedException": true, "AccessDenied": true, "UnauthorizedOperation": true}
)

// classify maps an SDK error to a sentinel with a message that says what to do. It never
// includes AWS's message text (which can quote request details), only the error code.
func (p *Provider) classify(err error) error {
	step := "GetAuthorizationToken"
	for e := err; e != nil; e = errors.Unwrap(e) {
		if oe, ok := e.(*smithy.OperationError); ok && oe.ServiceID == "STS" {
			step = "sts:AssumeRole of " + p.o.roleARN
		}
	}
	var ae smithy.APIError
	code := ""
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var dnsErr *net.DNSError
	var de *smithy.DeserializationError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s did not answer in time: %w: %w", step, registry.ErrUnavailable, context.DeadlineExceeded)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s was cancelled: %w: %w", step, registry.ErrUnavailable, context.Canceled)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("%s: cannot resolve the AWS endpoint %s: %w; check the region %q (is it enabled for the account?) and the network",
			step, dnsErr.Name, registry.ErrUnavailable, p.region)
	case unauthorizedCodes[code] || status == http.StatusUnauthorized:
		hint := "check accessKeyId and secretAccessKey (and sessionToken for temporary keys)"
		if p.o.keyID == "" && p.o.credProvider == nil {
			hint = "check the credentials the default AWS credential chain finds"
		}
		return fmt.Errorf("%s: AWS rejected the credentials (%s): %w; %s", step, codeOrStatus(code, status), registry.ErrUnauthorized, hint)
	case forbiddenCodes[code] || status == http.StatusForbidden:
		hint := "allow ecr:GetAuthorizationToken in the IAM policy"
		if p.o.public {
			hint = "allow ecr-public:GetAuthorizationToken and sts:GetServiceBearerToken in the IAM policy"
		}
		if strings.HasPrefix(step, "sts:") {
			hint = "let the caller assume the role (trust policy and sts:AssumeRole permission)"
		}
		return fmt.Errorf("%s: access denied (%s): %w; %s", step, codeOrStatus(code, status), registry.ErrForbidden, hint)
	case status >= 500 || code == "ThrottlingException" || code == "Throttling" || status == http.StatusTooManyRequests:
		return fmt.Errorf("%s: AWS is unavailable (%s): %w; it will be retried", step, codeOrStatus(code, status), registry.ErrUnavailable)
	case errors.As(err, &de):
		return fmt.Errorf("%s: the answer is not valid JSON: %w", step, registry.ErrUnavailable)
	case code != "":
		return fmt.Errorf("%s failed (%s): %w", step, codeOrStatus(code, status), registry.ErrUnavailable)
	case status == 0 && strings.Contains(err.Error(), "credentials"):
		// The SDK reports an empty credential chain as text only (no typed error).
		return fmt.Errorf("%s: no usable AWS credentials: %w; give accessKeyId and secretAccessKey, or run where the default credential chain finds some",
			step, registry.ErrUnauthorized)
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fmt.Errorf("%s: cannot reach AWS: %w: %v", step, registry.ErrUnavailable, ne)
	}
	return fmt.Errorf("%s failed (%s): %w", step, codeOrStatus(code, status), registry.ErrUnavailable)
}

func codeOrStatus(code string, status int) string {
	switch {
	case code != "" && status != 0:
		return fmt.Sprintf("%s, HTTP %d", code, status)
	case code != "":
		return code
	case status != 0:
		return fmt.Sprintf("HTTP %d", status)
	}
	return "no answer"
}
