// Package platform is regcred embedded the way a Go platform embeds it, written as the
// platform's own test (platform_test.go): one Catalog behind a JSON API in net/http
// (create, list redacted, update with a blank secret that keeps the stored one, test a
// draft before saving, delete guarded by owner and usage), and every deployment artifact
// produced from the same Catalog and used for a real pull from a real registry (the
// distribution registry with basic auth over TLS): a Kubernetes pull Secret applied to a
// real kube-apiserver and pulled with by skopeo, an X-Registry-Auth pulled with through
// dockerd's Engine API, and a compose config dir pulled with by docker-compose.
//
// The rule it shows: the platform never reads the Store and never patches "REDACTED"
// back into a record; it gets what each adapter needs from Catalog methods (List and Get
// for the browser, Keychain and Provider for credentials, SyncSource and ProviderFactory
// for the kube Syncer), so every consumer shares the Catalog's one provider per registry.
//
// Its API reads a registry in either shape through document.Decode: ours
// ({"name", "kind", "server", "fields": {...}, "tls"}) or the product documents' flat one
// ({"name", "url", "username", "password"}, "type" optional). A missing kind is inferred
// from the URL's host and the answer says so ("inferred": {"kind", "host"}); an explicit
// one wins; a body that is neither gets every problem at once under "fields".
package platform
