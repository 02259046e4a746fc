package workflow

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/rewrite"
)

// [kinds] globs give files a kind, before their names do; unknown kinds
// and bad globs are errors naming the line of the config.
func TestConfigKinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, toml, err string }{
		{"table", "exclude = []\n\n[kinds]\ncompose = [\"it/**/*.yml\"]\nhelm = [\"deploy/*.yaml\"]\n", ""},
		{"dotted", "kinds.compose = [\"it/**/*.yml\"]\n", ""},
		{"unknown", "exclude = []\n[kinds]\nhelm = []\n\"composer\" = [\"x\"]\n", ".imagelock.toml:4: kinds: unknown kind \"composer\" (known: dockerfile, compose, "},
		{"glob", "[kinds]\nhelm = [\"deploy/[\"]\n", ".imagelock.toml:2: kinds: helm: invalid glob \"deploy/[\""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tc.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			c := loadConfig(t, dir, tc.err)
			if c == nil {
				return
			}
			if _, declared, ok := c.finderFor("it/a/b/stack.yml"); !ok || !declared {
				t.Errorf("it/a/b/stack.yml: declared %v, ok %v; want both", declared, ok)
			}
			if _, declared, ok := c.finderFor("Dockerfile"); !ok || declared {
				t.Errorf("Dockerfile: declared %v, ok %v; want found by name", declared, ok)
			}
			if _, _, ok := c.finderFor("README.md"); ok {
				t.Errorf("README.md is a source")
			}
		})
	}
}

// Every problem in the config is one *rewrite.Error naming the place,
// the type rewrite's and lock's errors are too.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, toml string
		line, col  int
		msg        string
	}{
		{"unknown key", "exclude = []\n  platfroms = [\"linux/amd64\"]\n", 2, 3, `unknown key "platfroms"`},
		{"syntax", "exclude = [\"a\"\nplatforms = []\n", 2, 1, "expected ',' or ']' after array value"},
		{"platform", "exclude = []\nplatforms = [\"linux/amd64\", \"linux\"]\n", 2, 0, `platforms: "linux": want os/arch[/variant]`},
		{"exclude glob", "\nexclude = [\"a/[\"]\n", 2, 0, `exclude: invalid glob "a/["`},
		{"ignore", "ignore = [\"UPPER/case:1\"]\n", 1, 0, "ignore: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tc.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(dir)
			var e *rewrite.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T), want a *rewrite.Error", err, err)
			}
			if e.File != ConfigFile || e.Line != tc.line || e.Col != tc.col || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q at %s:%d:%d, want %q at %s:%d:%d", err, e.File, e.Line, e.Col, tc.msg, ConfigFile, tc.line, tc.col)
			}
		})
	}
}

// --platform is checked where the library is called, not only by the
// CLI: a bot's bad platform is a UsageError before anything is read.
func TestOptionsPlatformChecked(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"linux", "", "/amd64", "linux/amd64/v8/x"} {
		_, err := Lock(t.Context(), Options{Dir: t.TempDir(), Platforms: []string{"linux/amd64", p}}, true)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "want os/arch[/variant]") {
			t.Errorf("Lock with platform %q: error %v, want a UsageError", p, err)
		}
	}
}

// A malformed source, lock and config all come out of a command as the
// one positioned error, with file, line and column where they are known.
func TestPositionedErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file, content string
		want                string
	}{
		{"source", "compose.yaml", "services:\n  a:\n    image: {name: nginx}\n", "compose.yaml:3:12: image of service a is not a string"},
		{"lock", "images.lock", "version = 1\n[[image]]\nname = \"docker.io/library/a\"\ndigest = \"sha256:abc\"\n", "images.lock:4: malformed digest \"sha256:abc\" for docker.io/library/a: run 'imagelock lock' to rewrite the lock"},
		{"config", ConfigFile, "platforms = [\"linux\"]\n", `.imagelock.toml:1: platforms: "linux": want os/arch[/variant], e.g. linux/arm64/v8`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, tc.file), []byte(tc.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Lock(t.Context(), Options{Dir: dir}, true)
			var e *lock.Error
			if !errors.As(err, &e) || e.Error() != tc.want {
				t.Errorf("error %v (%T), want the positioned error %q", err, err, tc.want)
			}
		})
	}
}

// loadConfig loads the config of dir. With wantErr, it checks the error
// starts so and returns nil; without, it fails the test on an error.
func loadConfig(t *testing.T, dir, wantErr string) *Config {
	t.Helper()
	c, err := LoadConfig(dir)
	if wantErr != "" {
		if err == nil || !strings.HasPrefix(err.Error(), wantErr) {
			t.Errorf("error %v, want %s...", err, wantErr)
		}
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}
