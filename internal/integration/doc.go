// Package integration runs the built imagelock binary against a real
// registry server (the CNCF distribution registry, Debian's docker-registry)
// with TLS and authentication, as a user's machine or CI would.
package integration
