package registry

import "time"

// Refresher is implemented by caching providers that know when their current value is due
// for refresh. The rule that decides it lives in one place, the refreshing cache
// (providers/cache: a share of the lifetime, or a margin before expiry, whichever comes
// first). Adapters that keep credentials somewhere (a pull Secret, a config.json, a Swarm
// service) schedule a wake-up at RefreshAt and call Credentials then, which fetches anew;
// they keep no "first seen" times and never invalidate on a schedule of their own.
type Refresher interface {
	// RefreshAt is when the next Credentials call goes upstream: zero when no value is
	// held (the next call fetches) or the held value never expires.
	RefreshAt() time.Time
}

// RefreshAt is when credentials c, just returned by p, are due to be fetched again: p's own
// RefreshAt when it implements Refresher, else c's expiry (a provider that does not cache
// fetches on every call, so there is no earlier time at which a call would change
// anything). Zero means never.
func RefreshAt(p Provider, c Credentials) time.Time {
	if r, ok := p.(Refresher); ok {
		if t := r.RefreshAt(); !t.IsZero() || c.ExpiresAt.IsZero() {
			return t
		}
	}
	return c.ExpiresAt
}
