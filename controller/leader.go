package controller

import (
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderElection configures the election between replicas (client-go
// tools/leaderelection). The worst-case failover after the leader dies is about
// LeaseDuration plus RetryPeriod: the follower must see the lease expire and then win it.
type LeaderElection struct {
	// Lock is the lease the replicas compete for: LeaseLock for a coordination.k8s.io
	// Lease, or any resourcelock.Interface.
	Lock resourcelock.Interface
	// LeaseDuration is how long followers wait after the last renewal before taking over
	// (default 15 s). RenewDeadline is how long the leader keeps trying to renew before it
	// gives up (default 10 s, less than LeaseDuration). RetryPeriod is how often both try
	// (default 2 s).
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// ReleaseOnCancel gives the lease up when Run's ctx ends, so a follower takes over at
	// once after a clean shutdown.
	ReleaseOnCancel bool
}

func (le LeaderElection) withDefaults() LeaderElection {
	if le.LeaseDuration <= 0 {
		le.LeaseDuration = 15 * time.Second
	}
	if le.RenewDeadline <= 0 || le.RenewDeadline >= le.LeaseDuration {
		le.RenewDeadline = le.LeaseDuration * 2 / 3
	}
	if le.RetryPeriod <= 0 || le.RetryPeriod >= le.RenewDeadline {
		le.RetryPeriod = le.RenewDeadline / 5
	}
	return le
}

// LeaseLock is a coordination.k8s.io Lease named name in namespace, held as identity
// (unique per replica: the pod name).
func LeaseLock(client kubernetes.Interface, namespace, name, identity string) resourcelock.Interface {
	return &resourcelock.LeaseLock{
		LeaseMeta:  metav1ObjectMeta(namespace, name),
		Client:     client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: identity},
	}
}
