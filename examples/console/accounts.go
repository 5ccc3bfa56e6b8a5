package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/crypto/bcrypt"

	"github.com/regcred/regcred/catalog"
)

// accounts keeps the console's own data beside the registry records, in the same
// database: local users (bcrypt hashes), login sessions (only a hash of each token) and
// the audit log. The SQL is the subset SQLite and PostgreSQL share ($N placeholders,
// TEXT and BIGINT columns), so one implementation serves both stores.
type accounts struct {
	db *sql.DB
}

// The roles of a user.
const (
	roleAdmin = "admin"
	roleUser  = "user"
)

// adminUser is the account the console creates at first start.
const adminUser = "admin"

// sessionLifetime bounds a login session.
const sessionLifetime = 12 * time.Hour

var (
	errBadLogin   = errors.New("wrong username or password")
	errUserExists = errors.New("a user with this name exists")
	errNoUser     = errors.New("no such user")
)

type user struct {
	Name     string
	Role     string
	Teams    []string // matched against a registry's Scope.Teams
	Projects []string // matched against a registry's Scope.Projects
	Disabled bool
	Created  time.Time
	Creator  string
}

func (u user) Admin() bool { return u.Role == roleAdmin }

// principal is the user as the Catalog's authorizer sees it.
func (u user) principal() catalog.Principal {
	p := catalog.Principal{User: u.Name, Teams: u.Teams, Projects: u.Projects}
	if u.Admin() {
		p.Roles = []string{catalog.RoleAdmin}
	}
	return p
}

type auditEntry struct {
	At     time.Time
	Actor  string
	Action string
	Target string
	Detail string
}

const accountsSchema = `
CREATE TABLE IF NOT EXISTS console_users (
	name TEXT PRIMARY KEY,
	role TEXT NOT NULL,
	hash TEXT NOT NULL,
	creator TEXT NOT NULL,
	created BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
	token_hash TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	expires BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS console_audit (
	id TEXT PRIMARY KEY,
	at BIGINT NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	target TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_audit_at ON console_audit (at);
CREATE TABLE IF NOT EXISTS console_deployments (
	name TEXT PRIMARY KEY,
	registry TEXT NOT NULL,
	image TEXT NOT NULL
);
`

// accountsColumns are the columns added to console_users after its first release: a
// database made before them gets them at open (SQLite has no ADD COLUMN IF NOT EXISTS).
var accountsColumns = []struct{ name, ddl string }{
	{"teams", `ALTER TABLE console_users ADD COLUMN teams TEXT NOT NULL DEFAULT ''`},
	{"projects", `ALTER TABLE console_users ADD COLUMN projects TEXT NOT NULL DEFAULT ''`},
	{"disabled", `ALTER TABLE console_users ADD COLUMN disabled BIGINT NOT NULL DEFAULT 0`},
}

func openAccounts(ctx context.Context, db *sql.DB) (*accounts, error) {
	for _, stmt := range strings.Split(accountsSchema, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return nil, fmt.Errorf("create the console's tables: %w", err)
		}
	}
	for _, c := range accountsColumns {
		if _, err := db.ExecContext(ctx, `SELECT `+c.name+` FROM console_users WHERE 1 = 0`); err == nil {
			continue
		}
		if _, err := db.ExecContext(ctx, c.ddl); err != nil {
			return nil, fmt.Errorf("add the column %s to the console's users: %w", c.name, err)
		}
	}
	return &accounts{db: db}, nil
}

// checkPassword is the policy for a new password.
func checkPassword(p string) error {
	if len(p) < 12 {
		return errors.New("is shorter than 12 characters")
	}
	if len(p) > 72 {
		return errors.New("is longer than 72 bytes (bcrypt's limit)")
	}
	return nil
}

// validName (a user or deployment): 1-64 letters, digits, '.', '-', '_'.
func validName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for _, r := range n {
		if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '-' || r == '_') || r > unicode.MaxASCII {
			return false
		}
	}
	return true
}

// bcryptCost is a package variable so the benchmark and tests may lower it.
var bcryptCost = bcrypt.DefaultCost

func (a *accounts) createUser(ctx context.Context, u user, password string, now time.Time) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `INSERT INTO console_users (name, role, hash, creator, created, teams, projects) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING`,
		u.Name, u.Role, string(hash), u.Creator, now.UnixNano(), strings.Join(u.Teams, ","), strings.Join(u.Projects, ","))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errUserExists
	}
	return nil
}

// setPassword sets name's password and ends every session of name but keep (the token
// of the session that changed it; "" ends them all): whoever knew the old password is
// logged out everywhere.
func (a *accounts) setPassword(ctx context.Context, name, password, keep string) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcryptCost)
	if err != nil {
		return err
	}
	res, err := a.db.ExecContext(ctx, `UPDATE console_users SET hash = $1 WHERE name = $2`, string(hash), name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoUser
	}
	return a.endSessions(ctx, name, keep)
}

