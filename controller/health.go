package controller

import (
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func metav1ObjectMeta(namespace, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: namespace, Name: name}
}

// Handler serves the controller's probes and metrics:
//
//	/healthz  200 while the controller runs well; 500 after it failed (lost its lease,
//	          caches that never synced), so the kubelet restarts it
//	/readyz   200 once the caches are filled and, on the leader, the registries resolved;
//	          a follower with warm caches is ready (it can take over at once)
//	/metrics  Prometheus metrics (Metrics)
func (c *Controller) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if p := c.failed.Load(); p != nil {
			http.Error(w, fmt.Sprintf("failed: %v", *p), http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case c.failed.Load() != nil:
			http.Error(w, "failed", http.StatusServiceUnavailable)
		case !c.synced.Load():
			http.Error(w, "caches not synced", http.StatusServiceUnavailable)
		case c.leading.Load() && !c.resolved.Load():
			http.Error(w, "resolving registries", http.StatusServiceUnavailable)
		case c.leading.Load():
			fmt.Fprintln(w, "ok: leading")
		default:
			fmt.Fprintln(w, "ok: standing by")
		}
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(c.metrics.reg, promhttp.HandlerOpts{Registry: c.metrics.reg}))
	return mux
}

// Leading reports whether this replica acts now.
func (c *Controller) Leading() bool { return c.leading.Load() }
