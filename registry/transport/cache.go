package transport

import (
	"crypto/sha256"
	"encoding/hex"
	"github.com/regcred/regcred/registry"
	"strconv"
	"sync"
)

// Cache hands out one Transport per registry record version, built on the
// record's TLS mode (transport.ForTLS), so the connection test, Keychain pulls and the CLI share
// one TLS configuration and one connection pool per registry instead of re-deriving it per
// caller. A record is keyed by ID and Version (and by its TLS settings, so an unsaved record
// without an ID still gets the right one); when a newer version of an ID arrives, the older
// transport's idle connections are closed and it is dropped. Safe for concurrent use; the
// zero value is ready.
type Cache struct {
	mu   sync.Mutex
	byID map[string]cachedTransport // ID (or TLS key for records without one) -> newest
}

type cachedTransport struct {
	key string
	tr  *Transport
}

// maxCachedTransports bounds the cache; past it, everything is dropped (idle connections
// closed) and rebuilt on demand. Platforms have far fewer registries than this.
const maxCachedTransports = 4096

// DefaultCache is the cache Test uses unless WithTransportCache gives another.
var DefaultCache = &Cache{}

// For returns the transport for r, building it on first use. It keeps r's credentials on
// r's host and bounds what the server sends (see Transport).
func (c *Cache) For(r registry.Registry) (*Transport, error) {
	// A transport is bound to its record's host (credentials go nowhere else), so the host
	// is part of the key even for a saved record: a draft of a saved record may change its
	// server without changing its ID or version.
	s, _ := r.ServerInfo()
	key := transportTLSKey(r.TLS) + "/" + s.Scheme + "://" + s.Host
	id := r.ID
	if id == "" {
		// records without an ID share a transport per server and TLS configuration
		id = "tls:" + key
	} else {
		key = strconv.FormatInt(r.Version, 10) + "/" + key
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if got, ok := c.byID[id]; ok && got.key == key {
		return got.tr, nil
	}
	base, err := ForTLS(r.TLS)
	if err != nil {
		return nil, err
	}
	tr := newTransport(base, r, "")
	base.DialContext = tr.guardDial(base.DialContext)
	if c.byID == nil || len(c.byID) >= maxCachedTransports {
		for _, old := range c.byID {
			old.tr.CloseIdleConnections()
		}
		c.byID = make(map[string]cachedTransport)
	}
	if old, ok := c.byID[id]; ok {
		old.tr.CloseIdleConnections()
	}
	c.byID[id] = cachedTransport{key: key, tr: tr}
	return tr, nil
}

// Len is the number of transports held.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byID)
}

// CloseIdleConnections closes the idle connections of every held transport.
func (c *Cache) CloseIdleConnections() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.byID {
		t.tr.CloseIdleConnections()
	}
}

func transportTLSKey(t registry.TLS) string {
	sum := sha256.Sum256([]byte(t.CABundle))
	return string(t.EffectiveMode()) + "/" + strconv.FormatBool(t.SystemRoots) + "/" + hex.EncodeToString(sum[:8])
}
