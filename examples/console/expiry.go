package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/regcred/regcred/registry"
)

// expiryWarnBefore is how long before a credential's end the table starts warning.
const expiryWarnBefore = 14 * 24 * time.Hour

// expiryView is the table's credential expiry cell: the text and how loud it is
// ("", "warn" before the end, "bad" after it).
type expiryView struct {
	Text, Level string
}

// tokenLifetime says how long a token kind's tokens live, from the kind (and for
// Kubernetes tokens the lifetime the record asks for), for a row whose provider has not
// fetched one yet; "" for static kinds.
func tokenLifetime(r registry.Registry) string {
	switch r.Kind {
	case registry.KindECR:
		return "12 h tokens, renewed before they expire"
	case registry.KindGCR, registry.KindGAR:
		return "1 h tokens, renewed before they expire"
	case registry.KindKubernetes:
		lifetime := 24 * time.Hour // providers/kubesa's default
		if n, err := strconv.Atoi(r.Fields["expirationSeconds"]); err == nil && n > 0 {
			lifetime = time.Duration(n) * time.Second
		}
		return shortDuration(lifetime) + " tokens (as requested), renewed before they expire"
	case registry.KindACR:
		if r.Fields["tenant"] != "" {
			return "about 3 h tokens, renewed before they expire"
		}
	}
	return ""
}

// expiry is the cell for a credential that ends at end (zero: never or unknown), seen at
// now: a date, loud within expiryWarnBefore and after the end.
func expiry(end, now time.Time, token bool) expiryView {
	if end.IsZero() {
		return expiryView{}
	}
	what := "expires"
	if token {
		what = "token expires"
	}
	left := end.Sub(now)
	switch {
	case left <= 0:
		return expiryView{Text: fmt.Sprintf("expired %s ago (%s)", shortDuration(-left), formatTime(end)), Level: "bad"}
	case left < expiryWarnBefore && !token:
		return expiryView{Text: fmt.Sprintf("%s in %s (%s)", what, shortDuration(left), formatTime(end)), Level: "warn"}
	}
	return expiryView{Text: what + " " + formatTime(end)}
}

// shortDuration says d in the largest whole unit: "2 days", "5 h", "40 min".
func shortDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return strconv.Itoa(int(d/(24*time.Hour))) + " days"
	case d >= time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	case d >= time.Minute:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	return strconv.Itoa(int(d/time.Second)) + " s"
}
