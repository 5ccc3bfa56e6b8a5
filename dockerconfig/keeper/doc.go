// Package keeper keeps a docker config.json current from a Catalog, for docker hosts and
// tools that read a config file rather than run a credential helper. It is an adapter, like
// kube and swarm: dockerconfig stays the file format alone, and imports no Catalog.
//
// Rules: see Keeper (atomic 0600 writes only on change; rewritten after every Catalog
// change and when a token is due by the refreshing cache's one rule; entries of others
// kept; a file that does not parse is never overwritten; a failing registry keeps its
// entry).
package keeper
