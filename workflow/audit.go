package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"
	"github.com/imagelock/imagelock/lock"
	"github.com/imagelock/imagelock/resolve"
)

// The codes of audit's findings.
const (
	CodeDrift    = "drift"    // a container runs a digest the lock does not record for its image
	CodeSplit    = "split"    // pods of one owner run different digests of one container's image
	CodeUnlocked = "unlocked" // a container runs an image no lock entry covers
	// CodeUnknown is a container whose running digest cannot be told: the
	// runtime reports an image ID with no registry digest, or the
	// container is not running yet.
	CodeUnknown = "unknown"
)

// AuditOptions say what Audit reads.
type AuditOptions struct {
	// File is the path of `kubectl get pods -A -o json` output, relative
	// to Options.Dir; "-" reads Stdin.
	File  string
	Stdin io.Reader
}

// AuditResult is what runs, against the lock: every finding, each
// naming its namespace, pod and container, placed at the lock's entry
// for the image (or at the lock, for an image it lacks).
type AuditResult struct {
	Findings []Finding `json:"findings"`
	// Pods and Containers count what was read; Matched the containers
	// running a digest the lock records for their image.
	Pods       int `json:"pods"`
	Containers int `json:"containers"`
	Matched    int `json:"matched"`
}

// Failed reports whether audit should fail: on any Failure, and with
// strict on any Notice too.
func (r *AuditResult) Failed(strict bool) bool {
	return slices.ContainsFunc(r.Findings, func(f Finding) bool { return f.Fails(strict) })
}

// Audit compares what pods run with the lock, offline: a container
// matches when the digest its runtime pulled is the locked index or one
// of its locked platform manifests.
func Audit(o Options, ao AuditOptions) (*AuditResult, error) {
	e, err := prepare(o)
	if err != nil {
		return nil, err
	}
	lk, err := e.readLock(true)
	if err != nil {
		return nil, err
	}
	name, data, err := readInput(e.Dir, ao)
	if err != nil {
		return nil, err
	}
	pods, err := parsePods(name, data)
	if err != nil {
		return nil, err
	}
	return e.audit(lk, pods), nil
}

// readInput reads the pods, within bounded.Source bytes.
func readInput(dir string, ao AuditOptions) (string, []byte, error) {
	if ao.File == "-" || ao.File == "" {
		data, err := bounded.ReadAll(ao.Stdin, "stdin", bounded.Source)
		return "stdin", data, err
	}
	p := ao.File
	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	data, err := bounded.Read(p, bounded.Source)
	if err != nil {
		return "", nil, fmt.Errorf("reading pods: %w", err)
	}
	return ao.File, data, nil
}

// pod is the part of a Pod that audit reads.
type pod struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name            string            `json:"name"`
		Namespace       string            `json:"namespace"`
		Labels          map[string]string `json:"labels"`
		OwnerReferences []struct {
			Kind       string `json:"kind"`
			Name       string `json:"name"`
			Controller bool   `json:"controller"`
		} `json:"ownerReferences"`
	} `json:"metadata"`
	Spec struct {
		Containers          []podContainer `json:"containers"`
		InitContainers      []podContainer `json:"initContainers"`
		EphemeralContainers []podContainer `json:"ephemeralContainers"`
	} `json:"spec"`
	Status struct {
		ContainerStatuses          []containerStatus `json:"containerStatuses"`
		InitContainerStatuses      []containerStatus `json:"initContainerStatuses"`
		EphemeralContainerStatuses []containerStatus `json:"ephemeralContainerStatuses"`
	} `json:"status"`
}

type podContainer struct {
	Name  string `json:"name"`
	Image string `json:"image"`
}

type containerStatus struct {
	Name    string `json:"name"`
	ImageID string `json:"imageID"`
	State   struct {
		Waiting *struct {
			Reason string `json:"reason"`
		} `json:"waiting"`
	} `json:"state"`
}

// podsDoc is a List of Pods, or one Pod: kubectl prints either.
type podsDoc struct {
	pod
	Items []pod `json:"items"`
}

// InputError is pods audit cannot read: not JSON, or not Pods. It is
// the one positioned error rewrite, lock and the config return too.
type InputError = fileerr.Error

// inputError is an InputError in name at line (0 for the whole input).
func inputError(name string, line int, err error) *InputError {
	return &InputError{File: name, Line: line, Err: err, Next: "audit reads the output of 'kubectl get pods -A -o json'"}
}

