// Package lock reads and writes images.lock, the record of what every image
// tag in a repository resolved to. Like go.sum it is machine-owned: written
// whole, sorted, deterministic, so that the same images always give the same
// bytes and a review diff shows only what moved.
package lock
