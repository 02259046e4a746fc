package main

import (
	"bytes"
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPrintVersion(t *testing.T) {
	t.Parallel()
	goLine := "  go:       " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	for _, tc := range []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{name: "no build info", want: "imagelock (devel)\n" + goLine},
		{
			name: "go install of a tag",
			bi:   &debug.BuildInfo{Main: debug.Module{Path: "github.com/imagelock/imagelock", Version: "v1.2.3"}},
			want: "imagelock v1.2.3\n" + goLine,
		},
		{
			name: "build from a modified checkout",
			bi: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
				{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-11-23T09:00:00Z"}, {Key: "vcs.modified", Value: "true"},
			}},
			want: "imagelock (devel)\n  revision: 0123456789abcdef (modified)\n  time:     2026-11-23T09:00:00Z\n" + goLine,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			printVersion(&b, tc.bi)
			if diff := cmp.Diff(tc.want, b.String()); diff != "" {
				t.Errorf("printVersion (-want +got):\n%s", diff)
			}
		})
	}
}
