package ecr

import (
	"context"
	"errors"
	"github.com/regcred/regcred/clock"
	"github.com/regcred/regcred/providers/internal/golden"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/providers/cache"
	"github.com/regcred/regcred/registry"
)

const (
	keyID   = "AKIAIOSFODNN7EXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	session = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
	roleARN = "arn:aws:iam::123456789012:role/puller"
)

func newFake(t *testing.T) *fakecloud.AWS {
	a := fakecloud.NewAWS(t)
	a.AddKey(keyID, secret, "")
	return a
}

func TestParseHost(t *testing.T) {
	type parsed struct {
		ID, Region   string
		FIPS, Public bool
	}
	tests := []struct {
		host string
		want parsed
	}{
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com", parsed{"123456789012", "us-east-1", false, false}},
		{"https://123456789012.dkr.ecr.eu-west-3.amazonaws.com/v2/", parsed{"123456789012", "eu-west-3", false, false}},
		{"123456789012.dkr.ecr.eu-west-3.amazonaws.com:443", parsed{"123456789012", "eu-west-3", false, false}},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", parsed{"123456789012", "us-gov-west-1", true, false}},
		{"123456789012.dkr.ecr-fips.us-east-2.amazonaws.com", parsed{"123456789012", "us-east-2", true, false}},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", parsed{"123456789012", "cn-north-1", false, false}},
		{"123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", parsed{"123456789012", "cn-northwest-1", false, false}},
		{"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", parsed{"123456789012", "eusc-de-east-1", false, false}},
		{"123456789012.dkr-ecr.us-west-2.on.aws", parsed{"123456789012", "us-west-2", false, false}},
		{"123456789012.dkr-ecr-fips.us-west-2.on.aws", parsed{"123456789012", "us-west-2", true, false}},
		{"123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", parsed{"123456789012", "us-iso-east-1", false, false}},
		{"123456789012.DKR.ECR.AP-SOUTHEAST-2.AMAZONAWS.COM", parsed{"123456789012", "ap-southeast-2", false, false}},
		{"public.ecr.aws", parsed{"", "us-east-1", false, true}},
		{"https://public.ecr.aws/nginx", parsed{"", "us-east-1", false, true}},
		{"ecr-public.aws.com", parsed{"", "us-east-1", false, true}}, // ECR Public's dual-stack host
		{"https://ecr-public.aws.com/amazonlinux", parsed{"", "us-east-1", false, true}},
		{"123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", parsed{"123456789012", "cn-north-1", false, false}},
		{"123456789012.dkr-ecr.eu-west-1.on.aws:443", parsed{"123456789012", "eu-west-1", false, false}},
		{"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", parsed{"123456789012", "eusc-de-east-1", false, false}},
		{"https://user:pw@123456789012.dkr.ecr.us-east-1.amazonaws.com", parsed{"123456789012", "us-east-1", false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			id, region, fips, public, err := ParseHost(tt.host)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, parsed{id, region, fips, public}); diff != "" {
				t.Fatalf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, bad := range []string{"", "ghcr.io", "12345.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr.ecr.amazonaws.com",
		"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.io", "123456789012.dkr.ecr.us-east-1.example.com", "ecr.aws",
		// Beyond the helper: the region must be an AWS region of the suffix's partition.
		"123456789012.dkr.ecr.moon.amazonaws.com", "123456789012.dkr.ecr.eu-paris-1.amazonaws.com",
		"123456789012.dkr.ecr.cn-north-1.amazonaws.com", "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",
		"123456789012.dkr.ecr.eu-west-1.amazonaws.eu", "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.com",
		"123456789012.dkr-ecr.cn-north-1.on.aws", "ecr-public.aws.com.evil.io", "123456789012.dkr.ecr.us east-1.amazonaws.com"} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, _, _, _, err := ParseHost(bad)
			var fe *registry.FieldError
			if !errors.As(err, &fe) || fe.Field != "url" {
				t.Fatalf("err = %v, want a FieldError for url", err)
			}
		})
	}
}

