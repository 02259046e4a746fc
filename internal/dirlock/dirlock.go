// Package dirlock serializes the imagelock runs that write in one
// directory: each takes an advisory lock on the directory itself (no file
// is left behind), waits a bounded time for another run to finish, and
// then gives up, so two runs never both read the old lock and one of
// them silently loses the other's entries.
package dirlock

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrBusy is returned when another process held the lock for the whole
// wait.
var ErrBusy = errors.New("another imagelock run is writing there")

// Acquire takes the lock on dir, retrying until wait has passed, and
// returns the function that releases it.
func Acquire(ctx context.Context, dir string, wait time.Duration) (release func(), err error) {
	deadline := time.Now().Add(wait)
	for {
		release, ok, err := try(dir)
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", dir, err)
		}
		if ok {
			return release, nil
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%s: %w; waited %s: wait for it to finish, or run again", dir, ErrBusy, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
