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
	"github.com/pelletier/go-toml/v2"

	"github.com/imagelock/imagelock/internal/bounded"
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
			row, _ := se.Errors[0].Position()
			known := "exclude, platforms, ignore, insecure-registries, mirrors, kinds, min-age, trust, verify-signatures"
			if k := se.Errors[0].Key(); len(k) > 1 && k[0] == "trust" {
				known = "images, key, issuer, subject, subject-regexp, trusted-root, tlog, min-age"
			}
			return nil, fmt.Errorf("%s:%d: unknown key %q (known: %s)", ConfigFile, row, strings.Join(se.Errors[0].Key(), "."), known)
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return nil, fmt.Errorf("%s:%d: %v", ConfigFile, row, de)
		}
		return nil, fmt.Errorf("%s: %v", ConfigFile, err)
	}
	for _, g := range c.Exclude {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("%s: exclude: invalid glob %q", ConfigFile, g)
		}
	}
	if err := c.checkKinds(data); err != nil {
		return nil, err
	}
	if err := c.loadTrust(dir, data); err != nil {
		return nil, err
	}
	for _, im := range c.Ignore {
		p, err := resolve.Parse(im)
		if err != nil {
			return nil, fmt.Errorf("%s: ignore: %v", ConfigFile, err)
		}
		k := p.Key
		if !hasExplicitTag(im) {
			k.Tag = ""
		}
		c.ignore = append(c.ignore, k)
	}
	return c, nil
}

// checkKinds checks that [kinds] names kinds imagelock reads, with
// valid globs; an error names the line of the config that is wrong.
func (c *Config) checkKinds(data []byte) error {
	var known []string
	for _, k := range rewrite.Kinds {
		known = append(known, string(k.Kind))
	}
	for _, kind := range slices.Sorted(maps.Keys(c.Kinds)) {
		at := ConfigFile
		if re, err := regexp.Compile(`(?m)^[ \t]*(?:kinds\.)?["']?` + regexp.QuoteMeta(kind) + `["']?[ \t]*=`); err == nil {
			if loc := re.FindIndex(data); loc != nil {
				at = fmt.Sprintf("%s:%d", ConfigFile, 1+bytes.Count(data[:loc[0]], []byte("\n")))
			}
		}
		if !slices.Contains(known, kind) {
			return fmt.Errorf("%s: kinds: unknown kind %q (known: %s)", at, kind, strings.Join(known, ", "))
		}
		for _, g := range c.Kinds[kind] {
			if !doublestar.ValidatePattern(g) {
				return fmt.Errorf("%s: kinds: %s: invalid glob %q", at, kind, g)
			}
		}
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
func (c *Config) ignored(k resolve.Key) bool {
	for _, i := range c.ignore {
		if i.Name == k.Name && (i.Tag == "" || i.Tag == k.Tag) {
			return true
		}
	}
	return false
}

// hasExplicitTag reports whether image text names a tag itself, rather
// than relying on the implicit "latest".
func hasExplicitTag(image string) bool {
	base, _, _ := strings.Cut(image, "@")
	return strings.Contains(base[strings.LastIndex(base, "/")+1:], ":")
}
