package fakecloud

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Fault makes a fake endpoint misbehave on purpose.
type Fault string

// The faults every fake knows (each fake documents which it honours).
const (
	NoFault     Fault = ""
	Fault500    Fault = "500"       // HTTP 500 with the service's error body
	Fault503    Fault = "503"       // HTTP 503 with an HTML body (a load balancer)
	FaultHang   Fault = "hang"      // never answers (until the client gives up)
	FaultJSON   Fault = "malformed" // HTTP 200 with truncated JSON
	FaultToken  Fault = "badtoken"  // a well-formed answer whose token does not decode
	FaultExpire Fault = "expired"   // a token that expired a minute ago
	FaultDenied Fault = "denied"    // HTTP 403, access denied
)

// AWSAccount is the account the fake's private registries belong to.
const AWSAccount = "123456789012"

// AWSRequest is one request the fake AWS answered.
type AWSRequest struct {
	Host   string // the host the SDK addressed (before redirection to the fake)
	Target string // X-Amz-Target (JSON 1.1) or Action (query protocol)
	Sig    SigV4
}

// AWS is a fake of the three AWS APIs regcred calls, speaking their documented wire
// formats on one httptest server: ECR (AWS JSON 1.1, X-Amz-Target
// AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken), ECR Public (AWS JSON 1.1,
// SpencerFrontendService.GetAuthorizationToken) and STS AssumeRole (query protocol, XML).
// Every request must carry a valid SigV4 signature for a known key, scoped to the service
// and to the region of the host it was sent to. Client returns an *http.Client that sends
// every AWS host to the fake, so the SDK's own endpoint resolution (FIPS, China, public) is
// exercised and checked.
type AWS struct {
	Server *httptest.Server
	// Now is the clock of issued tokens' expiry (default time.Now); Lifetime their life
	// (default 12 h, as ECR's).
	Now      func() time.Time
	Lifetime time.Duration

	mu       sync.Mutex
	keys     map[string]string // access key ID -> secret
	sessions map[string]string // access key ID -> the session token it requires
	roles    map[string]bool
	fault    Fault
	reqs     []AWSRequest
	issued   int
	release  chan struct{}
}

// NewAWS starts the fake; it stops when the test ends.
func NewAWS(t testing.TB) *AWS {
	a := &AWS{Now: time.Now, Lifetime: 12 * time.Hour, keys: map[string]string{}, sessions: map[string]string{},
		roles: map[string]bool{}, release: make(chan struct{})}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(a.Server.Close)
	t.Cleanup(func() { close(a.release) }) // runs first: unblocks hanging handlers
	return a
}

// AddKey registers an access key (with the session token it requires, if any).
func (a *AWS) AddKey(id, secret, session string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.keys[id] = secret
	if session != "" {
		a.sessions[id] = session
	}
}

// AllowRole lets any known key assume the role.
func (a *AWS) AllowRole(arn string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.roles[arn] = true
}

// SetFault makes every following answer misbehave (NoFault to stop).
func (a *AWS) SetFault(f Fault) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.fault = f
}

// Requests returns the requests answered so far.
func (a *AWS) Requests() []AWSRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]AWSRequest(nil), a.reqs...)
}

// Password returns the registry password of the n-th token issued (1-based).
func Password(n int) string { return fmt.Sprintf("ECRSECRETPASSWORD%04d", n) }

// Client returns an HTTP client that sends requests for any host to the fake, keeping the
// Host header the SDK chose (and signed).
func (a *AWS) Client() *http.Client { return redirectClient(a.Server) }

func redirectClient(s *httptest.Server) *http.Client {
	target, _ := url.Parse(s.URL)
	base := s.Client().Transport
	return &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r2 := r.Clone(r.Context())
		if r2.Host == "" {
			r2.Host = r.URL.Host
		}
		r2.URL.Scheme, r2.URL.Host = target.Scheme, target.Host
		return base.RoundTrip(r2)
	})}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var awsHostRE = regexp.MustCompile(`^(api\.ecr|ecr-fips|api\.ecr-public|ecr-public|sts|sts-fips)\.([a-z0-9-]+)\.(amazonaws\.com|amazonaws\.com\.cn|api\.aws)$`)

