package fakecloud

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// SigV4 is what a verified AWS Signature Version 4 header says.
type SigV4 struct {
	AccessKeyID   string
	Date          string // yyyymmdd of the credential scope
	Region        string
	Service       string
	SignedHeaders []string
	SessionToken  string // X-Amz-Security-Token, when signed
}

// VerifySigV4 checks r's Authorization header the way AWS does: it rebuilds the canonical
// request and the string to sign from r and its body, derives the signing key from the
// secret that secretFor returns for the access key ID, and compares signatures. It is an
// independent implementation of the published algorithm, not the SDK's signer. The body is
// read and put back.
func VerifySigV4(r *http.Request, secretFor func(accessKeyID string) (string, bool)) (SigV4, error) {
	var s SigV4
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return s, errors.New("MissingAuthenticationToken: no AWS4-HMAC-SHA256 Authorization header")
	}
	parts := map[string]string{}
	for _, p := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[k] = v
	}
	scope := strings.Split(parts["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return s, errors.New("IncompleteSignature: bad Credential scope")
	}
	s.AccessKeyID, s.Date, s.Region, s.Service = scope[0], scope[1], scope[2], scope[3]
	s.SignedHeaders = strings.Split(parts["SignedHeaders"], ";")
	secret, ok := secretFor(s.AccessKeyID)
	if !ok {
		return s, errUnknownKey
	}
	amzDate := r.Header.Get("X-Amz-Date")
	if len(amzDate) < 8 || amzDate[:8] != s.Date {
		return s, errors.New("IncompleteSignature: X-Amz-Date does not match the credential scope")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return s, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	var ch strings.Builder
	signedHost := false
	for _, h := range s.SignedHeaders {
		var v string
		switch h {
		case "host":
			v, signedHost = r.Host, true
			if v == "" { // a client-side request
				v = r.URL.Host
			}
		case "content-length":
			v = r.Header.Get("Content-Length")
			if v == "" { // a client-side request keeps it in ContentLength
				v = strconv.FormatInt(r.ContentLength, 10)
			}
		default:
			vals := r.Header.Values(h)
			for i := range vals {
				vals[i] = strings.Join(strings.Fields(vals[i]), " ")
			}
			v = strings.Join(vals, ",")
		}
		ch.WriteString(h + ":" + v + "\n")
	}
	if !signedHost {
		return s, errors.New("IncompleteSignature: host is not signed")
	}
	if tok := r.Header.Get("X-Amz-Security-Token"); tok != "" {
		if !contains(s.SignedHeaders, "x-amz-security-token") {
			return s, errors.New("IncompleteSignature: X-Amz-Security-Token is not signed")
		}
		s.SessionToken = tok
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	bodyHash := sha256.Sum256(body)
	canonical := strings.Join([]string{
		r.Method, path, canonicalQuery(r.URL.Query()), ch.String(), parts["SignedHeaders"], hex.EncodeToString(bodyHash[:]),
	}, "\n")
	crHash := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + strings.Join(scope[1:], "/") + "\n" + hex.EncodeToString(crHash[:])
	key := []byte("AWS4" + secret)
	for _, part := range []string{s.Date, s.Region, s.Service, "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(parts["Signature"])) {
		return s, fmt.Errorf("%w: the request signature does not match", errBadSignature)
	}
	return s, nil
}

var (
	errUnknownKey   = errors.New("UnrecognizedClientException: the access key ID is not known")
	errBadSignature = errors.New("InvalidSignatureException")
)

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vals := append([]string(nil), q[k]...)
		sort.Strings(vals)
		for _, v := range vals {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
