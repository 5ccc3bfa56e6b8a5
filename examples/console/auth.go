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
)

const sessionCookie = "regcred_session"

// loginLimiter counts failed logins per client address and per username in a fixed
// window: after max failures either key is refused until the window ends. It is per
// process; replicas each count their own.
type loginLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string]*failWindow
}

type failWindow struct {
	n     int
	start time.Time
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{max: max, window: window, fails: map[string]*failWindow{}}
}

// blocked reports how long the keys are still refused (0: not refused).
func (l *loginLimiter) blocked(now time.Time, keys ...string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var wait time.Duration
	for _, k := range keys {
		f := l.fails[k]
		if f == nil {
			continue
		}
		if now.Sub(f.start) >= l.window {
			delete(l.fails, k)
			continue
		}
		if f.n >= l.max {
			wait = max(wait, l.window-now.Sub(f.start))
		}
	}
	return wait
}

func (l *loginLimiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) > 100_000 { // bound memory under a spray of names
		clear(l.fails)
	}
	for _, k := range keys {
		f := l.fails[k]
		if f == nil || now.Sub(f.start) >= l.window {
			f = &failWindow{start: now}
			l.fails[k] = f
		}
		f.n++
	}
}

func (l *loginLimiter) succeed(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys[1:] { // keep counting the address; forget the user's failures
		delete(l.fails, k)
	}
}

func limiterKeys(r *http.Request, name string) []string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return []string{"addr:" + host, "user:" + name}
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
		h(w, r.WithContext(ctx))
	})
}

func (a *app) loginPage(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusOK, "login", pageData{Title: "Log in"})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name, password := r.PostFormValue("username"), r.PostFormValue("password")
	keys := limiterKeys(r, name)
	now := a.now()
	if wait := a.limiter.blocked(now, keys...); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		a.render(w, r, http.StatusTooManyRequests, "login", pageData{Title: "Log in", Error: "Too many failed logins: wait a few minutes and try again.", Username: name})
		return
	}
	u, err := a.acc.verify(r.Context(), name, password)
	if err != nil {
		if errors.Is(err, errBadLogin) {
			a.limiter.fail(now, keys...)
			a.render(w, r, http.StatusUnauthorized, "login", pageData{Title: "Log in", Error: "Wrong username or password.", Username: name})
			return
		}
		a.serverError(w, r, err)
		return
	}
	a.limiter.succeed(keys...)
	token, err := a.acc.newSession(r.Context(), u.Name, now)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionLifetime.Seconds())})
	a.audit(r.Context(), u.Name, "login", u.Name, "")
	http.Redirect(w, r, "/registries", http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	a.acc.endSession(r.Context(), currentSession(r.Context()))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode, MaxAge: -1})
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
		keys := limiterKeys(r, name)
		now := a.now()
		if wait := a.limiter.blocked(now, keys...); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			writeJSONError(w, http.StatusTooManyRequests, "too many failed logins: wait and retry", nil)
			return
		}
		u, err := a.basicUser(r.Context(), name, password, now)
		if err != nil {
			if errors.Is(err, errBadLogin) {
				a.limiter.fail(now, keys...)
				w.Header().Set("WWW-Authenticate", `Basic realm="regcred console", charset="UTF-8"`)
				writeJSONError(w, http.StatusUnauthorized, "wrong username or password", nil)
				return
			}
			writeJSONError(w, http.StatusInternalServerError, "the console's store failed", nil)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
		h(w, r.WithContext(context.WithValue(r.Context(), userKey, u)))
	})
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
