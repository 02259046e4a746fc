package rewrite

import (
	"bytes"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSplice(t *testing.T) {
	t.Parallel()
	src := "FROM alpine:3 AS a\n"
	tests := []struct {
		name    string
		edits   []Edit
		want    string
		wantErr bool
	}{
		{"no edits", nil, src, false},
		{"replace", []Edit{{Span{5, 13}, "busybox:1"}}, "FROM busybox:1 AS a\n", false},
		{"insert", []Edit{{Span{13, 13}, "@sha256:1"}}, "FROM alpine:3@sha256:1 AS a\n", false},
		{"edits in any order", []Edit{{Span{17, 18}, "b"}, {Span{0, 4}, "from"}}, "from alpine:3 AS b\n", false},
		{"identical edits apply once", []Edit{{Span{5, 13}, "x:1"}, {Span{5, 13}, "x:1"}}, "FROM x:1 AS a\n", false},
		{"adjacent edits", []Edit{{Span{5, 11}, "redis"}, {Span{11, 13}, ":7"}}, "FROM redis:7 AS a\n", false},
		{"insert at the start of a replaced span", []Edit{{Span{5, 5}, "<"}, {Span{5, 13}, "x"}}, "FROM <x AS a\n", false},
		{"insert at the end of a replaced span", []Edit{{Span{5, 13}, "x"}, {Span{13, 13}, ">"}}, "FROM x> AS a\n", false},
		{"overlap", []Edit{{Span{5, 13}, "x"}, {Span{10, 15}, "y"}}, "", true},
		{"same span, different text", []Edit{{Span{5, 13}, "x"}, {Span{5, 13}, "y"}}, "", true},
		{"two inserts at one place", []Edit{{Span{5, 5}, "x"}, {Span{5, 5}, "y"}}, "", true},
		{"insert inside a replaced span", []Edit{{Span{5, 13}, "x"}, {Span{8, 8}, "y"}}, "", true},
		{"past the end", []Edit{{Span{18, 25}, "x"}}, "", true},
		{"negative start", []Edit{{Span{-1, 2}, "x"}}, "", true},
		{"start after end", []Edit{{Span{6, 5}, "x"}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := []byte(src)
			got, err := Splice(in, tt.edits)
			if string(in) != src {
				t.Errorf("Splice modified its input: %q", in)
			}
			if tt.wantErr {
				if err == nil {
					t.Errorf("got %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPinUnpinText(t *testing.T) {
	t.Parallel()
	const d = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	tests := []struct {
		name          string
		written       string
		image         string
		pinned, unpin string
	}{
		{"tag", "alpine:3", "alpine:3", "alpine:3@" + d, "alpine:3"},
		{"digest replaced", "alpine:3@sha256:1", "alpine:3@sha256:1", "alpine:3@" + d, "alpine:3"},
		{"registry port", "localhost:5000/app:1", "localhost:5000/app:1", "localhost:5000/app:1@" + d, "localhost:5000/app:1"},
		{"no tag keeps its digest", "localhost:5000/app", "localhost:5000/app", "localhost:5000/app@" + d, "localhost:5000/app@" + d},
		{"tag from a variable", "${BASE}", "golang:1.26", "${BASE}@" + d, "${BASE}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := Ref{Written: tt.written, Image: tt.image, Span: Span{0, len(tt.written)}}
			pins, err := PinEdits([]byte(tt.written), r, d)
			if err != nil {
				t.Fatal(err)
			}
			pinned, err := Splice([]byte(tt.written), pins)
			if err != nil {
				t.Fatal(err)
			}
			if string(pinned) != tt.pinned {
				t.Errorf("pinned %q, want %q", pinned, tt.pinned)
			}
			pr := Ref{Written: string(pinned), Image: StripDigest(tt.image) + "@" + d, Span: Span{0, len(pinned)}}
			unpins, err := UnpinEdits(pinned, pr)
			if err != nil {
				t.Fatal(err)
			}
			unpinned, err := Splice(pinned, unpins)
			if err != nil {
				t.Fatal(err)
			}
			if string(unpinned) != tt.unpin {
				t.Errorf("unpinned %q, want %q", unpinned, tt.unpin)
			}
		})
	}
}

// FuzzSplice checks Splice against a model: edits that conflict (overlap,
// differ on one span, insert twice at one place, insert inside a replaced
// span) or fall outside src are an error; otherwise the result is src
// with each distinct edit applied once, in order, and src is untouched.
func FuzzSplice(f *testing.F) {
	f.Add([]byte("FROM alpine:3 AS a\n"), 5, 13, "busybox:1", 13, 13, "@sha256:1")
	f.Add([]byte("ARG B=golang:1\n"), 6, 14, "x", 6, 14, "x")
	f.Add([]byte("abc"), 1, 1, "x", 1, 1, "y")
	f.Add([]byte("abc"), 0, 3, "x", 1, 1, "y")
	f.Add([]byte("abc"), 0, 2, "x", 1, 3, "y")
	f.Add([]byte("abc"), 2, 1, "x", 0, 0, "")
	f.Add([]byte("abc"), 0, 4, "x", 0, 0, "")
	f.Fuzz(func(t *testing.T, src []byte, s1, e1 int, n1 string, s2, e2 int, n2 string) {
		edits := []Edit{{Span{s1, e1}, n1}, {Span{s2, e2}, n2}}
		orig := bytes.Clone(src)
		got, err := Splice(src, edits)
		if !bytes.Equal(src, orig) {
			t.Fatal("Splice modified its input")
		}
		for _, e := range edits {
			if e.Span.Start < 0 || e.Span.End > len(src) || e.Span.Start > e.Span.End {
				if err == nil {
					t.Fatalf("edit %v outside %d bytes: no error", e.Span, len(src))
				}
				return
			}
		}
		a, b := edits[0], edits[1]
		if a == b {
			edits = edits[:1]
		} else if conflict(a.Span, b.Span) {
			if err == nil {
				t.Fatalf("conflicting edits %v and %v: no error", a, b)
			}
			return
		}
		if err != nil {
			t.Fatalf("edits %v: %v", edits, err)
		}
		sort.SliceStable(edits, func(i, j int) bool {
			if edits[i].Span.Start != edits[j].Span.Start {
				return edits[i].Span.Start < edits[j].Span.Start
			}
			return edits[i].Span.End < edits[j].Span.End
		})
		var want []byte
		last := 0
		for _, e := range edits {
			want = append(want, src[last:e.Span.Start]...)
			want = append(want, e.New...)
			last = e.Span.End
		}
		want = append(want, src[last:]...)
		if !bytes.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// conflict reports whether two different edits cannot both apply.
func conflict(a, b Span) bool {
	switch {
	case a.Start == a.End && b.Start == b.End:
		return a.Start == b.Start
	case a.Start == a.End:
		return b.Start < a.Start && a.Start < b.End
	case b.Start == b.End:
		return a.Start < b.Start && b.Start < a.End
	}
	return max(a.Start, b.Start) < min(a.End, b.End)
}
