package main

import (
	"sync"
	"time"
)

// drafts keeps the secrets a user typed into a form that failed to save, on the server,
// so the form can come back with its errors and without the secrets (which never travel
// back to the browser) and still keep them: the form carries a one-time token, bound to
// the session, and a blank secret input of the next submit takes the kept value. A token
// is good for one submit and draftLifetime; at most maxDrafts are kept (the oldest go
// first). Drafts are per process: behind a load balancer without sticky sessions a
// replica that does not hold the draft asks for the secret again.
type drafts struct {
	mu sync.Mutex
	m  map[string]draft
}

type draft struct {
	session string // hash of the session the form belongs to
	kind    string // the registry type the secrets are for
	secrets map[string]string
	expires time.Time
}

const (
	draftLifetime = 15 * time.Minute
	maxDrafts     = 1000
)

func newDrafts() *drafts { return &drafts{m: map[string]draft{}} }

// keep stores secrets for session and returns the form's token ("" when there is nothing
// to keep).
func (d *drafts) keep(session, kind string, secrets map[string]string, now time.Time) string {
	if len(secrets) == 0 {
		return ""
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for t, x := range d.m {
		if now.After(x.expires) || len(d.m) >= maxDrafts {
			delete(d.m, t)
		}
	}
	token := randomToken()
	d.m[tokenHash(token)] = draft{session: tokenHash(session), kind: kind, secrets: secrets, expires: now.Add(draftLifetime)}
	return token
}

// take returns, once, the secrets kept under token for session and kind (nil when the
// token is unknown, spent, expired, another session's or another type's).
func (d *drafts) take(token, session, kind string, now time.Time) map[string]string {
	if token == "" {
		return nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	x, ok := d.m[tokenHash(token)]
	if !ok || x.session != tokenHash(session) { // another session's token is not spent by it
		return nil
	}
	delete(d.m, tokenHash(token))
	if x.kind != kind || now.After(x.expires) {
		return nil
	}
	return x.secrets
}
