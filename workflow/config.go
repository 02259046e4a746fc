package workflow

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/pelletier/go-toml/v2"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"
	"github.com/imagelock/imagelock/resolve"
	"github.com/imagelock/imagelock/rewrite"
	"github.com/imagelock/imagelock/trust"
)

// ConfigFile is the name of the configuration file at the root.
const ConfigFile = ".imagelock.toml"

// Config is the content of .imagelock.toml.
type Config struct {
	// Exclude lists globs (doublestar syntax, slash-separated, relative to
	// the root) of files and directories that are not sources.
	Exclude []string `toml:"exclude"`
	// Platforms limits the platforms recorded for multi-platform images.
	Platforms []string `toml:"platforms"`
	// Ignore lists images that are not locked: a name ("alpine", every
	// tag) or a name and tag ("alpine:3.20").
	Ignore []string `toml:"ignore"`
	// InsecureRegistries may be reached over plain HTTP.
	InsecureRegistries []string `toml:"insecure-registries"`
	// Mirrors maps a registry to a pull-through mirror that answers for it.
	Mirrors map[string]string `toml:"mirrors"`
	// Kinds maps a source kind (rewrite.Kinds' Kind values) to globs of
	// files read as that kind, whatever their names and places say: the
	// compose files of integration/**/*.yml, values files with no
	// Chart.yaml beside them.
	Kinds map[string][]string `toml:"kinds"`
	// Bump limits update --bump: the first rule whose images match an
	// image applies to it.
	Bump []BumpRule `toml:"bump"`
	// Trust are the signature rules, first match wins (see TrustRule).
	Trust []TrustRule `toml:"trust"`
	// MinAge holds back a moved tag's new digest younger than this
	// ("3d"); a rule's own min-age wins.
	MinAge string `toml:"min-age"`
	// VerifySignatures makes verify check signatures online every time,
	// as --signatures does.
	VerifySignatures bool `toml:"verify-signatures"`

	ignore []resolve.Key
	rules  []*trust.Rule
	minAge time.Duration
}

// LoadConfig reads dir/.imagelock.toml; a missing file is an empty config.
// A problem in it is a *rewrite.Error naming its line.
func LoadConfig(dir string) (*Config, error) {
	c := &Config{}
	data, err := bounded.Read(filepath.Join(dir, ConfigFile), bounded.Small)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		var se *toml.StrictMissingError
		if errors.As(err, &se) && len(se.Errors) > 0 {
			row, col := se.Errors[0].Position()
			e := &fileerr.Error{File: ConfigFile, Line: row, Col: col,
				Err: fmt.Errorf("unknown key %q (known: exclude, platforms, ignore, insecure-registries, mirrors, kinds, bump, trust, min-age, verify-signatures)", se.Errors[0].Key()[0])}
			if k := se.Errors[0].Key(); len(k) > 1 && k[0] == "bump" {
				e.Err = fmt.Errorf("unknown key %q in [[bump]] (known: images, max, ignore-tags)", k[len(k)-1])
			}
			if k := se.Errors[0].Key(); len(k) > 1 && k[0] == "trust" {
				e.Err = fmt.Errorf("unknown key %q in [[trust]] (known: images, key, issuer, subject, subject-regexp, trusted-root, tlog, min-age)", k[len(k)-1])
			}
			return nil, e
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, &fileerr.Error{File: ConfigFile, Line: row, Col: col, Err: de}
		}
		return nil, &fileerr.Error{File: ConfigFile, Err: err}
	}
	configErr := func(table, key string, err error) error {
		return &fileerr.Error{File: ConfigFile, Line: keyLine(data, table, key), Err: err}
	}
	for _, g := range c.Exclude {
		if !doublestar.ValidatePattern(g) {
			return nil, configErr("", "exclude", fmt.Errorf("exclude: invalid glob %q", g))
		}
	}
	for _, p := range c.Platforms {
		if err := CheckPlatform(p); err != nil {
			return nil, configErr("", "platforms", fmt.Errorf("platforms: %w", err))
		}
	}
	var known []string
	for _, k := range rewrite.Kinds {
		known = append(known, string(k.Kind))
	}
	for _, kind := range slices.Sorted(maps.Keys(c.Kinds)) {
		if !slices.Contains(known, kind) {
			return nil, configErr("kinds", kind, fmt.Errorf("kinds: unknown kind %q (known: %s)", kind, strings.Join(known, ", ")))
		}
		for _, g := range c.Kinds[kind] {
			if !doublestar.ValidatePattern(g) {
				return nil, configErr("kinds", kind, fmt.Errorf("kinds: %s: invalid glob %q", kind, g))
			}
		}
	}
	if err := c.checkBump(data); err != nil {
		return nil, err
	}
	if err := c.loadTrust(dir, data); err != nil {
		return nil, err
	}
	for _, im := range c.Ignore {
		k, err := namePattern(im)
		if err != nil {
			return nil, configErr("", "ignore", fmt.Errorf("ignore: %w", err))
		}
		c.ignore = append(c.ignore, k)
	}
	return c, nil
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// tableLines returns, for each [[name]] table of the config data in
// order, where its keys are written: the line of key within the table, or
// the table's header line when key is "" or not written there.
func tableLines(data []byte, name string) []func(key string) int {
	header := regexp.MustCompile(`(?m)^[ \t]*\[\[[ \t]*["']?` + regexp.QuoteMeta(name) + `["']?[ \t]*\]\]`)
	headers := header.FindAllIndex(data, -1)
	out := make([]func(string) int, len(headers))
	for i, h := range headers {
		from, to := h[0], len(data)
		if i+1 < len(headers) {
			to = headers[i+1][0]
		}
		line := lineAt(data, int64(from))
		out[i] = func(key string) int {
			if l := keyLine(data[from:to], "", key); key != "" && l > 0 {
				return line + l - 1
			}
			return line
		}
	}
	return out
}

