package workflow

import (
	"fmt"
	"sort"
	"strings"
)

// Summary writes r as Markdown fit for the body of an update pull request:
// a title, a table of every image whose digest changed (digests shortened,
// the full ones below the table), the changes a bot may skip because the
// index was re-published with the same images, and the sources re-pinned.
// The text depends on r alone, so a bot that runs twice writes the same
// body.
func Summary(r *UpdateResult) string {
	var b strings.Builder
	changes := append([]ImageChange(nil), r.Changes...)
	sort.Slice(changes, func(i, j int) bool { return changes[i].Image < changes[j].Image })
	if len(changes)+len(r.Bumps) == 0 {
		still := "still points at its locked digest"
		if len(r.Held) > 0 {
			still += ", or moved to one that min-age holds back"
		}
		fmt.Fprintf(&b, "## No container image updates\n\nEvery tag in `%s` %s.\n", r.Lockfile, still)
		writeHeld(&b, r.Held)
		writeBumpSkips(&b, r.BumpSkipped)
		return b.String()
	}
	fmt.Fprintf(&b, "## Update %s\n\n", countOf(len(changes)+len(r.Bumps), "container image", "container images"))
	if len(r.Bumps) > 0 {
		writeBumps(&b, r)
	}
	if len(changes) > 0 {
		fmt.Fprintf(&b, "`imagelock update` re-resolved the tags below and rewrote `%s`.\n\n", r.Lockfile)
		b.WriteString("| Image | Old digest | New digest | Platforms changed | Added | Removed | Files |\n")
		b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	}
	for _, c := range changes {
		changed := c.PlatformsChanged
		if len(changed) == 0 && len(c.PlatformsAdded)+len(c.PlatformsRemoved) == 0 && !c.SameImages {
			changed = []string{"(single image)"}
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s | %s | %s | %s |\n", c.Image, shortDigest(c.Old), shortDigest(c.New),
			cell(changed, false), cell(c.PlatformsAdded, true), cell(c.PlatformsRemoved, true), cell(c.Files, true))
	}
	var same []string
	for _, c := range changes {
		if c.SameImages {
			same = append(same, c.Image)
		}
	}
	if len(same) > 0 {
		b.WriteString("\n")
		for _, s := range same {
			fmt.Fprintf(&b, "- `%s`: the index was re-published with the same platform images; builds do not change, so bots may skip this update.\n", s)
		}
	}
	writeSigners(&b, changes)
	writeHeld(&b, r.Held)
	writeBumpSkips(&b, r.BumpSkipped)
	if len(r.Repinned) > 0 {
		files := make([]string, len(r.Repinned))
		for i, f := range r.Repinned {
			files[i] = f.File
		}
		sort.Strings(files)
		fmt.Fprintf(&b, "\nRe-pinned to the new digests: %s.\n", cell(files, true))
	}
	b.WriteString("\n<details>\n<summary>Full digests</summary>\n\n")
	for _, t := range r.Bumps {
		fmt.Fprintf(&b, "- `%s`: `%s` → `%s`\n", t.Image, t.Old, t.New)
		if t.OldDigest != "" {
			fmt.Fprintf(&b, "  - old: `%s`\n", t.OldDigest)
		}
		fmt.Fprintf(&b, "  - new: `%s`\n", t.NewDigest)
	}
	for _, c := range changes {
		fmt.Fprintf(&b, "- `%s`\n  - old: `%s`\n  - new: `%s`\n", c.Image, c.Old, c.New)
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

// writeBumps writes the tags update --bump moved.
func writeBumps(b *strings.Builder, r *UpdateResult) {
	fmt.Fprintf(b, "`imagelock update --bump` moved these tags to newer versions in the sources and locked them in `%s`.\n\n", r.Lockfile)
	b.WriteString("| Image | Old tag | New tag | Old digest | New digest | Platforms | Files |\n")
	b.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, t := range r.Bumps {
		old := cell(nil, false)
		if t.OldDigest != "" {
			old = "`" + shortDigest(t.OldDigest) + "`"
		}
		platforms := t.Platforms
		if len(platforms) == 0 {
			platforms = []string{"(single image)"}
		}
		fmt.Fprintf(b, "| `%s` | `%s` | `%s` | %s | `%s` | %s | %s |\n", t.Image, t.Old, t.New, old, shortDigest(t.NewDigest),
			cell(platforms, false), cell(t.Files, true))
	}
	b.WriteString("\n")
}

// writeBumpSkips lists the newer tags update --bump did not move to.
func writeBumpSkips(b *strings.Builder, skips []BumpSkip) {
	if len(skips) == 0 {
		return
	}
	b.WriteString("\nNot moved:\n\n")
	for _, s := range skips {
		fmt.Fprintf(b, "- `%s` → `%s` (`%s`): %s\n", s.Image, s.Newer, s.At, s.Reason)
	}
}

// shortDigest keeps the algorithm and the first 12 hex digits, as docker
// and GitHub show digests.
func shortDigest(d string) string {
	alg, hex, ok := strings.Cut(d, ":")
	if !ok || len(hex) <= 12 {
		return d
	}
	return alg + ":" + hex[:12]
}

// cell joins values for a table cell; code puts each in backticks. An
// empty list is a dash.
func cell(values []string, code bool) string {
	if len(values) == 0 {
		return "—"
	}
	out := make([]string, len(values))
	for i, v := range values {
		v = strings.ReplaceAll(v, "|", `\|`)
		if code {
			v = "`" + v + "`"
		}
		out[i] = v
	}
	return strings.Join(out, ", ")
}

func countOf(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
