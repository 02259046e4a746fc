package lock

import (
	"errors"
	"flag"
	"fmt"
	"github.com/imagelock/imagelock/internal/atomicfile"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

var update = flag.Bool("update", false, "rewrite golden files")

func hash(t testing.TB, hex1 string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash("sha256:" + strings.Repeat(hex1, 64))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sample(t *testing.T) *File {
	return &File{Images: []Image{
		{Name: "docker.io/library/golang", Tag: "1.26-alpine", Digest: hash(t, "a"),
			Platforms: map[string]v1.Hash{"linux/arm64/v8": hash(t, "c"), "linux/amd64": hash(t, "b")},
			Sources:   []string{"ci/build.Dockerfile", "Dockerfile"}},
		{Name: "docker.io/library/alpine", Digest: hash(t, "d"), Sources: []string{"Dockerfile"}},
		{Name: "ghcr.io/o/app", Tag: "1", Digest: hash(t, "e"), Sources: []string{"odd \"name\"\\x/Dockerfile"}},
		{Name: "ghcr.io/o/signed", Tag: "2", Digest: hash(t, "f"), Sources: []string{"Dockerfile"},
			Signer: "key:sha256:" + strings.Repeat("0", 64), Signature: hash(t, "1")},
		{Name: "ghcr.io/o/keyless", Tag: "3", Digest: hash(t, "2"), Sources: []string{"Dockerfile"},
			Signer: "keyless:https://token.actions.githubusercontent.com https://github.com/o/keyless/.github/workflows/release.yml@refs/heads/main", Signature: hash(t, "3"),
			SignedAt: time.Date(2026, 11, 30, 12, 34, 56, 0, time.FixedZone("CET", 3600))},
	}}
}

// The golden file is the canonical form: sorted entries and sources, basic
// strings, the header; formatting its parse gives it back byte for byte.
func TestFormatGolden(t *testing.T) {
	t.Parallel()
	got := sample(t).Format()
	golden := filepath.Join("testdata", "sample.lock")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("Format (-want +got):\n%s", diff)
	}
	f, err := Parse("images.lock", want)
	if err != nil {
		t.Fatal(err)
	}
	if again := f.Format(); string(again) != string(want) {
		t.Errorf("parse+format is not a fixed point:\n%s", again)
	}
}

func TestFormatDeterministic(t *testing.T) {
	t.Parallel()
	a := sample(t)
	b := sample(t)
	b.Images[0], b.Images[2] = b.Images[2], b.Images[0]
	if string(a.Format()) != string(b.Format()) {
		t.Error("entry order changes the bytes")
	}
	if a.Images[0].Name != "docker.io/library/golang" {
		t.Error("Format sorted the caller's slice")
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const d = `"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`
	for _, tc := range []struct{ name, in, want string }{
		{"unknown version", "# c\nversion = 7\n", "images.lock:2: unknown lock version 7"},
		{"missing version", "[[image]]\n", "images.lock:1: unknown lock version 0"},
		{"syntax", "version = 1\n[[image]]\nname = \"x\n", "images.lock:3:10: malformed lock"},
		{"bad digest", "version = 1\n\n[[image]]\nname = \"docker.io/a/b\"\ntag = \"1\"\ndigest = \"sha256:abc\"\n", "images.lock:6: malformed digest \"sha256:abc\""},
		{"bad platform digest", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nplatforms = { \"linux/amd64\" = \"md5:1\" }\n", "images.lock:5: malformed digest \"md5:1\" for platform linux/amd64"},
		{"duplicate", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ntag = \"1\"\ndigest = " + d + "\n\n[[image]]\nname = \"docker.io/a/b\"\ntag = \"1\"\ndigest = " + d + "\n", "images.lock:7: duplicate entry for docker.io/a/b:1 (first at line 2)"},
		{"unknown key", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\nlines = [3]\n", "images.lock:4:1: unknown key \"image.lines\""},
		{"bad name", "version = 1\n[[image]]\nname = \"alpine\"\ndigest = " + d + "\n", "images.lock:3: entry has an invalid name \"alpine\""},
		// Control characters from a lock edited in a pull request must not
		// reach a terminal or a CI log: an ANSI escape, a line break that
		// starts a workflow command.
		{"escape in a name", "version = 1\n[[image]]\nname = \"docker.io/a/\\u001b[31mb\"\ndigest = " + d + "\n", "images.lock:3: entry has an invalid name \"docker.io/a/\\x1b[31mb\""},
		{"line break in a tag", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ntag = \"1\\n::error::pwned\"\ndigest = " + d + "\n", "images.lock:4: entry docker.io/a/b has an invalid tag \"1\\n::error::pwned\""},
		{"tag too long", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ntag = \"" + strings.Repeat("t", 129) + "\"\ndigest = " + d + "\n", "images.lock:4: entry docker.io/a/b has an invalid tag \"ttt"},
		{"line break in a source", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ntag = \"1\"\ndigest = " + d + "\nsources = [\"Dockerfile\\n::error::x\"]\n", "images.lock:6: entry docker.io/a/b has an invalid source \"Dockerfile\\n::error::x\""},
		{"bad signer", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nsigner = \"alice\"\nsignature = " + d + "\n", "images.lock:5: entry docker.io/a/b has an invalid signer \"alice\""},
		{"signer without a signature", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nsigner = \"key:sha256:" + strings.Repeat("0", 64) + "\"\n", "images.lock:2: entry docker.io/a/b has a malformed signature digest \"\""},
		{"signed_at alone", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nsigned_at = 2026-01-02T03:04:05Z\n", "images.lock:2: entry docker.io/a/b has an invalid signer \"\""},
		{"signed_at as a string", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nsigned_at = \"yesterday\"\n", "images.lock:5:13: malformed lock"},
		{"signer too long", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nsigner = \"keyless:" + strings.Repeat("i", 1001) + " " + strings.Repeat("s", 1001) + "\"\nsignature = " + d + "\n", "images.lock:5: entry docker.io/a/b has an invalid signer \"keyless:iii"},
		{"line break in a signer", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nsigner = \"keyless:a\\nb c\"\nsignature = " + d + "\n", "images.lock:5: entry docker.io/a/b has an invalid signer \"keyless:a\\nb c\""},
		{"line break in a platform", "version = 1\n[[image]]\nname = \"docker.io/a/b\"\ndigest = " + d + "\nplatforms = { \"linux/amd64\\n::error::x\" = " + d + " }\n", "images.lock:5: malformed platform \"linux/amd64\\n::error::x\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("images.lock", []byte(tc.in))
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Parse error = %v, want prefix %q", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "images.lock" || e.Line == 0 {
				t.Errorf("Parse error %v is no *lock.Error with a line (%#v)", err, e)
			}
		})
	}
}

func TestWriteOnlyWhenChanged(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "images.lock")
	none, _, err := Read(path, "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	if wrote, err := Write(path, sample(t), none); err != nil || !wrote {
		t.Fatalf("first Write = %v, %v; want true, nil", wrote, err)
	}
	before, _ := os.Stat(path)
	was, _, err := Read(path, "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	if wrote, err := Write(path, sample(t), was); err != nil || wrote {
		t.Fatalf("second Write = %v, %v; want false, nil", wrote, err)
	}
	after, _ := os.Stat(path)
	if !after.ModTime().Equal(before.ModTime()) {
		t.Error("unchanged lock was rewritten")
	}
	got, ok, err := Read(path, "images.lock")
	if err != nil || !ok || len(got.Images) != len(sample(t).Images) {
		t.Fatalf("Read = %v, %v, %v", got, ok, err)
	}
	if _, ok, err := Read(filepath.Join(t.TempDir(), "none"), "images.lock"); ok || err != nil {
		t.Errorf("Read of a missing lock = %v, %v; want false, nil", ok, err)
	}
}

