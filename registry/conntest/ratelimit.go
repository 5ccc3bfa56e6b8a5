package conntest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/regcred/regcred/internal/untrusted"
)

// RateLimit is a registry's pull allowance as Docker Hub reports it on a manifest HEAD
// (ratelimit-limit: 100;w=21600, ratelimit-remaining: 76;w=21600,
// docker-ratelimit-source: 192.0.2.1), so a platform can warn before pulls start failing
// with 429. A HEAD does not count as a pull.
type RateLimit struct {
	Limit     int           // pulls allowed per window
	Remaining int           // pulls left in the current window
	Window    time.Duration // the window (Docker Hub: 6h); zero when not given
	Source    string        // what the limit counts: an account ID or an IP address
}

// MarshalJSON writes limit, remaining, windowSeconds and source.
func (r RateLimit) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Limit         int    `json:"limit"`
		Remaining     int    `json:"remaining"`
		WindowSeconds int64  `json:"windowSeconds,omitempty"`
		Source        string `json:"source,omitempty"`
	}{r.Limit, r.Remaining, int64(r.Window / time.Second), r.Source})
}

// Low reports whether less than a tenth of the allowance is left.
func (r *RateLimit) Low() bool { return r.Remaining*10 < r.Limit }

// String says it in a report's words: "76 of 100 pulls left in the 6h window".
func (r *RateLimit) String() string {
	s := strconv.Itoa(r.Remaining) + " of " + strconv.Itoa(r.Limit) + " pulls left"
	if r.Window > 0 {
		s += " in the " + shortDuration(r.Window) + " window"
	}
	return s
}

// parseRateLimit reads Docker Hub's rate limit headers; nil when there are none or they
// do not parse. Values are "N" or "N;w=SECONDS".
func parseRateLimit(h http.Header) *RateLimit {
	limit, window, ok := parseRateValue(h.Get("Ratelimit-Limit"))
	if !ok {
		return nil
	}
	remaining, w2, ok := parseRateValue(h.Get("Ratelimit-Remaining"))
	if !ok {
		return nil
	}
	if window == 0 {
		window = w2
	}
	r := &RateLimit{Limit: limit, Remaining: remaining, Window: window,
		Source: untrusted.Limit(h.Get("Docker-Ratelimit-Source"), 64)}
	return r
}

func parseRateValue(v string) (n int, window time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, 0, false
	}
	num, params, _ := strings.Cut(v, ";")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return 0, 0, false
	}
	for _, p := range strings.Split(params, ";") {
		if k, val, found := strings.Cut(strings.TrimSpace(p), "="); found && strings.EqualFold(k, "w") {
			if secs, err := strconv.Atoi(val); err == nil && secs > 0 && secs <= 30*24*3600 {
				window = time.Duration(secs) * time.Second
			}
		}
	}
	return n, window, true
}

// shortDuration writes whole hours as "6h" and whole minutes as "90m".
func shortDuration(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}
