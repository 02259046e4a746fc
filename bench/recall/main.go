// Command recall measures imagelock's recall and precision: it runs
// `imagelock list` over a directory of checkouts and compares the
// findings with a ground truth established by reading their files.
//
//	go run ./bench/recall -repos DIR -truth DIR [-bin PATH] [-only a,b]
//
// The truth is <truth>/<repo>.tsv for each checkout <repos>/<repo>, with
// the columns file, line, image, class and note; see bench/README.md. An
// optional <truth>/../scope-<repo>.txt lists the path prefixes a sampled
// truth covers: findings elsewhere are ignored. Without -bin, it builds
// cmd/imagelock into a temporary directory (run it inside the module).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("recall", flag.ContinueOnError)
	fs.SetOutput(stderr)
	repos := fs.String("repos", "", "directory of checkouts, one per `DIR`/<repo>")
	truth := fs.String("truth", "", "directory of <repo>.tsv truth files")
	bin := fs.String("bin", "", "imagelock binary (default: build cmd/imagelock)")
	only := fs.String("only", "", "compare only these comma-separated repos")
	verbose := fs.Bool("v", true, "list every miss and false positive")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *repos == "" || *truth == "" {
		fmt.Fprintln(stderr, "recall: want -repos and -truth, and no arguments")
		return 2
	}
	files, err := filepath.Glob(filepath.Join(*truth, "*.tsv"))
	if err != nil {
		fmt.Fprintln(stderr, "recall: "+err.Error())
		return 2
	}
	slices.Sort(files)
	if *only != "" {
		want := strings.Split(*only, ",")
		var kept []string
		for _, f := range files {
			if i := slices.Index(want, repoName(f)); i >= 0 {
				kept = append(kept, f)
				want = slices.Delete(want, i, i+1)
			}
		}
		if len(want) > 0 {
			fmt.Fprintf(stderr, "recall: no truth file for %s in %s\n", strings.Join(want, ", "), *truth)
			return 2
		}
		files = kept
	}
	if len(files) == 0 {
		fmt.Fprintf(stderr, "recall: no *.tsv in %s\n", *truth)
		return 2
	}
	if *bin == "" {
		tmp, err := os.MkdirTemp("", "imagelock-recall-")
		if err != nil {
			fmt.Fprintln(stderr, "recall: "+err.Error())
			return 1
		}
		defer os.RemoveAll(tmp)
		*bin = filepath.Join(tmp, "imagelock")
		if err := build(ctx, *bin); err != nil {
			fmt.Fprintln(stderr, "recall: "+err.Error())
			return 1
		}
	}
	results, err := compare(ctx, *bin, *repos, *truth, files)
	if err != nil {
		fmt.Fprintln(stderr, "recall: "+err.Error())
		return 1
	}
	report(stdout, results, *verbose)
	return 0
}

func repoName(truthFile string) string { return strings.TrimSuffix(filepath.Base(truthFile), ".tsv") }

// compare runs imagelock over each repository a truth file names and
// matches its findings with the truth. A failing imagelock is no error:
// the repository counts nothing found.
func compare(ctx context.Context, bin, repos, truth string, files []string) ([]repoResult, error) {
	var out []repoResult
	for _, tf := range files {
		name := repoName(tf)
		rows, err := readTruth(tf)
		if err != nil {
			return nil, err
		}
		scope, err := readScope(filepath.Join(filepath.Dir(truth), "scope-"+name+".txt"))
		if err != nil {
			return nil, err
		}
		fs, ws, listErr := list(ctx, bin, filepath.Join(repos, name))
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		out = append(out, repoResult{
			name:    name,
			sampled: len(scope) > 0,
			listErr: listErr,
			Result:  Match(rows, fs, ws, scope),
		})
	}
	return out, nil
}
