package conntest

import (
	"bytes"
	"io"
	"net/http"
	"strconv"

	"github.com/regcred/regcred/internal/redact"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/transport"
)

// maxScrubBody bounds the error body the scrubber reads (the transport bounds error
// bodies to 1 MiB already).
const maxScrubBody = 1 << 20

// secretSet is every secret the test has used so far, in every encoding a server may echo
// it in (internal/redact): the record's secret fields, the provider's credentials (and
// their Basic header value), the bearer tokens the token service issued.
func (t *tester) secretSet() *redact.Set {
	var s redact.Set
	for _, v := range t.secrets {
		s.Add(v)
	}
	if p := t.creds.Password.Reveal(); p != "" {
		s.AddBasic(t.creds.Username, p)
	}
	if u, p := t.r.Fields["username"], t.r.Fields["password"]; p != "" {
		s.AddBasic(u, p)
	}
	return &s
}

// scrubber removes the test's secrets from everything a server sends back before the
// test reads it: the status line, the headers, and the body of an answer that is not a
// success (an error message may echo the request). Success bodies are left alone: a token
// service's answer holds the token the test needs.
type scrubber struct {
	inner http.RoundTripper
	t     *tester
}

func (s scrubber) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.inner.RoundTrip(req)
	set := s.t.secretSet()
	if auth := req.Header.Get("Authorization"); auth != "" {
		set.AddAuthorization(auth)
	}
	if set.Empty() {
		return resp, err
	}
	if err != nil {
		if txt := err.Error(); set.Replace(txt, registry.Redacted) != txt {
			err = &transport.ConnRedactedError{Text: set.Replace(txt, registry.Redacted), Err: err}
		}
		return resp, err
	}
	resp.Status = set.Replace(resp.Status, registry.Redacted)
	for _, vs := range resp.Header {
		for i, v := range vs {
			vs[i] = set.Replace(v, registry.Redacted)
		}
	}
	if resp.StatusCode >= 300 && resp.Body != nil && resp.Body != http.NoBody {
		b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxScrubBody))
		resp.Body.Close()
		if rerr != nil {
			return nil, rerr
		}
		b = []byte(set.Replace(string(b), registry.Redacted))
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	}
	return resp, nil
}

// redact removes every secret the test saw, in every encoding, from the report's texts
// and errors: the net under the scrubber, for texts that came another way (a provider's
// error, a dial error).
func (t *tester) redact(rep *Report) {
	set := t.secretSet()
	if set.Empty() {
		return
	}
	clean := func(s string) string { return set.Replace(s, registry.Redacted) }
	for i := range rep.Steps {
		s := &rep.Steps[i]
		s.Detail, s.Cause, s.Fix = clean(s.Detail), clean(s.Cause), clean(s.Fix)
		if ce, ok := s.Err.(*Error); ok {
			ce.Cause, ce.Fix = clean(ce.Cause), clean(ce.Fix)
			if ce.Err != nil {
				if txt := ce.Err.Error(); clean(txt) != txt {
					ce.Err = &transport.ConnRedactedError{Text: clean(txt), Err: ce.Err}
				}
			}
		}
	}
}
