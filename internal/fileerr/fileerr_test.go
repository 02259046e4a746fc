package fileerr

import (
	"errors"
	"io/fs"
	"testing"
)

func TestError(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		e    *Error
		want string
	}{
		{&Error{File: "Dockerfile", Line: 3, Col: 6, Err: errors.New("bad"), Next: "fix it"}, "Dockerfile:3:6: bad: fix it"},
		{&Error{File: "images.lock", Line: 2, Err: errors.New("bad")}, "images.lock:2: bad"},
		{&Error{File: ".imagelock.toml", Col: 4, Err: errors.New("bad")}, ".imagelock.toml: bad"},
	} {
		if got := tc.e.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	e := error(&Error{File: "a", Line: 1, Err: fs.ErrPermission})
	if !errors.Is(e, fs.ErrPermission) {
		t.Errorf("%v does not unwrap to its cause", e)
	}
}
