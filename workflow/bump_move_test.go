package workflow

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
)

// References that read one place in a file move together or not at all:
// the edit changes what every one of them pulls.
func TestBumpMoveSharedPlace(t *testing.T) {
	t.Parallel()
	src := []byte("ARG V=20.11\n")
	at := func(image string) *Found {
		p, err := resolve.Parse(image)
		if err != nil {
			t.Fatal(err)
		}
		return &Found{Ref: rewrite.Ref{File: "Dockerfile", Line: 1, Col: 7, Kind: rewrite.Dockerfile, Image: image, Written: "20.11",
			Span: rewrite.Span{Start: 6, End: 11}, Var: "V", Style: rewrite.Tag}, Parsed: p}
	}
	node, slim := resolve.Key{Name: "docker.io/library/node", Tag: "20.11"}, resolve.Key{Name: "docker.io/library/nodeslim", Tag: "20.11"}
	for _, tc := range []struct {
		name  string
		next  map[resolve.Key]string
		moved []string
		skip  string
	}{
		{"both to one tag", map[resolve.Key]string{node: "20.12", slim: "20.12"}, []string{"20.12", "20.12"}, ""},
		{"one has no newer tag", map[resolve.Key]string{node: "20.12"}, []string{"20.11", "20.11"},
			"another reference reads the same text and has no newer tag to move to"},
		{"different tags", map[resolve.Key]string{node: "20.12", slim: "22.1"}, []string{"20.11", "20.11"},
			"the references that read this text would need different tags in it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &scanResult{refs: []*Found{at("node:20.11"), at("nodeslim:20.11")}, files: map[string][]byte{"Dockerfile": src}}
			b := &bumper{moved: map[resolve.Key]bool{}}
			b.move(s, tc.next)
			var tags []string
			for _, r := range s.refs {
				tags = append(tags, r.Key.Tag)
			}
			if diff := cmp.Diff(tc.moved, tags); diff != "" {
				t.Errorf("tags after the move (-want +got):\n%s", diff)
			}
			for _, sk := range b.skips {
				if sk.Reason != tc.skip || sk.At != "Dockerfile:1:7" {
					t.Errorf("skip %+v, want %q at Dockerfile:1:7", sk, tc.skip)
				}
			}
			if (tc.skip != "") != (len(b.skips) > 0) {
				t.Errorf("skips = %+v, want reason %q", b.skips, tc.skip)
			}
		})
	}
}
