package cache

import (
	"time"

	"github.com/regcred/regcred/registry"
)

// ExpiredError is the cause a caller gets when the last good value has expired and no new
// one could be fetched. errors.Is(err, registry.ErrExpired) holds, and errors.Is/As also
// reach the refresh cause (ErrUnauthorized, ErrUnavailable, ...).
type ExpiredError struct {
	ExpiresAt time.Time // when the last good value expired
	Cause     error     // why it could not be refreshed
}

func (e *ExpiredError) Error() string {
	s := "the credentials expired at " + e.ExpiresAt.UTC().Format(time.RFC3339) + " and could not be refreshed"
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

// Is makes errors.Is(err, registry.ErrExpired) true.
func (e *ExpiredError) Is(target error) bool { return target == registry.ErrExpired }

// Unwrap returns the refresh cause.
func (e *ExpiredError) Unwrap() error { return e.Cause }
