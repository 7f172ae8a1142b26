package banner

import (
	"fmt"
	"os"
	"syscall"
)

// RaiseFileLimit raises the soft RLIMIT_NOFILE to want, and the hard limit
// too when the process may (CAP_SYS_RESOURCE, up to fs.nr_open). It returns
// the soft limit in effect afterwards; when that is below want the error
// says why, so a caller can tell the user that --concurrency needs more
// descriptors than it got. Go already raises the soft limit to the hard one
// at start-up; this goes further only with privilege.
func RaiseFileLimit(want uint64) (got uint64, err error) {
	var cur syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &cur); err != nil {
		return 0, fmt.Errorf("banner: open-file limit: %w", os.NewSyscallError("getrlimit", err))
	}
	if cur.Cur >= want {
		return cur.Cur, nil
	}
	next := syscall.Rlimit{Cur: want, Max: max(cur.Max, want)}
	serr := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next)
	if serr == nil {
		return want, nil
	}
	// Without privilege the hard limit is a ceiling: settle for it.
	if cur.Max > cur.Cur {
		next = syscall.Rlimit{Cur: cur.Max, Max: cur.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &next); err == nil {
			cur = next
		}
	}
	return cur.Cur, fmt.Errorf("banner: open-file limit is %d, below the %d wanted: %w",
		cur.Cur, want, os.NewSyscallError("setrlimit", serr))
}
