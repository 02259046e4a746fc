package resolve

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// Bounds on one repository's tag listing: a registry that pages forever,
// or lists more tags than any real repository has, is an error rather
// than a run that never ends.
const (
	tagPageSize = 1000 // ?n= asked for; ECR's and distribution's ceiling
	maxTagPages = 100
	maxTags     = 100_000
)

// Tags lists the tags of the repository nm with GET /v2/<name>/tags/list,
// following the registry's Link headers page by page: one GET per page,
// each logged, and one line saying what the listing cost.
func (r *Registry) Tags(ctx context.Context, nm string) ([]string, error) {
	const op = "listing tags"
	ref, host, err := r.target(Key{Name: nm, Tag: "latest"}, nil)
	if err != nil {
		return nil, &Error{Image: nm, Op: op, Err: err}
	}
	var tags []string
	pages := 0
	err = r.pull(ctx, ref, host, func(ctx context.Context, p *remote.Puller) error {
		tags, pages = nil, 0
		l, err := p.Lister(ctx, ref.Context())
		if err != nil {
			return err
		}
		for l.HasNext() {
			if pages == maxTagPages {
				return fmt.Errorf("the registry has more than %d pages of tags", maxTagPages)
			}
			page, err := l.Next(ctx)
			if err != nil {
				return err
			}
			pages++
			if tags = append(tags, page.Tags...); len(tags) > maxTags {
				return fmt.Errorf("the registry lists more than %d tags", maxTags)
			}
		}
		return nil
	})
	if err != nil {
		return nil, newError(ctx, nm, host, op, r.o.Timeout, err)
	}
	r.logf("%s: %d tags from %d tags/list pages, one GET each", nm, len(tags), pages)
	return tags, nil
}