// tableAt returns where the i-th table of lines writes its keys; 0 for a
// table with no header of its own.
func tableAt(lines []func(string) int, i int) func(string) int {
	if i < len(lines) {
		return lines[i]
	}
	return func(string) int { return 0 }
}

// keyLine returns the line of the config where key is set, in table
// ("" for the top level) or dotted under it ("kinds.compose = ..."), or 0
// where it cannot tell: the decoder gives positions of errors only.
func keyLine(data []byte, table, key string) int {
	prefix := ""
	if table != "" {
		prefix = `(?:` + regexp.QuoteMeta(table) + `\.)?`
	}
	re, err := regexp.Compile(`(?m)^[ \t]*` + prefix + `["']?` + regexp.QuoteMeta(key) + `["']?[ \t]*=`)
	if err != nil {
		return 0
	}
	loc := re.FindIndex(data)
	if loc == nil {
		return 0
	}
	return lineAt(data, int64(loc[0]))
}

// CheckPlatform checks that s names a platform as --platform and the
// config's platforms take them: os/arch[/variant].
func CheckPlatform(s string) error {
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return fmt.Errorf("%q: want os/arch[/variant], e.g. linux/arm64/v8", s)
	}
	return nil
}

// finderFor returns the finder for the file at slash path p: that of the
// first kind, in rewrite.Kinds' order, whose [kinds] globs match it
// (declared is then set), else that of the kind its name says.
func (c *Config) finderFor(p string) (find rewrite.Finder, declared, ok bool) {
	for _, k := range rewrite.Kinds {
		for _, g := range c.Kinds[string(k.Kind)] {
			if m, _ := doublestar.Match(g, p); m {
				return k.Find, true, true
			}
		}
	}
	_, find, ok = rewrite.FinderFor(p)
	return find, false, ok
}

// ignored reports whether the config says not to lock k.
func (c *Config) ignored(k resolve.Key) bool { return keyMatches(c.ignore, k) }

// keyMatches reports whether k is one of keys, where a key with no tag
// stands for every tag of its name.
func keyMatches(keys []resolve.Key, k resolve.Key) bool {
	return slices.ContainsFunc(keys, func(w resolve.Key) bool { return w.Name == k.Name && (w.Tag == "" || w.Tag == k.Tag) })
}

// namePattern reads an image name that selects images (--image, ignore,
// [[bump]] images): with a tag, that tag; without one, every tag (an
// empty Tag, which keyMatches takes for any).
func namePattern(s string) (resolve.Key, error) {
	p, err := resolve.Parse(s)
	if err != nil {
		return resolve.Key{}, err
	}
	k := p.Key
	if !hasExplicitTag(s) {
		k.Tag = ""
	}
	return k, nil
}

// hasExplicitTag reports whether image text names a tag itself, rather
// than relying on the implicit "latest".
func hasExplicitTag(image string) bool {
	base, _, _ := strings.Cut(image, "@")
	return strings.Contains(base[strings.LastIndex(base, "/")+1:], ":")
}
