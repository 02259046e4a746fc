package main

import (
	"fmt"
	"io"
	"time"

	"github.com/imagelock/imagelock/workflow"
)

// printSigner says who signed a changed image, where a [[trust]] rule
// covers it, and who signed before when that changed.
func printSigner(w io.Writer, ch workflow.ImageChange) {
	switch {
	case ch.Signer == "":
	case ch.OldSigner != "" && ch.OldSigner != ch.Signer:
		fmt.Fprintf(w, "    signer: %s (was %s; accepted with --accept-signer)\n", printable(ch.Signer), printable(ch.OldSigner))
	default:
		fmt.Fprintf(w, "    signer: %s\n", printable(ch.Signer))
	}
}

// printHeld names each moved tag held back by min-age, with the day its
// new digest becomes eligible.
func printHeld(w io.Writer, held []workflow.Held) {
	for _, h := range held {
		what := "built"
		if h.From == "signature" {
			what = "signed"
		}
		fmt.Fprintf(w, "%s: held back by min-age\n    new: %s (%s %s)\n    eligible from %s; the lock keeps %s\n",
			h.Image, h.New, what, h.Since.Format(time.RFC3339), h.Eligible.Format(time.RFC3339), h.Locked)
	}
}
