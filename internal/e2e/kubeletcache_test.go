package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/testenv"
)

// cacheScenarios are the scenarios of the plugin's unit test of the kubelet's cache
// (examples/kubelet-credential-provider TestKubeletCacheNeverCrossesPaths, which runs
// them through a model of the kubelet's cache and keyring), for the real kubelet to judge.
// Saved registries are server -> user ("" for a Public registry); images are the
// normalized image -> the user whose credentials must pull it ("" for none). Host names
// are rewritten per run so every run has hosts of its own (the kubelet's cache lives as
// long as the kubelet). The Docker Hub scenario is left to the unit test: docker.io cannot
// be given a run of its own.
var cacheScenarios = []struct {
	name   string
	saved  [][2]string // server, user
	images [][2]string // image, user (in pull order)
}{
	{"two paths of one host",
		[][2]string{{"registry.example.com/team-a", "team-a"}, {"registry.example.com/team-b", "team-b"}},
		[][2]string{{"registry.example.com/team-a/app", "team-a"}, {"registry.example.com/team-b/app", "team-b"}, {"registry.example.com/other/app", ""}}},
	{"one path, the rest of the host anonymous",
		[][2]string{{"registry.example.com/team-a", "team-a"}},
		[][2]string{{"registry.example.com/team-a/app", "team-a"}, {"registry.example.com/other/app", ""}, {"registry.example.com/team-ab/app", ""}}},
	{"host and path",
		[][2]string{{"registry.example.com", "host"}, {"registry.example.com/team-a", "team-a"}},
		[][2]string{{"registry.example.com/team-a/app", "team-a"}, {"registry.example.com/other/app", "host"}, {"registry.example.com/team-a", "team-a"}}},
	{"ports",
		[][2]string{{"registry.example.com:5000", "port"}, {"registry.example.com", "host"}, {"registry.example.com:5000/team", "team"}},
		[][2]string{{"registry.example.com:5000/app", "port"}, {"registry.example.com/app", "host"}, {"registry.example.com:5000/team/app", "team"}, {"registry.example.com:5001/app", ""}}},
	{"wildcard and path",
		[][2]string{{"*.example.com", "wild"}, {"registry.example.com/team-a", "team-a"}},
		[][2]string{{"registry.example.com/team-a/app", "team-a"}, {"registry.example.com/x", "wild"}, {"other.example.com/team-a/app", "wild"}}},
	{"public host with one private path",
		[][2]string{{"quay.io", ""}, {"quay.io/private-org", "private"}},
		[][2]string{{"quay.io/private-org/app", "private"}, {"quay.io/prometheus/node", ""}}},
	{"hosts without paths share one answer per registry",
		[][2]string{{"registry.example.com", "host"}},
		[][2]string{{"registry.example.com/a", "host"}, {"registry.example.com/b", "host"}, {"other.example.com/b", ""}, {"registry.example.com:5000/a", ""}}},
}

// TestKubeletCache: the real kubelet judges the scenarios of the plugin's cache model, each
// in the table's order and in the reverse order, every image on a host of its own run.
// Each host is a docker-registry with token auth behind a containerd hosts.toml, where
// each user may pull exactly the images it is expected to pull: a pod pulls only with the
// right user's credentials (an answer the kubelet cached for another path or host would
// be refused), and an image expected to get none must not pull.
func TestKubeletCache(t *testing.T) {
	type run struct {
		name   string
		hosts  map[string]*testenv.RegistryServer // image host -> its registry
		saved  [][2]string
		images [][2]string
	}
	var runs []run
	var regs strings.Builder
	fmt.Fprintf(&regs, "registries:\n")
	var match []string
	for i, sc := range cacheScenarios {
		for _, order := range []string{"forward", "reverse"} {
			domain := fmt.Sprintf("s%d%c.example.test", i, order[0])
			rename := func(s string) string {
				s = strings.ReplaceAll(s, "example.com", domain)
				return strings.ReplaceAll(s, "quay.io", "quay."+domain)
			}
			r := run{name: sc.name + "/" + order, hosts: map[string]*testenv.RegistryServer{}}
			for _, s := range sc.saved {
				r.saved = append(r.saved, [2]string{rename(s[0]), s[1]})
			}
			for _, im := range sc.images {
				r.images = append(r.images, [2]string{rename(im[0]), im[1]})
			}
			if order == "reverse" {
				slices.Reverse(r.images)
			}
			// One registry per image host; each expected user may pull its images only.
			grants := map[string]map[string][]testenv.Grant{} // host -> user -> grants
			for _, im := range r.images {
				host, repo, _ := strings.Cut(im[0], "/")
				if grants[host] == nil {
					grants[host] = map[string][]testenv.Grant{}
				}
				if im[1] != "" {
					grants[host][im[1]] = append(grants[host][im[1]], testenv.Grant{Repo: repo, Actions: []string{"pull"}})
				}
			}
			for host, users := range grants {
				opts := []testenv.RegistryOption{testenv.WithTLS(), testenv.WithTokenAuth("pusher", "pusher-Pa55")}
				for user, g := range users {
					opts = append(opts, testenv.WithTokenAuth(user, "pw-"+user, g...))
				}
				r.hosts[host] = testenv.StartRegistry(t, opts...)
				match = append(match, host)
			}
			for j, s := range r.saved {
				if s[1] == "" {
					fmt.Fprintf(&regs, "  - name: %s-%d\n    type: Public\n    url: %s\n", domain, j, s[0])
					continue
				}
				fmt.Fprintf(&regs, "  - name: %s-%d\n    type: Custom\n    url: %q\n    credentials: {username: %q, password: %q}\n", domain, j, s[0], s[1], "pw-"+s[1])
			}
			runs = append(runs, r)
		}
	}
	cp := newCredentialProvider(t, regs.String(), match)
	n := startNode(t, cp.option())
	for _, r := range runs {
		for host, reg := range r.hosts {
			n.mirrorTo(host, reg.Host, reg.CAPEM)
		}
	}

	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			n := n.in(t)
			for _, im := range r.images {
				host, repo, _ := strings.Cut(im[0], "/")
				reg := r.hosts[host]
				push(t, reg.Host+"/"+repo+":v1", "pusher", "pusher-Pa55", reg.CAPEM)
				image := im[0] + ":v1"
				if im[1] == "" {
					v, _ := n.run(pod{image: image, serviceAccount: "plain"})
					if v.Pulled {
						t.Fatalf("%s pulled; it must get no credentials (order %v)", image, r.images)
					}
					continue
				}
				n.mustPull(image+" with "+im[1]+"'s credentials", pod{image: image, serviceAccount: "plain"})
			}
		})
	}
}
