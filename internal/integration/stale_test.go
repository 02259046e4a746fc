package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/imagelock/imagelock/internal/testregistry"
)

// stale and audit against the distribution registry, with TLS and basic
// auth: a base moves, the lock takes it, and the image built on the old
// base is behind; a tag re-pushed splits what two pods run.
func TestStaleAndAuditAgainstRealRegistry(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	env := srv.Env(t)
	h := srv.Host

	node1, _ := srv.PushIndex(t, "library/node:16.13", "linux/amd64", "linux/arm64/v8")
	srv.PushDerived(t, "team/app:1", "library/node:16.13", true)
	srv.PushDerived(t, "team/plain:1", "library/node:16.13", false)
	app := srv.PushImage(t, "team/svc:0.0.1")
	dir := t.TempDir()
	write(t, dir, "Dockerfile", "ARG NODE=16.13\nFROM "+h+"/library/node:${NODE}\nRUN npm ci\n")
	write(t, dir, "deploy.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: svc}\nspec:\n  containers:\n    - name: svc\n      image: "+h+"/team/svc:0.0.1\n")
	imagelock(t, dir, env, "lock").want(t, 0, "lock")

	r := imagelock(t, dir, env, "stale", h+"/team/app:1")
	r.want(t, 0, "stale on the locked base")
	if !strings.Contains(r.stdout, "linux/arm64/v8  current  built on the locked "+h+"/library/node:16.13") {
		t.Errorf("stale output:\n%s", r.stdout)
	}

	node2, _ := srv.PushIndex(t, "library/node:16.13", "linux/amd64", "linux/arm64/v8")
	imagelock(t, dir, env, "update").want(t, 0, "update")
	r = imagelock(t, dir, env, "stale", "--dockerfile", "Dockerfile", h+"/team/app:1", h+"/team/plain:1")
	r.want(t, 1, "stale after the base moved")
	for _, w := range []string{
		h + "/team/app:1: on " + h + "/library/node:16.13 (from annotation)",
		h + "/team/plain:1: on " + h + "/library/node:16.13 (from Dockerfile:2)",
		"    behind on linux/amd64, linux/arm64/v8:\n        built on: " + node1.String() + "\n        locked:   " + node2.String() + "\n",
		"stale: rebuild: 4 platforms behind, 0 unknown, of 4 platforms",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("stale output lacks %q:\n%s", w, r.stdout)
		}
	}
	srv.PushDerived(t, "team/app:2", "library/node:16.13", true)
	imagelock(t, dir, env, "stale", h+"/team/app:2").want(t, 0, "stale of the rebuilt image")

	// svc:0.0.1 is re-pushed; one pod of the ReplicaSet restarted and
	// pulled it.
	repushed := srv.PushImage(t, "team/svc:0.0.1")
	pod := func(name, digest string) string {
		return fmt.Sprintf(`{"metadata": {"name": %q, "namespace": "prod", "ownerReferences": [{"kind": "ReplicaSet", "name": "svc-7d9", "controller": true}]},
		  "spec": {"containers": [{"name": "svc", "image": "%s/team/svc:0.0.1"}]},
		  "status": {"containerStatuses": [{"name": "svc", "imageID": "%s/team/svc@%s"}]}}`, name, h, h, digest)
	}
	write(t, dir, "pods/pods.json", `{"kind": "List", "items": [`+pod("svc-7d9-a", app.String())+",\n"+pod("svc-7d9-b", repushed.String())+"]}\n")
	r = imagelock(t, dir, env, "audit", "pods/pods.json")
	r.want(t, 1, "audit of a split ReplicaSet")
	for _, w := range []string{
		"prod/svc-7d9-a/svc: " + h + "/team/svc:0.0.1: pods of ReplicaSet svc-7d9 run 2 different images of it",
		"prod/svc-7d9-b/svc: " + h + "/team/svc:0.0.1: runs a digest images.lock does not record for it",
		"    cluster:     " + repushed.String(),
		"audit failed: 3 problems, 0 notices: 2 containers in 2 pods, 1 on locked digests",
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("audit output lacks %q:\n%s", w, r.stdout)
		}
	}
}
