package lock

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/imagelock/imagelock/internal/fileerr"
)

// Version is the lock format this package reads and writes.
const Version = 1

const header = "# images.lock: written by `imagelock lock`; do not edit.\n"

// File is the content of an images.lock.
type File struct {
	Images []Image
	// read holds the bytes Read read, and exists whether there were
	// any: Stage checks the lock is still so before it replaces it.
	read   []byte
	exists bool
}

// Image is one locked image key: a name and tag, and what the tag pointed
// at when it was resolved.
type Image struct {
	// Name is the normalized repository, e.g. "docker.io/library/golang".
	Name string
	// Tag is empty for a reference written with a digest alone.
	Tag string
	// Digest is the index digest of a multi-platform image, the manifest
	// digest otherwise.
	Digest v1.Hash
	// Platforms maps each platform of an index ("linux/arm64/v8") to its
	// manifest digest; nil for a single manifest.
	Platforms map[string]v1.Hash
	// Sources are the slash-separated paths, relative to the lock's
	// directory, of the files that use the image.
	Sources []string
	// Signer, Signature and SignedAt are what a [[trust]] rule of the
	// config accepted for Digest: who signed it ("key:sha256:<fingerprint
	// of the public key>", or "keyless:<issuer> <subject>"), the sha256
	// of the signature's bytes, and the time the signature proves it was
	// made (zero when it proves none). All empty where no rule covers the
	// image.
	Signer    string
	Signature v1.Hash
	SignedAt  time.Time
	// Line is where the entry starts in the file it was read from; 0 for
	// an entry not read from a file. It is not written.
	Line int
}

// Key returns "name:tag", or the name alone for a digest-only entry.
func (im Image) Key() string {
	if im.Tag == "" {
		return im.Name + "@" + im.Digest.String()
	}
	return im.Name + ":" + im.Tag
}

// Index maps each entry's Key to the entry, for lookups in constant time
// (Find is linear: for one look-up); it reflects f as it is when called.
func (f *File) Index() map[string]*Image {
	out := make(map[string]*Image, len(f.Images))
	for i := range f.Images {
		out[f.Images[i].Key()] = &f.Images[i]
	}
	return out
}

// Find returns the entry for name and tag, or nil.
func (f *File) Find(name, tag string) *Image {
	for i := range f.Images {
		if f.Images[i].Name == name && f.Images[i].Tag == tag {
			return &f.Images[i]
		}
	}
	return nil
}

// Sort puts entries and their sources in the canonical order.
func (f *File) Sort() {
	for i := range f.Images {
		sort.Strings(f.Images[i].Sources)
	}
	sort.Slice(f.Images, func(i, j int) bool {
		a, b := f.Images[i], f.Images[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Tag != b.Tag {
			return a.Tag < b.Tag
		}
		return a.Digest.String() < b.Digest.String()
	})
}

type fileTOML struct {
	Version int         `toml:"version"`
	Image   []imageTOML `toml:"image"`
}

type imageTOML struct {
	Name      string            `toml:"name"`
	Tag       string            `toml:"tag,omitempty"`
	Digest    string            `toml:"digest"`
	Platforms map[string]string `toml:"platforms,inline,omitempty"`
	Sources   []string          `toml:"sources"`
	Signer    string            `toml:"signer"`
	Signature string            `toml:"signature"`
	SignedAt  *time.Time        `toml:"signed_at"`
}

// The encoder's own strings are TOML literal strings ('...'); these types
// write basic strings ("..."), the form people expect to read.
type (
	basicString string
	platformMap map[string]string
	// datetime is a TOML offset date-time, in UTC to the second.
	datetime time.Time
)

func (s basicString) MarshalTOML() ([]byte, error) { return quote(nil, string(s)), nil }

func (d datetime) MarshalTOML() ([]byte, error) {
	return []byte(time.Time(d).UTC().Truncate(time.Second).Format(time.RFC3339)), nil
}

func (m platformMap) MarshalTOML() ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte("{ ")
	for i, k := range keys {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = quote(b, k)
		b = append(b, " = "...)
		b = quote(b, m[k])
	}
	return append(b, " }"...), nil
}

