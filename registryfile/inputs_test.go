package registryfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/regcred/regcred/internal/boundedfile"
	"github.com/regcred/regcred/registry"
)

// noHang fails the test instead of hanging CI when f blocks: a FIFO without a writer
// blocked Load forever before.
func noHang(t *testing.T, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("still blocked after 10 s: a named pipe or device must be refused at once")
	}
}

func mkfifo(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// sparse makes a file of size bytes that takes no disk.
func sparse(t *testing.T, p string, size int64) string {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// The registries file (the CLI's -f, $REGCRED_CONFIG, the helpers' default path) must be a
// regular file of at most MaxFileSize: before, a FIFO hung every binary, /dev/zero ate
// memory until killed and a 50 MB file took 2 GB and 22 s to be refused.
func TestLoadRefusesWhatIsNotASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := mkfifo(t, dir)
	big := filepath.Join(dir, "big.yaml") // valid YAML: it took 1.8 GB and 13 s before
	chunk := bigFile(1 << 20)
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		f.WriteString(chunk)
	}
	f.Close()
	link := filepath.Join(dir, "link.yaml")
	os.Symlink(fifo, link)
	for _, tc := range []struct {
		name, path, want string
		is               error
	}{
		{"fifo", fifo, "the registries file is a named pipe (FIFO), not a regular file", boundedfile.ErrNotRegular},
		{"symlink to a fifo", link, "the registries file is a named pipe (FIFO), not a regular file", boundedfile.ErrNotRegular},
		{"dev zero", "/dev/zero", "the registries file is a character device, not a regular file", boundedfile.ErrNotRegular},
		{"directory", dir, "the registries file is a directory, not a regular file", boundedfile.ErrNotRegular},
		{"50 MB file", big, "the registries file is too large (at most 2 MiB)", boundedfile.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			noHang(t, func() {
				_, err := Load(tc.path)
				if !errors.Is(err, tc.is) {
					t.Fatalf("Load(%s) = %v, want %v", tc.path, err, tc.is)
				}
				if want := tc.path + ": " + tc.want; !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error %q, want it to start with %q", err, want)
				}
			})
		})
	}
	t.Run("symlink to a regular file", func(t *testing.T) {
		real := filepath.Join(dir, "real.yaml")
		os.WriteFile(real, []byte("- {name: p, type: public}\n"), 0o600)
		ln := filepath.Join(dir, "ln.yaml")
		os.Symlink(real, ln)
		if regs, err := Load(ln); err != nil || len(regs) != 1 {
			t.Fatalf("Load(symlink) = %v, %v", regs, err)
		}
	})
}

// An endless or huge reader is refused after MaxFileSize+1 bytes, before any parsing.
func TestDecodeRefusesALargeInput(t *testing.T) {
	src := &endless{}
	_, err := Decode(src, WithFileName("stdin"))
	if !errors.Is(err, boundedfile.ErrTooLarge) || err.Error() != "stdin: the registries file is too large (at most 2 MiB)" {
		t.Fatalf("Decode(endless) = %v", err)
	}
	if src.n > MaxFileSize+1<<16 {
		t.Errorf("read %d bytes of an endless input; the limit is %d", src.n, MaxFileSize)
	}
}

type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '#'
	}
	e.n += len(p)
	return len(p), nil
}

// file: values: only regular files of at most MaxValueFileSize; the error names file,
// entry and field.
func TestFileValueRefusesWhatIsNotASmallRegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := mkfifo(t, dir)
	big := sparse(t, filepath.Join(dir, "big.pem"), 2<<20)
	for _, tc := range []struct{ name, value, want string }{
		{"fifo", "file:" + fifo, "field token: names " + fifo + ", which is a named pipe (FIFO), not a regular file (point file: at a regular file)"},
		{"relative fifo", "file:fifo", "field token: names " + fifo + ", which is a named pipe (FIFO), not a regular file"},
		{"dev zero", "file:/dev/zero", "field token: names /dev/zero, which is a character device, not a regular file"},
		{"directory", "file:" + dir, "field token: names " + dir + ", which is a directory, not a regular file"},
		{"2 MB file", "file:" + big, "field token: names " + big + ", which is too large (at most 1 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := fmt.Sprintf("registries:\n  - name: gh\n    type: GHCR\n    credentials:\n      username: me\n      token: %q\n", tc.value)
			file := filepath.Join(dir, "registries.yaml")
			noHang(t, func() {
				_, err := Decode(strings.NewReader(in), WithFileName(file))
				if err == nil {
					t.Fatal("no error")
				}
				want := file + `:6: registry "gh" (entry 1): ` + tc.want
				if !strings.HasPrefix(err.Error(), want) {
					t.Errorf("error\n %q\nwant it to start with\n %q", err, want)
				}
				var fe *registry.FieldError
				if !errors.As(err, &fe) || fe.Field != "token" {
					t.Errorf("want a FieldError for token, got %#v", fe)
				}
				if strings.Contains(err.Error(), "is required") {
					t.Errorf("error %q also says the field is missing", err)
				}
			})
		})
	}
	t.Run("tls.caFile fifo", func(t *testing.T) {
		in := "- name: c\n  type: custom\n  url: r.example\n  tls: {mode: ca, caFile: " + fifo + "}\n"
		noHang(t, func() {
			_, err := Decode(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), "line 4: registry \"c\" (entry 1): field tls.ca: names "+fifo+", which is a named pipe") {
				t.Fatalf("error %v", err)
			}
		})
	})
}

