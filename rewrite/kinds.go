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
		Files:  "`Dockerfile`, `Containerfile`, `*.Dockerfile`, `*.dockerfile`, `Dockerfile.*`, `Containerfile.*`, `Dockerfile-*`, `Dockerfile_*`; not templates (`*.template`, `*.tmpl`, `*.j2`, …), nor a file whose `FROM` has a `{{ }}` placeholder, nor a `FROM` with a substitution no builder takes (`${templateOption:x}`) (warnings)",
		Images: "`FROM` (with `--platform`, `AS`, lower case, continuations, the `escape` directive), `COPY --from=`, `RUN --mount=…,from=`, `# syntax=`; global `ARG` defaults expanded (`${X}`, `${X:-d}`, `${X:+d}`). Stage names, `scratch`, heredoc bodies and comments are not images, nor is a bare `COPY --from=`/`from=` name that a `docker-bake.hcl`/`.json` beside the Dockerfile (or above it, naming the Dockerfile's path) gives as a named context.",
		Match:  func(_, _, lower string) bool { return isDockerfileName(lower) },
		Find:   FindDockerfile,
	},
	{
		Kind:   Compose,
		Name:   "Compose",
		Sample: "compose.yaml",
		Files:  "`compose.y(a)ml`, `compose.*.y(a)ml`, `docker-compose*.y(a)ml`",
		Images: "`services.*.image` with `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?err}` from the environment and the `.env` beside the file (compose-go's own interpolation); anchors and merge keys. `${VAR:-}` is an empty default. A service with `build:` contributes its Dockerfile's images (with `build.args`), not its own `image:`, which names the output; another service of the file running that output is not looked up either, and the names in `build.additional_contexts` are contexts, not images; their `docker-image://IMAGE` values are images, locked and pinned. The files of `include:` (paths, or maps with `path`) are read as part of the file; a service with neither `image` nor `build` that `extends: {file, service}` runs that file's service, whose reference lives there.",
		Match:  func(_, _, lower string) bool { return isComposeName(lower) },
		Find:   FindCompose,
	},
	{
		Kind:   GitHubActions,
		Name:   "GitHub Actions",
		Sample: ".github/workflows/ci.yml",
		Files:  "`.github/workflows/*.y(a)ml`, `action.y(a)ml`",
		Images: "`jobs.*.container` (string or `image:`), `jobs.*.services.*.image`, `uses: docker://…`, `runs.image: docker://…`; the `with:` inputs that name an image the action runs, of `docker/setup-qemu-action` (`image`), `helm/kind-action` and `container-tools/kind-action` (`node_image`), `engineerd/setup-kind` and `addnab/docker-run-action` (`image`), and `image=` in `docker/setup-buildx-action`'s `driver-opts`. An image that is one `${{ env.NAME }}` is the literal value of the job's or workflow's `env:`, pinned there; one that is `${{ matrix.NAME }}` is each literal value the job's matrix (and its `include:`) lists, pinned there; other expressions are warnings",
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
		Images: "`image` and `services` (string or `name:`), at top level, in `default:` and in jobs, in the file and in the local files it includes (`include: local:` or a path), whatever their names; pin writes into those files. An image that reads a variable with a literal value in a top-level `variables:` (which may itself read such variables) is expanded: pinned at the value where the variable ends the image and is read nowhere else, otherwise after the image's own text; any other variable is a warning",
		Match: func(_, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && (stem == ".gitlab-ci" || strings.HasSuffix(stem, ".gitlab-ci"))
		},
		Find: FindGitLabCI,
	},
	{
		Kind:   CloudBuild,
		Name:   "Google Cloud Build",
		Sample: "cloudbuild.yaml",
		Files:  "`cloudbuild*.y(a)ml`",
		Images: "`steps[].name`; a name with a `$_VAR` substitution is a warning (Cloud Build does not substitute it before the pull). `images:` names what the build pushes, not an image it uses",
		Match: func(_, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && strings.HasPrefix(stem, "cloudbuild")
		},
		Find: FindCloudBuild,
	},
	{
		Kind:   Woodpecker,
		Name:   "Woodpecker",
		Sample: ".woodpecker/build.yaml",
		Files:  "`.woodpecker/*.y(a)ml`, `.woodpecker.y(a)ml`",
		Images: "`image` of `steps`, `services` and `clone` entries (a list or a mapping); an image held by an anchor is one reference, at the anchor",
		Match: func(path, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && (stem == ".woodpecker" || inDir(path, ".woodpecker"))
		},
		Find: FindWoodpecker,
	},
	{
		Kind:   Drone,
		Name:   "Drone",
		Sample: ".drone.yml",
		Files:  "`.drone.y(a)ml`",
		Images: "`steps[].image` and `services[].image` of every pipeline document",
		Match: func(_, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && stem == ".drone"
		},
		Find: FindDrone,
	},
	{
		Kind:   Bitbucket,
		Name:   "Bitbucket Pipelines",
		Sample: "bitbucket-pipelines.yml",
		Files:  "`bitbucket-pipelines.yml`",
		Images: "top-level and step `image` (string or `name:`), `definitions.services.*.image`, `pipe: docker://…`. A pipe without `docker://` names a Bitbucket repository, not an image",
		Match:  func(_, _, lower string) bool { return lower == "bitbucket-pipelines.yml" },
		Find:   FindBitbucket,
	},
	{
		Kind:   CircleCI,
		Name:   "CircleCI",
		Sample: ".circleci/config.yml",
		Files:  "`.circleci/config.y(a)ml`",
		Images: "`jobs.*.docker[].image`, `executors.*.docker[].image`; orbs and `machine` images are not container images; `<< parameters.x >>` is a warning",
		Match: func(path, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && stem == "config" && inDir(path, ".circleci")
		},
		Find: FindCircleCI,
	},
	{
		Kind:   AzurePipelines,
		Name:   "Azure Pipelines",
		Sample: "azure-pipelines.yml",
		Files:  "`azure-pipelines.y(a)ml`, `.azure-pipelines/*.y(a)ml`",
		Images: "`resources.containers[].image`, and `container:` (string or `image:`) of the pipeline and its jobs; a `container:` naming a container resource is an alias, not an image, and in a template with no resources a bare name (no tag, no registry) is a warning",
		Match: func(path, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && (stem == "azure-pipelines" || inDir(path, ".azure-pipelines"))
		},
		Find: FindAzurePipelines,
	},
	{
		Kind:   Gitpod,
		Name:   "Gitpod",
		Sample: ".gitpod.yml",
		Files:  "`.gitpod.y(a)ml`",
		Images: "`image` when it is a string; `image: {file: …}` names a Dockerfile, read as a Dockerfile",
		Match: func(_, _, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return ok && stem == ".gitpod"
		},
		Find: FindGitpod,
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
		Name:   "Helm",
		Sample: "values.yaml",
		Files:  "`values*.y(a)ml` beside a `Chart.yaml`; `helmfile.y(a)ml`, `helmfile.d/*.y(a)ml`; the values files a helmfile release (`values:`) or an Argo CD `Application` (`spec.source(s).helm.valueFiles`) names, and the values they write inline (`values:`, `valuesObject:`), as a Flux `HelmRelease` does (`spec.values`); `*.y(a)ml` under a chart's `templates/`; `Chart.yaml`",
		Images: "maps with `repository` (or `image`) and `tag`, and `registry`, `digest` or `sha`; an empty `tag` is the chart's `appVersion` where its templates default it so (`default .Chart.AppVersion`, or `printf \"v%s\"` of it); strings with a tag under a key `image` or `*Image`; in templates, literal `image:` lines outside `{{ }}`; in `Chart.yaml`, the `image` of each entry of the `artifacthub.io/images` and `images` annotations (a block holding a YAML list), pinned there as `tag@digest`. Pin fills `digest:` (or `sha:`, the hex alone) when the map has one, otherwise writes `tag: <tag>@<digest>` (as Renovate does), except where that would change the release: an `appVersion` tag, or a tag the templates also use in `semverCompare` or a `version` label, stays unpinned, and pin says to add `digest: \"\"` where the templates read it",
		Match: func(path, base, lower string) bool {
			stem, ok := cutYAMLExt(lower)
			return base == "Chart.yaml" || ok && (strings.HasPrefix(stem, "values") || isHelmfile(path))
		},
		Find: FindHelmValues,
	},
	{
		Kind:   Devcontainer,
		Name:   "Dev Container",
		Sample: ".devcontainer/devcontainer.json",
		Files:  "`devcontainer.json` (`.devcontainer/**/devcontainer.json` among them), `.devcontainer.json`",
		Images: "`image`; the keys of `features` that are OCI references (`ghcr.io/devcontainers/features/go:1`), locked and verified as images are, but pinned only when untagged (`name@digest`): the devcontainer CLI rejects `name:tag@digest` in a feature key; `build.dockerfile`'s images with `build.args`; the images of the compose files `dockerComposeFile` names (a file that is not there, as in a template, is a warning). JSON with comments and trailing commas, edited in place",
		Match: func(_, _, lower string) bool {
			return lower == "devcontainer.json" || lower == ".devcontainer.json"
		},
		Find: FindDevcontainer,
	},
	{
		Kind:   Bake,
		Name:   "Bake",
		Sample: "docker-bake.hcl",
		Files:  "`docker-bake*.hcl`, `docker-bake*.json`",
		Images: "targets' `contexts` values `docker-image://IMAGE`; the images of the Dockerfile each target builds (`context`, `dockerfile`, `args`), through `inherits`; `variable` defaults (the environment overrides them) pinned where defined when they end the image, else at the `FROM`. A target another inherits is a template, not built on its own; an arg a `FROM` reads that is set from a `matrix` value or a function is a warning",
		Match: func(_, _, lower string) bool {
			return strings.HasPrefix(lower, "docker-bake") && (strings.HasSuffix(lower, ".hcl") || strings.HasSuffix(lower, ".json"))
		},
		Find: FindBake,
	},
	{
		Kind:   Quadlet,
		Name:   "Podman Quadlet",
		Sample: "web.container",
		Files:  "`*.container`, `*.image`, `*.volume`",
		Images: "`Image=` in `[Container]`, `[Image]` and `[Volume]`, quoted or not; comments (`#`, `;`) and continued lines read as systemd does. An `Image=` naming another unit (`app.image`, `app.build`) is not an image; one continued across lines or with a `%` specifier is a warning",
		Match: func(_, _, lower string) bool {
			return strings.HasSuffix(lower, ".container") || strings.HasSuffix(lower, ".image") || strings.HasSuffix(lower, ".volume")
		},
		Find: FindQuadlet,
	},
	{
		Kind:   Kubernetes,
		Name:   "Kubernetes",
		Sample: "manifest.yaml",
		Files:  "any other `*.y(a)ml` whose documents have `apiVersion` and `kind`, and `*.json` objects with them (other JSON is no source)",
		Images: "`image` of every `containers`, `initContainers`, `ephemeralContainers` entry at any depth (workloads, `List`, custom resources that embed pod specs), of `steps` and `sidecars` entries that have a `name`, and `volumes[].image.reference`; outside those, only the fields of the custom resources `kubernetes.go` lists by group and kind (Argo Workflows `container`, `script` and the objects of a `resource` template's `manifest: |` block, Tekton steps, sidecars, `stepTemplate`, StepAction and the `check` of a v1alpha1 Condition, where `$(params.NAME)` in an image is that param's `default`: an image that is one param, or that a param read nowhere else ends, is pinned at that default, any other image built of params is locked and not pinned, Prometheus, Alertmanager, ThanosRuler, RabbitmqCluster, MinIO Tenant, Strimzi, KubeVirt `containerDisk`, Rook `cephVersion`, numaflow, CloudNativePG, Crossplane packages, Knative's cached `Image`, …): `spec.image` of a kind not listed is not read. Never under an object's `status`, nor in a policy engine's patterns (Kyverno, Gatekeeper); multi-document files. A file whose every document is a compose file (only compose's top-level keys, `services` of maps with `image`, `build` or `extends`) is read as Compose",
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
