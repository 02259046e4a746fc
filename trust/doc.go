// Package trust checks who signed an image: a cosign signature (the
// simple-signing payload that names the image's digest, signed with a key
// or a short-lived certificate) or a Sigstore bundle, against a rule that
// names a public key or a keyless identity (an OIDC issuer and subject).
// It reads keys and trusted roots from files and never fetches anything:
// the signatures come from the registry through package resolve.
package trust
