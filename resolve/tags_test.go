package resolve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pageTags makes the registry page its tag lists two tags at a time,
// linking each page to the next as distribution does.
func pageTags(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/tags/list") {
			next.ServeHTTP(w, r)
			return
		}
		q := r.URL.Query()
		q.Set("n", "2")
		r.URL.RawQuery = q.Encode()
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		var page struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if len(page.Tags) == 2 {
			w.Header().Set("Link", fmt.Sprintf(`<%s?n=2&last=%s>; rel="next"`, r.URL.Path, page.Tags[1]))
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(page)
	})
}

func TestTags(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, pageTags)
	for _, tag := range []string{"1.0", "1.1", "2.0", "latest", "2.0-alpine"} {
		reg.pushImage(t, "app", tag)
	}
	var l logs
	o := testOptions()
	o.Logf = l.logf
	r := newRegistry(o, fastRetry)
	got, err := r.Tags(ctxFor(t), reg.host+"/app")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1.0", "1.1", "2.0", "2.0-alpine", "latest"}, got); diff != "" {
		t.Errorf("Tags (-want +got):\n%s", diff)
	}
	if n := reg.count.get("GET /v2/app/tags/list"); n != 3 {
		t.Errorf("%d GETs of the tag list, want 3 (one per page of two)", n)
	}
	if want := reg.host + "/app: 5 tags from 3 tags/list pages, one GET each"; !strings.Contains(l.String(), want) {
		t.Errorf("log lacks %q:\n%s", want, l.String())
	}
}

func TestTagsUnknownRepository(t *testing.T) {
	t.Parallel()
	reg := newTestRegistry(t, nil)
	r := newRegistry(testOptions(), fastRetry)
	_, err := r.Tags(ctxFor(t), reg.host+"/nope")
	if err == nil || !strings.Contains(err.Error(), "repository not found") {
		t.Fatalf("Tags of a repository the registry lacks: %v, want repository not found", err)
	}
}

// A registry whose every page links to another is cut off at
// maxTagPages: a listing is bounded.
func TestTagsBounded(t *testing.T) {
	t.Parallel()
	endless := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/tags/list") {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Link", fmt.Sprintf(`<%s?last=x>; rel="next"`, r.URL.Path))
			fmt.Fprint(w, `{"name":"app","tags":["1.0"]}`)
		})
	}
	reg := newTestRegistry(t, endless)
	r := newRegistry(testOptions(), fastRetry)
	_, err := r.Tags(ctxFor(t), reg.host+"/app")
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d pages", maxTagPages)) {
		t.Fatalf("endless pages: %v, want an error naming the bound", err)
	}
	if n := reg.count.get("GET /v2/app/tags/list"); n != maxTagPages {
		t.Errorf("%d GETs, want %d", n, maxTagPages)
	}
}
