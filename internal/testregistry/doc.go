// Package testregistry runs a real CNCF distribution registry (Debian's
// docker-registry, /usr/bin/docker-registry) for tests: each Start gets its
// own loopback port, storage and TLS certificates, with basic or token
// authentication, so integration tests exercise what users meet in the field
// (a /v2/ ping answered with 401, a WWW-Authenticate challenge, a CA that is
// not in the system pool) instead of an in-process fake.
package testregistry
