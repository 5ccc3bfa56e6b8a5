//go:build !unix

package boundedfile

// oNonblock is not needed where named pipes are not opened through the file system path
// (Windows) or do not exist.
const oNonblock = 0