func (a *AWS) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	fault := a.fault
	a.mu.Unlock()
	if fault == FaultHang {
		select {
		case <-r.Context().Done():
		case <-a.release:
		}
		return
	}
	isQuery := strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
	target := r.Header.Get("X-Amz-Target")
	wantService := ""
	switch {
	case isQuery:
		wantService = "sts"
	case target == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken":
		wantService = "ecr"
	case target == "SpencerFrontendService.GetAuthorizationToken":
		wantService = "ecr-public"
	default:
		jsonError(w, http.StatusBadRequest, "UnknownOperationException", "unknown X-Amz-Target "+target)
		return
	}
	if !isQuery && r.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		jsonError(w, http.StatusBadRequest, "SerializationException", "Content-Type must be application/x-amz-json-1.1")
		return
	}
	sig, err := VerifySigV4(r, func(id string) (string, bool) {
		a.mu.Lock()
		defer a.mu.Unlock()
		s, ok := a.keys[id]
		return s, ok
	})
	if err == nil {
		a.mu.Lock()
		need := a.sessions[sig.AccessKeyID]
		a.mu.Unlock()
		if need != sig.SessionToken {
			err = errUnknownKey
		}
	}
	if err == nil && sig.Service != wantService {
		err = fmt.Errorf("%w: credential should be scoped to correct service: '%s'", errBadSignature, wantService)
	}
	if m := awsHostRE.FindStringSubmatch(r.Host); err == nil && m != nil && sig.Region != m[2] {
		err = fmt.Errorf("%w: credential should be scoped to a valid region: '%s'", errBadSignature, m[2])
	}
	if err != nil {
		status, code := http.StatusBadRequest, "UnrecognizedClientException"
		if errors.Is(err, errBadSignature) {
			status, code = http.StatusForbidden, "InvalidSignatureException"
		}
		if isQuery {
			xmlError(w, status, strings.TrimSuffix(code, "Exception"), err.Error())
		} else {
			jsonError(w, status, code, err.Error())
		}
		return
	}
	a.mu.Lock()
	a.reqs = append(a.reqs, AWSRequest{Host: r.Host, Target: target, Sig: sig})
	a.mu.Unlock()
	if isQuery {
		a.assumeRole(w, r, fault)
		return
	}
	io.Copy(io.Discard, r.Body)
	switch fault {
	case Fault500:
		jsonError(w, http.StatusInternalServerError, "ServerException", "internal failure")
		return
	case Fault503:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "<html><body>503 Service Unavailable</body></html>")
		return
	case FaultDenied:
		jsonError(w, http.StatusForbidden, "AccessDeniedException", "User is not authorized to perform: ecr:GetAuthorizationToken")
		return
	case FaultJSON:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"authorizationData":[{"authorizationToken":"QVdT`)
		return
	}
	a.mu.Lock()
	a.issued++
	n := a.issued
	a.mu.Unlock()
	token := base64.StdEncoding.EncodeToString([]byte("AWS:" + Password(n)))
	if fault == FaultToken {
		token = "!!not-base64!!"
	}
	exp := a.Now().Add(a.Lifetime)
	if fault == FaultExpire {
		exp = a.Now().Add(-time.Minute)
	}
	data := map[string]any{"authorizationToken": token, "expiresAt": float64(exp.UnixMilli()) / 1000}
	var body any
	if wantService == "ecr-public" {
		body = map[string]any{"authorizationData": data}
	} else {
		region := sig.Region
		suffix := "amazonaws.com"
		if strings.HasPrefix(region, "cn-") {
			suffix = "amazonaws.com.cn"
		}
		if strings.HasPrefix(region, "eusc-") { // the European Sovereign Cloud
			suffix = "amazonaws.eu"
		}
		data["proxyEndpoint"] = "https://" + AWSAccount + ".dkr.ecr." + region + "." + suffix
		body = map[string]any{"authorizationData": []any{data}}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(body)
}

func (a *AWS) assumeRole(w http.ResponseWriter, r *http.Request, fault Fault) {
	if err := r.ParseForm(); err != nil || r.PostForm.Get("Action") != "AssumeRole" || r.PostForm.Get("Version") != "2011-06-15" {
		xmlError(w, http.StatusBadRequest, "InvalidAction", "only AssumeRole, version 2011-06-15")
		return
	}
	arn := r.PostForm.Get("RoleArn")
	a.mu.Lock()
	allowed := a.roles[arn]
	a.mu.Unlock()
	if !allowed || fault == FaultDenied {
		xmlError(w, http.StatusForbidden, "AccessDenied", "User is not authorized to perform: sts:AssumeRole on resource: "+arn)
		return
	}
	if r.PostForm.Get("RoleSessionName") == "" {
		xmlError(w, http.StatusBadRequest, "ValidationError", "RoleSessionName is required")
		return
	}
	a.mu.Lock()
	a.issued++
	id := fmt.Sprintf("ASIAFAKEROLE%08d", a.issued)
	secret := fmt.Sprintf("rolesecret%030d", a.issued)
	session := fmt.Sprintf("ROLESESSIONTOKEN%d", a.issued)
	a.keys[id], a.sessions[id] = secret, session
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>%s</AccessKeyId>
      <SecretAccessKey>%s</SecretAccessKey>
      <SessionToken>%s</SessionToken>
      <Expiration>%s</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <Arn>%s/%s</Arn>
      <AssumedRoleId>AROAFAKE:%s</AssumedRoleId>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>`, id, secret, session, a.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		strings.Replace(arn, ":role/", ":assumed-role/", 1), r.PostForm.Get("RoleSessionName"), r.PostForm.Get("RoleSessionName"))
}

func jsonError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"__type": code, "message": msg})
}

func xmlError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>0</RequestId></ErrorResponse>`, code, msg)
}
