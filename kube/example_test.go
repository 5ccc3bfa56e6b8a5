package kube_test

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/registry"
)

func ExampleSyncer() {
	ctx := context.Background()
	client := fake.NewSimpleClientset() // in a program: kubernetes.NewForConfig(...)
	regs := []registry.Registry{{
		ID: "reg-abc123", Name: "My GHCR", Kind: registry.KindGHCR,
		Fields: map[string]string{"username": "myorg", "token": "ghp_example"},
	}}
	s := kube.NewSyncer(client)
	for pass := 1; pass <= 2; pass++ {
		res, err := s.Sync(ctx, regs, []string{"env-production", "env-staging"})
		if err != nil {
			panic(err)
		}
		fmt.Printf("pass %d: %d writes\n%s", pass, res.Writes, res)
	}
	// Output:
	// pass 1: 2 writes
	// NAMESPACE       CREATED  UPDATED  UNCHANGED  PRUNED  PATCHED  FAILED
	// env-production  1        0        0          0       0        0
	// env-staging     1        0        0          0       0        0
	// pass 2: 0 writes
	// NAMESPACE       CREATED  UPDATED  UNCHANGED  PRUNED  PATCHED  FAILED
	// env-production  0        0        1          0       0        0
	// env-staging     0        0        1          0       0        0
}

func ExampleBuild() {
	reg := registry.Registry{ID: "reg-abc123", Name: "Private Registry", Kind: registry.KindCustom,
		Server: "registry.mycompany.com", Fields: map[string]string{"username": "admin", "password": "secretpassword"}}
	s, err := kube.Build(context.Background(), "env-production", reg)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Name, s.Type)
	fmt.Println(string(s.Data[corev1.DockerConfigJsonKey]))
	// Output:
	// registry-secret-reg-abc123 kubernetes.io/dockerconfigjson
	// {"auths":{"registry.mycompany.com":{"username":"admin","password":"secretpassword","auth":"YWRtaW46c2VjcmV0cGFzc3dvcmQ="}}}
}

func ExampleAddImagePullSecrets() {
	spec := corev1.PodSpec{ImagePullSecrets: []corev1.LocalObjectReference{{Name: "theirs"}}}
	fmt.Println(kube.AddImagePullSecrets(&spec, "registry-secret-reg-abc123"))
	fmt.Println(kube.AddImagePullSecrets(&spec, "registry-secret-reg-abc123"))
	fmt.Println(spec.ImagePullSecrets)
	// Output:
	// true
	// false
	// [{theirs} {registry-secret-reg-abc123}]
}
