// Package boundedfile reads inputs that a user names or pipes in (a registries file, a
// file: value, a credential helper's stdin) without letting them hang the process or
// exhaust its memory.
//
// Rules:
//   - ReadFile accepts only a regular file; a symlink to one is fine. A named pipe (FIFO),
//     a device (/dev/zero, a tty), a directory or a socket is refused with an error that
//     says what the path is. The path is opened with O_NONBLOCK, so opening a FIFO that
//     has no writer returns at once instead of blocking, and it is checked with fstat on
//     the open descriptor (no race between a stat and the open).
//   - At most limit bytes are read. A larger input is refused with *TooLargeError (which
//     matches ErrTooLarge) after reading limit+1 bytes, never more: the declared size is
//     not trusted (files in /proc report 0, a file may grow while it is read).
//   - ReadAll applies the same limit to any reader (stdin); NewReader wraps a reader that
//     someone else consumes (a protocol library reading stdin) so it fails the same way.
//   - Errors name the path and what is wrong, never the content.
package boundedfile
