package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// FinalBase returns the image the final stage of a Dockerfile builds on,
// as buildkit reads it: the final stage's FROM, followed through the
// stages it names to an image, with the ARG defaults before the first
// FROM expanded. line is that FROM's line. An image built on scratch has
// no base: image is then empty.
func FinalBase(path string, src []byte) (image string, line int, err error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return "", 0, &Error{File: path, Line: errorLine(err), Err: errors.New(errorText(err))}
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return "", 0, &Error{File: path, Line: errorLine(err), Err: errors.New(errorText(err))}
	}
	if len(stages) == 0 {
		return "", 0, &Error{File: path, Err: errors.New("no FROM: the Dockerfile builds no image")}
	}
	var env []string
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				env = append(env, kv.Key+"="+*kv.Value)
			}
		}
	}
	lex := shell.NewLex(res.EscapeToken)
	named := map[string]int{}
	for i, s := range stages {
		if s.Name != "" {
			named[strings.ToLower(s.Name)] = i
		}
	}
	// A FROM names an earlier stage, or an image: the walk ends.
	for i := len(stages) - 1; ; {
		s := stages[i]
		if len(s.Location) > 0 {
			line = s.Location[0].Start.Line
		}
		if !utf8.ValidString(s.BaseName) {
			// buildkit's lexer would print its complaint to stderr.
			return "", line, &Error{File: path, Line: line, Err: fmt.Errorf("FROM %q: %w", s.BaseName, errNotUTF8)}
		}
		res, err := lex.ProcessWordWithMatches(s.BaseName, shell.EnvsFromSlice(env))
		if err != nil || res.Result == "" || len(res.Unmatched) > 0 {
			return "", line, &Error{File: path, Line: line, Err: fmt.Errorf("FROM %s: a variable with no default names the image; give the image's base another way", s.BaseName)}
		}
		if strings.EqualFold(res.Result, "scratch") {
			return "", line, nil
		}
		j, isStage := named[strings.ToLower(res.Result)]
		if !isStage || j >= i {
			return res.Result, line, nil
		}
		i = j
	}
}
