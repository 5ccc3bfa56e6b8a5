// Package registryfile reads the registries file that regcred's example binaries share (the
// CLI, the Docker credential helper, the kubelet credential provider): a YAML list of saved
// registries in the shape of the product documents:
//
//	registries:
//	  - name: My GHCR
//	    type: GHCR              # GHCR, Docker, ECR, ACR, GCR, GAR, Quay, Harbor, Custom, Public, Kubernetes
//	    url: ghcr.io            # optional where the type implies it; may also sit in credentials
//	    default: true
//	    credentials:
//	      username: myorg
//	      token: ${GHCR_TOKEN}  # any value may be ${ENV_VAR} or file:/path/to/secret
//	    tls:
//	      mode: ca              # secure (default), ca or insecure
//	      ca: file:/etc/regcred/ca.crt
//
// The top-level "registries:" key may be left out: a bare list is accepted too, and so is a
// single entry, or several YAML documents (separated by ---), each an entry or a list.
//
// The product documents' own shape (seeds 000 and 001) is accepted as it is written:
//
//	name: GitHub Registry
//	url: ghcr.io
//	username: my-github-user
//	password: ghp_xxxxxxxxxxxx
//
// Without a type, the kind is inferred from the url's host (document.InferKind: Docker Hub's
// names, ghcr.io, quay.io, *.azurecr.io, ECR's hosts, gcr.io and its regional hosts,
// REGION-docker.pkg.dev, everything else Custom) and LoadEntries says so (Entry.Inferred);
// an explicit type always wins. A flat username and password go to the kind's own fields
// (document.FlatFields: for GHCR and Quay the password is the token), and problems name them
// as written ("password", not "token"). Flat keys beside credentials: are a problem (one
// place or the other). Blocks pasted one after another without --- are one mapping with
// keys given twice: that problem says how to separate them. Types are matched
// case-insensitively with the aliases of registry.ParseKind; credential field names match
// the kind's schema case-insensitively. The file is read once; nothing here caches or
// watches it.
//
// Rules:
//   - Inputs are bounded: the registries file is at most MaxFileSize (2 MiB) and a file:
//     value at most MaxValueFileSize (1 MiB); both must be regular files (a symlink to one
//     is fine). A named pipe, a device (/dev/zero), a directory or a socket is refused at
//     once, without blocking or reading it (package internal/boundedfile).
//   - The YAML is read as nodes (go.yaml.in/yaml/v3, the YAML organization's maintained
//     continuation of the archived gopkg.in/yaml.v3; v4 is still a release candidate),
//     not through JSON as sigs.k8s.io/yaml does, so nothing is lost: a key given twice is refused at every level (case-insensitively among
//     credentials, whose names fold), naming both lines; merge keys (<<) are refused; aliases of values work, within a node budget that stops alias
//     bombs; a value is taken as written (password: 0123 stays "0123").
//   - Every problem is reported at once (Problems lists them), each naming the file, the
//     line, the entry (name and 1-based position) and the field. Within an entry, keys
//     come first (duplicates, then unknown keys with the nearest known name: "passwrod"
//     gets did you mean "password"), then values that cannot be read (${VAR} unset,
//     file: unreadable), then what registry.Validate finds, leaving out fields already
//     reported. Errors never quote a value.
package registryfile
