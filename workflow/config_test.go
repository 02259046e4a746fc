package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
			c, err := LoadConfig(dir)
			if tc.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.err) {
					t.Errorf("error %v, want %s...", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
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
