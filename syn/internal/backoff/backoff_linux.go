package backoff

import (
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

const (
	minSleep = 10 * time.Microsecond
	maxSleep = time.Millisecond
	// Stall is how long a sender waits for the kernel to take or finish
	// frames before it gives up (link down, queue stopped for good).
	Stall = 10 * time.Second
)

// Sleeper backs off from 10 µs to 1 ms. The zero value is ready; Reset
// starts a new wait.
type Sleeper struct {
	ts    unix.Timespec
	d     time.Duration
	start time.Time
}

// Reset starts a new wait.
func (s *Sleeper) Reset() { s.d = 0 }

// Sleep sleeps for the next interval; it returns false once the wait has
// lasted Stall. The sleep is a plain nanosleep(2) on the calling thread:
// a sender's thread is locked to it, and Go's timers would wake it through
// another thread.
func (s *Sleeper) Sleep() bool {
	if s.d == 0 {
		s.d = minSleep
		s.start = time.Now()
	} else if time.Since(s.start) > Stall {
		return false
	}
	s.ts = unix.NsecToTimespec(int64(s.d))
	unix.Syscall(unix.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&s.ts)), 0, 0)
	s.d = min(2*s.d, maxSleep)
	return true
}
