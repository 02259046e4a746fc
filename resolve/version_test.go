package resolve

import (
	"path"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tag  string
		want Version
		ok   bool
	}{
		{"20", Version{Parts: []uint64{20}}, true},
		{"1.26-alpine", Version{Parts: []uint64{1, 26}, Suffix: "-alpine"}, true},
		{"20.11.1-bookworm-slim", Version{Parts: []uint64{20, 11, 1}, Suffix: "-bookworm-slim"}, true},
		{"v1.2.3", Version{Prefix: "v", Parts: []uint64{1, 2, 3}}, true},
		{"jammy-20240227", Version{Prefix: "jammy-", Parts: []uint64{20240227}}, true},
		{"1.22rc1-alpine", Version{Parts: []uint64{1, 22}, Pre: "rc1", Suffix: "-alpine", preRank: 5, preNum: 1}, true},
		{"3.13.0b2", Version{Parts: []uint64{3, 13, 0}, Pre: "b2", preRank: 3, preNum: 2}, true},
		{"2.0.0-beta.1", Version{Parts: []uint64{2, 0, 0}, Pre: "-beta.1", preRank: 3, preNum: 1}, true},
		{"7.4-rc2-alpine", Version{Parts: []uint64{7, 4}, Pre: "-rc2", preRank: 5, preNum: 2, Suffix: "-alpine"}, true},
		// "-b" and "-a" start the suffix here, not a beta or an alpha.
		{"12-bookworm", Version{Parts: []uint64{12}, Suffix: "-bookworm"}, true},
		{"20-alpine3.19", Version{Parts: []uint64{20}, Suffix: "-alpine3.19"}, true},
		{"21.0.2_13-jdk-jammy", Version{Parts: []uint64{21, 0, 2}, Suffix: "_13-jdk-jammy"}, true},
		{"latest", Version{}, false},
		{"stable-alpine", Version{}, false},
		{"alpine3.20", Version{}, false},
		{"sha-1a2b3c4", Version{}, false},
		{"1a2b3c4", Version{}, false},
		{"1.2.", Version{}, false},
		{"99999999999999999999", Version{}, false}, // past uint64
		{"", Version{}, false},
		{"1.2-\x1b[31m", Version{}, false}, // no tag: it would be written into sources
		{"1.2-a b", Version{}, false},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseVersion(tc.tag)
			if ok != tc.ok {
				t.Fatalf("ParseVersion(%q) ok = %v, want %v", tc.tag, ok, tc.ok)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(Version{})); diff != "" {
				t.Errorf("ParseVersion(%q) (-want +got):\n%s", tc.tag, diff)
			}
		})
	}
}

// Tag lists in the shapes of Docker Hub's official images.
var (
	nodeTags = []string{"latest", "lts", "alpine", "current-alpine", "20", "20-alpine", "20.11", "20.11-alpine",
		"20.11.0", "20.11.1", "20.11.1-alpine", "20.11.1-alpine3.19", "20.11.1-bookworm-slim", "20.12", "20.12-alpine",
		"20.12.2", "20.12.2-alpine", "20.12.2-bookworm-slim", "21", "21.7.3", "21.7.3-alpine", "22", "22-alpine",
		"22.1", "22.1-alpine", "22.1.0", "22.1.0-alpine", "22.1.0-bookworm-slim", "lts-alpine", "iron", "iron-alpine"}
	golangTags = []string{"1.25", "1.25-alpine", "1.25.7-alpine", "1.25.8", "1.25.8-alpine", "1.26rc1", "1.26rc1-alpine",
		"1.26rc2-alpine", "1.26", "1.26-alpine", "1.26.0", "1.26.0-alpine", "1.26.1-alpine", "1.26.1-bookworm",
		"alpine", "bookworm", "tip-alpine", "1.27rc1-alpine"}
	pythonTags = []string{"3.12", "3.12-slim", "3.12.1-slim", "3.12.2-slim", "3.12.2-slim-bookworm", "3.13",
		"3.13-slim", "3.13.0-slim", "3.13.0rc2-slim", "3.13.0rc3-slim", "3.13.1-slim", "3.14.0a1-slim", "3.14.0b2-slim",
		"slim", "3-slim"}
	nginxTags = []string{"1.25", "1.25.3", "1.25.4", "1.25.4-alpine", "1.25.4-alpine-slim", "1.26", "1.26.0",
		"1.26.0-alpine", "1.27.0", "1.27.1", "1.27.1-alpine", "1.27.1-perl", "mainline", "stable", "stable-alpine", "alpine"}
	appTags = []string{"v1.2.3", "v1.2.4", "v1.3.0", "v2.0.0", "v2.0.0-rc.1", "1.9.9", "v1.10.0-beta.1", "sha-1a2b3c4", "main"}
)