// The SDK resolves each flavour's endpoint, signs for the right service and region, and
// the token is decoded with its expiry and proxy endpoint.
func TestToken(t *testing.T) {
	tests := []struct {
		name       string
		region     string
		opts       []Option
		wantHost   string
		wantSvc    string
		wantTarget string
		wantProxy  string
	}{
		{"private", "eu-west-3", nil, "api.ecr.eu-west-3.amazonaws.com", "ecr",
			"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "https://123456789012.dkr.ecr.eu-west-3.amazonaws.com"},
		// The SDK's endpoint rules (aws-sdk-go-v2/service/ecr >= 1.55) name the FIPS API api.ecr-fips.
		{"fips", "us-east-1", []Option{WithFIPS()}, "api.ecr-fips.us-east-1.amazonaws.com", "ecr",
			"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "https://123456789012.dkr.ecr.us-east-1.amazonaws.com"},
		{"china", "cn-north-1", nil, "api.ecr.cn-north-1.amazonaws.com.cn", "ecr",
			"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"},
		{"govcloud", "us-gov-west-1", nil, "api.ecr.us-gov-west-1.amazonaws.com", "ecr",
			"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "https://123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"},
		{"european sovereign cloud", "eusc-de-east-1", nil, "api.ecr.eusc-de-east-1.amazonaws.eu", "ecr",
			"AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken", "https://123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu"},
		{"public (region forced to us-east-1)", "eu-west-1", []Option{WithPublic()}, "api.ecr-public.us-east-1.amazonaws.com", "ecr-public",
			"SpencerFrontendService.GetAuthorizationToken", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			opts := append([]Option{WithStaticKeys(keyID, secret, ""), WithHTTPClient(fake.Client())}, tt.opts...)
			p, err := New(tt.region, opts...)
			if err != nil {
				t.Fatal(err)
			}
			before := time.Now()
			tok, err := p.Token(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.Username != "AWS" || tok.Password.Reveal() != fakecloud.Password(1) || tok.ProxyEndpoint != tt.wantProxy {
				t.Fatalf("token = %+v %q, want AWS/%s proxy %q", tok.Credentials, tok.ProxyEndpoint, fakecloud.Password(1), tt.wantProxy)
			}
			// The concrete host learnt from the proxy endpoint, for records with a wildcard server.
			if want := strings.TrimPrefix(tt.wantProxy, "https://"); tok.Server != want {
				t.Fatalf("Server = %q, want %q", tok.Server, want)
			}
			if life := tok.ExpiresAt.Sub(before); life < 12*time.Hour-time.Minute || life > 12*time.Hour+time.Minute {
				t.Fatalf("expires in %v, want about 12h", life)
			}
			reqs := fake.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			got := reqs[0]
			wantRegion := tt.region
			if tt.wantSvc == "ecr-public" {
				wantRegion = PublicRegion
			}
			if got.Host != tt.wantHost || got.Sig.Service != tt.wantSvc || got.Sig.Region != wantRegion || got.Target != tt.wantTarget || got.Sig.AccessKeyID != keyID {
				t.Fatalf("request = %+v; want host %s service %s region %s target %s", got, tt.wantHost, tt.wantSvc, wantRegion, tt.wantTarget)
			}
			if c, _ := p.Credentials(context.Background()); c.Server != strings.TrimPrefix(tt.wantProxy, "https://") {
				t.Fatalf("Credentials().Server = %q", c.Server)
			}
		})
	}
}

func TestSessionToken(t *testing.T) {
	fake := fakecloud.NewAWS(t)
	fake.AddKey("ASIAIOSFODNN7EXAMPLE", secret, session)
	p, _ := New("us-east-1", WithStaticKeys("ASIAIOSFODNN7EXAMPLE", secret, session), WithHTTPClient(fake.Client()))
	if _, err := p.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0].Sig.SessionToken; got != session {
		t.Fatalf("signed session token = %q", got)
	}
	// Without the session token AWS does not know the temporary key.
	p, _ = New("us-east-1", WithStaticKeys("ASIAIOSFODNN7EXAMPLE", secret, ""), WithHTTPClient(fake.Client()))
	if _, err := p.Credentials(context.Background()); !errors.Is(err, registry.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
}

// Role-based: sts:AssumeRole signed with the base keys, then ECR signed with the role's
// temporary keys and session token.
func TestAssumeRole(t *testing.T) {
	fake := newFake(t)
	fake.AllowRole(roleARN)
	p, err := New("eu-central-1", WithStaticKeys(keyID, secret, ""), WithRole(roleARN), WithHTTPClient(fake.Client()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Credentials(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %+v, want AssumeRole then GetAuthorizationToken", reqs)
	}
	sts, ecr := reqs[0], reqs[1]
	if sts.Sig.Service != "sts" || sts.Sig.AccessKeyID != keyID || sts.Sig.Region != "eu-central-1" {
		t.Fatalf("sts request = %+v", sts)
	}
	if ecr.Sig.Service != "ecr" || !strings.HasPrefix(ecr.Sig.AccessKeyID, "ASIAFAKEROLE") || ecr.Sig.SessionToken == "" {
		t.Fatalf("ecr request not signed with the role's keys: %+v", ecr)
	}
	if c.Password.Reveal() != fakecloud.Password(2) {
		t.Fatalf("password = %q", c.Password.Reveal())
	}

	// A role the keys may not assume: ErrForbidden naming the role step.
	p, _ = New("eu-central-1", WithStaticKeys(keyID, secret, ""), WithRole("arn:aws:iam::123456789012:role/other"), WithHTTPClient(fake.Client()))
	_, err = p.Credentials(context.Background())
	if !errors.Is(err, registry.ErrForbidden) || !strings.Contains(err.Error(), "sts:AssumeRole") {
		t.Fatalf("err = %v, want ErrForbidden about sts:AssumeRole", err)
	}
	assertNoSecret(t, err)
}

// No keys: the default credential chain (here the environment) signs the request.
func TestDefaultChain(t *testing.T) {
	fake := newFake(t)
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", keyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	p, err := New("ap-southeast-2", WithHTTPClient(fake.Client()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Credentials(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := fake.Requests()[0]; got.Sig.AccessKeyID != keyID || got.Sig.Region != "ap-southeast-2" {
		t.Fatalf("request = %+v", got)
	}

	// An empty chain: ErrUnauthorized saying what to give.
	os.Unsetenv("AWS_ACCESS_KEY_ID")
	os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	p, _ = New("ap-southeast-2", WithHTTPClient(fake.Client()))
	_, err = p.Credentials(context.Background())
	if !errors.Is(err, registry.ErrUnauthorized) || !strings.Contains(err.Error(), "accessKeyId") {
		t.Fatalf("err = %v, want ErrUnauthorized with a hint", err)
	}
}

// WithEndpoint: the base endpoint override (a local emulator) still gets a signed request.
func TestWithEndpoint(t *testing.T) {
	fake := newFake(t)
	p, _ := New("us-west-2", WithStaticKeys(keyID, secret, ""), WithEndpoint(fake.Server.URL))
	tok, err := p.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Password.Reveal() != fakecloud.Password(1) || fake.Requests()[0].Sig.Region != "us-west-2" {
		t.Fatalf("token %+v, request %+v", tok, fake.Requests()[0])
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name   string
		region string
		opts   []Option
		field  string
	}{
		{"unknown region", "moon-base-1", nil, "region"},
		{"empty region", "", nil, "region"},
		{"key without secret", "us-east-1", []Option{WithStaticKeys(keyID, "", "")}, "secretAccessKey"},
		{"secret without key", "us-east-1", []Option{WithStaticKeys("", secret, "")}, "accessKeyId"},
		{"bad role", "us-east-1", []Option{WithRole("puller")}, "roleArn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.region, tt.opts...)
			var fe *registry.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, registry.ErrInvalid) {
				t.Fatalf("err = %v, want a FieldError for %s", err, tt.field)
			}
			assertNoSecret(t, err)
		})
	}
}

// Each fault of the token endpoint: a typed error that says what happened, no secret in it.
func TestFaults(t *testing.T) {
	tests := []struct {
		name    string
		fault   fakecloud.Fault
		key     string
		secret  string
		timeout time.Duration
		want    error
		mention string
	}{
		{"unknown access key", fakecloud.NoFault, "AKIAIOSFODNN7WRONGKY", secret, 0, registry.ErrUnauthorized, "accessKeyId"},
		{"wrong secret (signature mismatch)", fakecloud.NoFault, keyID, strings.Repeat("x", 40), 0, registry.ErrUnauthorized, "InvalidSignatureException"},
		{"access denied", fakecloud.FaultDenied, keyID, secret, 0, registry.ErrForbidden, "ecr:GetAuthorizationToken"},
		{"500", fakecloud.Fault500, keyID, secret, 0, registry.ErrUnavailable, "HTTP 500"},
		{"503 html", fakecloud.Fault503, keyID, secret, 0, registry.ErrUnavailable, "503"},
		{"malformed json", fakecloud.FaultJSON, keyID, secret, 0, registry.ErrUnavailable, "JSON"},
		{"token not base64", fakecloud.FaultToken, keyID, secret, 0, registry.ErrUnavailable, "base64"},
		{"hang", fakecloud.FaultHang, keyID, secret, 50 * time.Millisecond, context.DeadlineExceeded, "in time"},
	}
	var messages []string
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFake(t)
			fake.SetFault(tt.fault)
			p, err := New("us-east-1", WithStaticKeys(tt.key, registry.Secret(tt.secret), ""), WithHTTPClient(fake.Client()), WithName("prod-ecr"))
			if err != nil {
				t.Fatal(err)
			}
			msg := golden.Fault(t, p, tt.timeout, tt.want, "prod-ecr", tt.mention)
			messages = append(messages, tt.name+": "+msg)
			assertNoSecret(t, errors.New(msg))
		})
	}
	golden.Check(t, "faults.golden", messages)
}

