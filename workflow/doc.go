// Package workflow holds imagelock's commands as functions a program can
// call: Lock resolves every image reference under a directory and records it
// in images.lock, Verify checks sources and registries against the lock, Pin
// and Unpin write digests into sources and take them out, Update refreshes
// the lock, List shows what was found. Nothing here prints: results and
// warnings are returned for the caller to show.
package workflow
