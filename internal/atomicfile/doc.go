// Package atomicfile writes files that hold secrets the one way regcred does it: a 0600
// temporary file in the target's directory, fsync, rename over the target, fsync of the
// directory. Readers see the old file or the new one, never a part, and a failed write
// leaves the old file as it was. The registry FileStore and docker config files use it.
package atomicfile
