package workflow

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/imagelock/imagelock/internal/dirlock"
	"github.com/imagelock/imagelock/resolve"
)

// Options are what every command shares.
type Options struct {
	// Dir is the directory the command runs in (-C); default ".".
	Dir string
	// Paths limit the command to files under them, relative to Dir.
	Paths []string
	// Lockfile is the lock's path, relative to Dir; default "images.lock".
	// Source paths in the lock are relative to its directory, which is
	// also the root of the walk.
	Lockfile string
	// Platforms limits the platforms recorded, each os/arch[/variant];
	// empty means the config's, or every platform.
	Platforms []string
	// Resolver asks registries; nil for commands that run offline.
	Resolver resolve.Resolver
	// Signatures finds the signatures of images a [[trust]] rule of the
	// config covers, and their build times for min-age; nil offline.
	Signatures resolve.SignatureSource
	// Jobs bounds the lookups in flight at once, across registries;
	// default 256. The Resolver bounds each registry on its own (the
	// CLI's --jobs).
	Jobs int
	// Env looks up the environment for compose interpolation; nil is an
	// empty environment.
	Env func(string) (string, bool)
	// LockWait bounds how long a command that writes waits for another
	// run writing in the same directory; default 10 s.
	LockWait time.Duration
	// Progress, when set, is called after each registry lookup with the
	// count done, the count to do and the image just resolved. It is
	// called from several goroutines, one call at a time.
	Progress func(done, total int, image string)
}

// UsageError is a problem with how the command was called.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// env is the prepared form of Options for one run.
type env struct {
	Options
	root     string // absolute directory of the lock: the walk root
	lockPath string // absolute path of the lock
	lockName string // the lock's name as the user gave it, for messages
	cfg      *Config
	scope    scope
	// acceptSigner lets update take a digest whose signer differs from
	// the locked one.
	acceptSigner bool
	// reverify makes update check again the signatures of the images
	// --image names, even where their digests did not move.
	reverify bool
}

func prepare(o Options) (*env, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Lockfile == "" {
		o.Lockfile = "images.lock"
	}
	if o.Jobs <= 0 {
		o.Jobs = 256
	}
	if o.LockWait <= 0 {
		o.LockWait = 10 * time.Second
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, &UsageError{Msg: fmt.Sprintf("%s is not a directory", o.Dir)}
	}
	for _, p := range o.Platforms {
		if err := CheckPlatform(p); err != nil {
			return nil, &UsageError{Msg: "platform " + err.Error()}
		}
	}
	e := &env{Options: o, lockName: o.Lockfile}
	e.lockPath = o.Lockfile
	if !filepath.IsAbs(e.lockPath) {
		e.lockPath = filepath.Join(dir, e.lockPath)
	}
	e.root = filepath.Dir(e.lockPath)
	if err := outsideLink(e.root, e.lockPath, o.Lockfile); err != nil {
		return nil, err
	}
	if e.cfg, err = LoadConfig(e.root); err != nil {
		return nil, err
	}
	if len(e.Platforms) == 0 {
		e.Platforms = e.cfg.Platforms
	}
	paths := o.Paths
	abs := make([]string, len(paths))
	for i, p := range paths {
		if filepath.IsAbs(p) {
			abs[i] = p
		} else {
			abs[i] = filepath.Join(dir, p)
		}
	}
	if len(paths) == 0 && dir != e.root {
		paths, abs = []string{o.Dir}, []string{dir}
	}
	if e.scope, err = newScope(e.root, paths, abs); err != nil {
		return nil, err
	}
	return e, nil
}

// writer waits for any other run that writes in the lock's directory, and
// holds it off until release: two runs never both build on the same old
// lock.
func (e *env) writer(ctx context.Context) (release func(), err error) {
	return dirlock.Acquire(ctx, e.root, e.LockWait)
}

// outsideLink refuses a lock that is a symbolic link out of its own
// directory: imagelock writes nothing outside the tree, the lock included.
func outsideLink(root, path, name string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil // no lock yet, or one lock.Read reports
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(realRoot, real); err != nil || !filepath.IsLocal(rel) {
		return &UsageError{Msg: fmt.Sprintf("%s is a symbolic link to %s, outside %s: imagelock writes only under the lock's directory; put the lock file itself there", name, real, root)}
	}
	return nil
}
