package workflow

import (
	"context"
	"errors"
	"fmt"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/resolve"
)

// GuardResult is what a tag points at before a push.
type GuardResult struct {
	// Image is the normalized key of the tag.
	Image string `json:"image"`
	// Exists is false when the registry does not have the tag.
	Exists bool `json:"exists"`
	// Current is the digest the tag points at now, when it exists.
	Current string `json:"current,omitempty"`
	// Want is the digest about to be pushed, when one was given.
	Want string `json:"want,omitempty"`
	// Safe is true when pushing cannot overwrite anything: the tag does
	// not exist, or already points at Want.
	Safe bool `json:"safe"`
}

// Guard asks the registry, with one HEAD, whether pushing ref would
// overwrite a tag: it is safe when the tag does not exist, or when it
// points at exactly want (nil when no digest is known, and then only a
// missing tag is safe). Errors are the registry's: unreachable,
// authentication refused.
func Guard(ctx context.Context, r resolve.Resolver, ref string, want *v1.Hash) (*GuardResult, error) {
	if strings.Contains(ref, "@") {
		return nil, &UsageError{Msg: fmt.Sprintf("%s: guard checks a tag; give the digest with --digest", ref)}
	}
	p, err := resolve.Parse(ref)
	if err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	res := &GuardResult{Image: p.Key.String()}
	if want != nil {
		res.Want = want.String()
	}
	desc, err := r.Head(ctx, p.Key)
	if errors.Is(err, resolve.ErrNotFound) {
		res.Safe = true
		return res, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", res.Image, err)
	}
	res.Exists, res.Current = true, desc.Digest.String()
	res.Safe = want != nil && desc.Digest == *want
	return res, nil
}
