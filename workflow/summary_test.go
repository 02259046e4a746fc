package workflow

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSummary(t *testing.T) {
	t.Parallel()
	const (
		a1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		a2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
		b1 = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		b2 = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
		c1 = "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
		c2 = "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
	)
	for _, tc := range []struct {
		name string
		res  UpdateResult
		want string
	}{
		{
			name: "nothing moved",
			res:  UpdateResult{Lockfile: "images.lock"},
			want: "## No container image updates\n\nEvery tag in `images.lock` still points at its locked digest.\n",
		},
		{
			name: "platforms, same images, re-pins, sorted",
			res: UpdateResult{
				Lockfile: "images.lock",
				Changes: []ImageChange{
					{Image: "docker.io/library/redis:7", Old: b1, New: b2, SameImages: true, Files: []string{"compose.yaml"}},
					{Image: "docker.io/library/alpine:3.20", Old: a1, New: a2,
						PlatformsChanged: []string{"linux/amd64"}, PlatformsAdded: []string{"linux/riscv64"}, PlatformsRemoved: []string{"linux/s390x"},
						Files: []string{"Dockerfile", "ci/build.Dockerfile"}},
					{Image: "ghcr.io/acme/app:1", Old: c1, New: c2, Files: []string{"k8s/app.yaml"}},
				},
				Repinned: []FileChange{{File: "k8s/app.yaml"}, {File: "Dockerfile"}},
			},
			want: strings.Join([]string{
				"## Update 3 container images",
				"",
				"`imagelock update` re-resolved the tags below and rewrote `images.lock`.",
				"",
				"| Image | Old digest | New digest | Platforms changed | Added | Removed | Files |",
				"| --- | --- | --- | --- | --- | --- | --- |",
				"| `docker.io/library/alpine:3.20` | `sha256:111111111111` | `sha256:222222222222` | linux/amd64 | `linux/riscv64` | `linux/s390x` | `Dockerfile`, `ci/build.Dockerfile` |",
				"| `docker.io/library/redis:7` | `sha256:aaaaaaaaaaaa` | `sha256:bbbbbbbbbbbb` | — | — | — | `compose.yaml` |",
				"| `ghcr.io/acme/app:1` | `sha256:cccccccccccc` | `sha256:dddddddddddd` | (single image) | — | — | `k8s/app.yaml` |",
				"",
				"- `docker.io/library/redis:7`: the index was re-published with the same platform images; builds do not change, so bots may skip this update.",
				"",
				"Re-pinned to the new digests: `Dockerfile`, `k8s/app.yaml`.",
				"",
				"<details>",
				"<summary>Full digests</summary>",
				"",
				"- `docker.io/library/alpine:3.20`",
				"  - old: `" + a1 + "`",
				"  - new: `" + a2 + "`",
				"- `docker.io/library/redis:7`",
				"  - old: `" + b1 + "`",
				"  - new: `" + b2 + "`",
				"- `ghcr.io/acme/app:1`",
				"  - old: `" + c1 + "`",
				"  - new: `" + c2 + "`",
				"",
				"</details>",
				"",
			}, "\n"),
		},
		{
			name: "one image",
			res: UpdateResult{Lockfile: "deploy/images.lock", Changes: []ImageChange{
				{Image: "docker.io/library/alpine:3.20", Old: a1, New: a2, PlatformsChanged: []string{"linux/amd64", "linux/arm64/v8"}, Files: []string{"Dockerfile"}},
			}},
			want: strings.Join([]string{
				"## Update 1 container image",
				"",
				"`imagelock update` re-resolved the tags below and rewrote `deploy/images.lock`.",
				"",
				"| Image | Old digest | New digest | Platforms changed | Added | Removed | Files |",
				"| --- | --- | --- | --- | --- | --- | --- |",
				"| `docker.io/library/alpine:3.20` | `sha256:111111111111` | `sha256:222222222222` | linux/amd64, linux/arm64/v8 | — | — | `Dockerfile` |",
				"",
				"<details>",
				"<summary>Full digests</summary>",
				"",
				"- `docker.io/library/alpine:3.20`",
				"  - old: `" + a1 + "`",
				"  - new: `" + a2 + "`",
				"",
				"</details>",
				"",
			}, "\n"),
		},
		{
			name: "tags bumped and held back, beside a moved digest",
			res: UpdateResult{Lockfile: "images.lock",
				Bumps: []TagBump{
					{Image: "docker.io/library/node", Old: "20.11", New: "20.12", OldDigest: a1, NewDigest: a2,
						Platforms: []string{"linux/amd64", "linux/arm64/v8"}, Files: []string{"Dockerfile", "compose.yaml"}},
					{Image: "ghcr.io/acme/app", Old: "v1.2", New: "v1.3", NewDigest: c2, Files: []string{"k8s/app.yaml"}},
				},
				BumpSkipped: []BumpSkip{
					{Image: "docker.io/library/node:20.11", Newer: "22.1", At: ".imagelock.toml:3", Reason: `held back by max = "minor"`},
					{Image: "docker.io/library/golang:1.25", Newer: "1.26", At: "Dockerfile:5:6", Reason: "the tag is written through a variable (golang:${GO}): change it where the variable is set"},
				},
				Changes: []ImageChange{{Image: "docker.io/library/redis:7", Old: b1, New: b2, Files: []string{"compose.yaml"}}},
			},
			want: strings.Join([]string{
				"## Update 3 container images",
				"",
				"`imagelock update --bump` moved these tags to newer versions in the sources and locked them in `images.lock`.",
				"",
				"| Image | Old tag | New tag | Old digest | New digest | Platforms | Files |",
				"| --- | --- | --- | --- | --- | --- | --- |",
				"| `docker.io/library/node` | `20.11` | `20.12` | `sha256:111111111111` | `sha256:222222222222` | linux/amd64, linux/arm64/v8 | `Dockerfile`, `compose.yaml` |",
				"| `ghcr.io/acme/app` | `v1.2` | `v1.3` | — | `sha256:dddddddddddd` | (single image) | `k8s/app.yaml` |",
				"",
				"`imagelock update` re-resolved the tags below and rewrote `images.lock`.",
				"",
				"| Image | Old digest | New digest | Platforms changed | Added | Removed | Files |",
				"| --- | --- | --- | --- | --- | --- | --- |",
				"| `docker.io/library/redis:7` | `sha256:aaaaaaaaaaaa` | `sha256:bbbbbbbbbbbb` | (single image) | — | — | `compose.yaml` |",
				"",
				"Not moved:",
				"",
				"- `docker.io/library/node:20.11` → `22.1` (`.imagelock.toml:3`): held back by max = \"minor\"",
				"- `docker.io/library/golang:1.25` → `1.26` (`Dockerfile:5:6`): the tag is written through a variable (golang:${GO}): change it where the variable is set",
				"",
				"<details>",
				"<summary>Full digests</summary>",
				"",
				"- `docker.io/library/node`: `20.11` → `20.12`",
				"  - old: `" + a1 + "`",
				"  - new: `" + a2 + "`",
				"- `ghcr.io/acme/app`: `v1.2` → `v1.3`",
				"  - new: `" + c2 + "`",
				"- `docker.io/library/redis:7`",
				"  - old: `" + b1 + "`",
				"  - new: `" + b2 + "`",
				"",
				"</details>",
				"",
			}, "\n"),
		},
		{
			// The tags not moved are listed when digests moved and no
			// tag did, too.
			name: "a moved digest, a tag held back",
			res: UpdateResult{Lockfile: "images.lock",
				BumpSkipped: []BumpSkip{{Image: "docker.io/library/node:20.11", Newer: "22.1", At: ".imagelock.toml:3", Reason: `held back by max = "minor"`}},
				Changes:     []ImageChange{{Image: "docker.io/library/redis:7", Old: b1, New: b2, Files: []string{"compose.yaml"}}},
			},
			want: strings.Join([]string{
				"## Update 1 container image",
				"",
				"`imagelock update` re-resolved the tags below and rewrote `images.lock`.",
				"",
				"| Image | Old digest | New digest | Platforms changed | Added | Removed | Files |",
				"| --- | --- | --- | --- | --- | --- | --- |",
				"| `docker.io/library/redis:7` | `sha256:aaaaaaaaaaaa` | `sha256:bbbbbbbbbbbb` | (single image) | — | — | `compose.yaml` |",
				"",
				"Not moved:",
				"",
				"- `docker.io/library/node:20.11` → `22.1` (`.imagelock.toml:3`): held back by max = \"minor\"",
				"",
				"<details>",
				"<summary>Full digests</summary>",
				"",
				"- `docker.io/library/redis:7`",
				"  - old: `" + b1 + "`",
				"  - new: `" + b2 + "`",
				"",
				"</details>",
				"",
			}, "\n"),
		},
		{
			name: "nothing moved, a tag held back",
			res: UpdateResult{Lockfile: "images.lock", BumpSkipped: []BumpSkip{
				{Image: "docker.io/library/node:20.11", Newer: "20.12-rc1", At: ".imagelock.toml:4", Reason: `held back by ignore-tags "*-rc*"`}}},
			want: "## No container image updates\n\nEvery tag in `images.lock` still points at its locked digest.\n\nNot moved:\n\n" +
				"- `docker.io/library/node:20.11` → `20.12-rc1` (`.imagelock.toml:4`): held back by ignore-tags \"*-rc*\"\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := tc.res
			if diff := cmp.Diff(tc.want, Summary(&res)); diff != "" {
				t.Errorf("Summary (-want +got):\n%s", diff)
			}
		})
	}
}
