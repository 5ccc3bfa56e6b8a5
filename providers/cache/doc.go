// Package cache wraps a registry.Provider whose credentials expire (ECR, ACR with a tenant,
// Google access tokens, Kubernetes ServiceAccount tokens) so callers never see an expired
// credential and the token endpoint is called about once per token lifetime.
//
// Rules:
//   - Refresh early: a value fetched at t0 that expires at e is refreshed from
//     t0 + Share*(e-t0) (default 80%) or e - MinMargin (default 5 minutes), whichever comes
//     first; the margin is ignored when it would fall before t0 (very short tokens). A
//     zero ExpiresAt means the value never expires and is never refreshed (until
//     Invalidate).
//   - One refresh in flight: concurrent callers that find the value due share one upstream
//     call. The upstream call runs on the first caller's context values but not its
//     cancellation, bounded by the refresh timeout (default 30 s), so one impatient caller
//     cannot fail the refresh for the others. Every caller still returns when its own ctx
//     ends: with the old value while it is valid, else with an error.
//   - A failed refresh never drops a working value: the old value is served until its real
//     expiry, and retries back off exponentially with jitter (default 1 s doubling up to
//     5 minutes). While backing off with no valid value, callers get the last error without
//     an upstream call (negative caching), so a broken endpoint is not hammered.
//   - Never serve an expired credential: past its expiry a value is gone; the error wraps
//     registry.ErrExpired and the refresh cause (see ExpiredError). An upstream answer that
//     is already expired on arrival is an error too and is not stored.
//   - Invalidate (after a 401) drops the value and the back-off: the next call refreshes.
//     It wins over a refresh in flight: a refresh stores its outcome with a compare-and-swap
//     against the generation it started in, so a refresh that an Invalidate overtook never
//     stores the value that was just rejected (its own callers still get its answer).
//   - New never wraps twice: a provider that is already cached is returned as is.
//   - The clock is per instance (WithClock, a clock.Clock; default clock.Real{}); tests move
//     a clock.Fake, they never sleep.
//   - Time is read on both clocks on every call, the hot path included: a value is fresh
//     (or valid) only while the time elapsed since it was fetched, on the monotonic
//     reading, and the wall clock (t.Round(0)) both say so. The monotonic reading ignores
//     wall-clock steps; on Linux it pauses while the machine is suspended, so after a
//     suspend only the wall clock knows that a token has expired. Neither alone is enough.
//   - The hot path (a fresh value) is one atomic load and one time.Now: no lock, no
//     allocation.
//
// Measured (go test -run XXX -bench 'CachedHit|OAuth2' -benchtime=1s -count=3
// ./providers/cache, 2 vCPU kvm shared with other builds): BenchmarkCachedHit 66 ns/op,
// 0 B/op, 0 allocs/op, now that every hit reads the wall clock as well as the monotonic
// one (40-45 ns before, monotonic only, which served expired tokens after a suspend);
// oauth2.ReuseTokenSource's Token() on a valid token, which reads the wall clock alone,
// 60-68 ns/op, 0 allocs. In parallel: 27-59 ns/op against 63-66 ns/op (ReuseTokenSource
// takes a mutex).
package cache
