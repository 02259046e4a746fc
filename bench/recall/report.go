package main

import (
	"bytes"
	"fmt"
	"io"
	"sort"
)

// repoResult is one repository's line of the report.
type repoResult struct {
	name    string
	sampled bool  // the truth covers a scope, not the whole repository
	listErr error // imagelock list failed: nothing counted as found
	Result
}

// report prints the table, the misses and false positives by class, and
// (verbose) every miss and false positive by repository.
func report(w io.Writer, repos []repoResult, verbose bool) {
	var tot struct{ truth, found, refs, tp int }
	var detail bytes.Buffer
	missCat := map[string][]string{}
	fpCat := map[string][]string{}
	fmt.Fprintf(w, "%-42s %6s %6s %7s %8s %6s %9s\n", "repo", "truth", "found", "recall", "il-refs", "tp", "precision")
	for _, r := range repos {
		fmt.Fprintf(&detail, "\n## %s\n", r.name)
		if r.listErr != nil {
			fmt.Fprintf(&detail, "LIST ERROR (repo counted as 0 found): %v\n", r.listErr)
		}
		for _, m := range r.Misses {
			missCat[m.Category] = append(missCat[m.Category], fmt.Sprintf("%s %s:%d %s", r.name, m.Row.File, m.Row.Line, m.Row.Image))
			if verbose {
				fmt.Fprintf(&detail, "  missed [%s] %s:%d %s (%s)\n", m.Row.Class, m.Row.File, m.Row.Line, m.Row.Image, m.Row.Note)
			}
		}
		for _, p := range r.FalsePositives {
			f := p.Finding
			fpCat[p.Reason] = append(fpCat[p.Reason], fmt.Sprintf("%s %s:%d %s", r.name, f.File, f.Line, f.Image))
			if verbose {
				fmt.Fprintf(&detail, "  false positive %s:%d %s (%s) [%s]\n", f.File, f.Line, f.Image, f.Kind, p.Reason)
			}
		}
		sc, e := "", ""
		if r.sampled {
			sc = " (sampled)"
		}
		if r.listErr != nil {
			e = " LIST ERROR"
		}
		fmt.Fprintf(w, "%-42s %6d %6d %7s %8d %6d %9s%s%s\n", r.name, r.Truth, r.Found, ratio(r.Found, r.Truth), r.Findings, r.TP, ratio(r.TP, r.Findings), sc, e)
		tot.truth += r.Truth
		tot.found += r.Found
		tot.refs += r.Findings
		tot.tp += r.TP
	}
	fmt.Fprintf(w, "%-42s %6d %6d %7s %8d %6d %9s\n", "TOTAL", tot.truth, tot.found, ratio(tot.found, tot.truth), tot.refs, tot.tp, ratio(tot.tp, tot.refs))
	fmt.Fprintln(w, "\n# missed, by truth note class")
	printCats(w, missCat)
	fmt.Fprintln(w, "\n# false positives, by class")
	printCats(w, fpCat)
	fmt.Fprintln(w, "\n# detail")
	w.Write(detail.Bytes())
}

// printCats prints each class with its count and up to three examples,
// the largest first.
func printCats(w io.Writer, m map[string][]string) {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		return len(m[ks[i]]) > len(m[ks[j]]) || len(m[ks[i]]) == len(m[ks[j]]) && ks[i] < ks[j]
	})
	for _, k := range ks {
		fmt.Fprintf(w, "%5d  %s\n", len(m[k]), k)
		for i, e := range m[k] {
			if i == 3 {
				break
			}
			fmt.Fprintf(w, "         e.g. %s\n", e)
		}
	}
}

func ratio(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}