// An unknown region passes the shape check but has no endpoint: the DNS failure says to
// check the region.
func TestRegionWithoutEndpoint(t *testing.T) {
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: r.URL.Hostname(), IsNotFound: true}}
	})}
	p, _ := New("ap-south-9", WithStaticKeys(keyID, secret, ""), WithHTTPClient(client))
	_, err := p.Credentials(context.Background())
	if !errors.Is(err, registry.ErrUnavailable) || !strings.Contains(err.Error(), `check the region "ap-south-9"`) || !strings.Contains(err.Error(), "api.ecr.ap-south-9.amazonaws.com") {
		t.Fatalf("err = %v", err)
	}
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Through the cache: the last good token is served while valid when ECR fails, an expired
// token from ECR is refused, and past the real expiry the caller gets ErrExpired.
func TestCachedFaults(t *testing.T) {
	now := time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	fake := newFake(t)
	fake.Now = clk.Now
	p, _ := New("us-east-1", WithStaticKeys(keyID, secret, ""), WithHTTPClient(fake.Client()))
	c := cache.New(p, cache.WithClock(clk), cache.WithName("prod-ecr"))
	ctx := context.Background()
	good, err := c.Credentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []fakecloud.Fault{fakecloud.Fault500, fakecloud.FaultExpire, fakecloud.FaultJSON, fakecloud.FaultDenied} {
		fake.SetFault(f)
		clk.Advance(3 * time.Hour) // 10h..: due, still valid before 12h
		if now = clk.Now(); now.Sub(good.ExpiresAt) >= 0 {
			break
		}
		got, err := c.Credentials(ctx)
		if err != nil || got.Password != good.Password {
			t.Fatalf("fault %s at +%v: got %v, %v; want the last good token", f, 12*time.Hour-good.ExpiresAt.Sub(now), got, err)
		}
	}
	fake.SetFault(fakecloud.FaultExpire)
	clk.Set(good.ExpiresAt.Add(time.Hour))
	got, err := c.Credentials(ctx)
	if !errors.Is(err, registry.ErrExpired) || !got.Anonymous() {
		t.Fatalf("after expiry: %v, %v; want ErrExpired", got, err)
	}
	assertNoSecret(t, err)
}

