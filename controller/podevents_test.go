package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/regcred/regcred/controller"
	fx "github.com/regcred/regcred/internal/fixture"
	"github.com/regcred/regcred/kube"
)

// stuckPod creates a Pod and, as the kubelet would (there is none), sets its status: every
// container waiting with reason.
func stuckPod(t *testing.T, f *fixture, ns, name string, pullSecrets []string, reason string, images map[string]string) *corev1.Pod {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}}
	for _, ctr := range []string{"app", "side"} {
		if images[ctr] != "" {
			pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{Name: ctr, Image: images[ctr]})
		}
	}
	for _, s := range pullSecrets {
		pod.Spec.ImagePullSecrets = append(pod.Spec.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	got, err := f.k.Client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return setWaiting(t, f, got, reason)
}

func setWaiting(t *testing.T, f *fixture, pod *corev1.Pod, reason string) *corev1.Pod {
	t.Helper()
	pod = pod.DeepCopy()
	pod.Status.Phase = corev1.PodPending
	pod.Status.ContainerStatuses = nil
	for _, ctr := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: ctr.Name, Image: ctr.Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "Back-off pulling image " + ctr.Image}},
		})
	}
	got, err := f.k.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(context.Background(), pod, metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// podChecks is how many stuck Pods the controller looked at with outcome (its metric):
// the positive signal that it has decided about a Pod before a test asserts that it
// recorded nothing.
func podChecks(t *testing.T, f *fixture, outcome string) float64 {
	t.Helper()
	return metric(t, f.ctrl.Handler(), `regcred_controller_stuck_pods_checked_total{outcome="`+outcome+`"}`)
}

// waitChecks waits until the controller has looked at stuck Pods with outcome more than
// n times.
func waitChecks(t *testing.T, f *fixture, outcome string, n float64) {
	t.Helper()
	fx.Eventually(t, 10*time.Second, "the controller checked a stuck pod ("+outcome+")", func() error {
		if got := podChecks(t, f, outcome); got <= n {
			return fmt.Errorf("%s checks: %v", outcome, got)
		}
		return nil
	})
}

func podEvents(t *testing.T, f *fixture, ns, pod string) []corev1.Event {
	t.Helper()
	evs, err := f.k.Client.CoreV1().Events(ns).List(context.Background(), metav1.ListOptions{FieldSelector: "involvedObject.kind=Pod,involvedObject.name=" + pod})
	if err != nil {
		t.Fatal(err)
	}
	return evs.Items
}

// TestStuckPodsAreReportedNotRestarted: a Pod created before its ServiceAccount listed the
// managed Secret never gets it; when it is stuck pulling from the managed registry the
// controller records an Event on it (once), and leaves it alone.
func TestStuckPodsAreReportedNotRestarted(t *testing.T) {
	f := newFixture(t, nil)
	r := f.add(t, custom("podreg", "pw-p"))
	name := kube.DefaultSecretName(r)
	f.start(t)
	ctx := context.Background()

	// The pod exists and is stuck before the namespace is selected: its ServiceAccount was
	// not patched, and nothing changes in the pod afterwards (the kubelet's next back-off
	// is minutes away); selecting the namespace is what brings it up.
	ns := f.k.Namespace(t, "pods")
	late := stuckPod(t, f, ns, "late", nil, "ImagePullBackOff", map[string]string{
		"app": "podreg.registry.example/team/app:1", "side": "unmanaged.example/side:1"})
	waitChecks(t, f, "unselected", 0) // the controller has seen the stuck pod in an unselected namespace
	if evs := podEvents(t, f, ns, late.Name); len(evs) != 0 {
		t.Fatalf("event on a pod of an unselected namespace: %s", evs[0].Reason)
	}
	n, err := f.k.Client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Labels[f.key] = f.val
	if _, err := f.k.Client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	fx.Eventually(t, 10*time.Second, "serviceaccount patched", func() error { return f.saLists(ns, "default", name) })
	// A pod that lists the Secret and still fails: another Event, pointing at credentials.
	listed := stuckPod(t, f, ns, "listed", []string{name}, "ErrImagePull", map[string]string{"app": "podreg.registry.example/team/app:2"})
	// A pod stuck on a registry nobody manages: nothing.
	stranger := stuckPod(t, f, ns, "stranger", nil, "ImagePullBackOff", map[string]string{"app": "unmanaged.example/app:1"})
	fx.Eventually(t, 10*time.Second, "events on the stuck pods", func() error {
		for pod, reason := range map[string]string{late.Name: controller.ReasonPodMissingPullSecret, listed.Name: controller.ReasonPodPullFailing} {
			evs := podEvents(t, f, ns, pod)
			if len(evs) == 0 {
				return fmt.Errorf("no event on pod %s", pod)
			}
			if evs[0].Reason != reason || evs[0].Type != corev1.EventTypeWarning {
				return fmt.Errorf("pod %s: event %s %s, want Warning %s", pod, evs[0].Type, evs[0].Reason, reason)
			}
		}
		return nil
	})
	// The stranger was looked at and found no registry served for it.
	waitChecks(t, f, "not_served", 0)
	// Re-set the late pod's status (the kubelet's back-off cycles ErrImagePull and
	// ImagePullBackOff): still one Event. The controller looked at both updates (each
	// found its Event recorded already) before the count is read.
	already := podChecks(t, f, "already_reported")
	late = setWaiting(t, f, late, "ErrImagePull")
	late = setWaiting(t, f, late, "ImagePullBackOff")
	waitChecks(t, f, "already_reported", already+1)
	evs := podEvents(t, f, ns, late.Name)
	if len(evs) != 1 {
		t.Fatalf("late pod: %d events, want one", len(evs))
	}
	if evs[0].Count > 1 {
		t.Fatalf("late pod: its event was recorded %d times, want once", evs[0].Count)
	}
	msg := evs[0].Message
	for _, want := range []string{"container app", "podreg.registry.example/team/app:1", name, "recreate the pod"} {
		if !strings.Contains(msg, want) {
			t.Errorf("event message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "side") {
		t.Errorf("event message names the unmanaged container: %q", msg)
	}
	if evs := podEvents(t, f, ns, stranger.Name); len(evs) != 0 {
		t.Errorf("pod pulling from an unmanaged registry got %d events: %s", len(evs), evs[0].Reason)
	}
	// Never restarted nor deleted.
	for _, p := range []*corev1.Pod{late, listed, stranger} {
		got, err := f.k.Client.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("pod %s: %v", p.Name, err)
		}
		if got.UID != p.UID || got.DeletionTimestamp != nil {
			t.Errorf("pod %s was replaced or is being deleted", p.Name)
		}
	}
}

// TestPodEventsOff: WithPodEvents(false) records nothing on pods: the controller does not
// even watch them. The positive signal: its informers have synced and it has reconciled
// the namespace (the ServiceAccount lists the Secret), and a Pod informer would have
// listed Pods before that; not one request for Pods went out.
func TestPodEventsOff(t *testing.T) {
	var mu sync.Mutex
	var podRequests []string
	f := newFixtureWith(t, func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if strings.Contains(req.URL.Path, "/pods") {
				mu.Lock()
				podRequests = append(podRequests, req.Method+" "+req.URL.String())
				mu.Unlock()
			}
			return rt.RoundTrip(req)
		})
	}, nil, controller.WithPodEvents(false))
	r := f.add(t, custom("podoff", "pw-o"))
	name := kube.DefaultSecretName(r)
	ns := f.namespaces(t, "podoff", 1)[0]
	pod := stuckPod(t, f, ns, "late", nil, "ImagePullBackOff", map[string]string{"app": "podoff.registry.example/app:1"})
	f.start(t)
	fx.Eventually(t, 10*time.Second, "serviceaccount patched", func() error { return f.saLists(ns, "default", name) })
	mu.Lock()
	defer mu.Unlock()
	if len(podRequests) != 0 {
		t.Fatalf("with pod events off the controller asked for pods: %v", podRequests)
	}
	if evs := podEvents(t, f, ns, pod.Name); len(evs) != 0 {
		t.Fatalf("%d events with pod events off", len(evs))
	}
}
