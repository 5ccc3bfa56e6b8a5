package suggest

import "testing"

// The cases of registryfile's TestSuggest and of the API's validation ("did you mean"),
// which used two copies with two bounds (2 edits in bytes; len/3 in runes) and could
// suggest different names for one typo.
func TestNearest(t *testing.T) {
	file := []string{"username", "password", "url"}
	ecr := []string{"region", "accessKeyId", "secretAccessKey", "sessionToken", "roleArn"}
	entry := []string{"name", "type", "kind", "id", "url", "server", "username", "password", "default", "owner", "credentials", "tls", "mirror"}
	for _, tc := range []struct {
		in         string
		candidates []string
		want       string
	}{
		{"passwrod", file, "password"},
		{"Pasword", file, "password"},
		{"usernmae", file, "username"},
		{"user", file, ""}, // two edits from "url" in four runes: not a typo of it
		{"token", file, ""},
		{"ur", file, "url"},
		{"x", file, ""},
		{"x", entry, ""},                         // two edits from "id": the API's copy (two edits in bytes, any length) said "id"
		{"secrtAccesKy", ecr, "secretAccessKey"}, // three edits in twelve runes
		{"PASSWORD", file, "password"},
		{"secretAcessKey", ecr, "secretAccessKey"},
		{"acessKeyId", ecr, "accessKeyId"},
		{"secretaccesskey", ecr, "secretAccessKey"},
		{"sesionTokn", ecr, "sessionToken"},
		{"defualt", entry, "default"},
		{"credentails", entry, "credentials"},
		{"mdoe", []string{"mode", "ca", "caFile", "systemRoots"}, "mode"},
		{"registires", []string{"registries"}, "registries"},
		{"pässwörd", file, "password"}, // two runes, not four bytes
		{"ürl", file, "url"},
		{string(make([]rune, 65)), file, ""},
	} {
		if got := Nearest(tc.in, tc.candidates); got != tc.want {
			t.Errorf("Nearest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"abc", "abc", 0},
		{"ab", "ba", 1}, {"ca", "abc", 3}, {"kitten", "sitting", 3},
		{"passwrod", "password", 1}, {"ü", "u", 1},
	} {
		if got := Distance([]rune(tc.a), []rune(tc.b)); got != tc.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