// quote appends s as a TOML basic string.
func quote(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x7f:
			b = fmt.Appendf(b, "\\u%04X", r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

type imageOut struct {
	Name      basicString   `toml:"name"`
	Tag       basicString   `toml:"tag,omitempty"`
	Digest    basicString   `toml:"digest"`
	Platforms platformMap   `toml:"platforms,omitempty"`
	Sources   []basicString `toml:"sources"`
	Signer    basicString   `toml:"signer,omitempty"`
	Signature basicString   `toml:"signature,omitempty"`
	SignedAt  *datetime     `toml:"signed_at,omitempty"`
}

type fileOut struct {
	Version int        `toml:"version"`
	Image   []imageOut `toml:"image"`
}

// Format returns the canonical bytes of f: sorted, with the header comment.
func (f *File) Format() []byte {
	g := File{Images: append([]Image(nil), f.Images...)}
	g.Sort()
	out := fileOut{Version: Version, Image: make([]imageOut, 0, len(g.Images))}
	for _, im := range g.Images {
		t := imageOut{Name: basicString(im.Name), Tag: basicString(im.Tag), Digest: basicString(im.Digest.String()), Sources: []basicString{}}
		for _, s := range im.Sources {
			t.Sources = append(t.Sources, basicString(s))
		}
		if im.Signer != "" {
			t.Signer, t.Signature = basicString(im.Signer), basicString(im.Signature.String())
			if !im.SignedAt.IsZero() {
				// A time with no signer is a lock Parse refuses.
				at := datetime(im.SignedAt)
				t.SignedAt = &at
			}
		}
		if len(im.Platforms) > 0 {
			t.Platforms = make(platformMap, len(im.Platforms))
			for p, d := range im.Platforms {
				t.Platforms[p] = d.String()
			}
		}
		out.Image = append(out.Image, t)
	}
	var buf bytes.Buffer
	buf.WriteString(header)
	enc := toml.NewEncoder(&buf).EnableMarshalerInterface()
	if err := enc.Encode(out); err != nil {
		// Every value is a string, a map of strings or a list of strings:
		// encoding cannot fail.
		panic(fmt.Sprintf("encoding images.lock: %v", err))
	}
	return buf.Bytes()
}

// Error is a problem in a lock file, at a line. It is imagelock's one
// positioned error, which rewrite and the config return too.
type Error = fileerr.Error

// rewriteLock is the next step for a lock imagelock did not write.
const rewriteLock = "run 'imagelock lock' to rewrite the lock"

// Parse reads a lock file. filename is used in errors only. Every problem
// is reported with its line: a syntax error, an unknown version, an unknown
// key, a malformed digest or platform, a duplicate entry.
func Parse(filename string, data []byte) (*File, error) {
	var raw fileTOML
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, decodeError(filename, err)
	}
	lines := entryLines(data)
	line := func(i int, key string) int {
		if i < len(lines) {
			if l, ok := lines[i][key]; ok {
				return l
			}
			return lines[i][""]
		}
		return 0
	}
	if raw.Version != Version {
		return nil, &Error{File: filename, Line: versionLine(data),
			Err:  fmt.Errorf("unknown lock version %d (this imagelock reads version %d)", raw.Version, Version),
			Next: "upgrade imagelock, or delete the lock and run 'imagelock lock'"}
	}
	var errs []error
	f := &File{}
	seen := map[string]int{}
	for i, t := range raw.Image {
		im := Image{Name: t.Name, Tag: t.Tag, Sources: t.Sources, Line: line(i, "")}
		bad := func(key, next, format string, args ...any) {
			errs = append(errs, &Error{File: filename, Line: line(i, key), Err: fmt.Errorf(format, args...), Next: next})
		}
		if !validName.MatchString(t.Name) {
			bad("name", "", "entry has an invalid name %q", t.Name)
		}
		if t.Tag != "" && (len(t.Tag) > maxTag || !validTag.MatchString(t.Tag)) {
			bad("tag", "", "entry %s has an invalid tag %q", t.Name, t.Tag)
		}
		for _, src := range t.Sources {
			if src == "" || strings.ContainsFunc(src, unicode.IsControl) {
				bad("sources", "", "entry %s has an invalid source %q", t.Name, src)
			}
		}
		d, err := v1.NewHash(t.Digest)
		if err != nil {
			bad("digest", rewriteLock, "malformed digest %q for %s", t.Digest, t.Name)
		}
		im.Digest = d
		for p, s := range t.Platforms {
			pd, err := v1.NewHash(s)
			if err != nil {
				bad("platforms", "", "malformed digest %q for platform %s of %s", s, p, t.Name)
				continue
			}
			if _, err := v1.ParsePlatform(p); err != nil || !validPlatform.MatchString(p) {
				bad("platforms", "", "malformed platform %q of %s", p, t.Name)
				continue
			}
			if im.Platforms == nil {
				im.Platforms = map[string]v1.Hash{}
			}
			im.Platforms[p] = pd
		}
		im.Signer, im.Signature, im.SignedAt = parseSignature(t, bad)
		k := im.Key()
		if first, dup := seen[k]; dup {
			bad("", rewriteLock, "duplicate entry for %s (first at line %d)", k, line(first, ""))
		}
		seen[k] = i
		f.Images = append(f.Images, im)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// parseSignature checks an entry's signer, signature and signed_at: the
// three come together (signed_at may be absent), each well formed.
func parseSignature(t imageTOML, bad func(key, next, format string, args ...any)) (string, v1.Hash, time.Time) {
	var at time.Time
	if t.SignedAt != nil {
		at = t.SignedAt.UTC()
	}
	if t.Signer == "" && t.Signature == "" && t.SignedAt == nil {
		return "", v1.Hash{}, at
	}
	ok := true
	if len(t.Signer) > maxSigner || !validSigner.MatchString(t.Signer) {
		bad("signer", "run 'imagelock lock' to record it again", "entry %s has an invalid signer %q: want key:sha256:<64 hex digits> or keyless:<issuer> <subject>", t.Name, t.Signer)
		ok = false
	}
	d, err := v1.NewHash(t.Signature)
	if err != nil {
		bad("signature", "run 'imagelock lock' to record it again", "entry %s has a malformed signature digest %q", t.Name, t.Signature)
		ok = false
	}
	if !ok {
		return "", v1.Hash{}, time.Time{}
	}
	return t.Signer, d, at
}

// maxSigner bounds a keyless signer's length: an issuer and a subject of
// up to 1000 printable characters each. It is checked apart from
// validSigner, whose counted repetition would compile to a program of
// thousands of instructions (18 ms and 1.4 MB at every start).
const maxSigner = len("keyless:") + 1000 + 1 + 1000

// maxTag is the longest tag the distribution spec allows, checked apart
// from validTag for the same reason (3 ms and 160 KB at every start).
const maxTag = 128

// What a lock's names, tags and platforms may hold: the characters of
// image references and nothing else, so that no control character (an
// ANSI escape, a line break starting "::error") reaches a terminal or a
// CI log from a lock edited in a pull request.
var (
	validName     = regexp.MustCompile(`^[A-Za-z0-9._-]+(:[0-9]+)?(/[a-z0-9._-]+)+$`)
	validTag      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	validPlatform = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+){1,2}(:[A-Za-z0-9_.-]+)?$`)
	validSigner   = regexp.MustCompile(`^(key:sha256:[0-9a-f]{64}|keyless:[!-~]+ [!-~]+)$`)
)

func decodeError(filename string, err error) error {
	var se *toml.StrictMissingError
	if errors.As(err, &se) && len(se.Errors) > 0 {
		row, col := se.Errors[0].Position()
		return &Error{File: filename, Line: row, Col: col,
			Err:  fmt.Errorf("unknown key %q: this imagelock writes no such key", strings.Join(se.Errors[0].Key(), ".")),
			Next: "delete the lock and run 'imagelock lock'"}
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, col := de.Position()
		return &Error{File: filename, Line: row, Col: col, Err: fmt.Errorf("malformed lock: %w", de), Next: "delete it and run 'imagelock lock'"}
	}
	return &Error{File: filename, Err: fmt.Errorf("malformed lock: %w", err)}
}

// entryLines maps, for each [[image]] entry in order, its keys to their
// lines; "" maps to the line of the entry's header.
func entryLines(data []byte) []map[string]int {
	var out []map[string]int
	lines := newLineIndex(data)
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.ArrayTable:
			out = append(out, map[string]int{"": lines.keyLine(&p, e)})
		case unstable.KeyValue:
			if len(out) > 0 {
				k := e.Key()
				if k.Next() {
					out[len(out)-1][string(k.Node().Data)] = lines.keyLine(&p, e)
				}
			}
		}
	}
	return out
}

// lineIndex turns byte offsets into line numbers in O(log n), where the
// parser's Shape scans from the start of the input on every call.
type lineIndex []int // offsets at which lines start

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, b := range data {
		if b == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

// keyLine returns the line of the first key of an expression.
func (idx lineIndex) keyLine(p *unstable.Parser, e *unstable.Node) int {
	k := e.Key()
	if !k.Next() {
		return 0
	}
	off := int(p.Range(k.Node().Data).Offset)
	return sort.Search(len(idx), func(i int) bool { return idx[i] > off })
}

func versionLine(data []byte) int {
	lines := newLineIndex(data)
	p := unstable.Parser{}
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		if e.Kind == unstable.KeyValue {
			if k := e.Key(); k.Next() && string(k.Node().Data) == "version" {
				return lines.keyLine(&p, e)
			}
		}
		if e.Kind == unstable.ArrayTable || e.Kind == unstable.Table {
			break
		}
	}
	return 1
}
