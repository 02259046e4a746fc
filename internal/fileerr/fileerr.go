// Package fileerr is imagelock's one error for a problem at a place in a
// file, be it a source, the lock or the config:
// "Dockerfile:3:6: what is wrong: what to do next". rewrite.Error and
// lock.Error are this type, so a caller tells every positioned error
// apart with one errors.As.
package fileerr

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error is a problem in File at Line and Col (both from 1; 0 where not
// known). Err says what is wrong, and Next, when set, what to do about it.
type Error struct {
	File string
	Line int
	Col  int
	Err  error
	Next string
}

// Error returns "file:line:col: message: next step", leaving out what is
// not known. The message is clipped, for it may quote a source's text.
func (e *Error) Error() string {
	s := e.Pos() + ": " + Clip(e.Err.Error())
	if e.Next != "" {
		s += ": " + e.Next
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Pos returns the error's position, as At writes it.
func (e *Error) Pos() string { return At(e.File, e.Line, e.Col) }

// At returns "file:line:col", "file:line" or "file", as far as the
// position is known: how imagelock names a place in a file, in errors
// and warnings alike.
func At(file string, line, col int) string {
	if line <= 0 {
		return file
	}
	if col <= 0 {
		return file + ":" + strconv.Itoa(line)
	}
	return file + ":" + strconv.Itoa(line) + ":" + strconv.Itoa(col)
}

// MaxMessage bounds a message, which may quote a source's text: a
// runaway line must not become a runaway message.
const MaxMessage = 1 << 10

// Clip cuts s to MaxMessage bytes, at a rune boundary, marking the cut.
func Clip(s string) string {
	if len(s) <= MaxMessage {
		return s
	}
	cut := MaxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("… (%d bytes more)", len(s)-cut)
}
