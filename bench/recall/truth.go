package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"strconv"
	"strings"
)

var (
	altRe  = regexp.MustCompile(`alt=([0-9,]+)`)
	altfRe = regexp.MustCompile(`altf=(\S+)`)
)

// readTruth reads the truth file at path.
func readTruth(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseTruth(path, f)
}

// parseTruth reads tab-separated rows: file, line, image, class, note.
// Blank lines, lines starting with '#' and the header line are skipped;
// missing trailing columns are empty.
func parseTruth(name string, r io.Reader) ([]Row, error) {
	var rows []Row
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		t := sc.Text()
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "file\t") {
			continue
		}
		c := strings.Split(t, "\t")
		for len(c) < 5 {
			c = append(c, "")
		}
		line, err := strconv.Atoi(c[1])
		if err != nil {
			return nil, fmt.Errorf("%s:%d: line %q is not a number", name, n, c[1])
		}
		row := Row{File: c[0], Line: line, Image: c[2], Class: c[3], Note: c[4]}
		switch row.Class {
		case classRef, classWarnOK, classOutOfScope, classNot:
		default:
			return nil, fmt.Errorf("%s:%d: class %q is none of ref, warn-ok, out-of-scope, not", name, n, row.Class)
		}
		if m := altRe.FindStringSubmatch(row.Note); m != nil {
			for _, s := range strings.Split(m[1], ",") {
				if k, err := strconv.Atoi(s); err == nil {
					row.Alt = append(row.Alt, k)
				}
			}
		}
		if m := altfRe.FindStringSubmatch(row.Note); m != nil {
			row.AltFiles = strings.Split(m[1], ",")
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return rows, nil
}

// readScope reads the path prefixes a sampled truth covers, one a line;
// a missing file means the whole repository.
func readScope(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, nil
}
