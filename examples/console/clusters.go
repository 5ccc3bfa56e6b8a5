package main

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/regcred/regcred/catalog"
	"github.com/regcred/regcred/controller"
	"github.com/regcred/regcred/providers"
	"github.com/regcred/regcred/registry"
	"github.com/regcred/regcred/store/sealed"
)

// Clusters: a kubeconfig per cluster (uploaded by an admin, sealed with the master keys
// as the registries' secrets are) and a label selector of the namespaces that get pull
// Secrets; which registry goes to which of them is each registry's scope (its Namespaces
// patterns, in the form's "Who may use it"). The console runs the library's controller
// for each cluster in its own process, over a Catalog of its own without an authorizer
// (the controller is the platform, not a user): saving, rotating and deleting a registry
// reaches the cluster through the store's change feed, and the controller records the
// namespaces it serves as the registry's consumers, shown on its row. With replicas
// (--store postgres) the controllers are leader-elected through a Lease in each cluster.

const clustersSchema = `CREATE TABLE IF NOT EXISTS console_clusters (
	name TEXT PRIMARY KEY,
	selector TEXT NOT NULL,
	key_id TEXT NOT NULL,
	wrapped TEXT NOT NULL,
	sealed TEXT NOT NULL,
	created BIGINT NOT NULL
)`

// cluster is a configured cluster as the page shows it (never its kubeconfig).
type cluster struct {
	Name, Selector string
	Created        time.Time
	State          string // running, or why not
}

// clusters keeps the clusters and runs their controllers.
type clusters struct {
	db     *sql.DB
	keys   *sealed.Keyring
	cat    *catalog.Catalog // trusted: no authorizer
	log    *slog.Logger
	leader bool // leader-elect each controller (replicas share the database)

	mu      sync.Mutex
	clients map[string]kubernetes.Interface // by cluster name
	running map[string]context.CancelFunc
	state   map[string]string
	wg      sync.WaitGroup
}

func newClusters(ctx context.Context, st *storage, log *slog.Logger) (*clusters, error) {
	if _, err := st.accounts.db.ExecContext(ctx, clustersSchema); err != nil {
		return nil, fmt.Errorf("create the console's clusters table: %w", err)
	}
	cs := &clusters{db: st.accounts.db, keys: st.keys, log: log, leader: st.shared,
		running: map[string]context.CancelFunc{}, state: map[string]string{}, clients: map[string]kubernetes.Interface{}}
	cs.cat = catalog.New(st.records, catalog.WithProviderFactory(cs.factory), catalog.WithLogger(log))
	return cs, nil
}

// factory makes a record's provider: a Kubernetes token registry asks the first cluster
// (by name) for its ServiceAccount's tokens, so it can be used and tested once a cluster
// is configured; every other kind as providers.For.
func (cs *clusters) factory(r registry.Registry) (registry.Provider, error) {
	if r.Kind == registry.KindKubernetes {
		if c := cs.kubeClient(); c != nil {
			return providers.For(r, providers.WithKubeClient(c))
		}
	}
	return providers.For(r)
}

// kubeClient is the client of the first cluster by name, nil without one.
func (cs *clusters) kubeClient() kubernetes.Interface {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	first := ""
	for n := range cs.clients {
		if first == "" || n < first {
			first = n
		}
	}
	return cs.clients[first]
}

// seal encrypts a kubeconfig under a fresh data key wrapped by the master keys (the
// cluster's name is bound as additional data).
func (cs *clusters) seal(ctx context.Context, name string, kubeconfig []byte) (keyID, wrapped, box string, err error) {
	dek := make([]byte, 32)
	rand.Read(dek)
	kid, w, err := cs.keys.WrapKey(ctx, dek, []byte("console cluster "+name))
	if err != nil {
		return "", "", "", err
	}
	block, _ := aes.NewCipher(dek)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, gcm.NonceSize())
	rand.Read(nonce)
	ct := gcm.Seal(nonce, nonce, kubeconfig, []byte(name))
	return kid, base64.StdEncoding.EncodeToString(w), base64.StdEncoding.EncodeToString(ct), nil
}

func (cs *clusters) open(ctx context.Context, name, keyID, wrapped, box string) ([]byte, error) {
	w, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil {
		return nil, err
	}
	dek, err := cs.keys.UnwrapKey(ctx, keyID, w, []byte("console cluster "+name))
	if err != nil {
		return nil, err
	}
	ct, err := base64.StdEncoding.DecodeString(box)
	if err != nil {
		return nil, err
	}
	block, _ := aes.NewCipher(dek)
	gcm, _ := cipher.NewGCM(block)
	if len(ct) < gcm.NonceSize() {
		return nil, errors.New("sealed kubeconfig too short")
	}
	return gcm.Open(nil, ct[:gcm.NonceSize()], ct[gcm.NonceSize():], []byte(name))
}

