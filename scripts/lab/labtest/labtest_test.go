package labtest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records a skip or a failure and, as the
// real ones do, ends the goroutine that called it (see call).
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs fn on a goroutine of its own, which Skipf and Fatalf end.
func call(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

func TestSkipOrFail(t *testing.T) {
	for _, ci := range []string{"", "false", "true"} {
		t.Setenv("CI", ci)
		r := &recorder{TB: t}
		call(func() { SkipOrFail(r, "needs %s", "a lab") })
		if ci == "true" {
			if r.skipped != "" || !strings.Contains(r.failed, "CI=true forbids skipping: needs a lab") {
				t.Errorf("CI=%q: skipped %q, failed %q; want a failure", ci, r.skipped, r.failed)
			}
		} else if r.failed != "" || r.skipped != "skipping: needs a lab" {
			t.Errorf("CI=%q: skipped %q, failed %q; want a skip", ci, r.skipped, r.failed)
		}
	}
}

func TestNeedTools(t *testing.T) {
	t.Setenv("CI", "true")
	r := &recorder{TB: t}
	call(func() { NeedTools(r, "sh", "no-such-tool-mailscan") })
	if !strings.Contains(r.failed, "[no-such-tool-mailscan]") {
		t.Errorf("failed %q, want it to name the missing tool only", r.failed)
	}
	r = &recorder{TB: t}
	call(func() { NeedTools(r, "sh") })
	if r.failed != "" || r.skipped != "" {
		t.Errorf("with sh present: skipped %q, failed %q", r.skipped, r.failed)
	}
}
