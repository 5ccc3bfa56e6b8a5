package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/regcred/regcred/catalog"
)

const sessionCookie = "regcred_session"

// loginLimiter limits password guesses per account and per address, never the whole
// address's users: a guess is counted before its password is checked (attempt, under one
// lock), so a burst of concurrent guesses sees its own earlier members, and a success
// refunds it. Three counters, each over a fixed window:
//
//   - an account from one address (pairMax): a user mistyping from their own desk;
//   - an address over every account (addrMax): a spray of names from one place;
//   - an account over every address (userMax): a guesser spread over many places.
//
// The address and account counters never refuse a name that logged in from that address
// before (known, kept for knownFor): a spray from the office's NAT address blocks the
// sprayer's next guesses, not the colleagues who log in there every day. It is per
// process; replicas each count their own.
type loginLimiter struct {
	mu                        sync.Mutex
	pairMax, addrMax, userMax int
	window, knownFor          time.Duration
	fails                     map[string]*failWindow
	known                     map[string]time.Time // pair key -> last success
}

type failWindow struct {
	n     int
	start time.Time
}

// maxLimiterKeys bounds the limiter's memory under a spray of names and addresses.
const maxLimiterKeys = 100_000

func newLoginLimiter(pairMax, addrMax, userMax int, window time.Duration) *loginLimiter {
	return &loginLimiter{pairMax: pairMax, addrMax: addrMax, userMax: userMax, window: window, knownFor: 30 * 24 * time.Hour,
		fails: map[string]*failWindow{}, known: map[string]time.Time{}}
}

type limit struct {
	key string
	max int
}

// loginAttempt is one reserved guess: succeed refunds it.
type loginAttempt struct {
	keys []string
}

func limiterKeys(addr, name string) (pair, byAddr, byUser string) {
	name = limitText(name, 64) // a 64 KiB name is one key, not 64 KiB of memory
	return "p:" + addr + "\x00" + name, "a:" + addr, "u:" + name
}

// attempt reserves a guess of name's password from addr, or says how long to wait. The
// reservation counts as a failure until succeed refunds it.
func (l *loginLimiter) attempt(now time.Time, addr, name string) (loginAttempt, time.Duration) {
	pair, byAddr, byUser := limiterKeys(addr, name)
	l.mu.Lock()
	defer l.mu.Unlock()
	last, ok := l.known[pair]
	known := ok && now.Sub(last) < l.knownFor
	check := []limit{{pair, l.pairMax}}
	if !known {
		check = append(check, limit{byAddr, l.addrMax}, limit{byUser, l.userMax})
	}
	var wait time.Duration
	for _, c := range check {
		if f := l.window1(now, c.key); f != nil && f.n >= c.max {
			wait = max(wait, l.window-now.Sub(f.start))
		}
	}
	if wait > 0 {
		return loginAttempt{}, wait
	}
	if len(l.fails) > maxLimiterKeys {
		clear(l.fails)
	}
	keys := []string{pair, byAddr, byUser}
	for _, k := range keys {
		f := l.window1(now, k)
		if f == nil {
			f = &failWindow{start: now}
			l.fails[k] = f
		}
		f.n++
	}
	return loginAttempt{keys: keys}, 0
}

// window1 is key's live window, nil when it has none (an ended one is dropped).
func (l *loginLimiter) window1(now time.Time, key string) *failWindow {
	f := l.fails[key]
	if f != nil && now.Sub(f.start) >= l.window {
		delete(l.fails, key)
		return nil
	}
	return f
}

// succeed refunds a reserved guess that was right, forgets the account's failures from
// that address and remembers the name as known there.
func (l *loginLimiter) succeed(now time.Time, at loginAttempt) {
	if len(at.keys) == 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range at.keys {
		if f := l.fails[k]; f != nil && f.n > 0 {
			f.n--
		}
	}
	delete(l.fails, at.keys[0])
	if len(l.known) > maxLimiterKeys {
		clear(l.known)
	}
	l.known[at.keys[0]] = now
}

// clientAddr is the request's client address (the TCP peer: the console trusts no
// forwarding header).
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
)

func currentUser(ctx context.Context) user {
	u, _ := ctx.Value(userKey).(user)
	return u
}

func currentSession(ctx context.Context) string {
	s, _ := ctx.Value(sessionKey).(string)
	return s
}