func TestNewest(t *testing.T) {
	t.Parallel()
	noRC := func(tag string) bool { ok, _ := path.Match("*-rc*", tag); return ok }
	for _, tc := range []struct {
		name    string
		current string
		tags    []string
		level   Level
		skip    func(string) bool
		want    string
	}{
		{"node two parts minor", "20.11", nodeTags, Minor, nil, "20.12"},
		{"node two parts major", "20.11", nodeTags, Major, nil, "22.1"},
		{"node two parts patch has nothing to change", "20.11", nodeTags, Patch, nil, ""},
		{"node major only", "20", nodeTags, Major, nil, "22"},
		{"node major only at minor", "20", nodeTags, Minor, nil, ""},
		{"node suffix kept", "20.11-alpine", nodeTags, Major, nil, "22.1-alpine"},
		{"node three parts patch", "20.11.1", nodeTags, Patch, nil, ""},
		{"node three parts minor", "20.11.1-bookworm-slim", nodeTags, Minor, nil, "20.12.2-bookworm-slim"},
		{"node three parts major", "20.11.1-bookworm-slim", nodeTags, Major, nil, "22.1.0-bookworm-slim"},
		{"node alpine3.19 line has no newer tag", "20.11.1-alpine3.19", nodeTags, Major, nil, ""},
		{"node latest never", "latest", nodeTags, Major, nil, ""},
		{"node codename never", "iron-alpine", nodeTags, Major, nil, ""},
		{"golang no pre-release for a release", "1.25-alpine", golangTags, Minor, nil, "1.26-alpine"},
		{"golang patch", "1.25.7-alpine", golangTags, Patch, nil, "1.25.8-alpine"},
		{"golang patch stays in its minor", "1.25.8-alpine", golangTags, Patch, nil, ""},
		{"golang pre-release moves to a later one or the release", "1.26rc1-alpine", golangTags, Minor, nil, "1.27rc1-alpine"},
		{"golang pre-release within its minor", "1.26rc1-alpine", golangTags, Patch, nil, "1.26-alpine"},
		{"python slim patch", "3.12.1-slim", pythonTags, Patch, nil, "3.12.2-slim"},
		{"python slim minor skips rc, alpha and beta", "3.12.1-slim", pythonTags, Minor, nil, "3.13.1-slim"},
		{"python rc to rc or release", "3.13.0rc2-slim", pythonTags, Patch, nil, "3.13.1-slim"},
		{"python two-part suffix differs", "3.12.2-slim-bookworm", pythonTags, Major, nil, ""},
		{"nginx patch", "1.25.3", nginxTags, Patch, nil, "1.25.4"},
		{"nginx minor", "1.25.3", nginxTags, Minor, nil, "1.27.1"},
		{"nginx alpine-slim is its own line", "1.25.4-alpine-slim", nginxTags, Major, nil, ""},
		{"nginx alpine", "1.25.4-alpine", nginxTags, Minor, nil, "1.27.1-alpine"},
		{"v prefix kept", "v1.2.3", appTags, Major, nil, "v2.0.0"},
		{"v prefix minor", "v1.2.3", appTags, Minor, nil, "v1.3.0"},
		{"pre-release may become the release", "v2.0.0-rc.1", appTags, Patch, nil, "v2.0.0"},
		{"skip passes over a tag", "3.13.0rc2-slim", pythonTags, Patch, noRC, "3.13.1-slim"},
		{"skip every newer tag", "1.25.3", nginxTags, Minor, func(string) bool { return true }, ""},
		{"skip the newest, take the next", "20.11", nodeTags, Minor, func(t string) bool { return t == "20.12" }, ""},
		{"skip the newest major", "20", nodeTags, Major, func(t string) bool { return t == "22" }, "21"},
		{"no tags", "1.0", nil, Major, nil, ""},
		{"equal versions written differently: the lesser text", "1.1", []string{"1.02", "1.2"}, Minor, nil, "1.02"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Newest(tc.current, tc.tags, tc.level, tc.skip); got != tc.want {
				t.Errorf("Newest(%q, %s) = %q, want %q", tc.current, tc.level, got, tc.want)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"patch", "minor", "major"} {
		l, err := ParseLevel(s)
		if err != nil || l.String() != s {
			t.Errorf("ParseLevel(%q) = %v, %v", s, l, err)
		}
	}
	if _, err := ParseLevel("huge"); err == nil {
		t.Error("ParseLevel(huge) = nil error")
	}
}

// FuzzParseVersion checks what Newest relies on: a version parses to
// parts whose text is the tag's, and a tag is never newer than itself.
func FuzzParseVersion(f *testing.F) {
	for _, tags := range [][]string{nodeTags, golangTags, pythonTags, nginxTags, appTags} {
		for _, t := range tags {
			f.Add(t)
		}
	}
	f.Fuzz(func(t *testing.T, tag string) {
		v, ok := ParseVersion(tag)
		if !ok {
			return
		}
		if len(v.Parts) == 0 {
			t.Fatalf("ParseVersion(%q): no parts", tag)
		}
		if v.Compare(v) != 0 {
			t.Fatalf("ParseVersion(%q) compares unequal to itself", tag)
		}
		if got := Newest(tag, []string{tag}, Major, nil); got != "" {
			t.Fatalf("Newest(%q, [itself]) = %q", tag, got)
		}
	})
}
