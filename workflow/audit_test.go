package workflow

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// auditDir copies the audit fixtures' lock into a new directory: the
// fixtures are read from where they are.
func auditDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(filepath.Join("testdata", "audit", "images.lock"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "images.lock"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func hx(pair string) string { return "sha256:" + strings.Repeat(pair, 32) }

// brief is a finding in one line: where it runs, what, and the digests.
func brief(f Finding) string {
	s := fmt.Sprintf("%s/%s/%s %s %s %s@%s", f.Namespace, f.Pod, f.Container, f.Severity, f.Code, f.Image, f.File)
	if f.Line > 0 {
		s += fmt.Sprintf(":%d", f.Line)
	}
	if f.Current != "" {
		s += " runs " + f.Current[7:9]
	}
	return s
}

// Each fixture reproduces how one container runtime writes imageID:
// containerd's name@sha256:…, docker's docker-pullable:// and docker://
// (an image ID, no registry digest), CRI-O's bare sha256: image ID.
func TestAudit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		fixture                string
		want                   []string
		pods, containers, done int
	}{
		{
			// A ReplicaSet split by a re-pushed tag, an ephemeral
			// debugger on an unlocked tag, a pod still pulling, and two
			// nodes of two architectures reporting the index and a
			// platform's manifest: both the locked image.
			fixture: "containerd.json",
			want: []string{
				"prod/web-7d9f8-aaaaa/app error split ghcr.io/acme/app:0.0.1@images.lock:17 runs a1",
				"prod/web-7d9f8-aaaaa/debugger notice unlocked docker.io/library/busybox:latest@images.lock runs b9",
				"prod/web-7d9f8-bbbbb/app error drift ghcr.io/acme/app:0.0.1@images.lock:17 runs a2",
				"prod/web-7d9f8-bbbbb/app error split ghcr.io/acme/app:0.0.1@images.lock:17 runs a2",
				"prod/web-7d9f8-ccccc/app notice unknown ghcr.io/acme/app:0.0.1@images.lock:17",
				"prod/web-7d9f8-ccccc/proxy notice unknown docker.io/library/nginx:1.27@images.lock:10",
			},
			pods: 3, containers: 10, done: 6,
		},
		{
			// A split StatefulSet; a pod no controller owns, on an image
			// docker holds no registry digest of.
			fixture: "docker.json",
			want: []string{
				"shop/cart-0/app error split ghcr.io/acme/app:0.0.1@images.lock:17 runs a1",
				"shop/cart-1/app error drift ghcr.io/acme/app:0.0.1@images.lock:17 runs a2",
				"shop/cart-1/app error split ghcr.io/acme/app:0.0.1@images.lock:17 runs a2",
				"shop/edge/proxy notice unknown docker.io/library/nginx:1.27@images.lock:10",
			},
			pods: 3, containers: 3, done: 1,
		},
		{
			// One Pod, not a List; a Job's init container matches.
			fixture: "crio.json",
			want: []string{
				"batch/nightly-x7k2p/run notice unknown docker.io/library/nginx:1.27@images.lock:10",
			},
			pods: 1, containers: 2, done: 1,
		},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			t.Parallel()
			res, err := Audit(Options{Dir: auditDir(t)}, AuditOptions{File: filepath.Join(must(os.Getwd()), "testdata", "audit", tc.fixture)})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range res.Findings {
				got = append(got, brief(f))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			if res.Pods != tc.pods || res.Containers != tc.containers || res.Matched != tc.done {
				t.Errorf("counts = %d pods, %d containers, %d matched; want %d, %d, %d", res.Pods, res.Containers, res.Matched, tc.pods, tc.containers, tc.done)
			}
			if !res.Failed(true) {
				t.Error("Failed(strict) = false with findings")
			}
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// What a split's message and fix say: how many pods run which, and the
// rollout of the Deployment the ReplicaSet's name and labels tell.
func TestAuditSplitNamesTheDeployment(t *testing.T) {
	t.Parallel()
	res, err := Audit(Options{Dir: auditDir(t)}, AuditOptions{File: filepath.Join(must(os.Getwd()), "testdata", "audit", "containerd.json")})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Findings[0]
	if f.Msg != "pods of ReplicaSet web-7d9f8 run 2 different images of it; 1 of 2 runs this one" {
		t.Errorf("split message = %q", f.Msg)
	}
	if !strings.HasSuffix(f.Fix, "kubectl -n prod rollout restart deployment/web") {
		t.Errorf("split fix = %q, want the Deployment's rollout", f.Fix)
	}
	if f.Locked != hx("a1") || f.Written != "ghcr.io/acme/app:0.0.1" {
		t.Errorf("split locked = %s, written = %s", f.Locked, f.Written)
	}
}

// Only notices: audit passes, but not with strict. A pinned spec runs
// the platform manifest of the lock's index; a digest-only spec is
// found by the digest the lock records.
func TestAuditNoticesAndPins(t *testing.T) {
	t.Parallel()
	dir := auditDir(t)
	pods := `{"kind": "List", "items": [{"metadata": {"name": "a", "namespace": "n"},
	  "spec": {"containers": [{"name": "pinned", "image": "nginx:1.27@` + hx("e0") + `"},
	                          {"name": "bare", "image": "ghcr.io/acme/app@` + hx("a1") + `"},
	                          {"name": "ignored", "image": "redis:7"}]},
	  "status": {"containerStatuses": [
	    {"name": "pinned", "imageID": "docker.io/library/nginx@` + hx("e1") + `"},
	    {"name": "bare", "imageID": "ghcr.io/acme/app@` + hx("a1") + `"},
	    {"name": "ignored", "imageID": "docker.io/library/redis@` + hx("d0") + `"}]}}]}`
	if err := os.WriteFile(filepath.Join(dir, ".imagelock.toml"), []byte("ignore = [\"redis\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Audit(Options{Dir: dir}, AuditOptions{File: "-", Stdin: strings.NewReader(pods)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 0 || res.Matched != 2 {
		t.Errorf("findings = %v, matched %d; want none and 2", res.Findings, res.Matched)
	}
}

// Input that is not kubectl's JSON fails on one line that names the
// place and what to run.
func TestAuditInputErrors(t *testing.T) {
	t.Parallel()
	dir := auditDir(t)
	for _, tc := range []struct{ name, in, want string }{
		{"yaml", "apiVersion: v1\nkind: List\n", "stdin:1: not a JSON object (YAML or a table? ask kubectl for -o json): audit reads the output of 'kubectl get pods -A -o json'"},
		{"truncated", "{\"kind\": \"List\",\n \"items\": [\n", "stdin:3: malformed JSON: unexpected end of JSON input: audit reads"},
		{"syntax", "{\"kind\": \"List\",\n \"items\": [}\n", "stdin:2: malformed JSON: invalid character '}' looking for beginning of value: audit reads"},
		{"type", "{\"kind\": \"Pod\", \"spec\": {\"containers\": \"nginx\"}}", "stdin:1: spec.containers is a JSON string, not what a Pod has there"},
		{"kind", "{\"kind\": \"Deployment\"}", "stdin: kind Deployment: want a List of Pods or a Pod"},
		{"empty", "  \n", "stdin: empty input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Audit(Options{Dir: dir}, AuditOptions{File: "-", Stdin: strings.NewReader(tc.in)})
			var ie *InputError
			if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Audit = %v, want one line starting %q", err, tc.want)
			}
		})
	}
}
