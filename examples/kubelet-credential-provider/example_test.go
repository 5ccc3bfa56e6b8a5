package main

import (
	"context"
	"encoding/json"
	"os"
	"time"

	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/regcred/regcred/registry"
)

func Example() {
	regs := []registry.Registry{{ID: "reg-1", Name: "Private Registry", Kind: registry.KindCustom,
		Server: "registry.mycompany.com", Fields: map[string]string{"username": "admin", "password": "secretpassword"}}}
	req := &credv1.CredentialProviderRequest{Image: "registry.mycompany.com/team/app:1.0"}
	resp, err := respond(context.Background(), req, regs, registry.StaticFactory, time.Now)
	if err != nil {
		panic(err)
	}
	json.NewEncoder(os.Stdout).Encode(resp)
	// Output:
	// {"kind":"CredentialProviderResponse","apiVersion":"credentialprovider.kubelet.k8s.io/v1","cacheKeyType":"Registry","auth":{"registry.mycompany.com":{"username":"admin","password":"secretpassword"}}}
}
