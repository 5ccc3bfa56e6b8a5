//go:build unix

package boundedfile

import "syscall"

// oNonblock keeps open(2) of a FIFO without a writer from blocking; fstat then refuses it.
// It has no effect on regular files.
const oNonblock = syscall.O_NONBLOCK
