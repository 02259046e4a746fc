package integration

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imagelock/imagelock/internal/testregistry"
	"github.com/imagelock/imagelock/lock"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "imagelock-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "imagelock")
	build := exec.Command("go", "build", "-o", binary, "github.com/imagelock/imagelock/cmd/imagelock")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic("building imagelock: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// imagelock runs the binary in dir with only env (and PATH) set, so the
// host's docker config and certificates cannot help it.
func imagelock(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("running imagelock: %v", err)
	}
	return r
}

func (r result) want(t *testing.T, code int, args string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("imagelock %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", args, r.code, code, r.stdout, r.stderr)
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readLock(t *testing.T, dir string) *lock.File {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "images.lock"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := lock.Parse("images.lock", data)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The whole story against a real registry with TLS and basic auth: lock
// records the right digests for every Dockerfile form; a tag overwritten
// upstream makes verify exit 1 naming the image and the file; lock leaves
// the lock as it was, update takes the move; pin then unpin leaves every
// source as it was.
func TestLockVerifyPinAgainstRealRegistry(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	env := srv.Env(t)
	h := srv.Host

	base, basePlatforms := srv.PushIndex(t, "library/base:1", "linux/amd64", "linux/arm64/v8")
	tool := srv.PushImage(t, "team/tool:2.0")
	cache := srv.PushImage(t, "team/cache:3")
	frontend := srv.PushImage(t, "team/frontend:1")
	argImage := srv.PushImage(t, "team/argbase:4")

	dir := t.TempDir()
	write(t, dir, "Dockerfile", "# syntax="+h+"/team/frontend:1\n"+
		"ARG BASE="+h+"/team/argbase:4\n"+
		"FROM --platform=$BUILDPLATFORM "+h+"/library/base:1 AS build\n"+
		"COPY --from="+h+"/team/tool:2.0 /bin/tool /bin/tool\n"+
		"RUN --mount=type=cache,target=/c,from="+h+"/team/cache:3 \\\n"+
		"    tool build\n"+
		"from ${BASE}\n"+
		"COPY --from=build /out /out\n")
	write(t, dir, "svc/app.Dockerfile", "FROM \\\r\n  "+h+"/library/base:1\r\nRUN <<EOF\r\nFROM not/an:image\r\nEOF\r\n")
	original := map[string][]byte{}
	for _, f := range []string{"Dockerfile", "svc/app.Dockerfile"} {
		original[f], _ = os.ReadFile(filepath.Join(dir, f))
	}

	imagelock(t, dir, env, "lock").want(t, 0, "lock")
	got := map[string]string{}
	for _, im := range readLock(t, dir).Images {
		got[im.Key()] = im.Digest.String() + " " + strings.Join(im.Sources, ",")
	}
	want := map[string]string{
		h + "/library/base:1":  base.String() + " Dockerfile,svc/app.Dockerfile",
		h + "/team/tool:2.0":   tool.String() + " Dockerfile",
		h + "/team/cache:3":    cache.String() + " Dockerfile",
		h + "/team/frontend:1": frontend.String() + " Dockerfile",
		h + "/team/argbase:4":  argImage.String() + " Dockerfile",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("images.lock (-want +got):\n%s", diff)
	}
	entry := readLock(t, dir).Find(h+"/library/base", "1")
	if diff := cmp.Diff(basePlatforms, entry.Platforms); diff != "" {
		t.Errorf("platforms of the index (-want +got):\n%s", diff)
	}

	imagelock(t, dir, env, "verify").want(t, 0, "verify")

	moved := srv.PushImage(t, "library/base:1")
	r := imagelock(t, dir, env, "verify")
	r.want(t, 1, "verify after the tag moved")
	for _, w := range []string{
		"Dockerfile:3:", "svc/app.Dockerfile:2:", h + "/library/base:1: tag moved",
		"images.lock: " + base.String(), "registry:    " + moved.String(),
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("verify output lacks %q:\n%s", w, r.stdout)
		}
	}

	before, err := os.ReadFile(filepath.Join(dir, "images.lock"))
	if err != nil {
		t.Fatal(err)
	}
	r = imagelock(t, dir, env, "lock")
	r.want(t, 0, "lock after the move")
	if after, _ := os.ReadFile(filepath.Join(dir, "images.lock")); string(after) != string(before) || !strings.Contains(r.stdout, "is up to date") {
		t.Errorf("lock after the move changed the lock (a lock never moves by itself):\n%s", r.stdout)
	}
	imagelock(t, dir, env, "verify").want(t, 1, "verify after lock")
	r = imagelock(t, dir, env, "update")
	r.want(t, 0, "update after the move")
	if d := readLock(t, dir).Find(h+"/library/base", "1").Digest; d != moved || !strings.Contains(r.stdout, h+"/library/base:1\n") {
		t.Errorf("update after the move recorded %s, want %s, and named it:\n%s", d, moved, r.stdout)
	}
	imagelock(t, dir, env, "verify").want(t, 0, "verify after update")

	imagelock(t, dir, env, "pin").want(t, 0, "pin")
	pinned, _ := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	for _, w := range []string{h + "/library/base:1@" + moved.String(), "ARG BASE=" + h + "/team/argbase:4@" + argImage.String(), "# syntax=" + h + "/team/frontend:1@" + frontend.String()} {
		if !bytes.Contains(pinned, []byte(w)) {
			t.Errorf("pinned Dockerfile lacks %q:\n%s", w, pinned)
		}
	}
	imagelock(t, dir, env, "verify", "--strict").want(t, 0, "verify --strict of pinned sources")
	imagelock(t, dir, env, "unpin").want(t, 0, "unpin")
	for f, b := range original {
		now, _ := os.ReadFile(filepath.Join(dir, f))
		if !bytes.Equal(now, b) {
			t.Errorf("%s after pin+unpin differs:\n%q\nwant\n%q", f, now, b)
		}
	}
}

// A bearer-token registry, the flow Docker Hub and GHCR use.
func TestTokenAuth(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t, testregistry.TokenAuth())
	d := srv.PushImage(t, "team/app:1")
	dir := t.TempDir()
	write(t, dir, "Dockerfile", "FROM "+srv.Host+"/team/app:1\n")
	imagelock(t, dir, srv.Env(t), "lock").want(t, 0, "lock")
	if got := readLock(t, dir).Find(srv.Host+"/team/app", "1"); got == nil || got.Digest != d {
		t.Errorf("lock entry = %+v, want digest %s", got, d)
	}
}

