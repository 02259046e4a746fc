//go:build unix

package bounded

import (
	"io/fs"
	"syscall"
)

// readWalked reads the file at path, named name in errors, as ReadWalked
// does. It works on the descriptor alone, without an os.File: os.Open
// offers every file to the poller (four more system calls per file that a
// regular file never needs), and an os.File costs allocations and a
// cleanup per file; in a tree of 100,000 files they add up to a tenth of
// reading it. The open does not wait: a pipe that took the file's place
// since the walk is refused, not waited on for a writer.
func readWalked(path, name string, max int64) ([]byte, error) {
	var fd int
	err := retry(func() (err error) {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
		return err
	})
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := retry(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, notRegular(name)
	}
	if st.Size > max {
		return nil, tooLarge(name, st.Size, max)
	}
	// One byte more than the size fstat gave: a read that ends short of
	// the buffer at that size has reached the end, so a file that did
	// not change since costs one read. Reading one byte over max tells
	// a file that grew past it.
	limit := max + 1
	b := make([]byte, 0, st.Size+1)
	for {
		if int64(len(b)) > max {
			return nil, tooLarge(name, int64(len(b)), max)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		room := b[len(b):min(int64(cap(b)), limit)]
		var n int
		err := retry(func() (err error) {
			n, err = syscall.Read(fd, room)
			return err
		})
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		b = b[:len(b)+n]
		if n == 0 || n < len(room) && int64(len(b)) == st.Size {
			return b, nil
		}
	}
}

// retry runs a system call again while a signal interrupts it.
func retry(call func() error) error {
	for {
		if err := call(); err != syscall.EINTR {
			return err
		}
	}
}
