package sealed

import (
	"crypto/cipher"
	"sync"
)

// dekCacheSize bounds the opened data keys kept in memory (one per sealed value read).
const dekCacheSize = 8192

// dekCache keeps the ciphers of opened data keys by their wrapped form (key ID and
// wrapped key): a data key is random per value, so the same wrapped key always opens to
// the same cipher. When full, an arbitrary entry goes. The zero value is ready.
type dekCache struct {
	mu sync.Mutex
	m  map[string]cipher.AEAD
}

func (c *dekCache) get(k string) cipher.AEAD {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[k]
}

func (c *dekCache) put(k string, a cipher.AEAD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[string]cipher.AEAD)
	}
	if _, ok := c.m[k]; ok {
		return // the caller's key string is not kept
	}
	if len(c.m) >= dekCacheSize {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = a
}
