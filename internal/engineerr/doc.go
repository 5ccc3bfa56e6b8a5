// Package engineerr reads what a Docker daemon's refusal means (credentials refused, no
// permission, no such image, ...) from the structure of its answer, never from numbers
// found anywhere in its text: a registry on port 40103 or a digest holding "401" is not an
// authentication failure.
//
// Classify looks, in this order, at:
//  1. the status code of a JSON message stream's error object (errorDetail.code), when the
//     daemon set one;
//  2. the registry's error code (the OCI distribution spec's UNAUTHORIZED, DENIED,
//     MANIFEST_UNKNOWN, ...), which the daemon's message carries as a whole ": "-separated
//     part in the registry client's form ("unauthorized: authentication required",
//     "manifest unknown: manifest unknown");
//  3. an HTTP status followed by its exact reason phrase, standing alone
//     ("failed with status: 401 Unauthorized");
//  4. the error's class (github.com/containerd/errdefs, which the Docker client's errors
//     implement from the daemon's HTTP status: IsUnauthorized, IsPermissionDenied,
//     IsNotFound, ...), and a refused connection to the daemon;
//  5. the daemon's fixed phrases that carry no code ("no basic auth credentials").
//
// The registry's code wins over the daemon's status because it is the more precise of the
// two: daemon 20.10 answers a pull of a repository it may not read with 404 and the
// registry's DENIED inside. Callers decide what Denied means for them (a pull without
// credentials that meets DENIED needs a login; with credentials, more permission).
package engineerr
