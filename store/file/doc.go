// Package file is the registry.Store in one JSON file (0600, written atomically), shared by
// several processes through a lock file; other handles see changes by polling the file.
// It implements Watcher, Rewriter and HealthStore and passes store/storetest.
package file
