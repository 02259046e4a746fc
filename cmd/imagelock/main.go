// Command imagelock records what every container image tag in a repository
// resolved to, in images.lock, and checks it in CI. See the README.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sirupsen/logrus"
)

func main() {
	// buildkit and the ECR credential helper log through logrus's
	// standard logger; what the user sees is run's to decide.
	logrus.SetOutput(io.Discard)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