// add checks a kubeconfig and a selector, stores them sealed and starts the cluster's
// controller.
func (cs *clusters) add(ctx context.Context, name string, kubeconfig []byte, selector string, now time.Time) error {
	if _, err := labels.Parse(selector); err != nil {
		return fmt.Errorf("Namespaces: %q is not a label selector (e.g. regcred.io/pull-secrets=enabled)", limitText(selector, 100))
	}
	if _, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig); err != nil {
		return fmt.Errorf("Kubeconfig: it does not load (%s): give a kubeconfig with a current context", limitText(err.Error(), 200))
	}
	kid, w, box, err := cs.seal(ctx, name, kubeconfig)
	if err != nil {
		return err
	}
	res, err := cs.db.ExecContext(ctx, `INSERT INTO console_clusters (name, selector, key_id, wrapped, sealed, created) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING`,
		name, selector, kid, w, box, now.UnixNano())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("Name: a cluster %q exists", name)
	}
	return cs.start(name, kubeconfig, selector)
}

// remove stops a cluster's controller and forgets the cluster (its Secrets stay).
func (cs *clusters) remove(ctx context.Context, name string) error {
	cs.mu.Lock()
	if stop := cs.running[name]; stop != nil {
		stop()
		delete(cs.running, name)
	}
	delete(cs.clients, name)
	delete(cs.state, name)
	cs.mu.Unlock()
	_, err := cs.db.ExecContext(ctx, `DELETE FROM console_clusters WHERE name = $1`, name)
	return err
}

// startAll starts the controllers of the stored clusters (at the console's start).
func (cs *clusters) startAll(ctx context.Context) error {
	rows, err := cs.db.QueryContext(ctx, `SELECT name, selector, key_id, wrapped, sealed FROM console_clusters`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var name, sel, kid, w, box string
		if err := rows.Scan(&name, &sel, &kid, &w, &box); err != nil {
			return err
		}
		kc, err := cs.open(ctx, name, kid, w, box)
		if err == nil {
			err = cs.start(name, kc, sel)
		}
		if err != nil {
			cs.setState(name, "not running: "+err.Error())
		}
	}
	return rows.Err()
}

func (cs *clusters) setState(name, s string) {
	cs.mu.Lock()
	cs.state[name] = limitText(s, 300)
	cs.mu.Unlock()
}

// start runs the library's controller for one cluster until remove or Close.
func (cs *clusters) start(name string, kubeconfig []byte, selector string) error {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 50, 100 // the controller's doc: client-go's 5 QPS is too slow for an initial sync
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return err
	}
	opts := []controller.Option{controller.WithNamespaceSelector(sel), controller.WithLogger(cs.log.With("cluster", name))}
	if cs.leader {
		host, _ := os.Hostname()
		lock, err := resourcelock.New(resourcelock.LeasesResourceLock, "default", "regcred-console-"+name, client.CoreV1(), client.CoordinationV1(),
			resourcelock.ResourceLockConfig{Identity: host + "-" + randomToken()[:8]})
		if err != nil {
			return err
		}
		opts = append(opts, controller.WithLeaderElection(controller.LeaderElection{Lock: lock, ReleaseOnCancel: true}))
	}
	ctl, err := controller.New(cs.cat, client, opts...)
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	cs.mu.Lock()
	cs.running[name] = stop
	cs.clients[name] = client
	cs.state[name] = "running"
	cs.mu.Unlock()
	cs.cat.Invalidate() // a Kubernetes token registry's provider gets the client now
	cs.wg.Add(1)
	go func() {
		defer cs.wg.Done()
		if err := ctl.Run(ctx); err != nil && ctx.Err() == nil {
			cs.log.Error("cluster controller stopped", "cluster", name, "err", err)
			cs.setState(name, "stopped: "+err.Error())
		}
	}()
	return nil
}

// list returns the clusters with their controllers' states.
func (cs *clusters) list(ctx context.Context) ([]cluster, error) {
	rows, err := cs.db.QueryContext(ctx, `SELECT name, selector, created FROM console_clusters ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []cluster
	for rows.Next() {
		var c cluster
		var created int64
		if err := rows.Scan(&c.Name, &c.Selector, &created); err != nil {
			return nil, err
		}
		c.Created = time.Unix(0, created).UTC()
		cs.mu.Lock()
		c.State = cs.state[c.Name]
		cs.mu.Unlock()
		out = append(out, c)
	}
	return out, rows.Err()
}

// Close stops every controller and the trusted Catalog.
func (cs *clusters) Close() error {
	cs.mu.Lock()
	for _, stop := range cs.running {
		stop()
	}
	cs.running = map[string]context.CancelFunc{}
	cs.mu.Unlock()
	cs.wg.Wait()
	return cs.cat.Close()
}

// servedByClusters reports whether a consumer is one the console's own controllers
// serve (a namespace): deleting the registry prunes its Secrets there, so it does not
// block the delete.
func servedByClusters(c registry.Consumer) bool { return c.Kind == registry.ConsumerNamespace }
