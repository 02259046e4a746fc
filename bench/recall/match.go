package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Finding is one reference `imagelock list --format json` reported.
type Finding struct {
	File  string `json:"file"`
	Line  int    `json:"line"`
	Col   int    `json:"column"`
	Kind  string `json:"kind"`
	Image string `json:"image"`
	Key   string `json:"key"`
}

// Warning is one `warning: FILE:LINE: msg` line imagelock wrote to stderr.
type Warning struct {
	File string
	Line int
	Msg  string
}

// Row is one line of a truth file.
type Row struct {
	File  string
	Line  int
	Image string // as written
	Class string // ref, warn-ok, out-of-scope or not
	Note  string
	// Alt lists other lines of the same reference in File (alt= in the
	// note): the tag line of a Helm map, the ARG default line of a FROM.
	Alt []int
	// AltFiles lists "file:line" of the reference's definition in
	// another file (altf= in the note).
	AltFiles []string
}

// Truth classes.
const (
	classRef        = "ref"          // counted
	classWarnOK     = "warn-ok"      // counted; a warning at its line finds it too
	classOutOfScope = "out-of-scope" // not counted; a finding there is no false positive
	classNot        = "not"          // a finding there is a false positive
)

// on reports whether line is the row's line or one of its alt lines.
func (r Row) on(line int) bool { return line == r.Line || slices.Contains(r.Alt, line) }

func (r Row) lines() []int { return append([]int{r.Line}, r.Alt...) }

// How a counted row was found.
const (
	statusFound      = "found"
	statusDefinition = "found (definition)"
	statusWarned     = "warned"
)

// Result is the comparison for one repository.
type Result struct {
	Truth    int // rows counted: ref and warn-ok
	Found    int // of those, found
	Findings int // imagelock's findings in scope
	TP       int // findings that match a row or lie on an out-of-scope row
	// Status is, for each truth row, how it was found ("" if not).
	Status         []string
	Misses         []Miss
	FalsePositives []FalsePositive
}

// Miss is a counted row imagelock neither reported nor warned about.
type Miss struct {
	Row      Row
	Category string // the note's class, see category
}

// FalsePositive is a finding no row accounts for.
type FalsePositive struct {
	Finding Finding
	Reason  string
}

// Match compares imagelock's findings and warnings for one repository
// with its truth rows. Findings whose file has none of scope's prefixes
// are ignored (an empty scope keeps them all).
//
// A row is found by an unused finding in its file on its line or an alt
// line, with the same image text first and then any image; then by a
// finding, used or not, on an alt line or an altf= definition (one
// definition serves every use); a warn-ok row also by a warning at its
// line or an alt line.
func Match(rows []Row, findings []Finding, warnings []Warning, scope []string) Result {
	var in []Finding
	for _, f := range findings {
		if inScope(scope, f.File) {
			in = append(in, f)
		}
	}
	byFile := map[string][]int{}
	for j, f := range in {
		byFile[f.File] = append(byFile[f.File], j)
	}
	used := make([]bool, len(in))
	status := make([]string, len(rows))
	for _, exact := range []bool{true, false} {
		for i, r := range rows {
			if status[i] != "" || r.Class == classNot {
				continue
			}
			for _, j := range byFile[r.File] {
				f := in[j]
				if used[j] || !r.on(f.Line) {
					continue
				}
				if exact && norm(f.Image) != norm(r.Image) {
					continue
				}
				used[j], status[i] = true, statusFound
				break
			}
		}
	}
	for i, r := range rows {
		if status[i] != "" || r.Class == classNot || r.Class == classOutOfScope {
			continue
		}
		for j, f := range in {
			if (f.File == r.File && f.Line != r.Line && r.on(f.Line)) || slices.Contains(r.AltFiles, at(f.File, f.Line)) {
				used[j], status[i] = true, statusDefinition
				break
			}
		}
	}
	for i, r := range rows {
		if r.Class != classWarnOK || status[i] != "" {
			continue
		}
		for _, w := range warnings {
			if w.File == r.File && r.on(w.Line) {
				status[i] = statusWarned
				break
			}
		}
	}
	notAt := map[string]Row{} // the last not or out-of-scope row on each file:line
	for _, r := range rows {
		if r.Class == classNot || r.Class == classOutOfScope {
			for _, l := range r.lines() {
				notAt[at(r.File, l)] = r
			}
		}
	}

	res := Result{Findings: len(in), Status: status}
	for i, r := range rows {
		if r.Class != classRef && r.Class != classWarnOK {
			continue
		}
		res.Truth++
		if status[i] != "" {
			res.Found++
			continue
		}
		res.Misses = append(res.Misses, Miss{Row: r, Category: category(r)})
	}
	for j, f := range in {
		if used[j] {
			res.TP++
			continue
		}
		reason := "not in truth"
		if r, ok := notAt[at(f.File, f.Line)]; ok {
			if r.Class == classOutOfScope {
				res.TP++ // a real image, just outside the counted formats
				continue
			}
			reason = "truth says not a reference: " + category(r)
		}
		res.FalsePositives = append(res.FalsePositives, FalsePositive{Finding: f, Reason: reason})
	}
	return res
}

func at(file string, line int) string { return fmt.Sprintf("%s:%d", file, line) }

func inScope(scope []string, file string) bool {
	if len(scope) == 0 {
		return true
	}
	for _, p := range scope {
		if strings.HasPrefix(file, p) {
			return true
		}
	}
	return false
}

func norm(s string) string { return strings.Trim(strings.TrimSpace(s), `"'`) }

var (
	handSet   = regexp.MustCompile(`\(hand-set; was: [^)]*\)`)
	noteNoise = regexp.MustCompile(`->.*|\(used at line \d+\)`)
)

// category is a row's note up to the first ';', without a hand-set
// remark, REVIEW or an arrow's right side: the class the report groups
// misses and false positives by.
func category(r Row) string {
	n := handSet.ReplaceAllString(r.Note, "")
	if i := strings.Index(n, ";"); i >= 0 {
		n = n[:i]
	}
	n = strings.TrimSpace(strings.ReplaceAll(n, "REVIEW", ""))
	n = strings.TrimSpace(noteNoise.ReplaceAllString(n, ""))
	if n == "" {
		n = "(no note)"
	}
	return n
}
