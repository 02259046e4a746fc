// Package workflow holds imagelock's commands as functions a program can
// call: Lock records every image reference under a directory in
// images.lock, resolving only what is new to it (a lock never moves by
// itself), Verify checks sources and registries against the lock, Pin and
// Unpin write digests into sources and take them out, Update refreshes the
// lock and is the one to accept moved tags, List shows what was found.
// Beyond the repository, Audit compares what pods run with the lock, and
// Stale tells whether built images are still on their locked base.
// Nothing here prints: results and warnings are returned for the caller
// to show.
package workflow
