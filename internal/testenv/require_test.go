package testenv

import "testing"

func TestStrict(t *testing.T) {
	for _, tc := range []struct {
		ci, req string
		want    bool
	}{
		{"true", "", true},
		{"1", "", true},
		{"yes", "", true},
		{"TRUE", "", true},
		{"on", "", true},
		{"woodpecker", "", true},
		{"", "", false},
		{"false", "", false},
		{"False", "", false},
		{"0", "", false},
		{" 0 ", "", false},
		{"", "1", true},
		{"", "true", true},
		{"false", "yes", true},
		{"", "0", false},
	} {
		t.Setenv("CI", tc.ci)
		t.Setenv("REGCRED_REQUIRE_INTEGRATION", tc.req)
		if got := Strict(); got != tc.want {
			t.Errorf("CI=%q REGCRED_REQUIRE_INTEGRATION=%q: Strict() = %v, want %v", tc.ci, tc.req, got, tc.want)
		}
	}
}
