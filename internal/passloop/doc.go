// Package passloop is the one loop of regcred's refreshers: a pass runs at once, again
// on every change event, and again when the wait it returned has passed on the loop's
// clock, until the context ends. kube.Refresher, keeper.Keeper and swarm.Reauth
// run their passes in it; each pass says when it wants to run next (when the earliest
// credentials it wrote are due, by registry.RefreshAt, or a poll period).
//
// Rules: one pass at a time; a burst of events while a pass runs gives one more pass; no
// timer is left armed when Run returns; the clock is the caller's (tests move a
// clock.Fake).
package passloop
