package rewrite

import (
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The regexps the byte scans in dockerfile.go replaced, kept here as the
// oracle they must agree with.
var (
	oracleBackslash  = regexp.MustCompile(`([^\\])\\[ \t]*$|^\\[ \t]*$`)
	oracleBacktick   = regexp.MustCompile("([^`])`[ \\t]*$|^`[ \\t]*$")
	oracleWhitespace = regexp.MustCompile(`[\t\v\f\r ]+`)
)

// oracleContinuation is continuation as the regexps computed it.
func oracleContinuation(s string, escape rune) (int, bool) {
	re := oracleBackslash
	if escape == '`' {
		re = oracleBacktick
	}
	m := re.FindStringSubmatchIndex(s)
	switch {
	case m == nil:
		return 0, false
	case m[2] >= 0:
		return m[3], true
	}
	return m[0], true
}

// oracleBlanks is blanks as the regexp computed it.
func oracleBlanks(s string) (int, int) {
	if m := oracleWhitespace.FindStringIndex(s); m != nil {
		return m[0], m[1]
	}
	return -1, -1
}

// oracleFields is fields as the regexp computed it.
func oracleFields(l logicalLine, args word) []word {
	if args.start == args.end {
		return nil
	}
	var out []word
	pos := args.start
	for _, m := range oracleWhitespace.FindAllStringIndex(l.text[args.start:args.end], -1) {
		out = append(out, word{text: l.text[pos : args.start+m[0]], start: pos, end: args.start + m[0]})
		pos = args.start + m[1]
	}
	return append(out, word{text: l.text[pos:args.end], start: pos, end: args.end})
}

// scanInputs are lines where a byte scan could part from the regexps:
// escapes doubled or alone, blanks the continuation pattern does not
// trim, runes and invalid UTF-8 before the escape, and every blank byte.
var scanInputs = []string{
	"",
	`\`,
	"\\ \t ",
	` \`,
	`a\`,
	`a\\`,
	`\\`,
	`a\\\`,
	"a\\ \t",
	"a\\\r",
	"a\\ \r",
	"a\\\v",
	"a\\\f",
	"a \\b",
	`a\ b\`,
	"\n\\",
	"\\\n",
	"é\\",
	"€\\ ",
	"\xff\\",
	"\xe2\x82\\",
	"\xe2\x82\xac\\",
	"\x00\\",
	"`",
	"a`",
	"a``",
	"``",
	"a\\`",
	"a`\\",
	"a` \t",
	"\xff`",
	"FROM\ta:1 \v AS\fb\r",
	"  RUN   --mount=x  y  ",
	"\t\v\f\r ",
	"a\n b",
	"a\u00a0b\u2003c",
	"\xffa \xfe",
}

func TestContinuationMatchesRegexp(t *testing.T) {
	t.Parallel()
	for _, s := range scanInputs {
		for _, escape := range []rune{'\\', '`'} {
			wantCut, wantMore := oracleContinuation(s, escape)
			gotCut, gotMore := continuation(s, escape)
			if gotCut != wantCut || gotMore != wantMore {
				t.Errorf("continuation(%q, %q) = %d, %v; the regexp says %d, %v", s, escape, gotCut, gotMore, wantCut, wantMore)
			}
		}
	}
}

func TestBlanksMatchRegexp(t *testing.T) {
	t.Parallel()
	for _, s := range scanInputs {
		wantI, wantJ := oracleBlanks(s)
		if gotI, gotJ := blanks(s); gotI != wantI || gotJ != wantJ {
			t.Errorf("blanks(%q) = %d, %d; the regexp says %d, %d", s, gotI, gotJ, wantI, wantJ)
		}
		for a := 0; a <= len(s); a++ {
			l, args := logicalLine{text: s}, word{text: s[a:], start: a, end: len(s)}
			if diff := cmp.Diff(oracleFields(l, args), fields(l, args), cmp.AllowUnexported(word{})); diff != "" {
				t.Errorf("fields(%q[%d:]) (-regexp +scan):\n%s", s, a, diff)
			}
		}
	}
}

// The table must hold lines each way: a continued line under each escape,
// a line that is not continued, and fields that split.
func TestScanInputsCoverBothOutcomes(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, s := range scanInputs {
		for _, escape := range []rune{'\\', '`'} {
			if _, more := oracleContinuation(s, escape); more {
				seen["continued "+string(escape)] = true
			} else {
				seen["not continued"] = true
			}
		}
		if len(oracleWhitespace.FindAllStringIndex(s, -1)) > 1 {
			seen["several blank runs"] = true
		}
	}
	want := map[string]bool{"continued \\": true, "continued `": true, "not continued": true, "several blank runs": true}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("outcomes the table reaches (-want +got):\n%s", diff)
	}
}

// FuzzDockerfileScans checks continuation, blanks and fields against the
// regexps they replaced, on any text and escape token.
func FuzzDockerfileScans(f *testing.F) {
	for _, s := range scanInputs {
		f.Add(s, '\\', uint(0))
		f.Add(s, '`', uint(1))
	}
	f.Fuzz(func(t *testing.T, s string, escape rune, a uint) {
		wantCut, wantMore := oracleContinuation(s, escape)
		if gotCut, gotMore := continuation(s, escape); gotCut != wantCut || gotMore != wantMore {
			t.Fatalf("continuation(%q, %q) = %d, %v; the regexp says %d, %v", s, escape, gotCut, gotMore, wantCut, wantMore)
		}
		wantI, wantJ := oracleBlanks(s)
		if gotI, gotJ := blanks(s); gotI != wantI || gotJ != wantJ {
			t.Fatalf("blanks(%q) = %d, %d; the regexp says %d, %d", s, gotI, gotJ, wantI, wantJ)
		}
		start := int(a % uint(len(s)+1))
		l, args := logicalLine{text: s}, word{text: s[start:], start: start, end: len(s)}
		if diff := cmp.Diff(oracleFields(l, args), fields(l, args), cmp.AllowUnexported(word{})); diff != "" {
			t.Fatalf("fields(%q[%d:]) (-regexp +scan):\n%s", s, start, diff)
		}
	})
}
