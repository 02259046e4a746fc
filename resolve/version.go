package resolve

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Level is how far a tag may move to a newer version: within its patch
// releases, its minor releases, or to any newer major.
type Level int

// The levels of update --bump, narrowest first.
const (
	Patch Level = iota + 1
	Minor
	Major
)

// ParseLevel reads "patch", "minor" or "major".
func ParseLevel(s string) (Level, error) {
	switch s {
	case "patch":
		return Patch, nil
	case "minor":
		return Minor, nil
	case "major":
		return Major, nil
	}
	return 0, fmt.Errorf("%q is not a bump level: use patch, minor or major", s)
}

func (l Level) String() string {
	switch l {
	case Patch:
		return "patch"
	case Minor:
		return "minor"
	case Major:
		return "major"
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// fixed is how many leading version parts a level keeps: a patch bump
// keeps the major and minor parts (1.25.3 -> 1.25.4), a minor bump the
// major part, a major bump none.
func (l Level) fixed() int { return int(Major - l) }

// Version is a tag read under Docker's tag conventions: a prefix ("v",
// "jammy-"), dot-separated numbers, an optional pre-release ("rc1",
// "-beta.2") and a suffix naming the variant ("-alpine",
// "-bookworm-slim"). Two tags are the same image line when they have the
// same prefix, the same number of parts and the same suffix.
type Version struct {
	Prefix string
	Parts  []uint64
	Pre    string // the pre-release as written, with its separator; "" for a release
	Suffix string

	preRank int
	preNum  uint64
}

// versionRE splits a tag. The prefix is "v", or a word that ends in "-"
// or "_" ("jammy-", "release-"); the suffix starts with "-" or "_", so
// "alpine3.20" and "sha-1a2b3c" are no versions. Every part keeps to the
// characters the distribution spec allows in a tag: a registry's answer
// is written into sources.
var versionRE = regexp.MustCompile(`^([vV]|[A-Za-z][A-Za-z0-9.]*[-_])?([0-9]+(?:\.[0-9]+)*)([-.]?(alpha|beta|preview|pre|rc|dev|a|b)[-.]?([0-9]*))?([-_][A-Za-z0-9_.-]*)?$`)

// preRanks orders pre-release words: a dev build, then alpha, beta, a
// preview, a release candidate; a release comes after all of them.
var preRanks = map[string]int{"dev": 1, "a": 2, "alpha": 2, "b": 3, "beta": 3, "pre": 4, "preview": 4, "rc": 5}

// maxTagLen is the longest tag the distribution spec allows.
const maxTagLen = 128

// ParseVersion reads tag as a version; false for a tag that is none
// ("latest", "stable", "alpine3.20", a commit hash).
func ParseVersion(tag string) (Version, bool) {
	if len(tag) > maxTagLen {
		return Version{}, false
	}
	m := versionRE.FindStringSubmatch(tag)
	if m == nil {
		return Version{}, false
	}
	v := Version{Prefix: m[1], Pre: m[3], Suffix: m[6]}
	for _, p := range strings.Split(m[2], ".") {
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return Version{}, false
		}
		v.Parts = append(v.Parts, n)
	}
	if v.Pre != "" {
		v.preRank = preRanks[m[4]]
		if m[5] != "" {
			n, err := strconv.ParseUint(m[5], 10, 64)
			if err != nil {
				return Version{}, false
			}
			v.preNum = n
		}
	}
	return v, true
}

// sameLine reports whether w is a tag of v's image line: same prefix,
// number of parts and suffix.
func (v Version) sameLine(w Version) bool {
	return v.Prefix == w.Prefix && len(v.Parts) == len(w.Parts) && v.Suffix == w.Suffix
}

// Compare orders two versions of one line: by their numbers, then a
// pre-release before its release, then by pre-release word and number.
func (v Version) Compare(w Version) int {
	if c := slices.Compare(v.Parts, w.Parts); c != 0 {
		return c
	}
	switch {
	case v.Pre == "" && w.Pre == "":
		return 0
	case v.Pre == "":
		return 1
	case w.Pre == "":
		return -1
	}
	return cmp.Or(cmp.Compare(v.preRank, w.preRank), cmp.Compare(v.preNum, w.preNum))
}

// Newest returns the newest tag of tags that current may move to at
// level: a version of current's line, newer than it, that keeps the
// parts the level keeps, and is no pre-release unless current is one.
// Tags skip says no to are passed over. It returns "" when there is none,
// or when current is not a version, or a release with no part the level
// may change (a tag "20" bumped within its minor releases); a
// pre-release may always move to a later one, or to its release.
func Newest(current string, tags []string, level Level, skip func(string) bool) string {
	cur, ok := ParseVersion(current)
	keep := min(level.fixed(), len(cur.Parts))
	if !ok || keep == len(cur.Parts) && cur.Pre == "" {
		return ""
	}
	best, bestTag := cur, ""
	for _, t := range tags {
		v, ok := ParseVersion(t)
		if !ok || !cur.sameLine(v) || v.Pre != "" && cur.Pre == "" ||
			!slices.Equal(v.Parts[:keep], cur.Parts[:keep]) {
			continue
		}
		c := v.Compare(best)
		// Equal versions written differently ("1.02", "1.2"): the
		// lesser text, so the answer does not depend on the order.
		if c < 0 || c == 0 && (bestTag == "" || t >= bestTag) || skip != nil && skip(t) {
			continue
		}
		best, bestTag = v, t
	}
	return bestTag
}