// page wraps a page handler: a live session is required (else the login page), and every
// POST must carry the session's CSRF token.
func (a *app) page(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		var u user
		if err == nil {
			u, err = a.acc.session(r.Context(), c.Value, a.now())
		}
		if err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login", http.StatusSeeOther)
				return
			}
			http.Error(w, "your session ended: log in again", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet {
			r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
			if !validCSRF(c.Value, r.PostFormValue("csrf")) {
				http.Error(w, "the form's security token is missing or stale: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		ctx := context.WithValue(context.WithValue(r.Context(), userKey, u), sessionKey, c.Value)
		ctx = catalog.WithPrincipal(ctx, u.principal()) // the Catalog authorizes every operation as the user
		h(w, r.WithContext(ctx))
	})
}

func (a *app) loginPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "login", pageData{Title: "Log in"})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name, password := r.PostFormValue("username"), r.PostFormValue("password")
	now := a.now()
	try, wait := a.limiter.attempt(now, clientAddr(r), name)
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		a.render(w, r, http.StatusTooManyRequests, "login", pageData{Title: "Log in", Error: "Too many failed logins for this name: wait a few minutes and try again.", Username: name})
		return
	}
	u, err := a.acc.verify(r.Context(), name, password)
	if err != nil {
		if errors.Is(err, errBadLogin) {
			a.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Log in", Error: "Wrong username or password.", Username: name})
			return
		}
		a.serverError(w, r, err)
		return
	}
	a.limiter.succeed(now, try)
	token, err := a.acc.newSession(r.Context(), u.Name, now)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	a.setSessionCookie(w, r, token, int(sessionLifetime.Seconds()))
	a.audit(r.Context(), u.Name, "login", u.Name, "")
	http.Redirect(w, r, "/registries", http.StatusSeeOther)
}

// setSessionCookie sets (maxAge > 0) or clears (maxAge < 0) the session cookie: HttpOnly,
// SameSite=Strict, Secure over TLS or when the console is told it sits behind a TLS proxy.
func (a *app) setSessionCookie(w http.ResponseWriter, r *http.Request, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil || a.secureCookie,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.acc.endSession(r.Context(), currentSession(r.Context()))
	a.setSessionCookie(w, r, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// api wraps a JSON API handler: HTTP Basic with a console user's name and password
// (rate-limited like the login page); cookies are not accepted, so no CSRF token is needed.
func (a *app) api(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, password, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", `Basic realm="regcred console", charset="UTF-8"`)
			writeJSONError(w, http.StatusUnauthorized, "authenticate with HTTP Basic as a console user (admin and its password)", nil)
			return
		}
		now := a.now()
		try, wait := a.limiter.attempt(now, clientAddr(r), name)
		if wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			writeJSONError(w, http.StatusTooManyRequests, "too many failed logins: wait and retry", nil)
			return
		}
		u, err := a.basicUser(r.Context(), name, password, now)
		if err != nil {
			if errors.Is(err, errBadLogin) {
				w.Header().Set("WWW-Authenticate", `Basic realm="regcred console", charset="UTF-8"`)
				writeJSONError(w, http.StatusUnauthorized, "wrong username or password", nil)
				return
			}
			writeJSONError(w, http.StatusInternalServerError, "the console's store failed", nil)
			return
		}
		a.limiter.succeed(now, try)
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		h(w, r.WithContext(catalog.WithPrincipal(context.WithValue(r.Context(), userKey, u), u.principal())))
	})
}

// forgetBasic drops name's remembered Basic credentials (after a password change, a
// disable or a removal).
func (a *app) forgetBasic(name string) {
	a.basicMu.Lock()
	delete(a.basicCache, name)
	a.basicMu.Unlock()
}

// basicUser verifies Basic credentials, remembering a success for a minute (as a hash) so
// a script's burst of calls does not pay bcrypt on each.
func (a *app) basicUser(ctx context.Context, name, password string, now time.Time) (user, error) {
	sum := sha256.Sum256([]byte(name + "\x00" + password))
	a.basicMu.Lock()
	e, ok := a.basicCache[name]
	a.basicMu.Unlock()
	if ok && now.Before(e.expires) && subtle.ConstantTimeCompare(e.sum[:], sum[:]) == 1 {
		return a.acc.user(ctx, name)
	}
	u, err := a.acc.verify(ctx, name, password)
	if err != nil {
		return user{}, err
	}
	a.basicMu.Lock()
	a.basicCache[name] = basicEntry{sum: sum, expires: now.Add(time.Minute)}
	a.basicMu.Unlock()
	return u, nil
}
