package rewrite

import "testing"

// Each row of Kinds routes its own sample to itself, and names the
// format for people: the table is the one place a kind is declared.
func TestKindsRouteTheirSamples(t *testing.T) {
	t.Parallel()
	seen := map[Kind]bool{}
	for _, k := range Kinds {
		if seen[k.Kind] {
			t.Errorf("kind %s has two rows", k.Kind)
		}
		seen[k.Kind] = true
		if k.Name == "" || k.Files == "" || k.Images == "" || k.Find == nil {
			t.Errorf("kind %s lacks a name, files, images or finder", k.Kind)
		}
		if kind, _, ok := FinderFor(k.Sample); !ok || kind != k.Kind {
			t.Errorf("FinderFor(%q) = %q, %v; want %q", k.Sample, kind, ok, k.Kind)
		}
	}
	for _, tc := range []struct {
		path string
		want Kind
	}{
		{"deploy/Dockerfile.prod", Dockerfile},
		{"a/b.containerfile", Dockerfile},
		{"build/Dockerfile-chroot", Dockerfile},
		{"Containerfile_arm64", Dockerfile},
		{"Dockerfile.template", ""},
		{"Dockerfile.tmpl", ""},
		{"app.Dockerfile.j2", ""},
		{"Dockerfile-lint.yml", Kubernetes},
		{".devcontainer/python/devcontainer.json", Devcontainer},
		{".devcontainer.json", Devcontainer},
		{"quadlet/data.volume", Quadlet},
		{"build/docker-bake.override.hcl", Bake},
		{"main.hcl", ""},
		{"docker-bake.json", Bake},
		{"docker-compose.override.yml", Compose},
		{"app/.github/workflows/release.yaml", GitHubActions},
		{"ci/action.yml", GitHubActions},
		{"ci/deploy.gitlab-ci.yml", GitLabCI},
		{"overlays/prod/Kustomization", Kustomize},
		{"charts/app/values-prod.yaml", Helm},
		{"deploy/helmfile.yaml", Helm},
		{"deploy/helmfile.d/10-db.yml", Helm},
		{"k8s/app.yml", Kubernetes},
		{"README.md", ""},
		{"Makefile", ""},
	} {
		if kind, _, _ := FinderFor(tc.path); kind != tc.want {
			t.Errorf("FinderFor(%q) = %q, want %q", tc.path, kind, tc.want)
		}
	}
}
