package swarm

import (
	"context"
	"errors"

	dockerswarm "github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/regcred/regcred/internal/untrusted"
	"github.com/regcred/regcred/registry"
)

// ServiceAPI is the part of the Engine API client that the service helpers need;
// *client.Client has it.
type ServiceAPI interface {
	ServiceCreate(ctx context.Context, spec dockerswarm.ServiceSpec, options dockerswarm.ServiceCreateOptions) (dockerswarm.ServiceCreateResponse, error)
	ServiceInspectWithRaw(ctx context.Context, serviceID string, options dockerswarm.ServiceInspectOptions) (dockerswarm.Service, []byte, error)
	ServiceUpdate(ctx context.Context, serviceID string, version dockerswarm.Version, spec dockerswarm.ServiceSpec, options dockerswarm.ServiceUpdateOptions) (dockerswarm.ServiceUpdateResponse, error)
}

// CreateService creates a swarm service from spec with encodedAuth (EncodeAuth) as its
// registry auth: the manager stores it with the service and hands it to each worker with
// its task, so every node pulls the image with these credentials, what
// `docker service create --with-registry-auth` does. An empty encodedAuth creates the
// service without registry auth (public images). It returns the service ID and the daemon's
// warnings (bounded and escaped: they are remote text).
//
// Before the daemon sees the credentials in encodedAuth, the image's registry must complete
// a TLS handshake under the record's TLS mode (WithTLS; the secure mode when it is not
// given), since the daemon would pull over plain http with them; an auth whose server is
// not the image's registry is refused (ErrInvalid). See Login. Options: WithTLS,
// WithResolveImage.
func CreateService(ctx context.Context, api ServiceAPI, spec dockerswarm.ServiceSpec, encodedAuth string, opts ...Option) (string, []string, error) {
	cfg := newConfig(opts)
	if spec.TaskTemplate.ContainerSpec == nil || spec.TaskTemplate.ContainerSpec.Image == "" {
		return "", nil, &registry.Error{Op: "create service", Registry: spec.Name,
			Err: &registry.FieldError{Field: "image", Reason: "is empty", Hint: "set TaskTemplate.ContainerSpec.Image"}}
	}
	if err := checkServiceAuth(ctx, "create service", spec.Name, cfg.tls, spec.TaskTemplate.ContainerSpec.Image, encodedAuth); err != nil {
		return "", nil, err
	}
	resp, err := api.ServiceCreate(ctx, spec, dockerswarm.ServiceCreateOptions{
		EncodedRegistryAuth: encodedAuth,
		QueryRegistry:       cfg.resolveImage,
	})
	if err != nil {
		return "", nil, engineError("create service", spec.Name, err)
	}
	return resp.ID, warnings(resp.Warnings), nil
}

// maxUpdateAttempts bounds UpdateServiceAuth's retries when another writer bumps the
// service's version between our read and our write.
const maxUpdateAttempts = 3

// UpdateServiceAuth replaces the registry auth of a service (ID or name) with encodedAuth
// and changes nothing else: it reads the current spec and version and writes that very spec
// back with the new X-Registry-Auth, what `docker service update --with-registry-auth`
// does after a credential rotation. The image is not re-resolved. Running tasks are not
// restarted: a change of registry auth alone does not make the daemon roll the tasks
// (checked on a real swarm by controller's TestSwarmReauthKeepsTasksRunning: the task IDs
// stay); tasks started later (scaling, a restart, a node change) pull with the new
// credentials.
// A concurrent update (version conflict) is retried on a fresh read. An empty encodedAuth
// is refused: it would keep the old auth, which is not a rotation.
//
// As CreateService, it hands the credentials to the daemon only after the service's image
// registry completed a TLS handshake under the record's TLS mode (WithTLS; the secure mode
// when it is not given). Options: WithTLS.
func UpdateServiceAuth(ctx context.Context, api ServiceAPI, service, encodedAuth string, opts ...Option) ([]string, error) {
	cfg := newConfig(opts)
	if encodedAuth == "" {
		return nil, &registry.Error{Op: "update service auth", Registry: service,
			Err: &registry.FieldError{Field: "registryAuth", Reason: "is empty", Hint: "encode the new credentials with EncodeAuth"}}
	}
	var lastErr error
	for range maxUpdateAttempts {
		svc, _, err := api.ServiceInspectWithRaw(ctx, service, dockerswarm.ServiceInspectOptions{})
		if err != nil {
			return nil, engineError("update service auth", service, err)
		}
		image := ""
		if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil {
			image = cs.Image
		}
		if err := checkServiceAuth(ctx, "update service auth", service, cfg.tls, image, encodedAuth); err != nil {
			return nil, err
		}
		resp, err := api.ServiceUpdate(ctx, svc.ID, svc.Version, svc.Spec, dockerswarm.ServiceUpdateOptions{
			EncodedRegistryAuth: encodedAuth,
		})
		if err == nil {
			return warnings(resp.Warnings), nil
		}
		lastErr = engineError("update service auth", service, err)
		if !errors.Is(lastErr, registry.ErrConflict) {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

// warnings bounds and escapes the daemon's warnings: remote text on its way to a terminal.
func warnings(ws []string) []string {
	for i, w := range ws {
		ws[i] = untrusted.Limit(w, maxVerdictRunes)
	}
	return ws
}

// Compile-time checks that the Docker client satisfies the package's interfaces.
var (
	_ LoginAPI   = (*client.Client)(nil)
	_ ServiceAPI = (*client.Client)(nil)
)
