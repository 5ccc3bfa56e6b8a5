// Package fanout delivers a stream of values to many subscribers, each with its own backlog;
// a subscriber that falls behind gets one resync value instead of an unbounded queue.
// Feed is the registry.Change fan-out the built-in stores use for their Watch.
package fanout
