// Package rewrite finds image references in source files, of the formats
// that the table Kinds lists (Dockerfiles, compose files, Kubernetes
// manifests, CI workflows, kustomize, Helm values, ...), with the exact
// byte span each one occupies, and splices new text into those spans and
// nowhere else, so that a file's other bytes survive every edit: comments,
// quoting, indentation, line endings.
package rewrite
