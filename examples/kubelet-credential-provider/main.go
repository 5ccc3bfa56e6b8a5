package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	credv1 "k8s.io/kubelet/pkg/apis/credentialprovider/v1"

	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registryfile"
)

// APIVersion is the kubelet credential provider API this plugin speaks.
const APIVersion = "credentialprovider.kubelet.k8s.io/v1"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubelet-credential-provider: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("kubelet-credential-provider", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	config := fs.String("config", "", "registries file (default $REGCRED_CONFIG, else "+registryfile.DefaultPath()+")")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("flags: %w", err)
	}
	req, err := decodeRequest(stdin)
	if err != nil {
		return err
	}
	regs, err := registryfile.Load(registryfile.Path(*config))
	if err != nil {
		return err
	}
	resp, err := respond(ctx, req, regs, providers.Factory(), time.Now)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(resp)
}

// decodeRequest reads one CredentialProviderRequest and checks its type and image.
func decodeRequest(r io.Reader) (*credv1.CredentialProviderRequest, error) {
	var req credv1.CredentialProviderRequest
	dec := json.NewDecoder(io.LimitReader(r, 1<<20))
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("read CredentialProviderRequest from stdin: %w", err)
	}
	if req.APIVersion != APIVersion || req.Kind != "CredentialProviderRequest" {
		return nil, fmt.Errorf("request is apiVersion %q kind %q; this plugin speaks %s CredentialProviderRequest (set apiVersion in the kubelet's CredentialProviderConfig)", req.APIVersion, req.Kind, APIVersion)
	}
	if req.Image == "" {
		return nil, errors.New("request has no image")
	}
	return &req, nil
}

// respond answers req from regs.
func respond(ctx context.Context, req *credv1.CredentialProviderRequest, regs []registry.Registry, factory registry.ProviderFactory, now func() time.Time) (*credv1.CredentialProviderResponse, error) {
	resp := &credv1.CredentialProviderResponse{
		TypeMeta:     metav1.TypeMeta{APIVersion: APIVersion, Kind: "CredentialProviderResponse"},
		CacheKeyType: credv1.RegistryPluginCacheKeyType,
	}
	kc, err := registry.NewKeychain(regs, registry.WithProviderFactory(lenient(factory)))
	if err != nil {
		return nil, err
	}
	creds, reg, err := kc.Credentials(ctx, req.Image)
	if err != nil {
		return nil, err
	}
	if reg.ID == "" && reg.Name == "" || creds.Anonymous() {
		return resp, nil // no registry (or a public one): pull anonymously
	}
	srv, err := reg.ServerInfo()
	if err != nil {
		return nil, err
	}
	if creds.Password == "" && (creds.RegistryToken != "" || creds.IdentityToken != "") {
		return nil, fmt.Errorf("registry %q: its credentials are a token the kubelet's plugin API cannot carry (it takes a username and password only)", reg.Name)
	}
	key := srv.String()
	if srv.Path != "" {
		resp.CacheKeyType = credv1.ImagePluginCacheKeyType
	}
	resp.Auth = map[string]credv1.AuthConfig{key: {Username: creds.Username, Password: creds.Password.Reveal()}}
	if !creds.ExpiresAt.IsZero() {
		left := creds.ExpiresAt.Sub(now())
		if left <= 0 {
			return nil, fmt.Errorf("registry %q: its credentials expired at %s", reg.Name, creds.ExpiresAt.UTC().Format(time.RFC3339))
		}
		resp.CacheDuration = &metav1.Duration{Duration: (left * 3 / 4).Truncate(time.Second)}
	}
	return resp, nil
}

// lenient wraps a factory so a record whose provider cannot be made (a Kubernetes token
// registry without a cluster client on the node) fails only the images it serves.
func lenient(f registry.ProviderFactory) registry.ProviderFactory {
	return func(r registry.Registry) (registry.Provider, error) {
		p, err := f(r)
		if err != nil {
			return registry.ProviderFunc(func(context.Context) (registry.Credentials, error) { return registry.Credentials{}, err }), nil
		}
		return p, nil
	}
}
