// Command console is the "Container Registries" settings page of a platform, built on
// regcred: a web app to copy from. One command runs it, with an embedded database:
//
//	go run ./examples/console                 # http://127.0.0.1:8080, data in the user config dir
//	go run ./examples/console --data ./data --addr :8080 --allowed-hosts console.example.com
//	go run ./examples/console --store postgres://console@db/regcred --key-file /etc/regcred/master.key --secure-cookie
//
// What it shows:
//
//   - The registries table, 50 rows a page with a search: name, ID (to copy), type,
//     server, default, health (the last connection test; one from before the last change
//     says so), credential expiry (a token kind's token lifetime until its first token;
//     warnings within 14 days of the end and after it), and what uses each registry.
//   - The add/edit form, rendered from registry.FormSchema: the inputs change with the
//     type, required inputs are marked required, each validation error
//     (registry.ValidationError) sits under its input, and a secret typed into a form that
//     failed to save is kept on the server (drafts) and never sent back. A CA can be
//     pasted or uploaded.
//   - Test Connection before saving (Catalog.TestDraft; blank secret inputs test with the
//     stored ones), with an optional image, as the step checklist: passed, failed, or
//     "not tested" with what the user can do (conntest.Report.Outcome).
//   - Set default; rotate a secret (a blank secret input keeps the stored one); delete
//     after a confirmation that says what the delete affects (namespaces, deployments,
//     mirrors) and takes the name typed back.
//   - Permissions: the Catalog is built WithAuthorizer (catalog.DefaultPolicy unless
//     withAuthorizer says otherwise) and every request carries its user as the Principal:
//     the pages offer only what the policy allows and the Catalog refuses the rest
//     (ForbiddenError, 403 on the pages and in the API). The users page renders the
//     policy's table. Users have a role, teams and projects; an admin creates, disables
//     and removes them; a password change ends the user's other sessions.
//   - Clusters: a kubeconfig per cluster (sealed with the master keys) and a namespace
//     label selector; the console runs the library's controller for each (leader-elected
//     when replicas share PostgreSQL), so saving, rotating and deleting a registry reaches
//     the namespaces its scope selects; the namespaces served show on its row. A
//     Kubernetes token registry is tested with the first cluster's ServiceAccount tokens.
//   - Deployments: a name, an image on the chosen registry's host (the default is
//     preselected), kept as the registry's consumers so its delete is guarded.
//   - The audit log: the Catalog's change log (who changed which fields; secrets named as
//     rotated, never shown) merged with the console's own (logins, users, deployments).
//   - A JSON API in the seeds' shape, with HTTP Basic and optimistic updates (ETag and
//     If-Match; a stale one gets 412): GET/POST /api/v1/registries, GET/PUT/DELETE
//     /api/v1/registries/{id}, POST /api/v1/registries/{id}/test, POST
//     /api/v1/registries/test (a draft, with "image"). PUT keeps what the body leaves out
//     (send the password alone to rotate it); "scope" is a key; the documents' flat shape
//     (no type, username/password beside url) is accepted and what was inferred is said;
//     an unknown key is named; the credentials object is read key by key and refused past
//     32 keys, and at most 20 problems are listed.
//
// Storage: the embedded SQLite store (store/sqlite) in --data, sealed with store/sealed
// under a master key the console creates there on first start (mode 0600) unless
// --key-file or REGCRED_MASTER_KEYS gives one. With --store postgres://... several
// replicas share the records; they must share the key, so the console then refuses to
// start without one. The console's users, sessions, clusters, deployments and audit log
// live in the same database.
//
// Security rules it follows: the browser never receives a stored or typed secret (secret
// inputs are rendered empty, Test Connection reads the form with a small script, the JSON
// API names stored secrets and never returns them); the admin password comes from
// REGCRED_CONSOLE_PASSWORD or is generated at first start and printed once, and only
// bcrypt hashes are stored; session cookies are HttpOnly, SameSite=Strict and Secure over
// TLS or with --secure-cookie; every form carries a CSRF token and
// http.CrossOriginProtection checks every unsafe request; the Content-Security-Policy
// allows no inline script; the Host header must be one of --allowed-hosts (by default the
// loopback names on a loopback address: DNS rebinding); /static/ lists nothing.
//
// Login limits: a guess is counted before its password is checked, per account from one
// address (5 in 5 minutes), per address (20) and per account (20); the address and account
// limits never refuse a name that logged in from that address before, so a spray from a
// shared address does not lock out its users; an unknown name costs a hash of the real
// cost. Limits and drafts are per replica.
//
// Tests: go test ./examples/console runs the browser tests in headless Chromium (Debian's
// chromium package) against a real docker-registry, as admin, owner and member at 1280
// and 390 px (no sideways scrolling, labels, contrast >= 4.5:1 computed in the page), the
// clusters test against a real kube-apiserver (internal/testenv), and with -update writes
// screenshots to testdata/screenshots.
//
// Session tokens are stored only as hashes, so replicas share sessions through the
// database.
package main