func parsePods(name string, data []byte) ([]pod, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, inputError(name, 0, errors.New("empty input"))
	}
	if trimmed[0] != '{' {
		return nil, inputError(name, 1, errors.New("not a JSON object (YAML or a table? ask kubectl for -o json)"))
	}
	var doc podsDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, inputError(name, lineAt(data, se.Offset), fmt.Errorf("malformed JSON: %w", se))
		case errors.As(err, &te):
			return nil, inputError(name, lineAt(data, te.Offset), fmt.Errorf("%s is a JSON %s, not what a Pod has there", strings.TrimPrefix(te.Field, "pod."), te.Value))
		}
		return nil, inputError(name, 0, fmt.Errorf("malformed JSON: %w", err))
	}
	switch doc.Kind {
	case "Pod":
		return []pod{doc.pod}, nil
	case "List", "PodList":
		var out []pod
		for _, p := range doc.Items {
			// A List of several kinds (kubectl get all) holds Pods
			// among others: audit reads the Pods.
			if p.Kind == "" || p.Kind == "Pod" {
				out = append(out, p)
			}
		}
		return out, nil
	case "":
		return nil, inputError(name, 0, errors.New("no kind: want a List of Pods or a Pod"))
	}
	return nil, inputError(name, 0, fmt.Errorf("kind %s: want a List of Pods or a Pod", doc.Kind))
}

// running is one container of one pod, and what its runtime reports.
type running struct {
	ns, pod, container string
	owner              string // "ReplicaSet web-7d9", or "" for a pod no controller owns
	deploy             string // the Deployment of a ReplicaSet owner, when the pod's labels tell it
	image              string // the spec's image text
	digest             *v1.Hash
	why, fix           string // why digest is nil, and what to do
	entry              *lock.Image
	key                string
}

// runningDigest reads a container status's imageID: the digest the
// runtime pulled (docker-pullable://name@sha256:…, name@sha256:…), or
// why there is none and what to do: an image ID with no registry digest
// (sha256:…, docker://sha256:…), or no imageID yet.
func runningDigest(st *containerStatus) (d *v1.Hash, why, fix string) {
	const later = "run audit again once the container runs"
	if st == nil {
		return nil, "not started yet: no status", later
	}
	id := st.ImageID
	if id == "" {
		why := "not running yet: no imageID"
		if st.State.Waiting != nil && st.State.Waiting.Reason != "" {
			why += " (waiting: " + st.State.Waiting.Reason + ")"
		}
		return nil, why, later
	}
	if scheme, rest, ok := strings.Cut(id, "://"); ok {
		if scheme != "docker-pullable" && scheme != "docker" {
			return nil, fmt.Sprintf("imageID %s: a scheme audit does not know", id), "tell imagelock's maintainers which runtime writes it"
		}
		id = rest
	}
	_, dig, ok := strings.Cut(id, "@")
	if !ok {
		return nil, fmt.Sprintf("the runtime reports image ID %s, no registry digest: the image was built or loaded on the node, or its runtime keeps no digest", id),
			"pull the image from its registry (by digest, or with imagePullPolicy: Always) so the runtime records what it pulled"
	}
	h, err := v1.NewHash(dig)
	if err != nil {
		return nil, fmt.Sprintf("imageID %s: %v", st.ImageID, err), "check the pod's status"
	}
	return &h, "", ""
}

// containers lists every container of every pod with its status.
func containers(pods []pod) []running {
	var out []running
	for _, p := range pods {
		m := p.Metadata
		owner, deploy := "", ""
		for i, o := range m.OwnerReferences {
			if o.Controller || i == 0 && owner == "" {
				owner = o.Kind + " " + o.Name
				deploy = ""
				if h := m.Labels["pod-template-hash"]; o.Kind == "ReplicaSet" && h != "" && strings.HasSuffix(o.Name, "-"+h) {
					deploy = strings.TrimSuffix(o.Name, "-"+h)
				}
			}
		}
		for _, kind := range []struct {
			spec     []podContainer
			statuses []containerStatus
		}{
			{p.Spec.InitContainers, p.Status.InitContainerStatuses},
			{p.Spec.Containers, p.Status.ContainerStatuses},
			{p.Spec.EphemeralContainers, p.Status.EphemeralContainerStatuses},
		} {
			for _, c := range kind.spec {
				var st *containerStatus
				for i := range kind.statuses {
					if kind.statuses[i].Name == c.Name {
						st = &kind.statuses[i]
					}
				}
				r := running{ns: m.Namespace, pod: m.Name, container: c.Name, owner: owner, deploy: deploy, image: c.Image}
				r.digest, r.why, r.fix = runningDigest(st)
				out = append(out, r)
			}
		}
	}
	return out
}

// lockedEntry finds the lock's entry for image text: by its key, or, for a
// digest-only image, any entry of the name that records the digest.
func lockedEntry(lk *lock.File, index map[string]*lock.Image, image string) (*lock.Image, string, error) {
	p, err := resolve.Parse(image)
	if err != nil {
		return nil, "", err
	}
	key := p.Key.String()
	if p.Key.Tag == "" && p.Digest != nil {
		key += "@" + p.Digest.String()
	}
	if im := index[key]; im != nil {
		return im, key, nil
	}
	if p.Key.Tag == "" && p.Digest != nil {
		for i := range lk.Images {
			if im := &lk.Images[i]; im.Name == p.Key.Name && records(im, *p.Digest) {
				return im, key, nil
			}
		}
	}
	return nil, key, nil
}

