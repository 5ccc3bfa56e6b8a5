// Package document reads a registry as the product documents write it (seeds 000 and 001):
// flat, without a type, the credentials beside the URL, as well as in regcred's own shape,
// from a request body (Decode) or a Document (FromDocument); the registries file uses it
// for its entries.
//
// Rules:
//   - A missing type is inferred from the URL's host (InferKind: Docker Hub's names,
//     ghcr.io, quay.io, *.azurecr.io, ECR's private, FIPS, China, dual-stack and public
//     hosts, gcr.io and its regions, REGION-docker.pkg.dev; anything else is Custom) and
//     the Inference says so; an explicit type always wins.
//   - The flat username and password become the kind's own fields (FlatFields; for GHCR
//     and Quay the password is the token), and problems are named as the document names
//     them (FlatFieldOf).
//   - A body that is neither shape gets every problem at once (registry.Problems), never
//     quoting a value; Decode reads at most MaxSize bytes.
package document
