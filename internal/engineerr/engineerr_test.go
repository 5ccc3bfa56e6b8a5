package engineerr

import (
	"errors"
	"fmt"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// Messages as daemon 20.10 and newer word them, with hosts on ports and digests that hold
// 401, 403 and 404: numbers inside a host, a path or a digest never decide.
func TestClassify(t *testing.T) {
	const (
		host401 = "127.0.0.1:40103"
		host403 = "10.4.0.3:40301"
		dig401  = "sha256:4010340140140101401403403403404404040401aaaaaaaaaaaaaaaaaaaaaaaa"
	)
	daemon := func(msg string) error { return cerrdefs.ErrUnknown.WithMessage(msg) }
	tests := []struct {
		name string
		err  error
		want Kind
	}{
		{"manifest unknown on a 401 port", daemon("manifest for " + host401 + "/shop/nope:v1 not found: manifest unknown: manifest unknown"), NotFound},
		{"manifest unknown, 404 from the daemon", cerrdefs.ErrNotFound.WithMessage("manifest for " + host403 + "/shop/nope:v1 not found: manifest unknown: manifest unknown"), NotFound},
		{"digest holding 401 and 403", daemon("manifest for " + host401 + "/shop/web@" + dig401 + " not found: manifest unknown: manifest unknown"), NotFound},
		{"name unknown", daemon(`Head "http://` + host401 + `/v2/x/manifests/` + dig401 + `": name unknown: repository name not known to registry`), NotFound},
		{"pull access denied (daemon 404 with the registry's DENIED)", cerrdefs.ErrNotFound.WithMessage("pull access denied for " + host401 + "/x, repository does not exist or may require 'docker login': denied: requested access to the resource is denied"), Denied},
		{"unauthorized from the registry client", daemon(`Head "http://` + host403 + `/v2/shop/web/manifests/v1": unauthorized: authentication required`), Unauthorized},
		{"errcode.Errors, one a line", daemon("errors:\nunauthorized: authentication required\n"), Unauthorized},
		{"no basic auth credentials", daemon(`Head "http://` + host403 + `/v2/x/manifests/v1": no basic auth credentials`), Unauthorized},
		{"login 401 phrase (20.10)", daemon("login attempt to http://" + host403 + "/v2/ failed with status: 401 Unauthorized"), Unauthorized},
		{"login 403 phrase", daemon("login attempt to http://" + host401 + "/v2/ failed with status: 403 Forbidden"), Denied},
		{"token server 401", daemon("Get \"https://auth." + host403 + "/token?scope=repository%3Ax%3Apull\": token auth attempt for registry: https://auth/token?x request failed with status: 401 Unauthorized"), Unauthorized},
		{"unexpected status with phrase", daemon("received unexpected HTTP status: 403 Forbidden"), Denied},
		{"rate limited", daemon("toomanyrequests: You have reached your pull rate limit"), TooManyRequests},
		{"connection refused on a 401 port", daemon(`Get "http://` + host401 + `/v2/": dial tcp ` + host401 + `: connect: connection refused`), Unknown},
		{"500 phrase is not a class", daemon("received unexpected HTTP status: 500 Internal Server Error"), Unknown},
		{"401 as part of a number", daemon("received 4013 Unauthorizedly"), Unknown},
		{"daemon 401 status", cerrdefs.ErrUnauthenticated.WithMessage("wrong login"), Unauthorized},
		{"daemon 403 status", cerrdefs.ErrPermissionDenied.WithMessage("nope"), Denied},
		{"daemon 409", cerrdefs.ErrConflict.WithMessage("rpc error: code = Unknown desc = update out of sequence"), Conflict},
		{"update out of sequence (500)", daemon("rpc error: code = Unknown desc = update out of sequence"), Conflict},
		{"daemon 400", cerrdefs.ErrInvalidArgument.WithMessage("invalid reference format"), Invalid},
		{"daemon down", client.ErrorConnectionFailed("unix:///run/docker.sock"), Unreachable},
		{"stream error with code", &jsonmessage.JSONError{Code: 404, Message: "pulling from " + host401}, NotFound},
		{"stream error without code", &jsonmessage.JSONError{Message: "manifest for " + host401 + "/x:1 not found: manifest unknown: manifest unknown"}, NotFound},
		{"stream error wrapped", fmt.Errorf("pull: %w", &jsonmessage.JSONError{Code: 401, Message: "x"}), Unauthorized},
		{"nil", nil, Unknown},
		{"plain", errors.New("something 401 happened on 403"), Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Fatalf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassifyText(t *testing.T) {
	for msg, want := range map[string]Kind{
		"Error response from daemon: login attempt to http://127.0.0.1:40103/v2/ failed with status: 401 Unauthorized": Unauthorized,
		"Error response from daemon: Get \"http://127.0.0.1:40103/v2/\": unauthorized: incorrect username or password": Unauthorized,
		"Error response from daemon: Get \"http://127.0.0.1:40103/v2/\": dial tcp 127.0.0.1:40103: connection refused": Unknown,
		"Login did not succeed, error: Error response from daemon: denied: access forbidden":                           Denied,
	} {
		if got := ClassifyText(msg); got != want {
			t.Errorf("ClassifyText(%q) = %v, want %v", msg, got, want)
		}
	}
}

func TestKindString(t *testing.T) {
	if Unauthorized.String() != "unauthorized" || NotFound.String() != "not found" || Kind(99).String() != "Kind(99)" {
		t.Fatal(Unauthorized.String(), NotFound.String(), Kind(99).String())
	}
}
