package dirlock

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAcquireWaitsThenGivesUp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	release, err := Acquire(ctx, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Acquire(ctx, dir, 100*time.Millisecond); !errors.Is(err, ErrBusy) {
		t.Fatalf("a second Acquire while held = %v, want ErrBusy", err)
	}
	done := make(chan error, 1)
	go func() {
		r, err := Acquire(ctx, dir, 5*time.Second)
		if err == nil {
			r()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	release()
	if err := <-done; err != nil {
		t.Fatalf("Acquire after release = %v", err)
	}
}
