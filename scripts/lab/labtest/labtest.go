// Package labtest decides, for every test of the tree that needs root, the
// lab or a tool, what happens when it cannot have them: the test skips,
// except under CI=true, where a skip would hide that it never ran, and it
// fails instead. CI runs as root with every package installed
// (scripts/install-deps.sh), so there a missing requirement is a defect.
//
// It is for tests only. The lab itself (namespaces, servers, ground truth)
// is package mailscan/scripts/lab.
package labtest

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under CI=true, where nothing may skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// SkipOrFail skips tb with the message, or fails it under CI=true.
func SkipOrFail(tb testing.TB, format string, args ...any) {
	tb.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		tb.Fatalf("CI=true forbids skipping: %s", msg)
	}
	tb.Skipf("skipping: %s", msg)
}

// NeedRoot skips (or under CI=true fails) tb unless it runs as root and
// every one of tools is on the PATH.
func NeedRoot(tb testing.TB, tools ...string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		SkipOrFail(tb, "needs root (network namespaces, raw sockets, the lab): run scripts/test.sh with sudo")
	}
	NeedTools(tb, tools...)
}

// NeedTools skips (or under CI=true fails) tb unless every one of tools is
// on the PATH; the message says how to install them.
func NeedTools(tb testing.TB, tools ...string) {
	tb.Helper()
	var missing []string
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) > 0 {
		SkipOrFail(tb, "needs %v on the PATH (sudo scripts/install-deps.sh installs every package the tests use)", missing)
	}
}