// A lock changed (a checkout, a pull) or created between the read and the
// write is not overwritten: the write fails, naming it.
func TestWriteRefusesALockChangedSinceRead(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "images.lock")
	none, _, err := Read(path, "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	theirs := sample(t).Format()
	if err := os.WriteFile(path, theirs, 0o644); err != nil {
		t.Fatal(err)
	}
	var ce *atomicfile.ChangedError
	if _, err := Write(path, &File{}, none); !errors.As(err, &ce) {
		t.Errorf("Write over a lock created since the read = %v, want a *ChangedError", err)
	}
	was, _, err := Read(path, "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	changed := append(append([]byte(nil), theirs...), '\n')
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(path, &File{}, was); !errors.As(err, &ce) {
		t.Errorf("Write over a lock changed since the read = %v, want a *ChangedError", err)
	}
	if got, _ := os.ReadFile(path); string(got) != string(changed) {
		t.Error("the changed lock was overwritten")
	}
}

// A lock that would not read back (here a tag no registry takes, which
// an empty variable once made) is refused before anything is written:
// lock, pin and verify would all fail on it afterwards.
func TestWriteRefusesALockThatWouldNotReadBack(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "images.lock")
	none, _, err := Read(path, "images.lock")
	if err != nil {
		t.Fatal(err)
	}
	bad := sample(t)
	bad.Images[0].Tag = "-alpine3.23"
	_, err = Write(path, bad, none)
	if err == nil || !strings.Contains(err.Error(), `would not read back`) || !strings.Contains(err.Error(), `invalid tag "-alpine3.23"`) {
		t.Errorf("Write = %v, want the entry with the invalid tag named", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the lock was written: %v", err)
	}
}

// lock/ is the file format alone: it must not pull in the registry client
// or the Dockerfile parser.
func TestDependencies(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"pkg/v1/remote", "moby/buildkit", "net/http"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("lock imports %s", bad)
		}
	}
}

// Reading a large lock is linear: errors in entry 5,000 still name their
// line, without a scan from the top per key.
func BenchmarkParse(b *testing.B) {
	f := &File{}
	for i := 0; i < 5000; i++ {
		f.Images = append(f.Images, Image{Name: fmt.Sprintf("docker.io/team/app%04d", i), Tag: "1", Digest: hash(b, "a"), Sources: []string{"Dockerfile"}})
	}
	data := f.Format()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Parse("images.lock", data); err != nil {
			b.Fatal(err)
		}
	}
}
