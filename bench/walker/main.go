// Command walker is the bench's yardstick for the offline scan: about the
// least a Go program can do to find the image references in a tree. It
// walks the tree, reads every file (as many at once as there are CPUs,
// as imagelock does), counts the lines one regexp matches (a Dockerfile's
// FROM, a manifest's image:) and prints the count.
//
//	walker DIR
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
)

// reference matches a FROM line's image and a YAML image: value.
var reference = regexp.MustCompile(`(?m)^[ \t]*(?:FROM[ \t]+(?:--platform=\S+[ \t]+)?|(?:-[ \t]+)?image:[ \t]*"?)[^\s"#]+`)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: walker DIR")
		os.Exit(2)
	}
	n, err := count(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "walker: "+err.Error())
		os.Exit(1)
	}
	fmt.Println(n)
}

// count is the number of references in the files under dir.
func count(dir string) (int64, error) {
	paths := make(chan string, 256)
	var (
		n       atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		readErr error
	)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for p := range paths {
				b, err := os.ReadFile(p)
				if err != nil {
					errOnce.Do(func() { readErr = err })
					continue
				}
				n.Add(int64(len(reference.FindAllIndex(b, -1))))
			}
		})
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths <- p
		}
		return err
	})
	close(paths)
	wg.Wait()
	if err == nil {
		err = readErr
	}
	return n.Load(), err
}
