// Package golden checks the providers' fault handling (Fault: typed, mentions the cause,
// no credentials) and compares the providers' fault messages with the golden files in each
// package's testdata/, so every message a user can see is reviewed in one place: what
// happened, what to do, and no secret. Run a package's tests with -update to rewrite them.
package golden
