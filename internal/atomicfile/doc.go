// Package atomicfile writes files that hold secrets the one way regcred does it: a 0600
// temporary file in the target's directory, fsync, rename over the target, fsync of the
// directory. Readers see the old file or the new one, never a part, and a failed write
// leaves the old file as it was. A path that is a symlink is written through, dangling or
// not (the link stays a link, as docker keeps a linked config.json); a loop of links is an
// error (ELOOP). The registry FileStore and docker config files use it.
package atomicfile
