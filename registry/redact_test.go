package registry_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registry/conntest"
	"github.com/regcred/regcred/registry/keychain"
	"github.com/regcred/regcred/store/file"
	"github.com/regcred/regcred/store/memory"
)

// TestRedaction walks every type that holds a secret (or carries one in its making)
// through every way it can be printed and asserts that no secret value appears.
func TestRedaction(t *testing.T) {
	ctx := context.Background()
	const (
		pw       = "s3cr3t-password-A"
		tok      = "s3cr3t-token-B"
		idTok    = "s3cr3t-identity-C"
		regTok   = "s3cr3t-registry-D"
		awsKey   = "s3cr3tAWSkeyXXXXXXXXXXXXXXXXXXXXXXXXXXXX" // 40 characters
		session  = "s3cr3t-session-E"
		typo     = "s3cr3t-typo-F"
		badAWS   = "s3cr3t-short-G"
		urlPW    = "s3cr3t-url-H"
		badSAKey = "s3cr3t-not-json-I"
	)
	saKey := testSAKey(t)
	var parsedKey registry.ServiceAccountKey
	if err := json.Unmarshal([]byte(saKey), &parsedKey); err != nil {
		t.Fatal(err)
	}
	// A line from the middle of the PEM body stands for the private key.
	pemLines := strings.Split(string(parsedKey.PrivateKey), "\n")
	keyLine := pemLines[len(pemLines)/2]
	secrets := []string{pw, tok, idTok, regTok, awsKey, session, typo, badAWS, urlPW, badSAKey, keyLine}

	creds := registry.Credentials{Username: "alice", Password: pw, IdentityToken: idTok, RegistryToken: regTok,
		ExpiresAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	harbor := registry.Registry{ID: "reg-1", Name: "harbor", Kind: registry.KindHarbor, Server: "harbor.example.com",
		Fields: map[string]string{"username": "robot$ci", "password": pw}, TLS: registry.TLS{Mode: registry.TLSCustomCA, CABundle: testCA},
		Owner: "alice", Version: 3}
	ghcr := registry.Registry{ID: "reg-2", Name: "ghcr", Kind: registry.KindGHCR, Fields: map[string]string{"username": "octocat", "token": tok, "passwrd": typo}}
	ecr := registry.Registry{ID: "reg-3", Name: "ecr", Kind: registry.KindECR, Fields: map[string]string{
		"region": "eu-west-1", "accessKeyId": testAccessKey, "secretAccessKey": awsKey, "sessionToken": session}}
	gcr := registry.Registry{ID: "reg-4", Name: "gcr", Kind: registry.KindGCR, Fields: map[string]string{"serviceAccountKey": saKey}}

	// Errors made from secret-bearing input.
	errAWS := with(ecr, setField("secretAccessKey", badAWS)).Validate()
	errURL := with(harbor, func(r *registry.Registry) { r.Server = "https://robot:" + urlPW + "@harbor.example.com" }).Validate()
	_, errSA := registry.ParseServiceAccountKey(badSAKey)
	errSAPEM := with(gcr, setField("serviceAccountKey", saKeyWith(t, map[string]string{"private_key": "x" + keyLine}))).Validate()
	errAdd := func() error {
		_, err := catalog.New(memory.New()).Add(ctx, with(ecr, setField("secretAccessKey", badAWS)))
		return err
	}()
	for _, err := range []error{errAWS, errURL, errSA, errSAPEM, errAdd} {
		if err == nil {
			t.Fatal("fixture error is nil")
		}
	}

	// Containers that hold real values: keychain, providers, catalog, stores.
	kc, err := keychain.New([]registry.Registry{harbor, ghcr})
	if err != nil {
		t.Fatal(err)
	}
	auth, _ := kc.Resolve(name.MustParseReference("harbor.example.com/app").Context())
	prov, _ := kc.Provider("reg-1")
	mem := memory.New()
	file, err := file.New(filepath.Join(t.TempDir(), "r.json"))
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(mem)
	fcat := catalog.New(file)
	for _, r := range []registry.Registry{harbor, with(ghcr, setField("passwrd", ""))} {
		r.ID, r.Version = "", 0
		if _, err := cat.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := fcat.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cat.Keychain(ctx); err != nil { // fills the catalog's provider cache
		t.Fatal(err)
	}

	values := []struct {
		name string
		v    any
		want string // something the output must show, so an empty rendering fails
	}{
		{"Secret", registry.Secret(pw), registry.Redacted},
		{"*Secret", ptr(registry.Secret(pw)), ""},
		{"Credentials", creds, "alice"},
		{"*Credentials", &creds, "alice"},
		{"Registry static", harbor, "harbor"},
		{"*Registry", &harbor, "harbor"},
		{"Registry unknown field", ghcr, "ghcr"},
		{"Registry ECR", ecr, "ecr"},
		{"Registry GCR", gcr, "gcr"},
		// Containers: fmt reaches the elements' Format; slog's JSON handler does not (see
		// jsonContainers below).
		{"[]Registry", []registry.Registry{harbor, ecr}, "harbor"},
		{"map of Registry", map[string]registry.Registry{"a": gcr}, "gcr"},
		{"struct embedding Registry", struct{ R registry.Registry }{harbor}, "harbor"},
		{"ServiceAccountKey", parsedKey, "puller@demo"},
		{"Static provider", registry.Static(creds), "alice"},
		{"keychain provider", prov, "robot$ci"},
		{"authenticator", auth, "harbor"},
		{"*Keychain", kc, "2 registries"},
		{"*Catalog", cat, "Catalog"},
		{"*MemoryStore", mem, "2 registries"},
		{"*FileStore", file, "2 registries"},
		{"FieldError AWS", errAWS, "secretAccessKey"},
		{"FieldError URL user info", errURL, "user info"},
		{"FieldError SA not JSON", errSA, "serviceAccountKey"},
		{"FieldError SA PEM", errSAPEM, "serviceAccountKey"},
		{"*Error from Add", errAdd, "secretAccessKey"},
		{"*InUseError", &catalog.InUseError{Registry: "harbor", Refs: []string{"web"}}, "web"},
	}

	renderers := []struct {
		name string
		fn   func(v any) (string, bool)
	}{
		{"String", func(v any) (string, bool) {
			s, ok := v.(fmt.Stringer)
			if !ok {
				return "", false
			}
			return s.String(), true
		}},
		{"Error", func(v any) (string, bool) {
			e, ok := v.(error)
			if !ok {
				return "", false
			}
			return e.Error(), true
		}},
		{"%v", func(v any) (string, bool) { return fmt.Sprintf("%v", v), true }},
		{"%+v", func(v any) (string, bool) { return fmt.Sprintf("%+v", v), true }},
		{"%#v", func(v any) (string, bool) { return fmt.Sprintf("%#v", v), true }},
		{"%s", func(v any) (string, bool) { return fmt.Sprintf("%s", v), true }},
		{"%q", func(v any) (string, bool) { return fmt.Sprintf("%q", v), true }},
		{"%x", func(v any) (string, bool) { return fmt.Sprintf("%x", v), true }},
		{"errors wrapped", func(v any) (string, bool) {
			e, ok := v.(error)
			if !ok {
				return "", false
			}
			return fmt.Errorf("outer: %w", e).Error(), true
		}},
		{"slog text", func(v any) (string, bool) {
			var buf bytes.Buffer
			slog.New(slog.NewTextHandler(&buf, nil)).Info("msg", "value", v)
			return buf.String(), true
		}},
		{"slog json", func(v any) (string, bool) {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("msg", "value", v)
			return buf.String(), true
		}},
		{"slog group", func(v any) (string, bool) {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("msg", slog.Group("g", slog.Any("value", v)))
			return buf.String(), true
		}},
		{"json of Redacted", func(v any) (string, bool) {
			var r registry.Registry
			switch x := v.(type) {
			case registry.Registry:
				r = x
			case *registry.Registry:
				r = *x
			default:
				return "", false
			}
			b, err := json.Marshal(r.Redacted())
			if err != nil {
				return "err: " + err.Error(), true
			}
			return string(b), true
		}},
	}

	for _, val := range values {
		for _, rd := range renderers {
			if jsonContainers[val.name] && strings.HasPrefix(rd.name, "slog json") || jsonContainers[val.name] && rd.name == "slog group" {
				continue
			}
			out, ok := rd.fn(val.v)
			if !ok {
				continue // the type has no such rendering (no String, not an error, not a Registry)
			}
			t.Run(val.name+"/"+rd.name, func(t *testing.T) {
				for _, s := range secrets {
					if strings.Contains(out, s) {
						t.Fatalf("the secret %q leaks in:\n%s", s, out)
					}
				}
				hexed := fmt.Sprintf("%x", pw)
				if strings.Contains(out, hexed) {
					t.Fatalf("the hex of a secret leaks in:\n%s", out)
				}
				_, isErr := val.v.(error)
				if val.want != "" && rd.name != "%x" && !(isErr && rd.name == "%#v") && !strings.Contains(out, val.want) {
					t.Fatalf("output does not show %q, so it is not a real rendering:\n%s", val.want, out)
				}
			})
		}
	}

	// The values themselves still hold the secrets: redaction is in printing only.
	if creds.Password.Reveal() != pw || parsedKey.PrivateKey.Reveal() == "" {
		t.Fatal("Reveal lost the value")
	}
	var fe *registry.FieldError
	if !errors.As(errAdd, &fe) {
		t.Fatal("the Add error is not a FieldError")
	}
}

func ptr[T any](v T) *T { return &v }

// jsonContainers are rows exempt from the slog checks; none is: Registry's JSON form is
// redacted, so a Registry inside a slice, map or struct logged by slog's JSON handler
// stays redacted too.
var jsonContainers = map[string]bool{}

func TestRedactionJSONContainers(t *testing.T) {
	r := registry.Registry{ID: "h1", Name: "h", Kind: registry.KindHarbor, Server: "h.example.com",
		Fields: map[string]string{"username": "u", "password": "s3cr3t"}}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("one", "registry", r)
	log.Info("slice", "registries", []registry.Registry{r})
	log.Info("map", "byid", map[string]registry.Registry{"h": r})
	log.Info("struct", "s", struct{ R registry.Registry }{r})
	if strings.Contains(buf.String(), "s3cr3t") {
		t.Fatalf("a record nested in a logged value leaks:\n%s", buf.String())
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "s3cr3t") || !strings.Contains(string(b), `"redacted":true`) {
		t.Fatalf("json.Marshal is not the redacted view: %s", b)
	}
	var back registry.Registry
	if err := json.Unmarshal(b, &back); err != nil || !back.IsRedacted() {
		t.Fatalf("the redacted view decodes unmarked (err %v)", err)
	}
	stored, err := registry.MarshalStored(r)
	if err != nil || !strings.Contains(string(stored), "s3cr3t") {
		t.Fatalf("MarshalStored lost the real value: %s, %v", stored, err)
	}
	got, err := registry.UnmarshalStored(stored)
	if err != nil || got.Fields["password"] != "s3cr3t" || got.IsRedacted() {
		t.Fatalf("UnmarshalStored = %#v, %v", got.Fields, err)
	}
	if _, err := registry.MarshalStored(r.Redacted()); !errors.Is(err, registry.ErrRedacted) {
		t.Fatalf("MarshalStored of a redacted view: %v, want ErrRedacted", err)
	}
	if err := memory.New().Put(context.Background(), func() registry.Registry {
		v := r.Redacted()
		v.Version = 1
		return v
	}()); !errors.Is(err, registry.ErrRedacted) {
		t.Fatalf("Put of a redacted view: %v, want ErrRedacted", err)
	}
}

// TestServerUserInfoNeverPrinted: a server URL with user info is refused by Validate, and
// yet the record must never print the password: not through fmt, slog, Redacted, JSON,
// FormValues, the validation error, nor the connection test's report. Malformed forms
// (a password holding "/" or "@", no scheme) never have a piece quoted as a port or a path.
func TestServerUserInfoNeverPrinted(t *testing.T) {
	const pw = "Pw-s3cr3t"
	servers := []string{
		"https://robot:" + pw + "@harbor.example.com",
		"https://robot:" + pw + "@harbor.example.com:5000/org",
		"robot:" + pw + "@harbor.example.com",
		"https://robot:Pw/s3cr3t@harbor.example.com",  // "/" in the password: the rest looked like a path
		"https://robot:Pw@s3cr3t@harbor.example.com",  // "@" in the password
		"https://robot:12345@harbor.example.com:5000", // a numeric password looked like a port
		"http://robot:Pw%2Fs3cr3t@[::1]:5000",
		"https://" + pw + "@harbor.example.com",
	}
	pieces := []string{pw, "Pw/s3cr3t", "s3cr3t", "12345", "Pw%2F"}
	for _, srv := range servers {
		r := registry.Registry{ID: "r1", Name: "harbor", Kind: registry.KindHarbor, Server: srv,
			Fields: map[string]string{"username": "robot", "password": "pw"}}
		var outs []string
		outs = append(outs, fmt.Sprintf("%v", r), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), fmt.Sprintf("%s", r), r.String())
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "r", r)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "r", r, "list", []registry.Registry{r})
		outs = append(outs, buf.String())
		red := r.Redacted()
		outs = append(outs, red.Server, fmt.Sprintf("%#v", red))
		b, _ := json.Marshal(r)
		outs = append(outs, string(b))
		for k, v := range r.FormValues() {
			outs = append(outs, k+"="+v)
		}
		err := r.Validate()
		if err == nil {
			t.Fatalf("%s: Validate accepted user info", srv)
		}
		outs = append(outs, err.Error())
		if _, perr := registry.ParseServer(srv); perr != nil {
			outs = append(outs, perr.Error())
		}
		rep := conntest.Test(context.Background(), r)
		outs = append(outs, rep.String(), rep.Server)
		if jb, err := json.Marshal(rep); err == nil {
			outs = append(outs, string(jb))
		}
		if rep.Err() != nil {
			outs = append(outs, rep.Err().Error())
		}
		for _, out := range outs {
			for _, p := range pieces {
				if strings.Contains(out, p) {
					t.Fatalf("server %s: %q leaks in:\n%s", srv, p, out)
				}
			}
		}
		if !strings.Contains(err.Error(), "user info") {
			t.Errorf("%s: Validate = %v, want it to say user info", srv, err)
		}
		if !strings.Contains(red.Server, "harbor.example.com") && !strings.Contains(red.Server, "[::1]") {
			t.Errorf("%s: the redacted server %q lost the host", srv, red.Server)
		}
	}
}

