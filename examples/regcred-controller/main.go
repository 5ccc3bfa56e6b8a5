package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	dockerclient "github.com/docker/docker/client"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/controller"
	"github.com/regcred/regcred/kube"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/registryfile"
	"github.com/regcred/regcred/store"
	"github.com/regcred/regcred/store/memory"
	_ "github.com/regcred/regcred/store/postgres"
	_ "github.com/regcred/regcred/store/sqlite"
	"github.com/regcred/regcred/swarm"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "regcred-controller:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

type config struct {
	registries, dsn, kubeconfig, selector, serviceAccounts, managedBy, listen string
	prune, leaderElect, tokenSecrets                                          bool
	leNamespace, leName, leIdentity, dockerHost, dockerConfig                 string
	teamLabel, projectLabel                                                   string
	leaseDuration, renewDeadline, retryPeriod                                 time.Duration
	workers, burst                                                            int
	qps                                                                       float64
}

func parse(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("regcred-controller", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.registries, "registries", "", "registries file (YAML, package registryfile)")
	fs.StringVar(&c.dsn, "store", "", "registry store DSN (file:, sqlite:, postgres:); instead of --registries")
	fs.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file; in-cluster config when empty")
	fs.Float64Var(&c.qps, "kube-api-qps", 50, "requests per second to the API server (an initial sync writes twice per namespace)")
	fs.IntVar(&c.burst, "kube-api-burst", 100, "burst of requests to the API server")
	fs.StringVar(&c.selector, "namespace-selector", "", "label selector of the namespaces to serve (default: every namespace)")
	fs.StringVar(&c.teamLabel, "team-label", "", "namespace label whose value is the namespace's team: a registry scoped to teams gets its Secret only in its teams' namespaces (without it, nowhere). Whoever may label a namespace may claim a team: keep the label out of tenants' hands")
	fs.StringVar(&c.projectLabel, "project-label", "", "namespace label whose value is the namespace's project, for registries scoped to projects (as --team-label)")
	fs.StringVar(&c.serviceAccounts, "service-accounts", "default", "comma-separated ServiceAccounts whose imagePullSecrets list the Secrets (empty: none)")
	fs.StringVar(&c.managedBy, "managed-by", "regcred", "value of the app.kubernetes.io/managed-by label of the Secrets this controller owns")
	fs.BoolVar(&c.prune, "prune", true, "delete owned Secrets that no registry or namespace wants any more")
	fs.IntVar(&c.workers, "workers", controller.DefaultWorkers, "namespaces reconciled at once")
	fs.StringVar(&c.listen, "listen", ":8080", "address of /healthz, /readyz and /metrics (empty: none)")
	fs.StringVar(&c.dockerHost, "docker-host", "", "Docker Engine of a swarm manager (unix:///var/run/docker.sock, tcp://...): re-auth the services that use a saved registry")
	fs.StringVar(&c.dockerConfig, "docker-config", "", "a docker config.json to keep fresh (0600) for tools that cannot use credential helpers (empty: none)")
	fs.BoolVar(&c.tokenSecrets, "token-secrets", false, "fill pull Secrets annotated with a ServiceAccount from its token (seed 004; kube/tokensecret)")
	fs.BoolVar(&c.leaderElect, "leader-elect", false, "run as one of several replicas: only the holder of the Lease acts")
	fs.StringVar(&c.leNamespace, "leader-elect-namespace", "", "namespace of the Lease (default: the pod's, from POD_NAMESPACE or the service account mount)")
	fs.StringVar(&c.leName, "leader-elect-name", "regcred-controller", "name of the Lease")
	fs.StringVar(&c.leIdentity, "leader-elect-identity", "", "this replica's identity (default: POD_NAME, else the host name)")
	fs.DurationVar(&c.leaseDuration, "lease-duration", 15*time.Second, "how long followers wait after the last renewal")
	fs.DurationVar(&c.renewDeadline, "renew-deadline", 10*time.Second, "how long the leader tries to renew before it gives up")
	fs.DurationVar(&c.retryPeriod, "retry-period", 2*time.Second, "how often replicas try to acquire or renew")
	if err := fs.Parse(args); err != nil {
		return nil, errUsage
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if (c.registries == "") == (c.dsn == "") {
		return nil, fmt.Errorf("%w: give exactly one of --registries FILE and --store DSN", errUsage)
	}
	return c, nil
}

// run is the whole program; ready, when not nil, gets the health address once it listens.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	cfg, err := parse(args, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	var st registry.Store
	if cfg.registries != "" {
		regs, err := registryfile.Load(cfg.registries)
		if err != nil {
			return err
		}
		mem := memory.New()
		for _, r := range regs {
			r.Version = 1
			if err := mem.Put(ctx, r); err != nil {
				return fmt.Errorf("registry %q: %w", r.Name, err)
			}
		}
		st = mem
	} else {
		s, err := store.Open(ctx, cfg.dsn, store.WithLogger(log))
		if err != nil {
			return err
		}
		defer s.Close()
		st = s
	}
	cat := catalog.New(st, catalog.WithProviderFactory(providers.Factory()), catalog.WithLogger(log))
	defer cat.Close()

	restCfg, err := restConfig(cfg.kubeconfig, cfg.qps, cfg.burst)
	if err != nil {
		return err
	}
	restCfg.UserAgent = "regcred-controller"
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	opts := []controller.Option{
		controller.WithManagedBy(cfg.managedBy),
		controller.WithScopeLabels(kube.ScopeLabels{Team: cfg.teamLabel, Project: cfg.projectLabel}),
		controller.WithPrune(cfg.prune),
		controller.WithWorkers(cfg.workers),
		controller.WithLogger(log),
		controller.WithServiceAccounts(splitList(cfg.serviceAccounts)...),
	}
	if cfg.dockerHost != "" {
		dc, err := dockerclient.NewClientWithOpts(dockerclient.WithHost(cfg.dockerHost), dockerclient.WithAPIVersionNegotiation())
		if err != nil {
			return fmt.Errorf("--docker-host: %w", err)
		}
		defer dc.Close()
		sw := swarm.NewReauth(cat, dc, swarm.WithReauthLogger(log))
		opts = append(opts, controller.WithLeaderTasks(sw.Run))
	}
	if cfg.dockerConfig != "" {
		opts = append(opts, controller.WithDockerConfig(cfg.dockerConfig))
	}
	if cfg.tokenSecrets {
		opts = append(opts, controller.WithLeaderTasks(tokenSecrets(cat, client, log)))
	}
	if cfg.selector != "" {
		sel, err := labels.Parse(cfg.selector)
		if err != nil {
			return fmt.Errorf("%w: --namespace-selector: %v", errUsage, err)
		}
		opts = append(opts, controller.WithNamespaceSelector(sel))
	}
	if cfg.leaderElect {
		ns, id := cfg.leNamespace, cfg.leIdentity
		if ns == "" {
			ns = podNamespace()
		}
		if ns == "" {
			return fmt.Errorf("%w: --leader-elect needs --leader-elect-namespace outside a pod", errUsage)
		}
		if id == "" {
			id = os.Getenv("POD_NAME")
		}
		if id == "" {
			id, _ = os.Hostname()
		}
		opts = append(opts, controller.WithLeaderElection(controller.LeaderElection{
			Lock:          controller.LeaseLock(client, ns, cfg.leName, id),
			LeaseDuration: cfg.leaseDuration, RenewDeadline: cfg.renewDeadline, RetryPeriod: cfg.retryPeriod,
			ReleaseOnCancel: true,
		}))
	}
	ctrl, err := controller.New(cat, client, opts...)
	if err != nil {
		return err
	}
	if cfg.listen != "" {
		ln, err := net.Listen("tcp", cfg.listen)
		if err != nil {
			return fmt.Errorf("--listen: %w", err)
		}
		srv := &http.Server{Handler: ctrl.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		if ready != nil {
			ready(ln.Addr().String())
		}
	}
	log.Info("regcred-controller: starting", "selector", cfg.selector, "leader-elect", cfg.leaderElect)
	return ctrl.Run(ctx)
}

// restConfig is the client configuration: the kubeconfig, else the pod's service account.
// client-go's defaults (5 requests per second, burst 10, JSON) would make an initial sync
// of 1,000 namespaces (2,000 writes) take minutes; the controller talks protobuf, as
// kube-controller-manager does, at the rate qps/burst allow.
func restConfig(kubeconfig string, qps float64, burst int) (*rest.Config, error) {
	var c *rest.Config
	var err error
	if kubeconfig != "" {
		c, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
	} else if c, err = rest.InClusterConfig(); err != nil {
		err = fmt.Errorf("not in a cluster and no --kubeconfig: %w", err)
	}
	if err != nil {
		return nil, err
	}
	c.QPS, c.Burst = float32(qps), burst
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	return c, nil
}

func podNamespace() string {
	if ns := os.Getenv("POD_NAMESPACE"); ns != "" {
		return ns
	}
	b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func splitList(s string) []string {
	out := []string{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
