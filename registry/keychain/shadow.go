package keychain

import (
	"strconv"
	"strings"

	"github.com/regcred/regcred/registry"
)

// Shadow is one registry that a Keychain built from the same records passes over, for all
// of its images (Whole) or for some: by whom, where, and why, in the user's words. A
// console shows it when a record is saved.
type Shadow struct {
	Shadowed string // the record passed over: its ID, or its name when it has none
	By       string // the record used instead (ID, or name)
	// Server is where By is used instead: the shared server when Whole, else By's more
	// specific server (a path under the same host, or a host a wildcard covers).
	Server string
	Whole  bool   // Shadowed is never used: the two have the same server
	Reason string // in the user's words, naming both records
}

// Shadows lists the records of regs the Keychain's order passes over (see Keychain):
//   - the same server twice: the one with credentials wins over an anonymous (Public)
//     one, then the default, then the one given first; the other is never used (Whole);
//   - a path under another record's host ("docker.io/library" under "docker.io"), or a
//     host a wildcard covers ("myreg.azurecr.io" under "*.azurecr.io"): the more specific
//     record takes those images; when it is anonymous and the other has credentials, those
//     pulls go without credentials, and the Reason says so.
//
// Records whose server does not parse are left out (Validate reports them). Overlaps
// between two wildcards of different shapes are not listed.
func Shadows(regs []registry.Registry) []Shadow {
	type rec struct {
		ref, name string
		srv       registry.Server
		host      string // canonical
		entry     keychainEntry
	}
	rs := make([]rec, 0, len(regs))
	for i, r := range regs {
		s, err := r.ServerInfo()
		if err != nil {
			continue
		}
		ref := r.ID
		if ref == "" {
			ref = r.Name
		}
		e := keychainEntry{order: i, anon: anonymous(r)}
		e.view.Default = r.Default
		rs = append(rs, rec{ref: ref, name: r.Name, srv: s, host: s.Canonical(), entry: e})
	}
	var out []Shadow
	for i := range rs {
		for j := range rs {
			if i == j {
				continue
			}
			a, b := &rs[i], &rs[j] // does a shadow b?
			switch {
			case a.host == b.host && a.srv.Path == b.srv.Path && a.srv.Wildcard == b.srv.Wildcard:
				if better(&a.entry, &b.entry) {
					out = append(out, Shadow{Shadowed: b.ref, By: a.ref, Server: serverString(a.host, a.srv.Path), Whole: true,
						Reason: sameServerReason(a.name, b.name, &a.entry, &b.entry, serverString(a.host, a.srv.Path))})
				}
			case !a.srv.Wildcard && !b.srv.Wildcard && a.host == b.host && under(a.srv.Path, b.srv.Path):
				out = append(out, partial(a.ref, a.name, b.ref, b.name, serverString(a.host, a.srv.Path), &a.entry, &b.entry))
			case !a.srv.Wildcard && b.srv.Wildcard && b.srv.Matches(a.srv.Host):
				out = append(out, partial(a.ref, a.name, b.ref, b.name, serverString(a.host, a.srv.Path), &a.entry, &b.entry))
			}
		}
	}
	return out
}

// under reports whether path is strictly below parent on whole segments ("" is the host).
func under(path, parent string) bool {
	if path == parent {
		return false
	}
	return parent == "" || strings.HasPrefix(path, parent+"/")
}

func sameServerReason(winner, loser string, w, l *keychainEntry, server string) string {
	q := strconv.Quote
	why := q(winner) + " was saved first"
	switch {
	case w.anon != l.anon:
		why = q(winner) + " has credentials and " + q(loser) + " pulls anonymously"
	case w.view.Default != l.view.Default:
		why = q(winner) + " is the default"
	}
	return q(loser) + " is never used: " + q(winner) + " has the same server " + server + " and is used instead, because " + why
}

func partial(byRef, byName, shRef, shName, server string, by, sh *keychainEntry) Shadow {
	q := strconv.Quote
	reason := "images under " + server + " use " + q(byName) + " instead of " + q(shName) + ": the more specific server wins"
	if by.anon && !sh.anon {
		reason = "images under " + server + " are pulled anonymously by " + q(byName) + ", not with the credentials of " + q(shName) +
			": the more specific server wins; remove " + q(byName) + " or give it credentials"
	}
	return Shadow{Shadowed: shRef, By: byRef, Server: server, Reason: reason}
}
