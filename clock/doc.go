// Package clock is the one clock every part of regcred accepts: the credential cache, the
// Kubernetes Refresher, the Catalog, the controller and the test kit. It reads the time and
// makes timers, so code that waits can be driven by a test without sleeping.
//
// Rules:
//   - Code that reads the time or waits takes a Clock (an option WithClock in its package,
//     default Real{}); it never calls time.Now, time.Sleep, time.After or time.NewTimer
//     itself.
//   - Real is the system clock. Its times carry Go's monotonic reading, so durations between
//     them ignore wall-clock jumps; on Linux the monotonic clock also pauses while the
//     machine is suspended, so code that must respect a deadline on the wall clock (a token's
//     expiry) compares t.Round(0), the wall reading, as well.
//   - Fake is a clock that only moves when a test moves it (Advance, Set). Its times carry
//     no monotonic reading. Timers fire, in deadline order, when the clock is moved to or
//     past their deadline; a fired timer sends the fake time of its deadline. BlockUntil
//     waits until the code under test has armed a number of timers, so a test knows the
//     code is waiting before it moves the clock.
//   - Timers follow Go 1.23's semantics: Stop and Reset guarantee that no stale value is
//     received afterwards, and a timer nobody references is garbage.
//   - Every method of Real and Fake is safe for concurrent use.
package clock
