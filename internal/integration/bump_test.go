package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagelock/imagelock/internal/testregistry"
)

// update --bump against the distribution registry, with TLS and basic
// auth: one tag listing, and the newest tag of the line within the
// level. (Distribution 2.8 answers a listing in one page; the paging
// through Link headers is resolve's TestTags.)
func TestUpdateBumpRealRegistry(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	for _, tag := range []string{"1.0.0", "1.0.1", "1.1.0", "2.0.0", "1.0.2-rc1", "latest"} {
		srv.PushImage(t, "team/app:"+tag)
	}
	newest := srv.PushImage(t, "team/app:1.0.2")

	dir := t.TempDir()
	write(t, dir, "Dockerfile", "FROM "+srv.Host+"/team/app:1.0.0\n")
	env := srv.Env(t)
	imagelock(t, dir, env, "lock").want(t, 0, "lock")
	r := imagelock(t, dir, env, "update", "--bump", "patch", "--verbose")
	r.want(t, 0, "update --bump patch")
	if want := srv.Host + "/team/app: 7 tags from 1 tags/list pages, one GET each"; !strings.Contains(r.stderr, want) {
		t.Errorf("--verbose lacks %q:\n%s", want, r.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "Dockerfile")); string(got) != "FROM "+srv.Host+"/team/app:1.0.2\n" {
		t.Errorf("Dockerfile after the bump:\n%s", got)
	}
	if e := readLock(t, dir).Find(srv.Host+"/team/app", "1.0.2"); e == nil || e.Digest != newest {
		t.Errorf("the lock's entry for 1.0.2 is %+v, want %s", e, newest)
	}
	imagelock(t, dir, env, "verify").want(t, 0, "verify after the bump")
}
