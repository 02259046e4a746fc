// Package substr keeps derived strings inside the text they came from: a
// key or digest held for the length of a run then takes no memory beside
// the reference text that holds it, which matters for a scan of 100,000
// files.
package substr

import "strings"

// Within returns s's own copy of sub where s holds it, else sub.
func Within(s, sub string) string {
	if i := strings.Index(s, sub); i >= 0 {
		return s[i : i+len(sub)]
	}
	return sub
}
