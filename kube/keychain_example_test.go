package kube_test

import (
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/kube"
)

// ExampleKeychain_Lookup: the pod lists the host's Secret first, yet the kubelet tries the
// path key of the later Secret first: all keys of all Secrets form one index.
func ExampleKeychain_Lookup() {
	secret := func(name, key, user string) corev1.Secret {
		auth := base64.StdEncoding.EncodeToString([]byte(user + ":example-password"))
		return corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":{"` + key + `":{"auth":"` + auth + `"}}}`)},
		}
	}
	k, err := kube.NewKeychain([]corev1.Secret{
		secret("registry-host", "registry.example.com", "robot"),
		secret("registry-team", "registry.example.com/payments", "payments-robot"),
	})
	if err != nil {
		panic(err)
	}
	for _, image := range []string{"registry.example.com/payments/api:1.4", "registry.example.com/web:2", "registry.example.com:5000/web"} {
		fmt.Println(image)
		for _, m := range k.Lookup(image) {
			fmt.Printf("  %s from %s: %s\n", m.Key, m.Secret, m.Credentials)
		}
	}
	// Output:
	// registry.example.com/payments/api:1.4
	//   registry.example.com/payments from shop/registry-team: credentials{user=payments-robot password=REDACTED}
	//   registry.example.com from shop/registry-host: credentials{user=robot password=REDACTED}
	// registry.example.com/web:2
	//   registry.example.com from shop/registry-host: credentials{user=robot password=REDACTED}
	// registry.example.com:5000/web
}
