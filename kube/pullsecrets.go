package kube

import (
	corev1 "k8s.io/api/core/v1"
)

// AddImagePullSecrets adds each name to spec.imagePullSecrets unless it is there already,
// keeping the existing entries and their order. It reports whether spec changed; calling it
// again with the same names changes nothing.
func AddImagePullSecrets(spec *corev1.PodSpec, names ...string) bool {
	refs, changed := MergeImagePullSecrets(spec.ImagePullSecrets, names, nil)
	if changed {
		spec.ImagePullSecrets = refs
	}
	return changed
}

// MergeImagePullSecrets returns refs with every name in add appended (unless present) and
// every name in remove dropped; other entries keep their order. changed reports whether
// the result differs from refs. refs is not modified.
func MergeImagePullSecrets(refs []corev1.LocalObjectReference, add, remove []string) ([]corev1.LocalObjectReference, bool) {
	drop := make(map[string]bool, len(remove))
	for _, n := range remove {
		drop[n] = true
	}
	out := make([]corev1.LocalObjectReference, 0, len(refs)+len(add))
	have := make(map[string]bool, len(refs)+len(add))
	changed := false
	for _, r := range refs {
		if drop[r.Name] {
			changed = true
			continue
		}
		if have[r.Name] {
			out = append(out, r) // someone else's duplicate: not ours to fix
			continue
		}
		have[r.Name] = true
		out = append(out, r)
	}
	for _, n := range add {
		if n == "" || have[n] || drop[n] {
			continue
		}
		have[n] = true
		out = append(out, corev1.LocalObjectReference{Name: n})
		changed = true
	}
	if !changed {
		return refs, false
	}
	return out, true
}
