package resolve

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// BenchmarkHeadRoundTrips resolves 600 keys in 60 repositories through a
// registry that answers every request 50 ms late, as one across the
// internet would, and reports the wall time in round trips. Each iteration
// uses a fresh Registry, so it pays the ping and the tokens again.
func BenchmarkHeadRoundTrips(b *testing.B) {
	const latency = 50 * time.Millisecond
	reg := newTestRegistry(b, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(latency)
			next.ServeHTTP(w, r)
		})
	})
	img, err := random.Image(64, 1)
	if err != nil {
		b.Fatal(err)
	}
	var keys []Key
	for i := range 60 {
		repo := fmt.Sprintf("repo%d", i)
		for j := range 10 {
			ref, err := name.NewTag(fmt.Sprintf("%s/%s:%d", reg.raw, repo, j))
			if err != nil {
				b.Fatal(err)
			}
			if err := remote.Write(ref, img); err != nil {
				b.Fatal(err)
			}
			keys = append(keys, reg.key(repo, fmt.Sprint(j)))
		}
	}
	for _, jobs := range []int{16, 64} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			for b.Loop() {
				r := newRegistry(Options{Keychain: keychain{}, Jobs: jobs}, fastRetry)
				var g errgroup.Group
				g.SetLimit(len(keys))
				start := time.Now()
				for _, k := range keys {
					g.Go(func() error {
						_, err := r.Head(b.Context(), k)
						return err
					})
				}
				if err := g.Wait(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(time.Since(start))/float64(latency), "round-trips")
			}
		})
	}
}
