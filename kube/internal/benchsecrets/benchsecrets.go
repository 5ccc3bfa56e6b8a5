// Package benchsecrets is the set of pull Secrets that kube.Keychain's benchmarks and the
// side-by-side benchmark against go-containerregistry's k8schain (the nested module
// kube/internal/k8schainbench) share, so both measure the same thing.
package benchsecrets

import (
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Count is the number of Secrets.
const Count = 1000

// Secrets returns 1,000 kubernetes.io/dockerconfigjson Secrets of one key each, as the
// Syncer writes them (one Secret per registry): Docker Hub, 699 hosts, 50 hosts with a
// port, 150 paths under ghcr.io and 100 wildcard hosts. The username of every key is
// "u-<index>", so a test can tell which one answered.
func Secrets() []corev1.Secret {
	var out []corev1.Secret
	add := func(key string) {
		i := len(out)
		user := fmt.Sprintf("u-%04d", i)
		a := base64.StdEncoding.EncodeToString([]byte(user + ":p-" + user))
		out = append(out, corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "bench", Name: fmt.Sprintf("registry-secret-%04d", i)},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"` + key + `":{"auth":"` + a + `"}}}`)},
		})
	}
	add("https://index.docker.io/v1/")
	for i := range 699 {
		add(fmt.Sprintf("registry-%03d.example.com", i))
	}
	for i := range 50 {
		add(fmt.Sprintf("host-%02d.example.org:5000", i))
	}
	for i := range 150 {
		add(fmt.Sprintf("ghcr.io/org-%03d", i))
	}
	for i := range 100 {
		add(fmt.Sprintf("*.tenant-%03d.example.net", i))
	}
	return out
}

// Image is one lookup of the benchmarks: a repository and the username that must answer
// ("" for anonymous).
type Image struct {
	Name, Repository, User string
}

// Images are the lookups: an exact host, a host with a port, a path, a wildcard, a miss and
// a Docker Hub official image.
var Images = []Image{
	{"exact", "registry-511.example.com/team/app", "u-0512"},
	{"port", "host-33.example.org:5000/app", "u-0733"},
	{"path", "ghcr.io/org-120/service/api", "u-0870"},
	{"wildcard", "pull.tenant-077.example.net/app", "u-0977"},
	{"miss", "quay.io/someone/else", ""},
	{"dockerhub-official", "postgres", "u-0000"},
}
