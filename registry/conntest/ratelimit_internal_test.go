package conntest

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRateLimit(t *testing.T) {
	for _, c := range []struct {
		limit, remaining string
		want             *RateLimit
	}{
		{"100;w=21600", "76;w=21600", &RateLimit{Limit: 100, Remaining: 76, Window: 6 * time.Hour}},
		{"200", "0", &RateLimit{Limit: 200, Remaining: 0}},
		{"100; w=5400", "99", &RateLimit{Limit: 100, Remaining: 99, Window: 90 * time.Minute}},
		{"", "76", nil},
		{"lots", "76", nil},
		{"100", "-1", nil},
		{"100;w=-5", "7", &RateLimit{Limit: 100, Remaining: 7}},
	} {
		h := http.Header{}
		if c.limit != "" {
			h.Set("RateLimit-Limit", c.limit)
		}
		h.Set("RateLimit-Remaining", c.remaining)
		got := parseRateLimit(h)
		if (got == nil) != (c.want == nil) || got != nil && *got != *c.want {
			t.Errorf("%q %q: got %+v, want %+v", c.limit, c.remaining, got, c.want)
		}
	}
	r := &RateLimit{Limit: 100, Remaining: 9, Window: 90 * time.Minute}
	if got := r.String(); got != "9 of 100 pulls left in the 90m window" || !r.Low() {
		t.Errorf("%q low=%v", got, r.Low())
	}
}
