// Command console is the "Container Registries" settings page of a platform, built on
// regcred: a web app to copy from. One command runs it, with an embedded database:
//
//	go run ./examples/console                 # http://127.0.0.1:8080, data in the user config dir
//	go run ./examples/console --data ./data --addr :8080
//	go run ./examples/console --store postgres://console@db/regcred --key-file /etc/regcred/master.key
//
// What it shows:
//
//   - The registries table: name, type, server, default, health (the last connection
//     test and its verdict), token expiry, and what uses each registry.
//   - The add/edit form, rendered from registry.FormSchema: the inputs change with the
//     type, and each validation error (registry.ValidationError) sits under its input.
//   - Test Connection before saving (Catalog.TestDraft: blank secret inputs test with the
//     stored secrets), as the step checklist with each failure's cause and fix.
//   - Set default; rotate a secret (a blank secret input keeps the stored one); delete,
//     refused while something uses the registry (listing it) or by anyone but its creator.
//   - Local users created by the admin, and an audit log naming who changed what, when
//     (never a secret: rotated fields are named, not shown).
//   - A JSON API in the seeds' shape, with HTTP Basic and optimistic updates (ETag and
//     If-Match; a stale one gets 412): GET/POST /api/v1/registries,
//     GET/PUT/DELETE /api/v1/registries/{id}, POST /api/v1/registries/{id}/test.
//
// Storage: the embedded SQLite store (store/sqlite) in --data, sealed with store/sealed
// under a master key the console creates there on first start (mode 0600) unless
// --key-file or REGCRED_MASTER_KEYS gives one. With --store postgres://... several
// replicas share the records; they must share the key, so the console then refuses to
// start without one. The console's users, sessions and audit log live in the same
// database.
//
// Security rules it follows: the browser never receives a stored secret (secret inputs
// are rendered empty, Test Connection reads the form with a small script so a typed
// secret never travels back, the JSON API names stored secrets and never returns them);
// the admin password comes from REGCRED_CONSOLE_PASSWORD or is generated at first start
// and printed once, and only bcrypt hashes are stored; session cookies are HttpOnly,
// SameSite=Strict and Secure over TLS; every form carries a CSRF token and
// http.CrossOriginProtection checks every unsafe request; the Content-Security-Policy
// allows no inline script; failed logins are rate-limited per address and per user.
//
// Tests: go test ./examples/console runs the browser test in headless Chromium (Debian's
// chromium package) against a real docker-registry, and with -update writes screenshots
// of the main pages to testdata/screenshots.
//
// Session tokens are stored only as hashes, so replicas share sessions through the
// database; the login rate limit is counted per replica.
package main