// Refused credentials and an untrusted certificate: exit 2, one clear line
// naming the registry, no secret, and no lock written.
func TestRefusals(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	srv.PushImage(t, "team/app:1")
	dir := t.TempDir()
	write(t, dir, "Dockerfile", "FROM "+srv.Host+"/team/app:1\n")

	const secret = "not-the-password-0451"
	bad := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(srv.User + ":" + secret))
	write(t, bad, "config.json", `{"auths":{"`+srv.Host+`":{"auth":"`+auth+`"}}}`)
	r := imagelock(t, dir, []string{"DOCKER_CONFIG=" + bad, "SSL_CERT_FILE=" + srv.CAFile}, "lock")
	r.want(t, 2, "lock with a wrong password")
	if !strings.Contains(r.stderr, srv.Host) || !strings.Contains(r.stderr, "docker login") {
		t.Errorf("refused login should name the registry and say what to do:\n%s", r.stderr)
	}
	for _, s := range []string{secret, auth} {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("output shows a secret %q:\n%s%s", s, r.stdout, r.stderr)
		}
	}

	r = imagelock(t, dir, []string{"DOCKER_CONFIG=" + srv.DockerConfig(t)}, "lock")
	r.want(t, 2, "lock without the test CA")
	if !strings.Contains(r.stderr, "certificate") {
		t.Errorf("a TLS failure should say so:\n%s", r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "images.lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed lock left images.lock behind (%v)", err)
	}
}

// Credentials from a docker credential helper (credHelpers), and from
// podman's REGISTRY_AUTH_FILE: the default keychain reads both.
func TestCredentialSources(t *testing.T) {
	t.Parallel()
	srv := testregistry.Start(t)
	d := srv.PushImage(t, "team/app:1")
	bin, err := filepath.Abs("testdata/bin")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("credHelpers", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "Dockerfile", "FROM "+srv.Host+"/team/app:1\n")
		cfg := t.TempDir()
		write(t, cfg, "config.json", `{"credHelpers":{"`+srv.Host+`":"imagelocktest"}}`)
		log := filepath.Join(t.TempDir(), "asked")
		cmd := exec.Command(binary, "lock")
		cmd.Dir = dir
		cmd.Env = []string{
			"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + t.TempDir(),
			"DOCKER_CONFIG=" + cfg, "SSL_CERT_FILE=" + srv.CAFile,
			"IMAGELOCK_TEST_USER=" + srv.User, "IMAGELOCK_TEST_PASSWORD=" + srv.Password, "IMAGELOCK_TEST_HELPER_LOG=" + log,
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("lock with a credential helper: %v\n%s", err, out)
		}
		if asked, _ := os.ReadFile(log); !strings.Contains(string(asked), srv.Host) {
			t.Errorf("the credential helper was not asked for %s (asked: %q)", srv.Host, asked)
		}
		if got := readLock(t, dir).Find(srv.Host+"/team/app", "1"); got == nil || got.Digest != d {
			t.Errorf("lock entry = %+v, want digest %s", got, d)
		}
	})

	t.Run("REGISTRY_AUTH_FILE", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "Dockerfile", "FROM "+srv.Host+"/team/app:1\n")
		auth := filepath.Join(t.TempDir(), "auth.json")
		write(t, filepath.Dir(auth), "auth.json", `{"auths":{"`+srv.Host+`":{"auth":"`+base64.StdEncoding.EncodeToString([]byte(srv.User+":"+srv.Password))+`"}}}`)
		imagelock(t, dir, []string{"REGISTRY_AUTH_FILE=" + auth, "SSL_CERT_FILE=" + srv.CAFile}, "lock").want(t, 0, "lock with REGISTRY_AUTH_FILE")
		if got := readLock(t, dir).Find(srv.Host+"/team/app", "1"); got == nil || got.Digest != d {
			t.Errorf("lock entry = %+v, want digest %s", got, d)
		}
	})
}
