//go:build !unix

package main

import (
	"context"
	"io/fs"
)

const oNoFollow = 0

// ownedByMe cannot be checked portably here; the directory is the user's cache directory.
func ownedByMe(fs.FileInfo) bool { return true }

// lockFile is a no-op: concurrent helpers may each fetch once.
func lockFile(context.Context, string) func() { return func() {} }
