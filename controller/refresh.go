package controller

import "time"

// earliest returns the earlier of a and t, ignoring zero times.
func earliest(a, t time.Time) time.Time {
	if t.IsZero() || (!a.IsZero() && a.Before(t)) {
		return a
	}
	return t
}