// endSessions ends every session of name but the one whose token is keep.
func (a *accounts) endSessions(ctx context.Context, name, keep string) error {
	_, err := a.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE name = $1 AND token_hash <> $2`, name, tokenHash(keep))
	return err
}

// setDisabled disables (ending every session) or enables a user.
func (a *accounts) setDisabled(ctx context.Context, name string, disabled bool) error {
	v := 0
	if disabled {
		v = 1
	}
	res, err := a.db.ExecContext(ctx, `UPDATE console_users SET disabled = $1 WHERE name = $2`, v, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoUser
	}
	if disabled {
		return a.endSessions(ctx, name, "")
	}
	return nil
}

// removeUser deletes a user and every session of theirs; the audit log keeps their name.
func (a *accounts) removeUser(ctx context.Context, name string) error {
	res, err := a.db.ExecContext(ctx, `DELETE FROM console_users WHERE name = $1`, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errNoUser
	}
	return a.endSessions(ctx, name, "")
}

// verify checks a password; it spends a bcrypt comparison even for an unknown user, so
// the answer's timing does not tell which names exist.
func (a *accounts) verify(ctx context.Context, name, password string) (user, error) {
	var hash string
	u, err := a.scanUser(a.db.QueryRowContext(ctx, `SELECT `+userColumns+`, hash FROM console_users WHERE name = $1`, name), &hash)
	if errors.Is(err, sql.ErrNoRows) {
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return user{}, errBadLogin
	}
	if err != nil {
		return user{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || u.Disabled {
		return user{}, errBadLogin
	}
	return u, nil
}

// dummy is the hash an unknown name is checked against, at the cost of every real hash:
// an unknown name is answered in the time a known one is.
var dummy struct {
	sync.Mutex
	cost int
	hash []byte
}

func dummyHash() []byte {
	dummy.Lock()
	defer dummy.Unlock()
	if dummy.cost != bcryptCost || dummy.hash == nil {
		dummy.hash, _ = bcrypt.GenerateFromPassword([]byte("regcred console: no such user"), bcryptCost)
		dummy.cost = bcryptCost
	}
	return dummy.hash
}

// userColumns are the columns scanUser reads, in its order.
const userColumns = `name, role, creator, created, teams, projects, disabled`

type scanner interface{ Scan(dest ...any) error }

func (a *accounts) scanUser(row scanner, extra ...any) (user, error) {
	var u user
	var created, disabled int64
	var teams, projects string
	err := row.Scan(append([]any{&u.Name, &u.Role, &u.Creator, &created, &teams, &projects, &disabled}, extra...)...)
	u.Created = time.Unix(0, created).UTC()
	u.Teams, u.Projects, u.Disabled = splitList(teams), splitList(projects), disabled != 0
	return u, err
}

// splitList reads a stored comma-separated list.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func (a *accounts) hasUser(ctx context.Context, name string) (bool, error) {
	var n int
	err := a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM console_users WHERE name = $1`, name).Scan(&n)
	return n > 0, err
}

func (a *accounts) users(ctx context.Context) ([]user, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT `+userColumns+` FROM console_users ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []user
	for rows.Next() {
		u, err := a.scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (a *accounts) user(ctx context.Context, name string) (user, error) {
	u, err := a.scanUser(a.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM console_users WHERE name = $1`, name))
	if err == nil && u.Disabled {
		return user{}, sql.ErrNoRows // a disabled user's session and cached Basic credentials end
	}
	return u, err
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newSession stores a session for name and returns its token (the cookie value); only
// its hash is kept.
func (a *accounts) newSession(ctx context.Context, name string, now time.Time) (string, error) {
	token := randomToken()
	if _, err := a.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE expires < $1`, now.UnixNano()); err != nil {
		return "", err
	}
	_, err := a.db.ExecContext(ctx, `INSERT INTO console_sessions (token_hash, name, expires) VALUES ($1, $2, $3)`,
		tokenHash(token), name, now.Add(sessionLifetime).UnixNano())
	return token, err
}

// session returns the user of a live session token.
func (a *accounts) session(ctx context.Context, token string, now time.Time) (user, error) {
	var name string
	var expires int64
	err := a.db.QueryRowContext(ctx, `SELECT name, expires FROM console_sessions WHERE token_hash = $1`, tokenHash(token)).Scan(&name, &expires)
	if err != nil {
		return user{}, err
	}
	if now.UnixNano() > expires {
		return user{}, sql.ErrNoRows
	}
	return a.user(ctx, name)
}

func (a *accounts) endSession(ctx context.Context, token string) error {
	_, err := a.db.ExecContext(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, tokenHash(token))
	return err
}

// setDeployment saves a deployment's image (its registry is kept as a consumer in the
// registry's Health, so the Catalog's delete guard sees it).
func (a *accounts) setDeployment(ctx context.Context, name, registryID, image string) error {
	_, err := a.db.ExecContext(ctx, `INSERT INTO console_deployments (name, registry, image) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET registry = excluded.registry, image = excluded.image`, name, registryID, image)
	return err
}

func (a *accounts) removeDeployment(ctx context.Context, name string) error {
	_, err := a.db.ExecContext(ctx, `DELETE FROM console_deployments WHERE name = $1`, name)
	return err
}

// deploymentImages returns each deployment's image, by name.
func (a *accounts) deploymentImages(ctx context.Context) (map[string]string, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT name, image FROM console_deployments`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var n, img string
		if err := rows.Scan(&n, &img); err != nil {
			return nil, err
		}
		out[n] = img
	}
	return out, rows.Err()
}

// audit records a change. detail must never hold a secret: callers pass field names,
// never values.
func (a *accounts) audit(ctx context.Context, e auditEntry) error {
	_, err := a.db.ExecContext(ctx, `INSERT INTO console_audit (id, at, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6)`,
		randomToken()[:22], e.At.UnixNano(), e.Actor, e.Action, e.Target, e.Detail)
	return err
}

// auditLog returns the newest entries first, at most limit.
func (a *accounts) auditLog(ctx context.Context, limit int) ([]auditEntry, error) {
	rows, err := a.db.QueryContext(ctx, `SELECT at, actor, action, target, detail FROM console_audit ORDER BY at DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []auditEntry
	for rows.Next() {
		var e auditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Action, &e.Target, &e.Detail); err != nil {
			return nil, err
		}
		e.At = time.Unix(0, at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
