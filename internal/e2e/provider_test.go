package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/regcred/regcred/internal/fakecloud"
	"github.com/regcred/regcred/internal/testenv"
	"github.com/regcred/regcred/regcredtest"
)

// pluginName is the name the kubelet runs the plugin by, from its bin dir.
const pluginName = "regcred-credential-provider"

// credentialProvider is a kubelet's credential provider setup: the plugin
// (examples/kubelet-credential-provider) built into a bin dir, its registries file, and the
// kubelet's CredentialProviderConfig.
type credentialProvider struct {
	binDir, config string
}

// newCredentialProvider builds the plugin and writes a CredentialProviderConfig that runs
// it for matchImages with registries (a registries file) and env (NAME=value).
func newCredentialProvider(t *testing.T, registries string, matchImages []string, env ...string) credentialProvider {
	t.Helper()
	dir := t.TempDir()
	cp := credentialProvider{binDir: filepath.Join(dir, "bin"), config: filepath.Join(dir, "credential-provider.yaml")}
	out, err := exec.Command("go", "build", "-o", filepath.Join(cp.binDir, pluginName), "github.com/regcred/regcred/examples/kubelet-credential-provider").CombinedOutput()
	if err != nil {
		t.Fatalf("go build the plugin: %v\n%s", err, out)
	}
	regFile := filepath.Join(dir, "registries.yaml")
	if err := os.WriteFile(regFile, []byte(registries), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp.config, []byte(providerConfig(regFile, matchImages, env...)), 0o600); err != nil {
		t.Fatal(err)
	}
	return cp
}

// providerConfig is the kubelet's CredentialProviderConfig for the plugin.
func providerConfig(registriesFile string, matchImages []string, env ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: kubelet.config.k8s.io/v1\nkind: CredentialProviderConfig\nproviders:\n")
	fmt.Fprintf(&b, "  - name: %s\n    apiVersion: credentialprovider.kubelet.k8s.io/v1\n    defaultCacheDuration: 1h\n", pluginName)
	fmt.Fprintf(&b, "    args: [%q]\n    matchImages:\n", "--config="+registriesFile)
	for _, m := range matchImages {
		fmt.Fprintf(&b, "      - %q\n", m)
	}
	if len(env) > 0 {
		fmt.Fprintf(&b, "    env:\n")
		for _, e := range env {
			k, v, _ := strings.Cut(e, "=")
			fmt.Fprintf(&b, "      - {name: %q, value: %q}\n", k, v)
		}
	}
	return b.String()
}

func (cp credentialProvider) option() testenv.KubeletOption {
	return testenv.WithImageCredentialProvider(cp.config, cp.binDir)
}

