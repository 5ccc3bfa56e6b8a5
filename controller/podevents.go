package controller

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/regcred/regcred/internal/untrusted"
)

// Reasons of the Events the controller records on Pods stuck pulling from a registry it
// serves. It only reports them: it never restarts, evicts or deletes a Pod.
const (
	// ReasonPodMissingPullSecret: the Pod cannot pull from a managed registry and does not
	// list the pull Secret (it was created before its ServiceAccount was patched: the
	// ServiceAccount admission copies imagePullSecrets only at creation). Recreating the
	// Pod (a rollout restart of its owner) picks the Secret up.
	ReasonPodMissingPullSecret = "PullSecretNotInPod"
	// ReasonPodPullFailing: the Pod lists the managed pull Secret and still cannot pull:
	// the credentials or the image are wrong, not the wiring.
	ReasonPodPullFailing = "PullFromManagedRegistryFailing"
)

// Kubelet waiting reasons of a container whose image pull failed.
var pullFailedReasons = []string{"ErrImagePull", "ImagePullBackOff"}

// WithPodEvents turns the Pod report on or off (default on). On, the controller watches
// Pending Pods (RBAC: get, list, watch on pods) and records a Warning Event on each Pod
// whose container is stuck pulling (ErrImagePull, ImagePullBackOff) an image of a registry
// it serves in that namespace, once per container and image. It never restarts a Pod.
func WithPodEvents(on bool) Option { return func(o *options) { o.noPodEvents = !on } }

// podWatch reports Pods stuck pulling from a managed registry.
type podWatch struct {
	informer cache.SharedIndexInformer
	mu       sync.Mutex
	reported map[string]bool // pod UID/container/image/reason already reported
}

// watchPods sets up the informer over Pending Pods (a Pod stuck pulling never leaves
// Pending, so Running ones are not cached).
func (c *Controller) watchPods(client kubernetes.Interface) error {
	if c.o.noPodEvents {
		return nil
	}
	f := informers.NewSharedInformerFactoryWithOptions(client, c.o.resync,
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
			lo.FieldSelector = fields.OneTermEqualSelector("status.phase", string(corev1.PodPending)).String()
		}))
	pw := &podWatch{informer: f.Core().V1().Pods().Informer(), reported: map[string]bool{}}
	if _, err := pw.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.checkPod(obj) },
		UpdateFunc: func(_, obj any) { c.checkPod(obj) },
		DeleteFunc: func(obj any) {
			if m, err := metaOf(obj); err == nil {
				pw.forget(string(m.GetUID()))
			}
		},
	}); err != nil {
		return err
	}
	// Pods stuck before their namespace was selected, or before this replica led, are
	// looked at when that changes (the kubelet's back-off updates their status too, but
	// only every few minutes).
	if _, err := c.nsInformer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { c.checkPodsIn(obj) },
		UpdateFunc: func(_, obj any) { c.checkPodsIn(obj) },
	}); err != nil {
		return err
	}
	c.o.leaderTasks = append(c.o.leaderTasks, func(ctx context.Context) error {
		for !c.resolved.Load() {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(50 * time.Millisecond):
			}
		}
		for _, obj := range pw.informer.GetStore().List() {
			c.checkPod(obj)
		}
		return nil
	})
	c.pods = pw
	c.factories = append(c.factories, f)
	return nil
}

// checkPodsIn checks the cached Pods of a namespace that was added or changed.
func (c *Controller) checkPodsIn(obj any) {
	m, err := metaOf(obj)
	if err != nil || !c.leading.Load() || !c.resolved.Load() {
		return
	}
	pods, err := c.pods.informer.GetIndexer().ByIndex(cache.NamespaceIndex, m.GetName())
	if err != nil {
		return
	}
	for _, p := range pods {
		c.checkPod(p)
	}
}

func (pw *podWatch) forget(uid string) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	for k := range pw.reported {
		if len(k) > len(uid) && k[:len(uid)] == uid && k[len(uid)] == '/' {
			delete(pw.reported, k)
		}
	}
}

// first reports whether key is new, and remembers it.
func (pw *podWatch) first(key string) bool {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	if pw.reported[key] {
		return false
	}
	pw.reported[key] = true
	return true
}

// checkPod records an Event on pod for each container stuck pulling from a registry the
// controller serves in its namespace. Only the leader reports, once its registries are
// resolved; a Pod seen earlier is looked at again on the informer's resync.
func (c *Controller) checkPod(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || c.pods == nil || !c.leading.Load() || !c.resolved.Load() || pod.DeletionTimestamp != nil {
		return
	}
	var stuck []corev1.ContainerStatus
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for _, cs := range list {
			if w := cs.State.Waiting; w != nil && slices.Contains(pullFailedReasons, w.Reason) {
				stuck = append(stuck, cs)
			}
		}
	}
	if len(stuck) == 0 {
		return
	}
	ns, err := c.namespaces.Get(pod.Namespace)
	if err != nil || !c.o.selector.Matches(labels.Set(ns.Labels)) {
		c.metrics.podChecks.WithLabelValues("unselected").Inc()
		return
	}
	kc, err := c.cat.Keychain(context.Background())
	if err != nil {
		return
	}
	outcome := "not_served"
	defer func() { c.metrics.podChecks.WithLabelValues(outcome).Inc() }()
	served := map[string]*desiredSecret{}
	for _, d := range c.st.snapshot() {
		if d.template != nil && c.o.target(d.reg, ns) {
			served[d.reg.ID] = d
		}
	}
	listed := map[string]bool{}
	for _, ref := range pod.Spec.ImagePullSecrets {
		listed[ref.Name] = true
	}
	for _, cs := range stuck {
		image := containerImage(pod, cs)
		reg, ok := kc.Match(image)
		if !ok {
			continue
		}
		d := served[reg.ID]
		if d == nil {
			continue
		}
		reason := ReasonPodMissingPullSecret
		msg := fmt.Sprintf("container %s cannot pull %s (%s) from registry %s; the pod does not list pull secret %s, which regcred keeps in this namespace (the pod was created before its service account listed it): recreate the pod, e.g. restart its deployment, to pick it up; regcred never restarts pods",
			untrusted.Limit(cs.Name, 63), untrusted.Limit(image, 256), cs.State.Waiting.Reason, untrusted.Limit(reg.Name, 128), d.name)
		if listed[d.name] {
			reason = ReasonPodPullFailing
			msg = fmt.Sprintf("container %s cannot pull %s (%s) from registry %s although the pod lists pull secret %s: check the registry's credentials (its health) and that the image exists",
				untrusted.Limit(cs.Name, 63), untrusted.Limit(image, 256), cs.State.Waiting.Reason, untrusted.Limit(reg.Name, 128), d.name)
		}
		if !c.pods.first(string(pod.UID) + "/" + cs.Name + "/" + image + "/" + reason) {
			if outcome == "not_served" {
				outcome = "already_reported"
			}
			continue
		}
		outcome = "reported"
		c.metrics.failures.WithLabelValues(reason).Inc()
		c.recorder.Event(pod, corev1.EventTypeWarning, reason, msg)
	}
}

// containerImage is the image the Pod's spec asks for in the container of cs (the status
// may carry a resolved or empty image while waiting).
func containerImage(pod *corev1.Pod, cs corev1.ContainerStatus) string {
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, ctr := range list {
			if ctr.Name == cs.Name {
				return ctr.Image
			}
		}
	}
	return cs.Image
}
