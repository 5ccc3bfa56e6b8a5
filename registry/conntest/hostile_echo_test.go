package conntest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
)

// A hostile registry echoes what it was sent, in every encoding, wherever a report takes
// text from a server: the reason phrase, a header the diagnosis quotes, an error body, the
// token service's error. The report redacts the raw secrets and each of their encodings:
// base64 of user:password (the Basic header's value), the bearer token, the password as a
// form or a path encodes it, and JSON's escaping of it. Before, only raw secrets were
// replaced: "Basic YWxpY2U6..." came back in the report as the server sent it.
func TestConnRedactsEchoedEncodings(t *testing.T) {
	const (
		user     = "alice"
		password = `hunter2 s3cret/+&="<x>`
		token    = "tok-3f9a1c77e2b84d0e9f10"
	)
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	jsonPW, _ := json.Marshal(password)
	forms := map[string]string{
		"raw password":        password,
		"basic base64":        basic,
		"basic base64url":     base64.URLEncoding.EncodeToString([]byte(user + ":" + password)),
		"basic base64 raw":    base64.RawStdEncoding.EncodeToString([]byte(user + ":" + password)),
		"password base64":     base64.StdEncoding.EncodeToString([]byte(password)),
		"password form":       url.QueryEscape(password),
		"password path":       url.PathEscape(password),
		"password json":       strings.Trim(string(jsonPW), `"`),
		"token":               token,
		"token base64":        base64.StdEncoding.EncodeToString([]byte(token)),
		"basic base64 prefix": basic[:16], // "alice:hunter": a bounded text may cut the value, no part of it stays
	}
	// echo is everything the server saw, in every encoding, once.
	echo := func(r *http.Request) string {
		var b strings.Builder
		b.WriteString("echo-mark " + r.Header.Get("Authorization"))
		for _, name := range []string{"password form", "password path", "password json", "password base64"} {
			b.WriteString(" " + forms[name])
		}
		if r.Header.Get("Authorization") == "Bearer "+token { // a token only the client and the server know
			b.WriteString(" " + forms["token base64"])
		}
		return b.String()
	}
	// reason writes a raw response whose reason phrase is msg (net/http writes only the
	// standard phrases).
	reason := func(w http.ResponseWriter, code int, msg string, hdr string) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			panic(err)
		}
		defer conn.Close()
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n", code, msg, hdr)
		buf.Flush()
	}
	var srv *httptest.Server
	challenge := func(w http.ResponseWriter, r *http.Request, scheme string) bool {
		if r.URL.Path == "/token" {
			fmt.Fprintf(w, `{"token":%q}`, token)
			return true
		}
		if r.Header.Get("Authorization") == "" {
			if scheme == "Basic" {
				w.Header().Set("WWW-Authenticate", `Basic realm="r"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+srv.URL+`/token",service="svc"`)
			}
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		if r.URL.Path == "/v2/" {
			return true // 200
		}
		return false
	}
	cases := map[string]http.HandlerFunc{
		"basic: the image step's reason phrase": func(w http.ResponseWriter, r *http.Request) {
			if !challenge(w, r, "Basic") {
				reason(w, http.StatusBadGateway, echo(r), "X-Echo: "+echo(r)+"\r\n")
			}
		},
		"basic: a reason phrase cut by its bound": func(w http.ResponseWriter, r *http.Request) {
			if !challenge(w, r, "Basic") { // the transport bounds a phrase to 64 runes: this one ends 20 runes into the value
				reason(w, http.StatusBadGateway, "echo-mark "+strings.Repeat("x", 26)+" "+r.Header.Get("Authorization"), "")
			}
		},
		"bearer: the image step's reason phrase": func(w http.ResponseWriter, r *http.Request) {
			if !challenge(w, r, "Bearer") {
				reason(w, http.StatusBadGateway, "echo-mark "+forms["token base64"]+" "+r.Header.Get("Authorization"), "")
			}
		},
		"bearer: the token service's error": func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				w.WriteHeader(http.StatusUnauthorized)
				fmt.Fprintf(w, `{"errors":[{"code":"UNAUTHORIZED","message":"you sent %s"}]}`, echo(r))
				return
			}
			challenge(w, r, "Bearer")
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			srv = httptest.NewServer(h)
			defer srv.Close()
			rep := conntest.Test(context.Background(), connRecord(srv.URL, registry.TLSInsecure, nil, user, password), conntest.WithImage("team/app:v1"))
			if rep.Failed() == nil {
				t.Fatalf("the hostile server passed:\n%s", rep)
			}
			js, err := json.Marshal(rep)
			if err != nil {
				t.Fatal(err)
			}
			texts := map[string]string{"json": string(js), "String": rep.String(), "err": fmt.Sprintf("%v", rep.Err()),
				"%+v": fmt.Sprintf("%+v", rep.Steps)}
			for where, text := range texts {
				for form, v := range forms {
					if strings.Contains(text, v) {
						t.Errorf("%s holds the %s %q:\n%s", where, form, v, text)
					}
				}
			}
			// The server's text reaches the report (or the checks above could not fail), with
			// the secrets replaced.
			if !strings.Contains(texts["json"], "echo-mark") || !strings.Contains(texts["json"], registry.Redacted) {
				t.Errorf("the report does not show the echo with its secrets removed:\n%s", texts["json"])
			}
		})
	}
}