// Duplicate keys were accepted, the last one winning silently (sigs.k8s.io/yaml): refused
// at every level, naming both lines.
func TestDuplicateKeys(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"top level", "registries:\n- {name: a, type: public}\nregistries:\n- {name: b, type: public}\n",
			"r.yaml:3: field registries: is given twice (first on line 1) (keep one)"},
		{"entry", "- name: a\n  type: public\n  name: b\n",
			`r.yaml:3: registry "a" (entry 1): field name: is given twice (first on line 1) (keep one)`},
		{"credentials", "- name: a\n  type: custom\n  url: r.example\n  credentials:\n    username: u\n    password: one\n    password: two\n",
			`r.yaml:7: registry "a" (entry 1): field credentials.password: is given twice (first on line 6) (keep one)`},
		{"credentials, other case", "- name: a\n  type: custom\n  url: r.example\n  credentials:\n    username: u\n    password: one\n    Password: two\n",
			`r.yaml:7: registry "a" (entry 1): field credentials.Password: is given twice (first on line 6) (keep one)`},
		{"tls", "- name: a\n  type: custom\n  url: r.example\n  tls:\n    mode: insecure\n    mode: secure\n",
			`r.yaml:6: registry "a" (entry 1): field tls.mode: is given twice (first on line 5) (keep one)`},
		{"flow mapping", "- {name: a, type: public, type: custom}\n",
			`r.yaml:1: registry "a" (entry 1): field type: is given twice (first on line 1) (keep one)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in), WithFileName("r.yaml"))
			if err == nil {
				t.Fatal("duplicate key accepted")
			}
			if got := Problems(err)[0].Error(); got != tc.want {
				t.Errorf("first problem\n %q\nwant\n %q\n(all: %v)", got, tc.want, err)
			}
			if strings.Contains(err.Error(), "two") {
				t.Errorf("error %q quotes a value", err)
			}
		})
	}
}

// Every problem of an entry comes at once, unknown fields first with a suggestion; a typo
// like passwrod got "password is required" before, with the typo unnamed.
func TestEveryProblemOfAnEntryAtOnce(t *testing.T) {
	in := `registries:
  - name: team
    type: Docker Hub
    defualt: true
    credentials:
      username: deploy
      passwrod: hunter2-secret
    tls: {mode: secure}
  - name: ecr
    type: ECR
    credentials:
      region: us-east-1
      acessKeyId: AKIAIOSFODNN7EXAMPLE
      secretAccessKey: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
    tls: {mdoe: insecure}
  - name: ok
    type: public
`
	_, err := Decode(strings.NewReader(in), WithFileName("r.yaml"))
	if err == nil {
		t.Fatal("no error")
	}
	// Per entry: the unknown fields first, in file order, then what validation finds (one
	// problem or all of them, as registry.Validate reports).
	byEntry := map[int][]string{}
	for _, p := range Problems(err) {
		byEntry[p.Entry] = append(byEntry[p.Entry], p.Error())
	}
	want := map[int][]string{
		1: {
			`r.yaml:4: registry "team" (entry 1): field defualt: is not a field of a registry entry (did you mean "default"? known fields: name, type, kind, id, url, server, username, password, default, owner, credentials, tls, mirror)`,
			`r.yaml:7: registry "team" (entry 1): field credentials.passwrod: is not a field of Docker Hub (did you mean "password"? known fields: username, password, url)`,
		},
		2: {
			`r.yaml:13: registry "ecr" (entry 2): field credentials.acessKeyId: is not a field of Amazon ECR (did you mean "accessKeyId"? known fields: region, accessKeyId, secretAccessKey, sessionToken, roleArn, url)`,
			`r.yaml:15: registry "ecr" (entry 2): field tls.mdoe: is not a field of tls (did you mean "mode"? known fields: mode, ca, caFile, systemRoots)`,
		},
	}
	then := map[int]string{1: `r.yaml:2: registry "team" (entry 1): field password: is required for Docker Hub`, 2: `r.yaml:9: registry "ecr" (entry 2): field accessKeyId: is required`}
	for e, w := range want {
		got := byEntry[e]
		if len(got) <= len(w) {
			t.Fatalf("entry %d: %d problems, want more than %d:\n%s", e, len(got), len(w), strings.Join(got, "\n"))
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("entry %d problem %d\n %q\nwant\n %q", e, i+1, got[i], w[i])
			}
		}
		found := false
		for _, g := range got[len(w):] {
			found = found || strings.HasPrefix(g, then[e])
		}
		if !found {
			t.Errorf("entry %d: no problem starting %q in\n%s", e, then[e], strings.Join(got, "\n"))
		}
	}
	if len(byEntry[3]) != 0 {
		t.Errorf("the valid entry 3 has problems: %v", byEntry[3])
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "wJalr") {
		t.Errorf("error leaks a secret: %v", err)
	}
	var fe *registry.FieldError
	if !errors.As(err, &fe) || fe.Field != "defualt" {
		t.Errorf("errors.As finds %#v first, want the unknown field", fe)
	}
}

// A credential field written at the entry's level gets a hint to move it; the documents'
// flat username and password beside credentials: are one place too many.
func TestCredentialFieldOutsideCredentials(t *testing.T) {
	_, err := Decode(strings.NewReader("- name: a\n  type: GHCR\n  token: x\n  credentials: {username: u}\n"))
	if err == nil || !strings.Contains(err.Error(), "field token: is not a field of a registry entry (token is a credential field: put it under credentials:)") {
		t.Fatalf("error %v", err)
	}
	_, err = Decode(strings.NewReader("- name: a\n  type: custom\n  url: r.example\n  password: x\n  credentials: {username: u}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 4: registry \"a\" (entry 1): field password: is given beside credentials:") {
		t.Fatalf("error %v", err)
	}
}

func TestYAMLShapes(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"merge key", "- &a {name: a, type: public}\n- <<: *a\n  name: b\n", "merge keys (<<) are not supported"},
		{"scalar entry", "- just a string\n", "entry 1: is a single value; each registry is a mapping"},
		{"mapping list", "registries: {name: a}\n", "expected a list of registries"},
		{"unknown top key", "registires:\n- {name: a, type: public}\n", `field registires: is not a field of the registries file (did you mean "registries"?`},
		{"list credential", "- {name: a, type: custom, url: r.example, credentials: {username: u, password: [a, b]}}\n", "field password: must be a single value, not a list"},
		{"default not bool", "- {name: a, type: public, default: maybe}\n", "field default: must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
	// Aliases of plain values still work, numbers are taken as written.
	regs, err := Decode(strings.NewReader("- {name: a, type: custom, url: r.example, credentials: {username: &u deploy, password: 0123}}\n- {name: b, type: custom, url: s.example, credentials: {username: *u, password: x}}\n"))
	if err != nil || regs[1].Fields["username"] != "deploy" || regs[0].Fields["password"] != "0123" {
		t.Fatalf("aliases: %v %v", regs, err)
	}
}

// A file of aliases to a large mapping is cut off by the node budget.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("- name: a\n  type: public\n  credentials: &c\n")
	for i := range 100000 {
		fmt.Fprintf(&b, "    k%d: v\n", i)
	}
	for i := range 2000 {
		fmt.Fprintf(&b, "- {name: n%d, type: public, credentials: *c}\n", i)
	}
	if b.Len() > MaxFileSize {
		t.Fatalf("test file is %d bytes, over the limit", b.Len())
	}
	_, err := Decode(strings.NewReader(b.String()))
	if err == nil || !strings.Contains(err.Error(), "too many YAML nodes") {
		t.Fatalf("error %.300v", err)
	}
}

func TestSuggest(t *testing.T) {
	fields := []string{"username", "password", "url"}
	for in, want := range map[string]string{
		"passwrod": "password", "Pasword": "password", "usernmae": "username", "user": "", "token": "", "ur": "url", "x": "",
	} {
		if got := suggest(in, fields); got != want {
			t.Errorf("suggest(%q) = %q, want %q", in, got, want)
		}
	}
}

// A value pasted without its field name (a bare key, or "password hunter2" in a flow
// mapping) is described, never quoted; so is a password starting with * read as an alias.
func TestPastedValuesAreNotQuoted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"- {name: a, type: custom, url: r.example, credentials: {username: u, ghp_S3CRETVALUE}}\n",
			"field credentials: has a key of 15 characters that is not a field name and has no value (a value pasted without its field name? known fields: username, password, url)"},
		{"- {name: a, type: custom, url: r.example, credentials: {username: u, password S3CRETVALUE}}\n",
			"field credentials: has a key of 20 characters that is not a field name and has no value"},
		{"- {name: a, type: custom, url: r.example, credentials: {username: u, password: *S3CRETVALUE}}\n",
			"not valid YAML: an alias (*name) refers to an anchor that is not defined; quote a value that starts with * or &"},
	} {
		_, err := Decode(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "S3CRET") {
			t.Errorf("Decode(%q) = %v\nwant %q and no secret", tc.in, err, tc.want)
		}
	}
}
