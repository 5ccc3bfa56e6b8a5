package main

import (
	"html"
	"html/template"
	"net/url"
	"strings"
)

// tableRows writes the body rows of the registries table. It is the one piece of HTML not
// written by html/template: with 1,000 registries the template spent most of the page's
// time in its per-action escaper calls (about 25 per row). Every value goes through
// html.EscapeString (text and double-quoted attributes) and IDs in URLs through
// url.PathEscape as well; TestTableEscapes checks hostile names.
func tableRows(rows []rowView) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 1400)
	e := html.EscapeString
	for _, r := range rows {
		id, name := e(r.ID), e(r.Name)
		path := "/registries/" + e(url.PathEscape(r.ID))
		b.WriteString(`<tr data-id="` + id + `" data-name="` + name + `">`)
		b.WriteString(`<td data-label="Name"><a href="` + path + `/edit">` + name + `</a><div class="muted">owner ` + e(r.Owner) + `</div><div class="muted">ID <code class="id">` + id + `</code></div></td>`)
		b.WriteString(`<td data-label="Type">` + e(r.Type) + `</td><td data-label="Server" class="server">` + e(r.Server) + `</td><td data-label="Default" class="default">`)
		if r.Default {
			b.WriteString(`<span class="badge">default</span>`)
		}
		b.WriteString(`</td><td data-label="Health" class="health">`)
		if r.Verdict != "" {
			if r.TestStale { // the result is of an older version: not today's verdict
				b.WriteString(`<span class="verdict stale">` + e(r.Verdict) + ` before the last change</span>`)
			} else {
				b.WriteString(`<span class="verdict ` + e(r.Verdict) + `">` + e(r.Verdict) + `</span>`)
			}
			if r.TestStep != "" {
				b.WriteString(` at ` + e(r.TestStep))
			}
			b.WriteString(`<div class="muted">tested ` + e(r.TestedAt))
			if r.TestStale {
				b.WriteString(`; test again to see where it stands now`)
			}
			b.WriteString(`</div>`)
			if r.TestCause != "" {
				b.WriteString(`<div class="muted">` + e(r.TestCause) + `</div>`)
			}
		} else {
			b.WriteString(`<span class="muted">not tested</span>`)
		}
		b.WriteString(`</td><td data-label="Credential expiry" class="expiry">`)
		switch {
		case r.Expires.Level != "":
			b.WriteString(`<span class="expiry-` + r.Expires.Level + `">` + e(r.Expires.Text) + `</span>`)
		case r.Expires.Text != "":
			b.WriteString(e(r.Expires.Text))
		case r.Lifetime != "":
			b.WriteString(`<span class="muted">` + e(r.Lifetime) + `</span>`)
		default:
			b.WriteString(`<span class="muted">no expiry known</span>`)
		}
		b.WriteString(`</td><td data-label="Used by" class="consumers">`)
		if len(r.Consumers) > 0 {
			b.WriteString(`<ul>`)
			for _, c := range r.Consumers {
				b.WriteString(`<li>` + e(c) + `</li>`)
			}
			b.WriteString(`</ul>`)
		} else {
			b.WriteString(`<span class="muted">nothing</span>`)
		}
		b.WriteString(`</td><td class="actions">`)
		if r.CanTest {
			b.WriteString(`<button type="submit" formaction="` + path + `/test" aria-label="Test ` + name + `">Test</button> `)
		}
		if r.CanEdit {
			b.WriteString(`<a class="button" href="` + path + `/edit" aria-label="Edit or rotate ` + name + `">Edit / rotate</a> `)
		} else {
			b.WriteString(`<a class="button" href="` + path + `/edit" aria-label="View ` + name + `">View</a> `)
		}
		if !r.Default && r.CanDefault {
			b.WriteString(`<button type="submit" formaction="` + path + `/default" aria-label="Make ` + name + ` the default">Set default</button> `)
		}
		if r.CanDelete {
			b.WriteString(`<a class="button danger" href="` + path + `/delete" aria-label="Delete ` + name + `">Delete…</a>`)
		}
		b.WriteString("</td></tr>\n")
	}
	return template.HTML(b.String()) // every value above is escaped
}
