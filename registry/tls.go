package registry

import (
	"crypto/tls"
	"crypto/x509"
)

// TLSMode is how regcred talks TLS to a registry (seed 003's "advanced connection options").
type TLSMode string

const (
	// TLSSecure: https only, verified against the system roots. The default.
	TLSSecure TLSMode = "secure"
	// TLSCustomCA: https verified against the record's CA bundle (and the system roots too
	// when TLS.SystemRoots is set).
	TLSCustomCA TLSMode = "ca"
	// TLSInsecure: explicit opt-in for registries with broken certificates or plain http:
	// verification is skipped and reports say so.
	TLSInsecure TLSMode = "insecure"
)

// TLS is a record's connection settings.
type TLS struct {
	Mode        TLSMode `json:"mode,omitempty"`        // "" means TLSSecure
	CABundle    string  `json:"caBundle,omitempty"`    // PEM, for TLSCustomCA
	SystemRoots bool    `json:"systemRoots,omitempty"` // with TLSCustomCA: trust the system roots too
}

// EffectiveMode is Mode with "" read as TLSSecure.
func (t TLS) EffectiveMode() TLSMode {
	if t.Mode == "" {
		return TLSSecure
	}
	return t.Mode
}

func (t TLS) validate(s Server) error {
	switch t.EffectiveMode() {
	case TLSSecure:
		if s.Scheme == "http" {
			return &FieldError{Field: "url", Reason: "is http:// but TLS mode is secure only",
				Hint: "use https://, or choose the insecure TLS mode for a plain-http registry"}
		}
		if t.CABundle != "" {
			return &FieldError{Field: "tls.caBundle", Reason: "is set but TLS mode is secure only", Hint: "choose the custom CA mode"}
		}
	case TLSCustomCA:
		if s.Scheme == "http" {
			return &FieldError{Field: "url", Reason: "is http:// but TLS mode is custom CA", Hint: "use https://"}
		}
		if _, err := t.CertPool(); err != nil {
			return err
		}
	case TLSInsecure:
	default:
		return &FieldError{Field: "tls.mode", Reason: "unknown TLS mode " + string(t.Mode), Hint: "secure, ca or insecure"}
	}
	return nil
}

func (t TLS) CertPool() (*x509.CertPool, error) {
	if t.CABundle == "" {
		return nil, &FieldError{Field: "tls.caBundle", Reason: "is empty", Hint: "paste the registry's CA certificate (PEM, ca.crt)"}
	}
	var pool *x509.CertPool
	if t.SystemRoots {
		sys, err := x509.SystemCertPool()
		if err == nil {
			pool = sys.Clone()
		}
	}
	if pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM([]byte(t.CABundle)) {
		return nil, &FieldError{Field: "tls.caBundle", Reason: "holds no PEM certificate", Hint: "paste the -----BEGIN CERTIFICATE----- block"}
	}
	return pool, nil
}

// Config returns the *tls.Config for the mode.
func (t TLS) Config() (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	switch t.EffectiveMode() {
	case TLSCustomCA:
		pool, err := t.CertPool()
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	case TLSInsecure:
		c.InsecureSkipVerify = true
	}
	return c, nil
}