// TestCredentialProvider: the kubelet pulls through regcred's credential provider plugin
// (--image-credential-provider-config, --image-credential-provider-bin-dir), with no
// Secret anywhere. One node, one plugin configuration for every case:
//
//   - Static credentials: a pod pulls from docker-registry with htpasswd over TLS; the
//     control is a second such registry the plugin matches but has no entry for: the
//     plugin answers "anonymous" and the kubelet gets the 401.
//   - Path-scoped registries on one host: docker-registry with token auth whose users may
//     each pull one path only (team-a/*, team-b/*), and the registries file saving each
//     path with its own user. Two pods with different paths pull, in either order (one
//     host per order, since the kubelet's cache lives as long as the kubelet): the answer
//     the kubelet caches for one path is never served to the other (if it were, the other
//     pull would get a token without access: the registry's insufficient_scope). The
//     control is a third path of the same host, which nothing saved covers: it gets no
//     credentials, an anonymous token, and the same refusal.
//   - A token kind: an ECR registry saved with access keys. The plugin's AWS SDK signs a
//     GetAuthorizationToken for the real ECR endpoint, reached through cloudProxy (the
//     fake cloud checks the SigV4 signature), and answers the kubelet with the token's user
//     and password; the registry, reached by containerd through a hosts.toml for the ECR
//     host, accepts only that token's password (the fake cloud's first). The control is a
//     second ECR host saved with a wrong secret key: the fake refuses the signature, the
//     plugin fails, and the kubelet's anonymous pull gets the 401.
func TestCredentialProvider(t *testing.T) {
	static := testenv.StartRegistry(t, testenv.WithBasicAuth("deploy", "plugin-Pa55"), testenv.WithTLS())
	unsaved := testenv.StartRegistry(t, testenv.WithBasicAuth("deploy", "unsaved-Pa55"), testenv.WithTLS())
	grants := func(repo string) testenv.Grant { return testenv.Grant{Repo: repo, Actions: []string{"pull", "push"}} }
	var scoped [2]*testenv.RegistryServer
	for i := range scoped {
		scoped[i] = testenv.StartRegistry(t, testenv.WithTLS(),
			testenv.WithTokenAuth("team-a", "team-a-Pa55", grants("team-a/*")),
			testenv.WithTokenAuth("team-b", "team-b-Pa55", grants("team-b/*")),
			testenv.WithTokenAuth("other", "other-Pa55", grants("other/*")))
	}
	aws := fakecloud.NewAWS(t)
	const keyID, secret, region = "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-west-3"
	const wrongSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYWRONGKEY00"
	aws.AddKey(keyID, secret, "")
	ecrHost := fakecloud.AWSAccount + ".dkr.ecr." + region + ".amazonaws.com"
	const wrongHost = "210987654321.dkr.ecr." + region + ".amazonaws.com"
	proxy := startCloudProxy(t, aws.Server, "api.ecr."+region+".amazonaws.com", "ecr."+region+".amazonaws.com")
	ecrReg := regcredtest.NewRegistry(t, regcredtest.WithBasicAuth("AWS", fakecloud.Password(1)))

	var regs strings.Builder
	fmt.Fprintf(&regs, "registries:\n")
	entry := func(name, url, user, pass string) {
		fmt.Fprintf(&regs, "  - name: %s\n    type: Custom\n    url: %s\n    credentials: {username: %q, password: %q}\n", name, url, user, pass)
	}
	entry("static", static.Host, static.Username, static.Password)
	for i, s := range scoped {
		entry(fmt.Sprintf("scoped-%d-a", i), s.Host+"/team-a", "team-a", "team-a-Pa55")
		entry(fmt.Sprintf("scoped-%d-b", i), s.Host+"/team-b", "team-b", "team-b-Pa55")
	}
	ecrEntry := func(name, server, secret string) {
		fmt.Fprintf(&regs, "  - name: %s\n    type: ECR\n    url: %s\n    credentials: {region: %s, accessKeyId: %s, secretAccessKey: %q}\n",
			name, server, region, keyID, secret)
	}
	ecrEntry("ecr", ecrHost, secret)
	ecrEntry("ecr-wrong-key", wrongHost, wrongSecret)
	cp := newCredentialProvider(t, regs.String(),
		[]string{static.Host, unsaved.Host, scoped[0].Host, scoped[1].Host, "*.dkr.ecr.*.amazonaws.com"},
		"HTTPS_PROXY="+proxy.URL, "SSL_CERT_FILE="+proxy.CAFile)
	n := startNode(t, cp.option())
	for _, s := range []*testenv.RegistryServer{static, unsaved, scoped[0], scoped[1]} {
		n.trustCA(s.Host, s.CAPEM)
	}
	for _, h := range []string{ecrHost, wrongHost} {
		n.mirrorTo(h, ecrReg.Host, ecrReg.CAPEM)
	}

	t.Run("static", func(t *testing.T) {
		n := n.in(t)
		image := push(t, static.Host+"/team/app:v1", static.Username, static.Password, static.CAPEM)
		n.mustPull("through the plugin", pod{image: image, serviceAccount: "plain"})
		control := push(t, unsaved.Host+"/team/app:v1", unsaved.Username, unsaved.Password, unsaved.CAPEM)
		n.mustFail("a registry the plugin has no entry for (the control)", pod{image: control, serviceAccount: "plain"}, "401 Unauthorized")
	})

	for i, order := range [][]string{{"team-a", "team-b"}, {"team-b", "team-a"}} {
		t.Run("paths "+strings.Join(order, " then "), func(t *testing.T) {
			n := n.in(t)
			s := scoped[i]
			for _, team := range order {
				image := push(t, s.Host+"/"+team+"/app:v1", team, team+"-Pa55", s.CAPEM)
				n.mustPull(team+" through the plugin", pod{image: image, serviceAccount: "plain"})
			}
			control := push(t, s.Host+"/other/app:v1", "other", "other-Pa55", s.CAPEM)
			n.mustFail("a path nothing saved covers (the control)", pod{image: control, serviceAccount: "plain"}, "insufficient_scope")
		})
	}

	t.Run("ECR token", func(t *testing.T) {
		n := n.in(t)
		push(t, ecrReg.Host+"/team/app:v1", "AWS", fakecloud.Password(1), ecrReg.CAPEM)
		n.mustPull("an ECR token through the plugin", pod{image: ecrHost + "/team/app:v1", serviceAccount: "plain"})
		if got := len(aws.Requests()); got != 1 {
			t.Errorf("the fake AWS answered %d signed token requests, want 1 (one plugin run, cached by the kubelet)", got)
		}
		n.mustFail("an ECR registry saved with a wrong secret key (the control)", pod{image: wrongHost + "/team/app:v1", serviceAccount: "plain"}, "401 Unauthorized")
		if got := len(aws.Requests()); got != 1 {
			t.Errorf("the fake AWS answered %d signed token requests after the wrong key's, want still 1", got)
		}
	})
}
