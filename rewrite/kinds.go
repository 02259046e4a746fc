package rewrite

import "strings"

// KindInfo is one source format: which files are of it, where its images
// are, and its finder. The table Kinds is the one list of formats: the
// router (FinderFor), `imagelock list --kinds`, the README's table and the
// pre-commit hook's file pattern are derived from it or checked against
// it, so adding a format is a finder file and a row here.
type KindInfo struct {
	Kind Kind
	// Name, Files and Images describe the format for people, as the
	// README's "What it reads" table shows them.
	Name, Files, Images string
	// Sample is a path of the kind, for tests and examples.
	Sample string
	// Match reports whether a file is of this kind, by its slash path
	// relative to the root of the walk, its base name, and the base name
	// in lower case.
	Match func(path, base, lower string) bool
	Find  Finder
}

// Kinds is every format imagelock reads, in the order FinderFor tries
// them: the first row that matches a file decides its kind.
var Kinds = []KindInfo{
	{
		Kind:   Dockerfile,
		Name:   "Dockerfile",
		Sample: "Dockerfile",
		Files:  "`Dockerfile`, `Containerfile`, `*.Dockerfile`, `*.dockerfile`, `Dockerfile.*`, `Containerfile.*`",
		Images: "`FROM` (with `--platform`, `AS`, lower case, continuations, the `escape` directive), `COPY --from=`, `RUN --mount=…,from=`, `# syntax=`; global `ARG` defaults expanded (`${X}`, `${X:-d}`, `${X:+d}`). Stage names, `scratch`, heredoc bodies and comments are not images, nor is a bare `COPY --from=`/`from=` name that a `docker-bake.hcl`/`.json` beside the Dockerfile gives as a named context.",
		Match:  func(_, _, lower string) bool { return isDockerfileName(lower) },
		Find:   FindDockerfile,
	},
	{
		Kind:   Compose,
		Name:   "Compose",
		Sample: "compose.yaml",
		Files:  "`compose.y(a)ml`, `compose.*.y(a)ml`, `docker-compose*.y(a)ml`",
		Images: "`services.*.image` with `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}` from the environment and the `.env` beside the file (compose-go's own interpolation); anchors and merge keys. `${VAR:-}` is an empty default. A service with `build:` contributes its Dockerfile's images (with `build.args`), not its own `image:`, which names the output; another service of the file running that output is not looked up either, and the names in `build.additional_contexts` are contexts, not images.",
		Match:  func(_, _, lower string) bool { return isComposeName(lower) },
		Find:   FindCompose,
	},
	{
		Kind:   GitHubActions,
		Name:   "GitHub Actions",
		Sample: ".github/workflows/ci.yml",
		Files:  "`.github/workflows/*.y(a)ml`, `action.y(a)ml`",
		Images: "`jobs.*.container` (string or `image:`), `jobs.*.services.*.image`, `uses: docker://…`, `runs.image: docker://…`",
		Match: func(path, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && (stem == "action" || isWorkflowPath(path))
		},
		Find: FindGitHubActions,
	},
	{
		Kind:   GitLabCI,
		Name:   "GitLab CI",
		Sample: ".gitlab-ci.yml",
		Files:  "`.gitlab-ci.yml`, `*.gitlab-ci.yml`",
		Images: "`image` and `services` (string or `name:`), at top level, in `default:` and in jobs",
		Match: func(_, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && (stem == ".gitlab-ci" || strings.HasSuffix(stem, ".gitlab-ci"))
		},
		Find: FindGitLabCI,
	},
	{
		Kind:   Kustomize,
		Name:   "Kustomize",
		Sample: "kustomization.yaml",
		Files:  "`kustomization.y(a)ml`, `Kustomization`",
		Images: "`images:` entries (`name`, `newName`, `newTag`, `digest`); `newName` alone with a tagged `name` (`nginx:1.27`) is `newName` at that tag; pin writes the `digest:` field. `newName` alone for an untagged `name` renames the images of the manifests listed as files in `resources:`, which are locked and pinned as the build pulls them (`newName` at the manifest's tag), not as written; where a resource is a directory or remote, that entry is a warning",
		Match: func(_, base, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return base == "Kustomization" || ok && stem == "kustomization"
		},
		Find: FindKustomize,
	},
	{
		Kind:   Helm,
		Name:   "Helm values",
		Sample: "values.yaml",
		Files:  "`values*.y(a)ml` beside a `Chart.yaml`",
		Images: "maps with `repository` and `tag` (and `registry`, `digest`); pin fills `digest:` when the map has one, otherwise writes `tag: <tag>@<digest>`",
		Match: func(_, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && strings.HasPrefix(stem, "values")
		},
		Find: FindHelmValues,
	},
	{
		Kind:   Kubernetes,
		Name:   "Kubernetes",
		Sample: "manifest.yaml",
		Files:  "any other `*.y(a)ml` whose documents have `apiVersion` and `kind`, and `*.json` objects with them (other JSON is no source)",
		Images: "`image` of every `containers`, `initContainers`, `ephemeralContainers` entry at any depth (workloads, `List`, custom resources that embed pod specs), of `steps` and `sidecars` entries that have a `name`, and `volumes[].image.reference`; outside those, only the fields of the custom resources `kubernetes.go` lists by group and kind (Argo Workflows `container`, `script` and the objects of a `resource` template's `manifest: |` block, Tekton steps, sidecars, `stepTemplate` and StepAction, where an image that is one `$(params.NAME)` is that param's `default`, pinned there, Prometheus, Alertmanager, ThanosRuler, RabbitmqCluster, MinIO Tenant, Strimzi, KubeVirt `containerDisk`, Rook `cephVersion`, numaflow, CloudNativePG, Crossplane packages, …): `spec.image` of a kind not listed is not read. Never under an object's `status`; multi-document files. A file whose every document is a compose file (only compose's top-level keys, `services` of maps with `image`, `build` or `extends`) is read as Compose",
		Match: func(_, _, lower string) bool {
			_, ok := cutYAMLExt(lower)
			return ok || strings.HasSuffix(lower, ".json")
		},
		Find: FindKubernetes,
	},
}

// FinderFor returns the kind and finder for a file, by its slash path
// relative to the root of the walk, or ok=false when the file is not a
// source imagelock reads.
func FinderFor(path string) (kind Kind, find Finder, ok bool) {
	base := path[strings.LastIndex(path, "/")+1:]
	lower := strings.ToLower(base)
	for _, k := range Kinds {
		if k.Match(path, base, lower) {
			return k.Kind, k.Find, true
		}
	}
	return "", nil, false
}
