package banner

import (
	"errors"
	"syscall"
	"testing"
)

func TestRaiseFileLimit(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	// Below the soft limit: nothing to do.
	if got, err := RaiseFileLimit(lim.Cur - 1); err != nil || got != lim.Cur {
		t.Fatalf("RaiseFileLimit(%d) = %d, %v; want %d, nil", lim.Cur-1, got, err, lim.Cur)
	}
	// Up to the hard limit: always allowed.
	if got, err := RaiseFileLimit(lim.Max); err != nil || got != lim.Max {
		t.Fatalf("RaiseFileLimit(%d) = %d, %v; want %d, nil", lim.Max, got, err, lim.Max)
	}
	// Beyond it: only with CAP_SYS_RESOURCE; otherwise the hard limit and
	// an error that says why.
	want := lim.Max + 1
	got, err := RaiseFileLimit(want)
	switch {
	case err == nil && got == want:
	case err != nil && got == lim.Max && errors.Is(err, syscall.EPERM):
		t.Logf("unprivileged: %v", err)
	default:
		t.Fatalf("RaiseFileLimit(%d) = %d, %v", want, got, err)
	}
}
