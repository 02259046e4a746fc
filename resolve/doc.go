// Package resolve turns image tags into digests by asking registries: one
// HEAD per tag reads the Docker-Content-Digest header, and a GET of an index
// lists each platform's manifest. Names are normalized the way docker pulls
// them: "golang:1.26" is docker.io/library/golang at tag 1.26.
package resolve
