package controller

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the controller's Prometheus metrics, all prefixed regcred_controller_:
//
//	syncs_total{result}                        namespace reconciles, "success" or "error"
//	writes_total{resource,verb}                API writes: secret create/update/delete, serviceaccount update
//	failures_total{reason}                     failed reconciles by Event reason, "catalog", and
//	                                           "stale_resolution" (credentials of a changed record, dropped)
//	credential_failures_total{registry}        failed credential resolutions, by registry ID
//	token_expiry_timestamp_seconds{registry}   when the credentials in the Secrets expire (token kinds)
//	queue_depth                                namespaces waiting to be reconciled
//	leader                                     1 while this replica acts
//	pending_serviceaccounts_total              reconciles that found a ServiceAccount not created yet
//	stuck_pods_checked_total{outcome}          Pods stuck pulling looked at: "unselected" (namespace not
//	                                           served), "not_served" (no registry served there), "reported"
//	                                           (an Event recorded), "already_reported"
//	sync_duration_seconds, resolve_duration_seconds
//
// One Metrics serves one controller; NewMetrics registers them on their own registry, which
// Handler serves at /metrics (with the Go and process collectors).
type Metrics struct {
	reg                    *prometheus.Registry
	syncs                  *prometheus.CounterVec
	writes                 *prometheus.CounterVec
	failures               *prometheus.CounterVec
	credentialFailures     *prometheus.CounterVec
	tokenExpiry            *prometheus.GaugeVec
	leader                 prometheus.Gauge
	pendingServiceAccounts prometheus.Counter
	syncDuration           prometheus.Histogram
	resolveDuration        prometheus.Histogram
	podChecks              *prometheus.CounterVec
}

// NewMetrics returns the controller's metrics on a new registry.
func NewMetrics() *Metrics {
	const ns, sub = "regcred", "controller"
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "syncs_total",
			Help: "Namespace reconciles, by result."}, []string{"result"}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "writes_total",
			Help: "Kubernetes API writes, by resource and verb."}, []string{"resource", "verb"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "failures_total",
			Help: "Failed reconciles, by reason."}, []string{"reason"}),
		credentialFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "credential_failures_total",
			Help: "Failed credential resolutions, by registry ID."}, []string{"registry"}),
		tokenExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "token_expiry_timestamp_seconds",
			Help: "When the credentials written for a registry expire (Unix seconds), for expiring kinds."}, []string{"registry"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "leader",
			Help: "1 while this replica acts."}),
		pendingServiceAccounts: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "pending_serviceaccounts_total",
			Help: "Reconciles that found a ServiceAccount not created yet (patched when it appears)."}),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "sync_duration_seconds",
			Help: "Duration of one namespace reconcile.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		resolveDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "resolve_duration_seconds",
			Help: "Duration of listing the registries.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
		podChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "stuck_pods_checked_total",
			Help: "Pods stuck pulling that the Pod report looked at, by outcome."}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.syncs, m.writes, m.failures, m.credentialFailures, m.tokenExpiry, m.leader,
		m.pendingServiceAccounts, m.syncDuration, m.resolveDuration, m.podChecks,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the Prometheus registry the metrics are on, to serve or gather.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

type lener interface{ Len() int }

// queue registers the queue depth gauge.
func (m *Metrics) queue(q lener) {
	_ = m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "regcred", Subsystem: "controller", Name: "queue_depth",
		Help: "Namespaces waiting to be reconciled."}, func() float64 { return float64(q.Len()) }))
}