// records reports whether d is the entry's digest or one of its
// platforms' manifests.
func records(im *lock.Image, d v1.Hash) bool {
	if im.Digest == d {
		return true
	}
	for _, pd := range im.Platforms {
		if pd == d {
			return true
		}
	}
	return false
}

func (e *env) audit(lk *lock.File, pods []pod) *AuditResult {
	index := lk.Index()
	cs := containers(pods)
	res := &AuditResult{Pods: len(pods), Containers: len(cs)}
	at := func(r running, f Finding) {
		f.Namespace, f.Pod, f.Container, f.Written = r.ns, r.pod, r.container, r.image
		f.File = e.lockName
		if r.entry != nil {
			f.Line = r.entry.Line
			f.Image = r.entry.Key()
		} else if f.Image == "" {
			f.Image = r.key
		}
		res.Findings = append(res.Findings, f)
	}
	for i := range cs {
		r := &cs[i]
		im, key, err := lockedEntry(lk, index, r.image)
		r.entry, r.key = im, key
		if err != nil {
			at(*r, Finding{Severity: Notice, Code: CodeUnknown, Image: r.image,
				Msg: "not an image reference audit can read: " + err.Error(), Fix: "check the pod's spec"})
			continue
		}
		if im == nil {
			if p, _ := resolve.Parse(r.image); e.cfg.ignored(p.Key) {
				continue
			}
			f := Finding{Severity: Notice, Code: CodeUnlocked, Msg: "not in " + e.lockName,
				Fix: "run 'imagelock lock' where the manifests that deploy it live, or add it to ignore in " + ConfigFile}
			if r.digest != nil {
				f.Current, f.CurrentFrom = r.digest.String(), "cluster"
			}
			at(*r, f)
			continue
		}
		switch {
		case r.digest == nil:
			at(*r, Finding{Severity: Notice, Code: CodeUnknown, Msg: r.why, Fix: r.fix})
		case records(im, *r.digest):
			res.Matched++
		default:
			at(*r, Finding{Severity: Failure, Code: CodeDrift, Msg: "runs a digest " + e.lockName + " does not record for it",
				Locked: im.Digest.String(), Current: r.digest.String(), CurrentFrom: "cluster",
				Fix: "pin the image ('imagelock pin') and roll the pods out again; or, if what runs is right, run 'imagelock update --image " + shortName(resolveKey(im)) + "'"})
		}
	}
	res.Findings = append(res.Findings, e.splits(cs)...)
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		return strings.Compare(a.Namespace+"/"+a.Pod+"/"+a.Container, b.Namespace+"/"+b.Pod+"/"+b.Container) < 0
	})
	return res
}

func resolveKey(im *lock.Image) resolve.Key { return resolve.Key{Name: im.Name, Tag: im.Tag} }

// splits finds the pods of one owner whose container of one name and
// image text runs different images: a tag re-pushed, and pods restarted
// since pulling the new bits. Two digests the lock records for one entry
// (its index and a platform's manifest, on nodes of two architectures)
// are one image, not a split.
func (e *env) splits(cs []running) []Finding {
	type groupKey struct{ ns, owner, container, image string }
	groups := map[groupKey][]running{}
	var order []groupKey
	for _, r := range cs {
		if r.owner == "" || r.digest == nil {
			continue
		}
		k := groupKey{r.ns, r.owner, r.container, r.image}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	image := func(r running) string {
		if r.entry != nil && records(r.entry, *r.digest) {
			return r.entry.Digest.String()
		}
		return r.digest.String()
	}
	var out []Finding
	for _, k := range order {
		g := groups[k]
		count := map[string]int{}
		for _, r := range g {
			count[image(r)]++
		}
		if len(count) < 2 {
			continue
		}
		fix := "pin the image ('imagelock pin') so a restart cannot pull other bits, then roll the pods out again"
		if d := g[0].deploy; d != "" {
			fix += ": kubectl -n " + k.ns + " rollout restart deployment/" + d
		}
		for _, r := range g {
			n, verb := count[image(r)], "run"
			if n == 1 {
				verb = "runs"
			}
			f := Finding{Severity: Failure, Code: CodeSplit, Namespace: r.ns, Pod: r.pod, Container: r.container,
				File: e.lockName, Image: r.key, Written: r.image, Current: r.digest.String(), CurrentFrom: "cluster",
				Msg: fmt.Sprintf("pods of %s run %d different images of it; %d of %d %s this one", k.owner, len(count), n, len(g), verb),
				Fix: fix}
			if r.entry != nil {
				f.Line, f.Image, f.Locked = r.entry.Line, r.entry.Key(), r.entry.Digest.String()
			}
			out = append(out, f)
		}
	}
	return out
}