func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{secret, session, "ECRSECRETPASSWORD", "rolesecret", "ROLESESSIONTOKEN"} {
		for _, text := range []string{err.Error(), strings.ReplaceAll(err.Error(), "/", "")} {
			if strings.Contains(text, s) {
				t.Fatalf("error leaks a secret: %v", err)
			}
		}
	}
}

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"123456789012.dkr.ecr.us-east-1.amazonaws.com", "public.ecr.aws", "https://x/y", "[::1]:5000", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		id, region, _, public, err := ParseHost(host)
		if err == nil && !public && (len(id) != 12 || region == "") {
			t.Fatalf("ParseHost(%q) = %q, %q without error", host, id, region)
		}
	})
}

// The case table of amazon-ecr-credential-helper's ExtractRegistry (ecr-login/api
// client_test.go, v0.12.0), ported: Parse agrees on every case. (Parse refuses more: hosts
// whose region is no AWS region of the suffix's partition, see TestParseHost.)
func TestParseHostHelperTable(t *testing.T) {
	type want struct {
		ID, Region   string
		FIPS, Public bool
	}
	ok := []struct {
		host string
		want want
	}{
		{"https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/blah/blah", want{"123456789012", "us-east-1", false, false}},
		{"123456789012.dkr.ecr.us-west-2.amazonaws.com", want{"123456789012", "us-west-2", false, false}},
		{"123456789012.dkr-ecr.us-west-2.on.aws", want{"123456789012", "us-west-2", false, false}},
		{"123456789012.dkr-ecr-fips.us-west-2.on.aws", want{"123456789012", "us-west-2", true, false}},
		{"210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/foo", want{"210987654321", "cn-north-1", false, false}},
		{"210987654321.dkr.ecr.cn-north-1.on.amazonwebservices.com.cn", want{"210987654321", "cn-north-1", false, false}},
		{"210987654321.dkr.ecr.us-iso-east-1.c2s.ic.gov", want{"210987654321", "us-iso-east-1", false, false}},
		{"123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", want{"123456789012", "us-isob-east-1", false, false}},
		{"123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", want{"123456789012", "eu-isoe-west-1", false, false}},
		{"123456789012.dkr.ecr.us-isof-east-1.csp.hci.ic.gov", want{"123456789012", "us-isof-east-1", false, false}},
		{"123456789012.dkr-ecr.us-gov-east-1.on.aws", want{"123456789012", "us-gov-east-1", false, false}},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", want{"123456789012", "us-gov-west-1", true, false}},
		{"123456789012.dkr-ecr-fips.us-gov-east-1.on.aws", want{"123456789012", "us-gov-east-1", true, false}},
		{"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", want{"123456789012", "eusc-de-east-1", false, false}},
		{"https://public.ecr.aws", want{"", PublicRegion, false, true}},
		{"https://ecr-public.aws.com", want{"", PublicRegion, false, true}},
		{"public.ecr.aws", want{"", PublicRegion, false, true}},
		{"ecr-public.aws.com", want{"", PublicRegion, false, true}},
		{"https://public.ecr.aws/amazonlinux", want{"", PublicRegion, false, true}},
		{"https://ecr-public.aws.com/amazonlinux", want{"", PublicRegion, false, true}},
	}
	for _, tt := range ok {
		h, err := Parse(tt.host)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.host, err)
			continue
		}
		if diff := cmp.Diff(tt.want, want{h.RegistryID, h.Region, h.FIPS, h.Public}); diff != "" {
			t.Errorf("Parse(%q) (-want +got):\n%s", tt.host, diff)
		}
	}
	for _, bad := range []string{
		".dkr.ecr.not-real.amazonaws.com", "not.ecr.io",
		"https://123456789012.dkr.ecr.us-west-2.amazonaws.com.fake.example.com/image:latest",
		"123456789012.dkr.ecr.us-west-2.amazonaws.com.fake.example.com",
		"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com.fake.example.com",
		"210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn.fake.example.com.cn",
		"210987654321.dkr.ecr.cn-north-1.on.aws.com.cn",
		"https://public.ecr.aws.fake.example.com", "public.ecr.aws.fake.example.com",
	} {
		if h, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", bad, h)
		}
	}
}

func TestParseHostDualStack(t *testing.T) {
	for host, want := range map[string]bool{
		"123456789012.dkr-ecr.us-west-2.on.aws":                       true,
		"123456789012.dkr.ecr.us-west-2.amazonaws.com":                false,
		"ecr-public.aws.com":                                          true,
		"public.ecr.aws":                                              false,
		"123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn": true,
	} {
		h, err := Parse(host)
		if err != nil || h.DualStack != want {
			t.Errorf("Parse(%q) = %+v, %v; want DualStack %v", host, h, err, want)
		}
	}
}
