package resolve

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Key is a normalized image name and tag: the unit of the lock. Tag is
// empty for a reference written with a digest alone, which cannot move.
type Key struct {
	Name string // e.g. "docker.io/library/golang"
	Tag  string // e.g. "1.26"; empty for name@digest
}

func (k Key) String() string {
	if k.Tag == "" {
		return k.Name
	}
	return k.Name + ":" + k.Tag
}

// Registry returns the registry host of the key ("docker.io", "ghcr.io").
func (k Key) Registry() string {
	return k.Name[:strings.Index(k.Name, "/")]
}

// Parsed is an image reference as a build would pull it: the key, and the
// digest when the text pins one.
type Parsed struct {
	Key    Key
	Digest *v1.Hash // nil when no digest is written
}

// Parse normalizes image text: "golang:1.26" becomes docker.io/library/golang
// at tag 1.26, "alpine" gets the implicit tag latest, and "x:1@sha256:..."
// keeps both its tag and its digest.
func Parse(s string) (Parsed, error) {
	base, dig, hasDigest := strings.Cut(s, "@")
	var p Parsed
	if hasDigest {
		h, err := v1.NewHash(dig)
		if err != nil {
			return p, fmt.Errorf("invalid digest in %q: %w", s, err)
		}
		p.Digest = &h
		repo, err := name.NewRepository(base)
		if err == nil {
			p.Key = Key{Name: canonical(repo)}
			return p, nil
		}
	}
	tag, err := name.NewTag(base)
	if err != nil {
		return p, fmt.Errorf("invalid image reference %q: %w", s, err)
	}
	if t := tag.TagStr(); t[0] == '-' || t[0] == '.' {
		// go-containerregistry takes these; the distribution spec
		// (and every registry) does not: an empty variable before
		// "-alpine" most likely.
		return p, fmt.Errorf("invalid image reference %q: a tag starts with a letter, digit or underscore", s)
	}
	p.Key = Key{Name: canonical(tag.Context()), Tag: tag.TagStr()}
	return p, nil
}

// canonical writes Docker Hub as docker.io, whatever alias it was given by.
func canonical(r name.Repository) string {
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + r.RepositoryStr()
}

// Reference returns the go-containerregistry reference for a key, or for a
// digest of its repository when d is non-nil.
func (k Key) Reference(d *v1.Hash, opts ...name.Option) (name.Reference, error) {
	if d != nil {
		return name.NewDigest(k.Name+"@"+d.String(), opts...)
	}
	return name.NewTag(k.String(), opts...)
}