// TestJSONIsRedacted: the default JSON form of every type that holds a secret is redacted,
// alone and nested (slog's JSON handler encodes nested values with encoding/json).
func TestJSONIsRedacted(t *testing.T) {
	const pw, idTok, regTok = "s3cr3t-pw", "s3cr3t-id", "s3cr3t-reg"
	creds := registry.Credentials{Username: "alice", Password: pw, IdentityToken: idTok, RegistryToken: regTok,
		ExpiresAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var key registry.ServiceAccountKey
	if err := json.Unmarshal([]byte(testSAKey(t)), &key); err != nil {
		t.Fatal(err)
	}
	keyLine := strings.Split(key.PrivateKey.Reveal(), "\n")[2]
	values := map[string]any{
		"Secret":            registry.Secret(pw),
		"*Secret":           ptr(registry.Secret(pw)),
		"map of Secret":     map[string]registry.Secret{"a": pw},
		"Credentials":       creds,
		"[]Credentials":     []registry.Credentials{creds},
		"struct of Creds":   struct{ C *registry.Credentials }{&creds},
		"ServiceAccountKey": key,
	}
	for name, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "v", v, "nested", []any{v})
		for _, out := range []string{string(b), buf.String()} {
			for _, s := range []string{pw, idTok, regTok, keyLine} {
				if strings.Contains(out, s) {
					t.Errorf("%s: %q leaks in %s", name, s, out)
				}
			}
			if !strings.Contains(out, registry.Redacted) {
				t.Errorf("%s: %s does not say %s", name, out, registry.Redacted)
			}
		}
	}
	b, _ := json.Marshal(creds)
	want := `{"username":"alice","password":"REDACTED","identityToken":"REDACTED","registryToken":"REDACTED","expiresAt":"2026-01-01T00:00:00Z"}`
	if string(b) != want {
		t.Errorf("Credentials JSON\n got %s\nwant %s", b, want)
	}
	if b, _ := json.Marshal(registry.Credentials{}); string(b) != `{}` {
		t.Errorf("anonymous Credentials JSON = %s", b)
	}
	// Decoding still reads real values: a key file parses.
	if key.PrivateKey.Reveal() == registry.Redacted || !strings.HasPrefix(key.PrivateKey.Reveal(), "-----BEGIN") {
		t.Fatal("decoding a Secret lost its value")
	}
}

// TestPrintingEscapesTypedText: %+v, %v and String of a record whose name and server hold
// terminal escapes print them escaped, never raw.
func TestPrintingEscapesTypedText(t *testing.T) {
	r := registry.Registry{Name: "x\x1b]0;owned\x07", Kind: registry.KindCustom, Server: "reg\x1b[2J.example.com"}
	for _, out := range []string{fmt.Sprintf("%+v", r), fmt.Sprintf("%v", r), fmt.Sprintf("%#v", r), r.String()} {
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("raw escape in %q", out)
		}
	}
}
