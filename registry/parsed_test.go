package registry_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/regcred/regcred/registry"
)

// A record carries its server parsed where it enters (FromForm, UnmarshalStored,
// UnmarshalJSON, ParseServer): ServerInfo then returns it without parsing again, copies
// keep it, and a changed server is parsed anew.
func TestServerParsedOnce(t *testing.T) {
	form, err := registry.FromForm(map[string]string{"type": "Custom", "name": "r", "url": "https://Registry.Example.com:5000/team"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := registry.MarshalStored(form)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := registry.UnmarshalStored(data)
	if err != nil {
		t.Fatal(err)
	}
	var decoded registry.Registry
	if err := decoded.UnmarshalJSON([]byte(`{"name":"r","kind":"custom","server":"registry.example.com:5000/team"}`)); err != nil {
		t.Fatal(err)
	}
	byHand := registry.Registry{Kind: registry.KindECR, Fields: map[string]string{"region": "eu-west-1"}}
	if err := byHand.ParseServer(); err != nil {
		t.Fatal(err)
	}
	typed := registry.Server{Scheme: "https", Host: "registry.example.com:5000", Path: "team"}
	for _, tc := range []struct {
		name   string
		r      registry.Registry
		want   registry.Server
		allocs float64 // the kind's default server is built (one string) to compare
	}{
		{"FromForm", form, typed, 0},
		{"UnmarshalStored", stored, typed, 0},
		{"copy", form.Clone(), typed, 0},
		{"redacted", stored.Redacted(), typed, 0},
		{"UnmarshalJSON", decoded, registry.Server{Host: "registry.example.com:5000", Path: "team"}, 0},
		{"kind default", byHand, registry.Server{Host: "*.dkr.ecr.eu-west-1.amazonaws.com", Wildcard: true}, 1},
	} {
		if n := testing.AllocsPerRun(50, func() {
			if s, err := tc.r.ServerInfo(); err != nil || s != tc.want {
				t.Fatalf("%s: ServerInfo = %+v, %v", tc.name, s, err)
			}
		}); n > tc.allocs {
			t.Errorf("%s: ServerInfo allocates %v times; the parsed server was not kept", tc.name, n)
		}
	}
	literal := registry.Registry{Kind: registry.KindCustom, Server: "registry.example.com"}
	if n := testing.AllocsPerRun(50, func() { _, _ = literal.ServerInfo() }); n == 0 {
		t.Fatal("a literal record's ServerInfo does not parse: the allocation check above cannot fail")
	}

	moved := stored
	moved.Server = "other.example.com"
	if s, err := moved.ServerInfo(); err != nil || s.Host != "other.example.com" {
		t.Fatalf("a changed server was not parsed again: %+v, %v", s, err)
	}
	regionless := byHand
	regionless.Fields = map[string]string{"region": "us-east-1"}
	if s, _ := regionless.ServerInfo(); s.Host != "*.dkr.ecr.us-east-1.amazonaws.com" {
		t.Fatalf("a changed default server was not parsed again: %+v", s)
	}
	bad := stored
	bad.Server = "ftp://x"
	if err := bad.ParseServer(); err == nil {
		t.Fatal("ParseServer accepted ftp://")
	}
	if _, err := bad.ServerInfo(); err == nil {
		t.Fatal("a bad server kept the old parse")
	}
	// The cache is no part of the record's value.
	var fresh registry.Registry
	if err := fresh.UnmarshalJSON([]byte(`{"name":"r","kind":"custom","server":"registry.example.com"}`)); err != nil {
		t.Fatal(err)
	}
	unparsed := registry.Registry{Name: "r", Kind: registry.KindCustom, Server: "registry.example.com"}
	if diff := cmp.Diff(unparsed, fresh, cmp.AllowUnexported(registry.Registry{})); diff != "" {
		t.Fatalf("a parsed and an unparsed record differ under cmp: %s", diff)
	}
}
